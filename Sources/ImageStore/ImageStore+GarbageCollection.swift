import Foundation
import ImageModel

/// Removing tags and the blobs no tag needs any more.
extension ImageStore {
    /// Removes a tag (or, for a digest reference, every tag of that repository pointing at
    /// the digest), then — under the same lock — deletes the blobs of the untagged image
    /// that no remaining tag references. Blobs of other images, including ones written by a
    /// build that has not tagged yet, are never touched (see `prune`).
    public func untag(_ reference: Reference) throws -> UntagResult {
        let name = reference.digest == nil ? try ImageStore.tagName(reference) : ""
        let pulledByDigest = reference.digest.map { "\(reference.repository)@\($0)" }
        return try removeEntries(named: reference.familiarDescription) { entry in
            let entryName = entry.annotations?[ImageStore.refNameAnnotation]
            guard let digest = reference.digest else { return entryName == name }
            return entryName == pulledByDigest
                || (entry.digest == digest && ImageStore.reference(of: entry)?.repository == reference.repository)
        }
    }

    /// Removes the index entries `matches` selects (`imageNotFound(name)` when none), then —
    /// under the same lock — deletes the blobs of images left without any entry that no
    /// remaining entry references.
    func removeEntries(named name: String, where matches: (Descriptor) -> Bool) throws -> UntagResult {
        try lock.withLock {
            var index = try readIndex()
            let removed = index.manifests.filter(matches)
            guard !removed.isEmpty else { throw StoreError.imageNotFound(name) }
            let removedSet = Set(removed)
            index.manifests.removeAll { removedSet.contains($0) }

            // Learn what the untagged images consist of before anything is deleted.
            var orphans: [Descriptor] = []
            for entry in removed where !index.manifests.contains(where: { $0.digest == entry.digest }) {
                if !orphans.contains(where: { $0.digest == entry.digest }) { orphans.append(entry) }
            }
            // An image's referrers (its SBOM) go with it.
            let orphanImages = orphans.map { (entry: $0, image: try? image($0), blobs: try? keptBlobs(by: $0)) }
            try writeIndex(index)

            var result = UntagResult(untagged: removed.compactMap(ImageStore.reference(of:)),
                                     deletedImageID: nil, deletedBlobs: [], deletedLayers: [])
            guard !orphans.isEmpty else { return result }
            // If some remaining image cannot be read, what it shares is unknown: delete nothing.
            var keep = Set<Digest>()
            for entry in index.manifests {
                guard let blobs = try? keptBlobs(by: entry) else { return result }
                keep.formUnion(blobs)
            }
            var deleted = Set<Digest>()
            for orphan in orphanImages {
                for digest in orphan.blobs ?? [orphan.entry.digest] where !keep.contains(digest) && !deleted.contains(digest) {
                    if let st = FileSystem.status(blobPath(digest)), (st.st_mode & S_IFMT) == S_IFREG {
                        try FileSystem.removeFile(blobPath(digest))
                        result.deletedBytes += Int64(st.st_size)
                        deleted.insert(digest)
                    }
                }
                if !keep.contains(orphan.entry.digest) { removeReferrers(of: orphan.entry.digest) }
                if let stored = orphan.image {
                    if deleted.contains(stored.imageID) && result.deletedImageID == nil { result.deletedImageID = stored.imageID }
                    result.deletedLayers += stored.manifest.layers.map(\.digest).filter { deleted.contains($0) && !result.deletedLayers.contains($0) }
                }
            }
            FileSystem.syncDirectory(blobsDirectory)
            result.deletedBlobs = deleted.sorted()
            return result
        }
    }

    /// Deletes every blob that no tag references and that was last modified more than
    /// `gracePeriod` seconds ago (younger ones may belong to a build that has not tagged
    /// yet). Returns the deleted digests. Fails, deleting nothing, if a tagged image cannot
    /// be read completely.
    @discardableResult
    public func prune(gracePeriod: TimeInterval = ImageStore.defaultStaleTemporaryAge) throws -> [Digest] {
        try pruneBlobs(gracePeriod: gracePeriod).map(\.digest)
    }

    /// `prune`, with each deleted blob's size.
    public func pruneBlobs(gracePeriod: TimeInterval = ImageStore.defaultStaleTemporaryAge) throws -> [(digest: Digest, size: Int64)] {
        try lock.withLock {
            var keep = Set<Digest>()
            for entry in try readIndex().manifests {
                keep.formUnion(try keptBlobs(by: entry))
            }
            // Layers the step cache still names stay (see `pruneStepCache`).
            keep.formUnion(stepCacheBlobs())
            let cutoff = Date().timeIntervalSince1970 - gracePeriod
            var deleted: [(digest: Digest, size: Int64)] = []
            for name in try FileSystem.list(blobsDirectory) {
                guard let digest = try? Digest(sha256Hex: name), !keep.contains(digest),
                      let st = FileSystem.status(blobPath(digest)), TimeInterval(st.st_mtim.tv_sec) <= cutoff
                else { continue }
                try FileSystem.removeFile(blobPath(digest))
                deleted.append((digest, Int64(st.st_size)))
            }
            FileSystem.syncDirectory(blobsDirectory)
            try retainRemoteSources(keep)
            // Header indexes of layers nothing keeps (a removed image's lazy base) go too.
            _ = try pruneLayerIndex(keeping: keep, cutoff: cutoff)
            return deleted
        }
    }

    /// The digests of a descriptor and everything it references (index → manifests →
    /// config and layers), in walk order without repeats. Foreign layers (with `urls`) that
    /// are not stored are skipped. With `requirePresent` a missing blob is an error — except,
    /// with `allowRemoteLayers`, a layer with a recorded remote source (see `RemoteSource`).
    func reachableBlobs(from descriptor: Descriptor, requirePresent: Bool = false,
                        allowRemoteLayers: Bool = false) throws -> [Digest] {
        var order: [Digest] = []
        var seen = Set<Digest>()
        var sources: [Digest: [RemoteSource]]?
        func visit(_ d: Descriptor, isLayer: Bool = false) throws {
            guard seen.insert(d.digest).inserted else { return }
            let present = hasBlob(d.digest)
            if !present {
                if !(d.urls ?? []).isEmpty { return }
                if requirePresent || MediaType.isIndex(d.mediaType) || MediaType.isManifest(d.mediaType) {
                    if sources == nil && isLayer && allowRemoteLayers { sources = try remoteSources() }
                    guard isLayer, allowRemoteLayers, !(sources?[d.digest] ?? []).isEmpty else {
                        throw StoreError.blobNotFound(d.digest)
                    }
                }
            }
            order.append(d.digest)
            if MediaType.isIndex(d.mediaType) {
                for child in try readJSON(ImageIndex.self, d.digest).manifests { try visit(child) }
            } else if MediaType.isManifest(d.mediaType) {
                let manifest = try readJSON(ImageManifest.self, d.digest)
                try visit(manifest.config)
                for layer in manifest.layers { try visit(layer, isLayer: true) }
            }
        }
        try visit(descriptor)
        return order
    }
}

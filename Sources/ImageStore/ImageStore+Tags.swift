import Foundation
import ImageModel

/// Tags: the `index.json` of the layout, one manifest descriptor per tag, named by the
/// full reference in `org.opencontainers.image.ref.name`.
extension ImageStore {
    // MARK: index.json

    /// The current `index.json`. It is only ever replaced by rename, so reading needs no lock.
    func readIndex() throws -> ImageIndex {
        let bytes = try FileSystem.readFile(indexPath)
        do {
            return try CanonicalJSON.decode(ImageIndex.self, from: Data(bytes))
        } catch {
            throw StoreError.corrupt(path: indexPath, reason: "cannot decode the OCI index: \(error)")
        }
    }

    /// Replaces `index.json` atomically (temp file, fsync, rename). Call under the lock.
    func writeIndex(_ index: ImageIndex) throws {
        try FileSystem.replaceDurably(indexPath, with: Array(try CanonicalJSON.encode(index)),
                                      temporary: temporaryPath(suffix: ".index.json"), syncing: root)
    }

    /// Runs a read-modify-write of `index.json` under the exclusive lock.
    func modifyIndex<T>(_ body: (inout ImageIndex) throws -> T) throws -> T {
        try lock.withLock {
            var index = try readIndex()
            let before = index
            let result = try body(&index)
            if index != before { try writeIndex(index) }
            return result
        }
    }

    /// The reference a tag entry names, if its annotation parses as one.
    static func reference(of entry: Descriptor) -> Reference? {
        guard let name = entry.annotations?[refNameAnnotation] else { return nil }
        return try? Reference(parsing: name)
    }

    /// The entry name of a reference: `repository:tag`, or `repository@digest` for a
    /// digest-only reference (an image pulled by digest, which docker lists with tag `<none>`).
    static func tagName(_ reference: Reference) throws -> String {
        if let tag = reference.tag { return reference.withTag(tag).description }
        guard let digest = reference.digest else {
            throw StoreError.invalidReference(reference.description, reason: "a tag or a digest is required")
        }
        return "\(reference.repository)@\(digest)"
    }

    /// Whether `digest` names `manifest`: it is the manifest's own digest, or that of a stored
    /// index listing it (an image pulled by the digest of a multi-platform index).
    func digest(_ digest: Digest, names manifest: Descriptor) -> Bool {
        if digest == manifest.digest { return true }
        guard hasBlob(digest), let index = try? readJSON(ImageIndex.self, digest) else { return false }
        return index.manifests.contains { $0.digest == manifest.digest }
    }

    // MARK: tags

    /// Points `reference` at `manifest`, replacing the tag if it exists. A digest-only
    /// reference must name that manifest (or an index, stored, that lists it). The manifest, its config and every layer must already be stored, or — for a
    /// layer — have a recorded remote source (`recordRemoteSource`); this is checked under
    /// the lock, so a concurrent `untag` cannot leave a dangling tag.
    /// Returns the descriptor the tag pointed to before, if any.
    @discardableResult
    public func tag(_ reference: Reference, manifest: Descriptor) throws -> Descriptor? {
        let name = try ImageStore.tagName(reference)
        guard MediaType.isManifest(manifest.mediaType) || MediaType.isIndex(manifest.mediaType) else {
            throw StoreError.unsupportedMediaType(manifest.mediaType, digest: manifest.digest)
        }
        if reference.tag == nil, let digest = reference.digest, !self.digest(digest, names: manifest) {
            throw StoreError.invalidReference(reference.description, reason: "the digest names another manifest than \(manifest.digest)")
        }
        var entry = manifest
        entry.annotations = (manifest.annotations ?? [:]).merging([ImageStore.refNameAnnotation: name]) { $1 }
        return try modifyIndex { index in
            _ = try reachableBlobs(from: manifest, requirePresent: true, allowRemoteLayers: true)
            // A named image is no longer dangling.
            index.manifests.removeAll { $0.digest == manifest.digest && ImageStore.isDangling($0) }
            let matches = index.manifests.indices.filter { index.manifests[$0].annotations?[ImageStore.refNameAnnotation] == name }
            guard let first = matches.first else {
                index.manifests.append(entry)
                return nil
            }
            let previous = index.manifests[first]
            index.manifests[first] = entry
            for i in matches.dropFirst().reversed() { index.manifests.remove(at: i) }
            // The image the name moved away from stays, untagged, as docker keeps it
            // (`<none>:<none>` until `system prune`).
            if !index.manifests.contains(where: { $0.digest == previous.digest }) {
                var dangling = previous
                dangling.annotations = ImageStore.withoutRefName(previous.annotations)
                index.manifests.append(dangling)
            }
            return previous
        }
    }

    /// The descriptor a reference names: by tag, or — when it carries a digest — the entry of
    /// the same repository with that manifest digest. Nil when the store has no such image.
    public func resolve(_ reference: Reference) throws -> Descriptor? {
        let entries = try readIndex().manifests
        if let digest = reference.digest {
            let pulledByDigest = "\(reference.repository)@\(digest)"
            return entries.first { $0.annotations?[ImageStore.refNameAnnotation] == pulledByDigest }
                ?? entries.first { entry in
                    entry.digest == digest && ImageStore.reference(of: entry)?.repository == reference.repository
                }
        }
        let name = try ImageStore.tagName(reference)
        return entries.first { $0.annotations?[ImageStore.refNameAnnotation] == name }
    }

    /// The image whose ID (config digest, with or without `sha256:`) starts with `prefix`, as
    /// docker resolves `docker rmi 3f2a`. Nil when none matches; an error when several
    /// different images match.
    public func resolve(imageIDPrefix prefix: String) throws -> Descriptor? {
        var hex = prefix.lowercased()
        if hex.hasPrefix("sha256:") { hex.removeFirst("sha256:".count) }
        guard !hex.isEmpty, hex.count <= 64, hex.allSatisfy({ $0.isHexDigit }) else { return nil }
        var matches: [Digest: Descriptor] = [:]
        for entry in try readIndex().manifests {
            let id = try image(entry).imageID
            if id.encoded.hasPrefix(hex), matches[id] == nil { matches[id] = entry }
        }
        guard matches.count <= 1 else { throw StoreError.ambiguousImageID(prefix: prefix, count: matches.count) }
        return matches.values.first
    }

    /// Every tag in the store as a reference, with its descriptor, in index order.
    public func tags() throws -> [(reference: Reference, manifest: Descriptor)] {
        try readIndex().manifests.compactMap { entry in ImageStore.reference(of: entry).map { ($0, entry) } }
    }

    /// Loads an image: the manifest (for an index, the manifest for the host platform, else
    /// the first one) and its configuration, each verified against its digest.
    public func image(_ manifest: Descriptor) throws -> StoredImage {
        if MediaType.isIndex(manifest.mediaType) {
            let index = try readJSON(ImageIndex.self, manifest.digest)
            guard let child = ImageStore.choosePlatformManifest(index.manifests, for: .host) else {
                throw StoreError.corrupt(path: blobPath(manifest.digest), reason: "image index lists no image manifest")
            }
            return try image(child)
        }
        let decoded = try readJSON(ImageManifest.self, manifest.digest)
        let config = try readJSON(ImageConfiguration.self, decoded.config.digest)
        return StoredImage(manifestDescriptor: manifest, manifest: decoded, config: config, configDescriptor: decoded.config)
    }

    /// The entry of an index for `platform`: exact match, then same OS and architecture,
    /// then the first image manifest.
    static func choosePlatformManifest(_ manifests: [Descriptor], for platform: Platform) -> Descriptor? {
        let images = manifests.filter { MediaType.isManifest($0.mediaType) }
        return images.first { $0.platform.map { $0.os == platform.os && $0.architecture == platform.architecture && ($0.variant == platform.variant || platform.variant == nil) } ?? false }
            ?? images.first { $0.platform.map { $0.os == platform.os && $0.architecture == platform.architecture } ?? false }
            ?? images.first
    }

    /// One summary per tag, newest image first (as `docker images` lists them); with
    /// `includeDangling`, untagged images too (reference nil).
    public func listImages(includeDangling: Bool = false) throws -> [ImageSummary] {
        var summaries: [ImageSummary] = []
        for entry in try readIndex().manifests {
            let reference = ImageStore.reference(of: entry)
            guard reference != nil || (includeDangling && ImageStore.isDangling(entry)) else { continue }
            let stored = try image(entry)
            let size = stored.configDescriptor.size + stored.manifest.layers.reduce(0) { $0 + $1.size }
            summaries.append(ImageSummary(reference: reference, manifestDescriptor: entry, imageID: stored.imageID,
                                          created: stored.config.created.flatMap(Timestamp.parse), size: size))
        }
        return summaries.sorted { a, b in
            let ta = a.created ?? .distantPast, tb = b.created ?? .distantPast
            return ta != tb ? ta > tb : (a.reference?.description ?? "") < (b.reference?.description ?? "")
        }
    }
}

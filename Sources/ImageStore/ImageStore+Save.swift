import Foundation
import ImageModel

/// The output formats of `save`.
public enum SaveFormat: String, Sendable, CaseIterable {
    /// A tar file as `docker save` (≥ 25) writes it: an OCI image layout (`oci-layout`,
    /// `index.json`, `blobs/sha256/…`) plus Docker's `manifest.json` and `repositories`
    /// pointing into `blobs/`. Loadable by `docker load`; readable as
    /// `docker-archive:FILE` and `oci-archive:FILE` by skopeo. Layers keep their stored
    /// (compressed) form: docker load and skopeo decompress them, and the manifest digests
    /// stay those of the store.
    case docker
    /// An OCI image layout directory, with the images' referrers (see `save`).
    case oci
}

/// Exporting images: `save`.
extension ImageStore {
    /// The annotation containerd and docker use for an image's full name.
    public static let imageNameAnnotation = "io.containerd.image.name"

    /// Writes the named images to `path`: a tar file (`.docker`) or an OCI layout directory
    /// (`.oci`). Each reference must resolve in the store.
    ///
    /// In both formats `index.json` has one descriptor per reference, annotated with
    /// `io.containerd.image.name` = the full reference and, as the OCI spec recommends,
    /// `org.opencontainers.image.ref.name` = the tag alone (`latest`), so
    /// `skopeo inspect oci:DIR:latest` and `umoci unpack --image DIR:latest` find it. When two
    /// saved references share a tag (`a:latest`, `b:latest`), the tag alone would be
    /// ambiguous and those entries get the full reference as ref.name instead.
    ///
    /// The output is assembled under a temporary name beside `path` and renamed into place.
    /// A tar file replaces an existing file, as `docker save -o` does; an OCI directory must
    /// not exist or be empty (`StoreError.outputExists`).
    public func save(_ references: [Reference], format: SaveFormat, to path: String) throws {
        var images: [(reference: Reference?, manifest: Descriptor)] = []
        for reference in references {
            guard let descriptor = try resolve(reference) else { throw StoreError.imageNotFound(reference.familiarDescription) }
            images.append((reference, descriptor))
        }
        try save(images: images, format: format, to: path)
    }

    /// Like `save(_:format:to:)` for already resolved images; a nil reference saves the
    /// image untagged (as `docker save <image ID>` does).
    public func save(images: [(reference: Reference?, manifest: Descriptor)], format: SaveFormat, to path: String) throws {
        guard !images.isEmpty else { throw StoreError.invalidReference("", reason: "no image to save") }
        let output = FileSystem.absolute(path)
        var blobs: [Digest] = []
        var seen = Set<Digest>()
        for image in images {
            for digest in try reachableBlobs(from: image.manifest, requirePresent: true) where seen.insert(digest).inserted {
                blobs.append(digest)
            }
        }
        var entries = ImageStore.exportEntries(images)
        if format == .oci {
            // The images' referrers (SBOM, provenance) go along: their blobs, and an index.json
            // entry each (with `artifactType`, without a ref name), so a layout reader finds
            // them by their `subject`, as oras' OCI-layout store does.
            for image in images {
                for referrer in try referrers(of: image.manifest.digest) where !entries.contains(where: { $0.digest == referrer.digest }) {
                    for digest in try reachableBlobs(from: referrer, requirePresent: true) where seen.insert(digest).inserted {
                        blobs.append(digest)
                    }
                    entries.append(referrer)
                }
            }
        }
        let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: entries)
        switch format {
        case .docker: try saveDockerArchive(images, index: index, blobs: blobs, to: output)
        case .oci: try saveLayout(index: index, blobs: blobs, to: output)
        }
    }

    /// `index.json` entries of an export; see `save` for the annotations.
    static func exportEntries(_ images: [(reference: Reference?, manifest: Descriptor)]) -> [Descriptor] {
        var repositoriesPerTag: [String: Set<String>] = [:]
        for case let (reference?, _) in images {
            if let tag = reference.tag { repositoriesPerTag[tag, default: []].insert(reference.repository) }
        }
        var entries: [Descriptor] = []
        for (reference, manifest) in images {
            var entry = manifest
            var annotations = manifest.annotations ?? [:]
            annotations[refNameAnnotation] = nil
            if let reference, let tag = reference.tag {
                let name = reference.withTag(tag)
                annotations[imageNameAnnotation] = name.description
                annotations[refNameAnnotation] = (repositoriesPerTag[tag]?.count ?? 0) > 1 ? name.description : tag
            }
            entry.annotations = annotations.isEmpty ? nil : annotations
            if !entries.contains(entry) { entries.append(entry) }
        }
        return entries
    }

    // MARK: docker archive

    private func saveDockerArchive(_ images: [(reference: Reference?, manifest: Descriptor)], index: ImageIndex,
                                   blobs: [Digest], to output: String) throws {
        let contents = try images.map { reference, descriptor in
            let stored = try image(descriptor)
            return DockerArchiveImage(reference: reference, config: stored.imageID, layers: stored.manifest.layers.map(\.digest))
        }
        try DockerArchiveImage.write(contents, index: index, blobs: blobs, blobPath: blobPath, to: output)
    }

    // MARK: OCI layout directory

    private func saveLayout(index: ImageIndex, blobs: [Digest], to output: String) throws {
        if FileSystem.exists(output) {
            guard FileSystem.isDirectory(output), try FileSystem.list(output).isEmpty else {
                throw StoreError.outputExists(path: output)
            }
        }
        let parent = (output as NSString).deletingLastPathComponent
        guard FileSystem.isDirectory(parent) else { throw StoreError.io(path: parent, reason: "output directory's parent does not exist") }
        let temporary = "\(parent)/.\((output as NSString).lastPathComponent).\(FileSystem.randomHex(8)).tmp"
        do {
            try FileSystem.makeDirectories(temporary + "/blobs/sha256")
            for digest in blobs {
                let actual = try FileSystem.copyFile(blobPath(digest), to: "\(temporary)/blobs/sha256/\(digest.encoded)")
                guard actual == digest else { throw StoreError.digestMismatch(path: blobPath(digest), expected: digest, actual: actual) }
            }
            try FileSystem.createDurably(temporary + "/oci-layout", ImageStore.layoutFileContent)
            try FileSystem.createDurably(temporary + "/index.json", Array(try CanonicalJSON.encode(index)))
            FileSystem.syncDirectory(temporary + "/blobs/sha256")
            FileSystem.syncDirectory(temporary)
            // rename(2) replaces an empty directory and fails on a non-empty one.
            if rename(temporary, output) != 0 {
                let code = errno
                if code == ENOTEMPTY || code == EEXIST || code == ENOTDIR { throw StoreError.outputExists(path: output) }
                throw FileSystem.ioError(output, "cannot rename \(temporary) into place", code)
            }
        } catch {
            try? FileSystem.removeTree(temporary)
            throw error
        }
        FileSystem.syncDirectory(parent)
    }
}

import Foundation
import ImageModel

/// The two archive formats of skopeo's transports.
public enum ImageArchiveFormat: String, Sendable {
    /// `oci-archive:FILE[:NAME]`: a tar of an OCI image layout; NAME is an image's
    /// `org.opencontainers.image.ref.name`.
    case oci = "oci-archive"
    /// `docker-archive:FILE[:REF]`: `docker save`'s format; REF is one of an image's `RepoTags`.
    case docker = "docker-archive"
}

/// An image archive opened as a push source: unpacked (`ImageArchiveUnpacker`) into a staging
/// directory the caller chose, read as an OCI layout. A docker archive that carries no OCI
/// layout of its own (docker before 25, other tools) is turned into one there: its config and
/// layer files become blobs under their digests, and a manifest is written for them (with new
/// digests, as skopeo does). `close()` removes the staging directory.
public struct ImageArchiveSource: Sendable {
    public let layout: OCILayoutDirectory
    public let image: Descriptor
    public let staging: String
    /// The names the archive gives the image: its `io.containerd.image.name` annotation, a
    /// docker archive's `RepoTags`.
    public let names: [String]

    public static func open(_ file: String, format: ImageArchiveFormat, name: String?, staging: String) async throws -> ImageArchiveSource {
        guard FileSystem.isRegularFile(file) else { throw ImageArchiveError(file, "no such archive file") }
        let unpacked = staging + "/archive"
        try FileSystem.makeDirectories(unpacked)
        do {
            try ImageArchiveUnpacker.unpack(file, into: unpacked)
            switch format {
            case .oci:
                guard FileSystem.isRegularFile(unpacked + "/oci-layout") else { throw ImageArchiveError(file, "not an OCI archive (no oci-layout)") }
                _ = try ImageArchiveUnpacker.readJSON(ImageIndex.self, "index.json", in: unpacked, archive: file)
                let layout = try OCILayoutDirectory(creatingAt: unpacked)
                do {
                    let image = try layout.manifest(named: name)
                    let names = [image.annotations?[ImageStore.imageNameAnnotation]].compactMap { $0 }
                    return ImageArchiveSource(layout: layout, image: image, staging: staging, names: names)
                } catch StoreError.imageNotFound {
                    let count = try layout.index().manifests.count
                    throw ImageArchiveError(file, name.map { "no image named \($0)" } ?? "holds \(count) images; name one as oci-archive:\(file):NAME")
                }
            case .docker:
                let reader = DockerArchiveReader(archive: file, staging: unpacked, synthesized: staging + "/layout")
                let (layout, image, repoTags) = try await reader.image(named: name)
                var names = [image.annotations?[ImageStore.imageNameAnnotation]].compactMap { $0 }
                names += repoTags.filter { tag in !names.contains { (try? Reference(parsing: $0)) == (try? Reference(parsing: tag)) } }
                return ImageArchiveSource(layout: layout, image: image, staging: staging, names: names)
            }
        } catch {
            try? FileSystem.removeTree(staging)
            throw error
        }
    }

    public func close() {
        try? FileSystem.removeTree(staging)
    }
}

/// An image archive being written: the pusher fills an OCI layout in a staging directory beside
/// the file, and `commit` packs it into the file (temporary name, then rename) and removes the
/// staging directory, so a failed push leaves the file as it was.
public struct ImageArchiveWriter: Sendable {
    public let file: String
    public let format: ImageArchiveFormat
    public let layout: OCILayoutDirectory

    public init(file: String, format: ImageArchiveFormat) throws {
        self.file = FileSystem.absolute(file)
        self.format = format
        if FileSystem.isDirectory(self.file) { throw StoreError.outputExists(path: self.file) }
        let parent = (self.file as NSString).deletingLastPathComponent
        guard FileSystem.isDirectory(parent) else { throw StoreError.io(path: parent, reason: "the archive's directory does not exist") }
        layout = try OCILayoutDirectory(creatingAt: "\(parent)/.\((self.file as NSString).lastPathComponent).\(FileSystem.randomHex(8)).tmp.d")
    }

    /// Packs the pushed `image` into the file. For a docker archive, `name` is a reference
    /// (`name:tag`) listed in `RepoTags`; an index is refused (docker's format holds one
    /// platform's image per entry).
    public func commit(image: Descriptor, name: String?) throws {
        defer { discard() }
        let blobs = try FileSystem.list(layout.path + "/blobs/sha256").sorted().map { try Digest(parsing: "sha256:" + $0) }
        switch format {
        case .oci:
            try layout.list(image, as: name)
            try LayoutArchive.write(index: try layout.index(), blobs: blobs, blobPath: layout.blobPath, to: file)
        case .docker:
            try Self.check(image, format: format, file: file)
            let reference = try name.map { try Reference(parsing: $0) }
            let manifest = try CanonicalJSON.decode(ImageManifest.self, from: Data(try FileSystem.readFile(layout.blobPath(image.digest))))
            let contents = DockerArchiveImage(reference: reference, config: manifest.config.digest, layers: manifest.layers.map(\.digest))
            let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: ImageStore.exportEntries([(reference, image)]))
            try DockerArchiveImage.write([contents], index: index, blobs: blobs, blobPath: layout.blobPath, to: file)
        }
    }

    /// Refuses before any blob moves what the format cannot hold: an index in a docker archive
    /// (docker's format holds one platform's image per entry).
    public static func check(_ image: Descriptor, format: ImageArchiveFormat, file: String) throws {
        if format == .docker, !MediaType.isManifest(image.mediaType) {
            throw ImageArchiveError(file, "a docker archive holds one platform's image; \(image.digest) is an index (push one of its manifests)")
        }
    }

    /// Removes the staging directory (after `commit`, or instead of it when the push failed).
    public func discard() {
        try? FileSystem.removeTree(layout.path)
    }
}

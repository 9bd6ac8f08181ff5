import Foundation
import ImageModel

/// An OCI image-layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`), as skopeo's
/// `oci:DIR[:REF]` transport and umoci read and write it: a content source and destination.
/// A tag is the `org.opencontainers.image.ref.name` annotation of its `index.json` entry
/// (a later image with the same name replaces the earlier entry, as skopeo does).
///
/// Every write is a temporary file in the directory, fsynced, then renamed into place: a
/// failed copy leaves the layout as it was. One writer at a time (no lock between processes).
public struct OCILayoutDirectory: ContentSource, ContentDestination {
    public let path: String
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// Opens `path`, creating the directory and an empty layout when there is none. A
    /// directory that holds something else (no `oci-layout` but other files) is refused.
    public init(creatingAt path: String) throws {
        self.path = FileSystem.absolute(path)
        if !FileSystem.exists(self.path + "/oci-layout") {
            if FileSystem.exists(self.path) {
                guard FileSystem.isDirectory(self.path), try FileSystem.list(self.path).isEmpty else {
                    throw StoreError.io(path: self.path, reason: "not an OCI image layout (no oci-layout file) and not empty")
                }
            }
            try FileSystem.makeDirectories(self.path + "/blobs/sha256")
            try replace(self.path + "/index.json", with: Array(try CanonicalJSON.encode(ImageIndex(mediaType: MediaType.ociIndex, manifests: []))))
            try replace(self.path + "/oci-layout", with: ImageStore.layoutFileContent)
        }
        _ = try index()
    }

    public func blobPath(_ digest: Digest) -> String {
        "\(path)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    /// The layout's `index.json`.
    public func index() throws -> ImageIndex {
        let file = path + "/index.json"
        do {
            return try CanonicalJSON.decode(ImageIndex.self, from: Data(try FileSystem.readFile(file)))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.corrupt(path: file, reason: "cannot decode the OCI index: \(error)")
        }
    }

    /// The manifest named `reference` (its ref.name annotation); the only one when nil and
    /// the index holds exactly one.
    public func manifest(named reference: String?) throws -> Descriptor {
        let manifests = try index().manifests
        if let reference {
            guard let found = manifests.last(where: { $0.annotations?[Self.refNameAnnotation] == reference }) else {
                throw StoreError.imageNotFound("\(path):\(reference)")
            }
            return found
        }
        guard manifests.count == 1 else {
            throw StoreError.imageNotFound("\(path): \(manifests.count) images; name one as oci:\(path):NAME")
        }
        return manifests[0]
    }

    // MARK: ContentSource

    /// The blob whole, once its file is known to be as large as the descriptor says (a layout
    /// from elsewhere may pair a small descriptor with a huge file).
    public func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        let size = try fileSize(descriptor)
        guard size == descriptor.size else { throw ContentError.sizeMismatch(descriptor.digest, expected: descriptor.size, actual: size) }
        return try FileSystem.readFile(blobPath(descriptor.digest))
    }

    public func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        _ = try fileSize(descriptor)
        return try FileContentChunks.open(blobPath(descriptor.digest), digest: descriptor.digest)
    }

    private func fileSize(_ descriptor: Descriptor) throws -> Int64 {
        guard let status = FileSystem.status(blobPath(descriptor.digest)), (status.st_mode & S_IFMT) == S_IFREG else {
            throw ContentError.notFound(descriptor.digest)
        }
        return Int64(status.st_size)
    }

    public func mountOrigins(of descriptor: Descriptor) async throws -> [String] { [] }

    // MARK: ContentDestination

    public func blobSize(_ descriptor: Descriptor) async throws -> Int64? {
        FileSystem.status(blobPath(descriptor.digest)).flatMap { ($0.st_mode & S_IFMT) == S_IFREG ? Int64($0.st_size) : nil }
    }

    /// A directory has no other repositories to mount from.
    public func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool { false }

    public func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        let target = blobPath(descriptor.digest)
        try FileSystem.makeDirectories((target as NSString).deletingLastPathComponent)
        let temporary = temporaryPath()
        do {
            try await ChunkFileWriter.write(chunks, to: temporary)
            try FileSystem.rename(temporary, target)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
    }

    /// A layout has no referrers API: nil.
    public func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws -> Digest? {
        if try await blobSize(descriptor) != descriptor.size {
            try replace(blobPath(descriptor.digest), with: bytes)
        }
        guard let tag else { return nil }
        try list(descriptor, as: tag)
        return nil
    }

    /// Lists `descriptor` in `index.json`: named `name` (replacing an entry of that name, as
    /// skopeo does), or unnamed (once) — as skopeo lists an image copied to `oci:DIR` without
    /// a name. `putManifest` lists a tagged manifest itself; an untagged top manifest is listed
    /// by whoever knows it is the top.
    public func list(_ descriptor: Descriptor, as name: String?) throws {
        var index = try index()
        var entry = descriptor
        if let name {
            entry.annotations = (entry.annotations ?? [:]).merging([Self.refNameAnnotation: name]) { $1 }
            index.manifests.removeAll { $0.annotations?[Self.refNameAnnotation] == name }
        } else if index.manifests.contains(where: { $0.digest == descriptor.digest && $0.annotations?[Self.refNameAnnotation] == nil }) {
            return
        }
        index.manifests.append(entry)
        try replace(path + "/index.json", with: Array(try CanonicalJSON.encode(index)))
    }

    // MARK: files

    private func temporaryPath() -> String {
        "\(path)/.swiftdock-\(FileSystem.randomHex()).tmp"
    }

    /// Writes `bytes` to a temporary file and renames it over `file`.
    private func replace(_ file: String, with bytes: [UInt8]) throws {
        try FileSystem.replaceDurably(file, with: bytes, temporary: temporaryPath(), syncing: (file as NSString).deletingLastPathComponent)
    }
}

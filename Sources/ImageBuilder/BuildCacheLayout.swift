import Foundation
import ImageModel
import ImageStore
import Layers

/// A build cache in an OCI image layout directory (`--cache-to type=local,dest=DIR`,
/// `--cache-from type=local,src=DIR`), as buildx keeps its local cache: `oci-layout`,
/// `blobs/sha256/…`, and `index.json` naming the cache manifest with the
/// `org.opencontainers.image.ref.name` annotation (`tag`, default `latest`).
public struct BuildCacheLayout: Sendable {
    public let directory: String
    public let tag: String

    public init(directory: String, tag: String = "latest") {
        self.directory = directory
        self.tag = tag
    }

    /// Manifests and configs are small; anything bigger is not ours (distribution's limit).
    static let maxDocumentSize = 4 << 20

    private var blobsDirectory: String { directory + "/blobs/sha256" }
    func blobPath(_ digest: Digest) -> String { blobsDirectory + "/" + digest.encoded }

    /// Copies the cache manifest `manifest` from the store — its config and layers, which must
    /// all be local — and points `index.json` at it (replacing what it named before; blobs of
    /// earlier exports stay, as buildx leaves them).
    public func write(manifest: Descriptor, from store: ImageStore) throws {
        let manifestBytes = try store.readBlob(manifest.digest)
        let decoded = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        try FileManager.default.createDirectory(atPath: blobsDirectory, withIntermediateDirectories: true)
        for blob in [decoded.config.digest] + decoded.layers.map(\.digest) + [manifest.digest] {
            try copy(store.blobPath(blob), digest: blob)
        }
        try writeAtomically(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: directory + "/oci-layout")
        var entry = manifest
        entry.annotations = [ImageStore.refNameAnnotation: tag]
        let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: [entry])
        try writeAtomically(Array(try CanonicalJSON.encode(index)), to: directory + "/index.json")
    }

    /// Reads the cache `index.json` names (the entry tagged `tag`, else its only entry).
    public func read() throws -> ImportedBuildCache {
        let indexBytes = try readDocument(directory + "/index.json")
        let index: ImageIndex
        do { index = try JSONDecoder().decode(ImageIndex.self, from: Data(indexBytes)) } catch {
            throw BuildError("\(directory)/index.json: not an OCI index: \(error)")
        }
        let tagged = index.manifests.filter { $0.annotations?[ImageStore.refNameAnnotation] == tag }
        guard let entry = tagged.first ?? (index.manifests.count == 1 ? index.manifests.first : nil) else {
            throw BuildError("\(directory)/index.json: no cache manifest tagged \(tag)")
        }
        let manifestBytes = try readBlob(entry.digest)
        let manifest: ImageManifest
        do { manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes)) } catch {
            throw BuildError("\(directory): manifest \(entry.digest) is not a cache manifest: \(error)")
        }
        return try ImportedBuildCache(manifest: manifestBytes, config: try readBlob(manifest.config.digest),
                                      origin: .layout(directory: directory))
    }

    /// Copies a layer blob from the layout into the store, verified against its digest.
    func ingest(_ digest: Digest, into store: ImageStore) throws {
        let temporary = try store.makeTemporaryFile()
        do {
            try? FileManager.default.removeItem(atPath: temporary)
            try FileManager.default.copyItem(atPath: blobPath(digest), toPath: temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw BuildError("\(directory): cannot read layer \(digest): \(error.localizedDescription)")
        }
        try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
    }

    private func readBlob(_ digest: Digest) throws -> [UInt8] {
        guard digest.algorithm == "sha256" else { throw BuildError("\(directory): unsupported digest \(digest)") }
        let bytes = try readDocument(blobPath(digest))
        let actual = SHA256Stream.digest(of: bytes)
        guard actual == digest else { throw BuildError("\(directory): blob \(digest) is corrupt (its bytes hash to \(actual))") }
        return bytes
    }

    private func readDocument(_ path: String) throws -> [UInt8] {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw BuildError("\(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw BuildError("\(path): not a regular file") }
        guard st.st_size <= Self.maxDocumentSize else { throw BuildError("\(path): \(st.st_size) bytes is too large for a cache document") }
        guard let data = FileManager.default.contents(atPath: path) else { throw BuildError("\(path): cannot read") }
        return Array(data)
    }

    /// A blob goes in by hard link when the layout shares the store's file system, else by copy;
    /// each through a temp name and a rename, and not again when it is already there.
    private func copy(_ source: String, digest: Digest) throws {
        let destination = blobPath(digest)
        if FileManager.default.fileExists(atPath: destination) { return }
        let temporary = destination + ".tmp-" + UUID().uuidString
        if link(source, temporary) != 0 {
            do { try FileManager.default.copyItem(atPath: source, toPath: temporary) } catch {
                throw BuildError("\(directory): cannot write blob \(digest): \(error.localizedDescription)")
            }
        }
        guard rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BuildError("\(destination): \(reason)")
        }
    }

    private func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)), rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BuildError("\(path): cannot write: \(reason)")
        }
    }
}

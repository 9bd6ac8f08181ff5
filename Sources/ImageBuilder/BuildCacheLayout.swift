import FileDescriptorIO
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
    ///
    /// Durable where a reader depends on it, and no more (issue 13: this runs at the end of
    /// every `--cache-to type=local` build): the blobs' new names are flushed (one directory
    /// fsync; a hard-linked blob's bytes were durable in the store already, a copied one's are
    /// fsynced) before `index.json` names them, and `index.json` is replaced durably.
    /// `oci-layout` is written only when missing (`read()` does not depend on it).
    public func write(manifest: Descriptor, from store: ImageStore) throws {
        let manifestBytes = try store.readBlob(manifest.digest)
        let decoded = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        try FileManager.default.createDirectory(atPath: blobsDirectory, withIntermediateDirectories: true)
        var added = false
        for blob in [decoded.config.digest] + decoded.layers.map(\.digest) + [manifest.digest] {
            if try copy(store.blobPath(blob), digest: blob) { added = true }
        }
        if added { Self.syncDirectory(blobsDirectory) }
        let layoutFile = directory + "/oci-layout"
        if access(layoutFile, F_OK) != 0 {
            try replace(layoutFile, with: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), durably: false)
        }
        var entry = manifest
        entry.annotations = [ImageStore.refNameAnnotation: tag]
        let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: [entry])
        try replace(directory + "/index.json", with: Array(try CanonicalJSON.encode(index)), durably: true)
        Self.syncDirectory(directory)
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

    /// Copies a layer blob from the layout into the store, verified against its digest: a
    /// copy (a reflink or the kernel's `copy_file_range` where it can, `FileCopy`), never a
    /// link, so a layout file edited in place later cannot change a stored blob.
    func ingest(_ digest: Digest, into store: ImageStore) throws {
        let temporary = try store.makeTemporaryFile()
        do {
            try? FileManager.default.removeItem(atPath: temporary)
            var st = stat()
            guard stat(blobPath(digest), &st) == 0 else { throw BuildError(String(cString: strerror(errno))) }
            try FileCopy.copyContent(from: blobPath(digest), to: temporary, size: Int64(st.st_size))
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw BuildError("\(directory): cannot read layer \(digest): \(error)")
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

    /// A blob goes in by hard link when the layout shares the store's file system, else as a
    /// copy (a reflink where the file system shares extents, else `copy_file_range`: the kernel
    /// copies, see `FileCopy`), fsynced; each through a temp name and a rename, and not again
    /// when it is already there. Returns whether it added the blob.
    private func copy(_ source: String, digest: Digest) throws -> Bool {
        let destination = blobPath(digest)
        if FileManager.default.fileExists(atPath: destination) { return false }
        let temporary = destination + ".tmp-" + UUID().uuidString
        if link(source, temporary) != 0 {
            do {
                var st = stat()
                guard stat(source, &st) == 0 else { throw BuildError(String(cString: strerror(errno))) }
                try FileCopy.copyContent(from: source, to: temporary, size: Int64(st.st_size))
                try Self.sync(temporary)
            } catch {
                unlink(temporary)
                throw BuildError("\(directory): cannot write blob \(digest): \(error)")
            }
        }
        guard rename(temporary, destination) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BuildError("\(destination): \(reason)")
        }
        return true
    }

    /// Replaces `path` with `bytes` through a temp file and a rename (fsynced first when
    /// `durably`; the caller syncs the directory).
    private func replace(_ path: String, with bytes: [UInt8], durably: Bool) throws {
        let temporary = path + ".tmp-" + UUID().uuidString
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BuildError("\(path): cannot write: \(String(cString: strerror(errno)))") }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            do throws(FileDescriptorIOError) {
                try FileDescriptorIO.writeAll(fd, buffer)
            } catch {
                failure = error.reason
            }
        }
        if failure == nil, durably, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw BuildError("\(path): cannot write: \(failure)")
        }
    }

    private static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BuildError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw BuildError("\(path): fsync failed: \(String(cString: strerror(errno)))") }
    }

    /// Best effort, as the store's: some file systems refuse fsync on directories.
    private static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

import Layers
import Foundation
import ImageModel
#if canImport(Glibc)
import Glibc
#endif

/// The local image store: an OCI image layout on disk that any OCI tool can read
/// (`skopeo inspect oci:$ROOT:docker.io/library/x:latest`).
///
/// ```
/// oci-layout        {"imageLayoutVersion":"1.0.0"}
/// index.json        one manifest descriptor per tag; annotation org.opencontainers.image.ref.name
///                   holds the full reference (docker.io/library/x:latest)
/// blobs/sha256/<hex> immutable, content-addressed, written via temp file + fsync + rename
/// tmp/              temporary entries on the same file system, named `<pid>-<start>-<random>`
///                   after their owner; those of owners that are gone are removed by init
/// journals/<pid>-<start>  the blobs that process wrote or relied on (see ImageStore+Reclaim)
/// index.lock        flock(2) held while index.json is read, modified and replaced
/// blobs.lock        flock(2): shared while a blob is ingested, exclusive while a dead
///                   owner's unreferenced blobs are deleted
/// ```
///
/// Blobs are written without a lock (identical content lands under the identical name);
/// every change of `index.json` happens under the exclusive lock, by writing a temporary
/// file and renaming it over the old one, so readers never see a partial index and
/// concurrent writers (threads or processes) never lose each other's tags.
public final class ImageStore: Sendable {
    /// The annotation holding a tag's full reference in `index.json`.
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// Temporary files untouched for longer than this are removed when a store is opened.
    public static let defaultStaleTemporaryAge: TimeInterval = 3600

    /// Absolute path of the layout directory.
    public let root: String
    /// How trees get image owners and are removed when the real user alone cannot (an
    /// unprivileged builder with subordinate ids); nil otherwise. See `SubordinateOwnership`.
    public let ownership: (any SubordinateOwnership)?

    var blobsDirectory: String { root + "/blobs/sha256" }
    var temporaryDirectory: String { root + "/tmp" }
    var indexPath: String { root + "/index.json" }
    var layoutPath: String { root + "/oci-layout" }
    var lock: FileLock { FileLock(path: root + "/index.lock") }

    static let layoutFileContent = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    /// Opens the store at `root`, creating the layout if the directory is missing or empty
    /// and validating it otherwise. What killed swiftdocks left is reclaimed (see
    /// `ImageStore+Reclaim`); `staleTemporaryAge` only applies to temporary entries that do
    /// not name their owner.
    public init(root: String, staleTemporaryAge: TimeInterval = ImageStore.defaultStaleTemporaryAge,
                ownership: (any SubordinateOwnership)? = nil) throws {
        self.root = FileSystem.absolute(root)
        self.ownership = ownership
        try FileSystem.makeDirectories(self.root)
        let hasLayoutFile = FileSystem.exists(layoutPath)
        if !hasLayoutFile {
            let unexpected = try FileSystem.list(self.root).filter { !["blobs", "tmp", "journals", "index.lock", "blobs.lock", "index.json", "remote-sources.json"].contains($0) }
            if !unexpected.isEmpty {
                throw StoreError.notAnImageLayout(path: self.root, reason: "no oci-layout file, but it contains \(unexpected.prefix(3).joined(separator: ", "))")
            }
        }
        try FileSystem.makeDirectories(blobsDirectory)
        try FileSystem.makeDirectories(temporaryDirectory)
        if hasLayoutFile {
            try validateLayoutFile()
        } else {
            try createIfAbsent(layoutPath, ImageStore.layoutFileContent)
        }
        try lock.withLock {
            if !FileSystem.exists(indexPath) {
                let empty = ImageIndex(mediaType: MediaType.ociIndex, manifests: [])
                try createIfAbsent(indexPath, Array(try CanonicalJSON.encode(empty)))
            }
        }
        _ = try readIndex()
        reclaimAbandoned(legacyAge: staleTemporaryAge)
    }

    /// `$SWIFTDOCK_HOME`, else `${XDG_DATA_HOME:-~/.local/share}/swiftdock`.
    public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["SWIFTDOCK_HOME"], !home.isEmpty { return home }
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty { return data + "/swiftdock" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/swiftdock"
    }

    // MARK: blobs

    /// The path of a blob, whether or not it exists.
    public func blobPath(_ digest: Digest) -> String {
        "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)"
    }

    /// True when the blob is present (its content is not checked).
    public func hasBlob(_ digest: Digest) -> Bool {
        FileSystem.isRegularFile(blobPath(digest))
    }

    /// Creates a fresh, empty file under `tmp/` for the caller to fill and then `ingest`.
    public func makeTemporaryFile() throws -> String {
        while true {
            let path = temporaryPath()
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                close(fd)
                return path
            }
            if errno != EEXIST && errno != EINTR { throw FileSystem.ioError(path, "cannot create temporary file") }
        }
    }

    /// A fresh empty directory under `tmp/` (overlay upper and work dirs, unpacked layers).
    public func makeTemporaryDirectory() throws -> String {
        while true {
            let path = temporaryPath()
            if mkdir(path, 0o755) == 0 { return path }
            if errno != EEXIST && errno != EINTR { throw FileSystem.ioError(path, "cannot create temporary directory") }
        }
    }

    /// A fresh name under `tmp/` (not created): `<pid>-<start>-<random>`, naming its owner
    /// so a later swiftdock can tell when the owner is gone (`TemporaryOwner`).
    func temporaryPath(suffix: String = "") -> String {
        "\(temporaryDirectory)/\(TemporaryOwner.current)-\(FileSystem.randomHex())\(suffix)"
    }

    /// Moves a finished temporary file into the blob store as `digest`: fsync, then an
    /// atomic rename. When the blob is already present the temporary file is just deleted.
    /// With `verify` the content is hashed first and a mismatch is an error (the temporary
    /// file is then deleted too). `synced`: the caller fsynced the file already (`writeBlob`),
    /// so it is not opened and fsynced a second time.
    public func ingest(temporaryFile: String, digest: Digest, verify: Bool = false, synced: Bool = false) throws {
        guard digest.algorithm == "sha256" || !verify else {
            throw StoreError.unsupportedMediaType("digest algorithm \(digest.algorithm)", digest: digest)
        }
        let destination = blobPath(digest)
        do {
            if try claimBlob(digest) {
                try FileSystem.removeFile(temporaryFile)
                return
            }
            if verify {
                let actual = try SHA256Stream.digest(ofFile: temporaryFile)
                guard actual == digest else {
                    throw StoreError.digestMismatch(path: temporaryFile, expected: digest, actual: actual)
                }
            }
            if !synced { try FileSystem.sync(temporaryFile) }
            try FileSystem.makeDirectories((destination as NSString).deletingLastPathComponent)
            // Under `blobs.lock` (shared; `claimBlob` journaled the digest): a crash-recovery
            // pass never deletes it between the journal line and the rename.
            try blobsLock.withLock(exclusive: false) { try FileSystem.rename(temporaryFile, destination) }
        } catch {
            try? FileSystem.removeFile(temporaryFile)
            throw error
        }
        FileSystem.syncDirectory((destination as NSString).deletingLastPathComponent)
    }

    /// Stores bytes as a blob and returns their SHA-256 digest.
    @discardableResult
    public func writeBlob(_ bytes: [UInt8]) throws -> Digest {
        let digest = SHA256Stream.digest(of: bytes)
        if try claimBlob(digest) { return digest }
        let temporary = temporaryPath()
        do {
            try FileSystem.createDurably(temporary, bytes)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
        try ingest(temporaryFile: temporary, digest: digest, synced: true)
        return digest
    }

    /// Encodes a value as canonical JSON, stores it and describes it with `mediaType`.
    public func writeJSON<T: Encodable>(_ value: T, mediaType: String) throws -> Descriptor {
        let bytes = Array(try CanonicalJSON.encode(value))
        let digest = try writeBlob(bytes)
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
    }

    /// The content of a blob, verified against its digest.
    public func readBlob(_ digest: Digest) throws -> [UInt8] {
        let path = blobPath(digest)
        guard FileSystem.isRegularFile(path) else { throw StoreError.blobNotFound(digest) }
        let bytes = try FileSystem.readFile(path)
        if digest.algorithm == "sha256" {
            let actual = SHA256Stream.digest(of: bytes)
            guard actual == digest else { throw StoreError.digestMismatch(path: path, expected: digest, actual: actual) }
        }
        return bytes
    }

    /// Reads and decodes a JSON blob, naming the blob on failure.
    func readJSON<T: Decodable>(_ type: T.Type, _ digest: Digest) throws -> T {
        let bytes = try readBlob(digest)
        do {
            return try CanonicalJSON.decode(type, from: Data(bytes))
        } catch {
            throw StoreError.corrupt(path: blobPath(digest), reason: "cannot decode \(T.self): \(error)")
        }
    }

    // MARK: layout housekeeping

    /// Writes `bytes` to `path` unless it exists: temp file + fsync + link(2), which fails
    /// rather than replaces when another process got there first.
    func createIfAbsent(_ path: String, _ bytes: [UInt8]) throws {
        if FileSystem.exists(path) { return }
        let temporary = temporaryPath()
        try FileSystem.createDurably(temporary, bytes)
        defer { try? FileSystem.removeFile(temporary) }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw FileSystem.ioError(path, "cannot create")
        }
        FileSystem.syncDirectory(root)
    }

    private func validateLayoutFile() throws {
        struct Layout: Decodable { var imageLayoutVersion: String }
        let bytes = try FileSystem.readFile(layoutPath)
        guard let layout = try? CanonicalJSON.decode(Layout.self, from: Data(bytes)) else {
            throw StoreError.notAnImageLayout(path: root, reason: "oci-layout is not valid JSON with imageLayoutVersion")
        }
        guard layout.imageLayoutVersion.hasPrefix("1.") else {
            throw StoreError.notAnImageLayout(path: root, reason: "unsupported imageLayoutVersion \(layout.imageLayoutVersion)")
        }
    }
}

import Foundation
import ImageModel
import Layers

/// The header index of base layers: what each layer's tar headers say (path, type, mode,
/// owner, link target, mtime), so the builder knows a lazily pulled base's file system
/// without unpacking it, and a second build on the same base reads no layer bytes at all.
///
/// ```
/// cache/layer-index/<diff-id hex>   one file per layer
/// ```
///
/// A file is one line `swiftdock-layer-index 1 <blob digest> <sha256 of the rest>` and then
/// the headers as JSON. It is written under `tmp/` and renamed into place, so it is whole or
/// absent; an entry that does not parse or whose checksum fails is rebuilt, never trusted.
/// It serves only the blob digest it was built from: a different blob claiming the same
/// diff ID (another compression, or a lying config) gets its own index from its own bytes.
extension ImageStore {
    var layerIndexDirectory: String { root + "/cache/layer-index" }

    private static let indexMagic = "swiftdock-layer-index 1"

    /// The cached headers of the layer `diffID` as built from blob `blob`; nil when there is
    /// no usable entry (missing, unreadable, corrupt, or built from another blob).
    public func cachedLayerHeaders(diffID: Digest, blob: Digest) -> [LayerHeaders.Header]? {
        let path = layerIndexDirectory + "/" + diffID.encoded
        guard let bytes = try? FileSystem.readFile(path), let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else {
            return nil
        }
        let fields = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 4, fields[0] + " " + fields[1] == Self.indexMagic, fields[2] == blob.description else { return nil }
        let payload = Array(bytes[(newline + 1)...])
        guard SHA256Stream.digest(of: payload).encoded == fields[3] else { return nil }
        return try? JSONDecoder().decode([LayerHeaders.Header].self, from: Data(payload))
    }

    /// The headers of the layer `diffID`, from the cache or else by streaming blob `blob` once
    /// — from `blobFile` when given (a blob fetched outside the store), else from the store —
    /// verified against its digest on the way, and caching the result. Throws
    /// `StoreError.blobNotFound` when the blob is not there, `LayerError.digestMismatch` when
    /// its bytes are wrong (nothing is cached then).
    public func layerHeaders(diffID: Digest, blob: Digest, blobFile: String? = nil) throws -> [LayerHeaders.Header] {
        if let cached = cachedLayerHeaders(diffID: diffID, blob: blob) { return cached }
        let file = blobFile ?? blobPath(blob)
        guard FileSystem.isRegularFile(file) else { throw StoreError.blobNotFound(blob) }
        let headers = try LayerHeaders.read(blobPath: file, digest: blob)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same layer always gives the same bytes
        let payload = Array(try encoder.encode(headers))
        let line = "\(Self.indexMagic) \(blob) \(SHA256Stream.digest(of: payload).encoded)\n"
        try FileSystem.makeDirectories(layerIndexDirectory)
        let temporary = temporaryPath(suffix: ".layer-index")
        do {
            try FileSystem.createDurably(temporary, Array(line.utf8) + payload)
            try FileSystem.rename(temporary, layerIndexDirectory + "/" + diffID.encoded)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
        FileSystem.syncDirectory(layerIndexDirectory)
        return headers
    }

    /// Deletes the index entries no kept layer needs: an entry serves one blob (its first
    /// line names it), so it goes when that blob is not in `keep` — the blobs of every
    /// tagged image, lazy layers included, and of the step cache — and it was last written
    /// before `cutoff` (a build that has not tagged yet may have just made it). Entries that
    /// do not parse go too; they would be rebuilt anyway. Returns how many were deleted.
    /// The caller holds the store lock.
    func pruneLayerIndex(keeping keep: Set<Digest>, cutoff: TimeInterval) throws -> Int {
        guard FileSystem.isDirectory(layerIndexDirectory) else { return 0 }
        var deleted = 0
        for name in try FileSystem.list(layerIndexDirectory) {
            let path = layerIndexDirectory + "/" + name
            guard let st = FileSystem.status(path), (st.st_mode & S_IFMT) == S_IFREG,
                  TimeInterval(st.st_mtim.tv_sec) <= cutoff else { continue }
            if let blob = Self.indexedBlob(path), keep.contains(blob) { continue }
            try FileSystem.removeFile(path)
            deleted += 1
        }
        if deleted > 0 { FileSystem.syncDirectory(layerIndexDirectory) }
        return deleted
    }

    /// The blob an index entry was built from, read from its first line only (an entry for a
    /// multi-GB base is large); nil when the line is not an index header.
    private static func indexedBlob(_ path: String) -> Digest? {
        guard let fd = try? FileSystem.open(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 256)
        let n = head.withUnsafeMutableBytes { (try? FileSystem.read(fd, into: $0, path: path)) ?? 0 }
        guard let newline = head[..<n].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let fields = String(decoding: head[..<newline], as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 4, fields[0] + " " + fields[1] == indexMagic else { return nil }
        return try? Digest(parsing: fields[2])
    }
}

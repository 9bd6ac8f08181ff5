import BlockingWork
import FileDescriptorIO
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
/// A file is one line `swiftdock-layer-index 3 <blob digest> <sha256 of the rest>` and then
/// the headers as JSON. It is written under `tmp/` and renamed into place, so it is whole or
/// absent; an entry that does not parse or whose checksum fails is rebuilt, never trusted.
/// It serves only the blob digest it was built from: a different blob claiming the same
/// diff ID (another compression, or a lying config) gets its own index from its own bytes.
extension ImageStore {
    var layerIndexDirectory: String { root + "/cache/layer-index" }

    /// Version 3: names read as the layer's bytes (`ArchiveLocale.bytes`); a version-2 file was
    /// read under UTF-8, where libarchive normalises `e` + U+0301 to `é`, so it is not trusted
    /// and the index is rebuilt from the blob. (Version 2 kept link targets that are not UTF-8,
    /// which a version-1 file may hold empty.)
    private static let indexMagic = "swiftdock-layer-index 3"

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
        return try cacheLayerHeaders(try LayerHeaders.read(blobPath: file, digest: blob), diffID: diffID, blob: blob)
    }

    /// The headers of the layer `diffID`, from the cache or else read from `chunks` — the
    /// bytes of blob `blob` as a verifying source hands them out (a registry read that checks
    /// SHA-256 and length as it streams and throws instead of ending a wrong blob) — in one
    /// pass, nothing written to disk but the index: registry bytes → gunzip → tar headers.
    /// The index is cached only when both the stream ended cleanly (the blob verified) and
    /// its headers were read whole; on any error nothing is cached and the source's error
    /// (a digest mismatch first) is thrown. With `storingBlob` (a stage that RUNs needs the
    /// content too) the same read also writes the blob into the store, ingested on success.
    public func layerHeaders(diffID: Digest, blob: Digest, chunks: ContentChunks,
                             storingBlob: Bool = false) async throws -> [LayerHeaders.Header] {
        if let cached = cachedLayerHeaders(diffID: diffID, blob: blob) { return cached }
        guard storingBlob else { return try await streamHeaders(diffID: diffID, blob: blob, chunks: chunks, copy: nil) }
        let temporary = try makeTemporaryFile()
        do {
            let fd = try FileSystem.open(temporary, O_WRONLY | O_TRUNC | O_CLOEXEC)
            let headers: [LayerHeaders.Header]
            do {
                defer { close(fd) }
                headers = try await streamHeaders(diffID: diffID, blob: blob, chunks: chunks) { chunk in
                    try chunk.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: temporary) }
                }
            }
            try ingest(temporaryFile: temporary, digest: blob)
            return headers
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// The streamed read of `layerHeaders(diffID:blob:chunks:storingBlob:)`; `copy` sees every chunk.
    private func streamHeaders(diffID: Digest, blob: Digest, chunks: ContentChunks,
                               copy: (([UInt8]) throws -> Void)?) async throws -> [LayerHeaders.Header] {
        // A socket pair, not a pipe: a write after the reader gave up fails with EPIPE instead
        // of raising SIGPIPE. libarchive's reader is synchronous, so it runs on a thread of its
        // own and never blocks one of the cooperative pool's few threads.
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw StoreError.io(path: "layer \(blob)", reason: "cannot make a socket pair: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let name = "layer \(blob)"
        let reading = DedicatedThread { try LayerHeaders.read(stream: readEnd, name: name) }
        var streamError: Error?
        var readerListens = true
        do {
            for try await chunk in chunks {
                try copy?(chunk)
                // Once the reader stopped (damaged bytes), the rest still streams through the
                // source's check: a blob that is not what its digest says is reported as such.
                if readerListens { readerListens = Self.send(chunk, to: writeEnd) }
            }
        } catch {
            streamError = error
        }
        close(writeEnd)
        let read = await reading.result
        if let streamError { throw streamError }
        return try cacheLayerHeaders(try read.get(), diffID: diffID, blob: blob)
    }

    /// Writes all of `bytes` to the socket `fd`; false when the other end is closed.
    private static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        bytes.withUnsafeBytes { buffer in
            (try? FileDescriptorIO.sendAll(fd, buffer, flags: Int32(MSG_NOSIGNAL))) != nil
        }
    }

    /// Writes the index entry of `headers` (whole or not at all) and returns them.
    private func cacheLayerHeaders(_ headers: [LayerHeaders.Header], diffID: Digest, blob: Digest) throws -> [LayerHeaders.Header] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys  // the same layer always gives the same bytes
        let payload = Array(try encoder.encode(headers))
        let line = "\(Self.indexMagic) \(blob) \(SHA256Stream.digest(of: payload).encoded)\n"
        try FileSystem.makeDirectories(layerIndexDirectory)
        let temporary = temporaryPath(suffix: ".layer-index")
        do {
            // Not fsynced (nor its directory): the first line's checksum rejects whatever a
            // crash leaves, and the index is then rebuilt from the blob. Two fsyncs per layer
            // were most of the first no-change rebuild's index writes (issue 13).
            try FileSystem.create(temporary, Array(line.utf8) + payload, durably: false)
            try FileSystem.rename(temporary, layerIndexDirectory + "/" + diffID.encoded)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
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

import Foundation
import ImageModel

/// A file's bytes as `ContentChunks` of 1 MiB, read as the consumer asks for them (bounded
/// memory however large the layer).
enum FileContentChunks {
    static func open(_ path: String, digest: Digest) throws -> ContentChunks {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.blobNotFound(digest)
        }
        let reader = Reader(handle: handle, path: path)
        return ContentChunks(unfolding: { try reader.next() })
    }

    /// Pulled by one consumer at a time (`unfolding` never runs its closure concurrently),
    /// so the handle needs no lock.
    private final class Reader: @unchecked Sendable {
        let handle: FileHandle
        let path: String
        var closed = false

        init(handle: FileHandle, path: String) {
            self.handle = handle
            self.path = path
        }

        deinit { if !closed { try? handle.close() } }

        func next() throws -> [UInt8]? {
            guard !closed else { return nil }
            let data: Data
            do {
                data = try handle.read(upToCount: 1 << 20) ?? Data()
            } catch {
                throw StoreError.io(path: path, reason: "\(error)")
            }
            if data.isEmpty {
                closed = true
                try? handle.close()
                return nil
            }
            return [UInt8](data)
        }
    }
}

/// Writes `chunks` to a fresh file at `path` (created exclusively), fsynced; the caller
/// renames it into place only when this returns, so an error leaves nothing visible.
enum ChunkFileWriter {
    static func write(_ chunks: ContentChunks, to path: String) async throws {
        let fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL)
        defer { close(fd) }
        for try await chunk in chunks {
            try chunk.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        }
        if fsync(fd) != 0 { throw FileSystem.ioError(path, "fsync failed") }
    }
}

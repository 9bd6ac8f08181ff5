import Foundation
import ImageModel

/// The file a layer blob is written to: buffered `write(2)`s, a running SHA-256 and byte count.
/// Used by one thread at a time.
final class BlobOutput {
    let path: String
    private(set) var hash = SHA256Stream()
    private(set) var count: Int64 = 0
    private let hashing: Bool
    private var fd: Int32
    private let buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 20
    private var used = 0

    /// Creates (or truncates) `path`. When `hashing` is false the digest is left to the caller.
    init(path: String, hashing: Bool) throws {
        self.path = path
        self.hashing = hashing
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LayerError.writeFailed(path: path, reason: LayerError.errnoText()) }
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if hashing { hash.update(bytes) }
        count += Int64(bytes.count)
        if used + bytes.count <= capacity {
            (buffer + used).copyMemory(from: base, byteCount: bytes.count)
            used += bytes.count
            return
        }
        try flush()
        if bytes.count >= capacity / 2 {
            try writeAll(base, bytes.count)
        } else {
            buffer.copyMemory(from: base, byteCount: bytes.count)
            used = bytes.count
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Flushes and closes the file.
    func close() throws {
        try flush()
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw LayerError.writeFailed(path: path, reason: LayerError.errnoText()) }
    }

    /// Closes and removes the partial file after a failure.
    func abandon() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        unlink(path)
    }

    private func flush() throws {
        if used > 0 { try writeAll(buffer, used) }
        used = 0
    }

    private func writeAll(_ base: UnsafeRawPointer, _ length: Int) throws {
        var done = 0
        while done < length {
            let n = Glibc.write(fd, base + done, length - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw LayerError.writeFailed(path: path, reason: LayerError.errnoText())
            }
            done += n
        }
    }
}

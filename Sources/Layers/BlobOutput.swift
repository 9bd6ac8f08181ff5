import Foundation
import ImageModel

/// The front of a layer blob's output: 1 MiB of buffering (few `write(2)`s) unless the sink
/// gathers parts itself (`BlobSink.buffersWrites`: an upload's buffers, filled straight from
/// the compressor's output), a running SHA-256 and byte count of the bytes handed to the
/// sink — so the digest is always of what was actually written. Used by one thread at a time.
final class BlobOutput {
    let sink: any BlobSink
    private(set) var hash = SHA256Stream()
    private(set) var count: Int64 = 0
    private let hashing: Bool
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var used = 0

    /// How errors name the output (the sink's path or upload).
    var path: String { sink.name }

    /// When `hashing` is false the digest is left to the caller.
    init(sink: any BlobSink, hashing: Bool) {
        self.sink = sink
        self.hashing = hashing
        // Zero capacity: every write goes straight through (see the type's doc).
        capacity = sink.buffersWrites ? 0 : 1 << 20
        buffer = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1), alignment: 64)
    }

    deinit {
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
            try sink.write(bytes)
        } else {
            buffer.copyMemory(from: base, byteCount: bytes.count)
            used = bytes.count
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Flushes and closes the sink.
    func close() throws {
        try flush()
        try sink.close()
    }

    /// Drops the partial blob after a failure.
    func abandon() {
        used = 0
        sink.abandon()
    }

    private func flush() throws {
        if used > 0 { try sink.write(UnsafeRawBufferPointer(start: buffer, count: used)) }
        used = 0
    }
}

import CZlib
import Dispatch
import Foundation
import ImageModel

/// Where the tar byte stream goes after the diff ID has seen it.
protocol TarSink: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    /// Free space at the end of the sink's own input buffer, where the next bytes `consume`
    /// takes would be copied to; nil when the sink has none. A producer may read file data
    /// straight into it and then pass exactly that memory to `consume`, which then copies
    /// nothing (see `ParallelGzipSink.consume`).
    func writableRegion() -> UnsafeMutableRawBufferPointer?
    /// Whether the sink hashes the bytes it is given into the diff ID itself
    /// (`uncompressedDigest`), so `LayerStream` must not.
    var hashesUncompressed: Bool { get }
    /// The SHA-256 of every byte given to `consume`, once `finish` has returned; nil when the
    /// sink does not hash (`hashesUncompressed`).
    func uncompressedDigest() -> Digest?
    /// Ends the stream (flushes, writes trailers) without closing the output.
    func finish() throws
}

/// The uncompressed tar stream: hashed into the diff ID (here, or by a sink that hashes it
/// off this thread) and counted, then passed on.
final class LayerStream {
    private var diffID = SHA256Stream()
    private(set) var count: Int64 = 0
    let sink: TarSink
    private let hashesHere: Bool

    init(sink: TarSink) {
        self.sink = sink
        hashesHere = !sink.hashesUncompressed
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        if hashesHere { diffID.update(bytes) }
        count += Int64(bytes.count)
        try sink.consume(bytes)
    }

    /// The diff ID of everything consumed; once the sink has finished.
    func finalizeDiffID() -> Digest {
        hashesHere ? diffID.finalize() : sink.uncompressedDigest() ?? diffID.finalize()
    }

    /// The sink's free input space (`TarSink.writableRegion`).
    func writableRegion() -> UnsafeMutableRawBufferPointer? { sink.writableRegion() }
}

/// Uncompressed layers: tar bytes straight to the file.
final class PlainSink: TarSink {
    let output: BlobOutput
    init(output: BlobOutput) { self.output = output }
    func consume(_ bytes: UnsafeRawBufferPointer) throws { try output.write(bytes) }
    func writableRegion() -> UnsafeMutableRawBufferPointer? { nil }
    var hashesUncompressed: Bool { false }
    func uncompressedDigest() -> Digest? { nil }
    func finish() throws {}
}

/// pigz-style parallel gzip. The tar stream is cut into fixed-size blocks; each block is
/// compressed on a worker (GCD) as raw deflate primed with the previous block's last 32 KiB and
/// ending in a sync flush; the producer writes finished blocks in order, combining their CRCs,
/// and closes the single gzip member with an empty final block and the trailer.
///
/// Memory is `window × ~2.2 × blockSize` whatever the layer size. Block boundaries depend only
/// on the byte stream, so the output is deterministic.
///
/// The diff ID (SHA-256 of the uncompressed stream) is hashed here too, block by block in
/// order on a serial queue of its own, instead of on the producer's thread: that thread also
/// reads every file and hashes it for the step key, and at the end of a cold build it was the
/// one busy thread while a core waited (issue 13). A block is reused only once both its
/// compression and its hashing are done.
final class ParallelGzipSink: TarSink {
    private let output: BlobOutput
    private let blocks: [DeflateBlock]
    /// Signalled when block `i`'s bytes are in the diff ID.
    private let hashed: [DispatchSemaphore]
    private let diffID = UncompressedHash()
    private var submitted = 0
    private var emitted = 0
    private var crc: UInt32 = 0
    private var totalIn: UInt64 = 0
    private static let queue = DispatchQueue.global(qos: .userInitiated)

    /// Fixed gzip header: deflate, no flags, mtime 0, no extra flags, OS 255 (unknown).
    static let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]

    /// Whether `writableRegion` offers the current block's free input (see `TarSink`).
    private let offersInput: Bool

    init(output: BlobOutput, level: Int, blockSize: Int, offersInput: Bool = true) throws {
        self.output = output
        self.offersInput = offersInput
        let size = max(blockSize, 2 * DeflateBlock.dictionarySize)
        let window = 2 * ProcessInfo.processInfo.activeProcessorCount + 2
        blocks = try (0..<window).map { _ in try DeflateBlock(capacity: size, level: level) }
        hashed = blocks.map { _ in DispatchSemaphore(value: 0) }
        try output.write(Self.header)
    }

    private var current: DeflateBlock { blocks[submitted % blocks.count] }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        totalIn &+= UInt64(remaining)
        while remaining > 0 {
            let block = current
            let n = min(remaining, block.inputCapacity - block.inputCount)
            // Bytes read straight into `writableRegion()` are in place already: the tar emitter
            // reads file data there, sparing a copy of every layer byte (issue 13).
            let destination = block.input + block.inputCount
            if UnsafeRawPointer(destination) != base {
                destination.update(from: base.assumingMemoryBound(to: UInt8.self), count: n)
            }
            block.inputCount += n
            base += n
            remaining -= n
            if block.inputCount == block.inputCapacity { try submit() }
        }
    }

    func writableRegion() -> UnsafeMutableRawBufferPointer? {
        guard offersInput else { return nil }
        let block = current
        return UnsafeMutableRawBufferPointer(start: block.input + block.inputCount, count: block.inputCapacity - block.inputCount)
    }

    private func submit() throws {
        let block = current
        if submitted > 0 {
            let previous = blocks[(submitted - 1) % blocks.count]
            let n = min(DeflateBlock.dictionarySize, previous.inputCount)
            block.dict.update(from: previous.input + (previous.inputCount - n), count: n)
            block.dictCount = n
        } else {
            block.dictCount = 0
        }
        Self.queue.async {
            block.run()
            block.done.signal()
        }
        diffID.add(block.input, count: block.inputCount, then: hashed[submitted % blocks.count])
        submitted += 1
        if submitted - emitted == blocks.count { try emitOldest() }
        current.inputCount = 0
    }

    private func emitOldest() throws {
        let block = blocks[emitted % blocks.count]
        block.done.wait()
        hashed[emitted % blocks.count].wait()
        emitted += 1
        if let error = block.error { throw LayerError.compression(path: output.path, message: error) }
        try output.write(UnsafeRawBufferPointer(start: block.output, count: block.outputCount))
        crc = UInt32(crc32_combine(uLong(crc), uLong(block.crc), off_t(block.inputCount)))
    }

    func finish() throws {
        if current.inputCount > 0 { try submit() }
        while emitted < submitted { try emitOldest() }
        let size = UInt32(truncatingIfNeeded: totalIn)
        var trailer: [UInt8] = [0x03, 0x00]  // empty final static block
        for v in [crc, size] {
            trailer += [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)]
        }
        try output.write(trailer)
    }

    var hashesUncompressed: Bool { true }

    func uncompressedDigest() -> Digest? { diffID.finalize() }

    deinit {
        // After an error, let in-flight blocks finish before their buffers go away.
        while emitted < submitted {
            blocks[emitted % blocks.count].done.wait()
            hashed[emitted % blocks.count].wait()
            emitted += 1
        }
    }
}

/// SHA-256 of a byte stream given in blocks, hashed in the order given on a serial queue.
private final class UncompressedHash: @unchecked Sendable {
    // @unchecked: `stream` is touched only on `queue`.
    private let queue = DispatchQueue(label: "swiftdock.layer.diffid", qos: .userInitiated)
    private var stream = SHA256Stream()

    /// Hashes `count` bytes at `bytes` after everything added before, then signals `done`;
    /// the bytes must stay as they are until then.
    func add(_ bytes: UnsafeMutablePointer<UInt8>, count: Int, then done: DispatchSemaphore) {
        let address = UInt(bitPattern: bytes)
        queue.async {
            self.stream.update(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: address), count: count))
            done.signal()
        }
    }

    /// The digest of everything added (waits for the queue).
    func finalize() -> Digest {
        queue.sync { stream.finalize() }
    }
}

import CISAL
import CZlib
import Dispatch

/// Compresses one block of a deflate stream: raw deflate, primed with the previous block's last
/// 32 KiB, ending in a sync flush so blocks concatenate into one valid stream (pigz's scheme).
/// Each engine owns its library state and is used by one thread at a time.
final class DeflateEngine {
    private enum Backend {
        case isal(UnsafeMutablePointer<isal_zstream>, level: UInt32, levelBuf: UnsafeMutablePointer<UInt8>?, size: UInt32)
        case zlib(UnsafeMutablePointer<z_stream>)
    }
    private let backend: Backend

    /// Levels 1–3 use ISA-L, everything else zlib at `level` (clamped to 0…9).
    init(level: Int) throws {
        if (1...3).contains(level) {
            let stream = UnsafeMutablePointer<isal_zstream>.allocate(capacity: 1)
            let size = swiftdock_isal_level_buf_size(Int32(level))
            let buf = size > 0 ? UnsafeMutablePointer<UInt8>.allocate(capacity: Int(size)) : nil
            backend = .isal(stream, level: UInt32(level), levelBuf: buf, size: size)
        } else {
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            let rc = deflateInit2_(stream, Int32(min(max(level, 0), 9)), Z_DEFLATED, -15, 8,
                                   Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard rc == Z_OK else {
                stream.deallocate()
                throw LayerError.compression(path: "zlib", message: "deflateInit2 returned \(rc)")
            }
            backend = .zlib(stream)
        }
    }

    deinit {
        switch backend {
        case .isal(let stream, _, let buf, _):
            stream.deallocate()
            buf?.deallocate()
        case .zlib(let stream):
            deflateEnd(stream)
            stream.deallocate()
        }
    }

    /// Compresses `input` into `block.output` (grown as needed). Returns nil or an error text.
    func compress(_ block: DeflateBlock) -> String? {
        switch backend {
        case .isal(let s, let level, let buf, let size):
            isal_deflate_init(s)
            s.pointee.level = level
            s.pointee.level_buf = buf
            s.pointee.level_buf_size = size
            s.pointee.gzip_flag = 0  // raw deflate
            s.pointee.flush = UInt16(SYNC_FLUSH)
            s.pointee.end_of_stream = 0
            if block.dictCount > 0 {
                let rc = isal_deflate_set_dict(s, block.dict, UInt32(block.dictCount))
                if rc != COMP_OK { return "isal_deflate_set_dict returned \(rc)" }
            }
            s.pointee.next_in = block.input
            s.pointee.avail_in = UInt32(block.inputCount)
            return block.fillOutput { out, space in
                s.pointee.next_out = out
                s.pointee.avail_out = space
                let rc = isal_deflate(s)
                return (rc == COMP_OK ? nil : "isal_deflate returned \(rc)", s.pointee.avail_in, s.pointee.avail_out)
            }
        case .zlib(let s):
            deflateReset(s)
            if block.dictCount > 0 {
                let rc = deflateSetDictionary(s, block.dict, UInt32(block.dictCount))
                if rc != Z_OK { return "deflateSetDictionary returned \(rc)" }
            }
            s.pointee.next_in = block.input
            s.pointee.avail_in = UInt32(block.inputCount)
            return block.fillOutput { out, space in
                s.pointee.next_out = out
                s.pointee.avail_out = space
                let rc = deflate(s, Z_SYNC_FLUSH)
                return (rc == Z_OK || rc == Z_BUF_ERROR ? nil : "deflate returned \(rc)", s.pointee.avail_in, s.pointee.avail_out)
            }
        }
    }
}

/// One block in flight: its input bytes, dictionary, compressed output and CRC-32.
/// Filled by the producer, compressed on a worker, then emitted by the producer; the
/// `done` semaphore orders those hand-offs. That is why `@unchecked Sendable` is safe: at any
/// moment exactly one thread owns the block, and the semaphore's signal/wait publishes its
/// writes to the next owner.
final class DeflateBlock: @unchecked Sendable {
    static let dictionarySize = 32 * 1024
    let input: UnsafeMutablePointer<UInt8>
    let inputCapacity: Int
    var inputCount = 0
    let dict = UnsafeMutablePointer<UInt8>.allocate(capacity: DeflateBlock.dictionarySize)
    var dictCount = 0
    private(set) var output: UnsafeMutablePointer<UInt8>
    private(set) var outputCapacity: Int
    var outputCount = 0
    var crc: UInt32 = 0
    var error: String?
    let done = DispatchSemaphore(value: 0)
    let engine: DeflateEngine

    init(capacity: Int, level: Int) throws {
        inputCapacity = capacity
        input = .allocate(capacity: capacity)
        outputCapacity = capacity + capacity / 8 + 4096
        output = .allocate(capacity: outputCapacity)
        engine = try DeflateEngine(level: level)
    }

    deinit {
        input.deallocate()
        dict.deallocate()
        output.deallocate()
    }

    /// Runs one compression `step` after another on the free output space — from the start of
    /// `output`, grown whenever a step fills it — until the input is used up and space is left
    /// (the sync flush is complete). A step answers its library's error text (or nil) and the
    /// input and output bytes still available after it. Returns nil or the error text.
    func fillOutput(_ step: (_ next: UnsafeMutablePointer<UInt8>, _ space: UInt32)
                        -> (error: String?, availableIn: UInt32, availableOut: UInt32)) -> String? {
        outputCount = 0
        while true {
            let result = step(output + outputCount, UInt32(outputCapacity - outputCount))
            if let error = result.error { return error }
            outputCount = outputCapacity - Int(result.availableOut)
            if result.availableIn == 0 && result.availableOut > 0 { return nil }
            growOutput()
        }
    }

    private func growOutput() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: outputCapacity * 2)
        bigger.update(from: output, count: outputCount)
        output.deallocate()
        output = bigger
        outputCapacity *= 2
    }

    /// Runs on a worker thread.
    func run() {
        crc = UInt32(crc32_gzip_refl(0, input, UInt64(inputCount)))
        error = engine.compress(self)
    }
}

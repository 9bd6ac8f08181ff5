@testable import FileDescriptorIO
import Foundation
import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The loops over real descriptors: pipes whose other end moves bytes in small pieces (short
/// writes and short reads), the end of a file, `pread` at offsets, and the typed error with its
/// `errno` for a descriptor that is not open. Signals (`EINTR`) are in `InterruptionTests`.
final class FileDescriptorIOTests: XCTestCase {
    /// A write end stuffed beyond a pipe's 64 KiB: `write(2)` takes part at a time while a reader
    /// takes `piece` bytes per read; every byte must arrive, in order.
    func testWriteAllSurvivesShortWrites() throws {
        for piece in [1, 100, 4096, 100_000] {
            let (readEnd, writeEnd) = try makePipe()
            defer { close(readEnd) }
            let payload = pattern(count: 300_000, seed: piece)
            let received = Mutex<[UInt8]>([])
            let readerDone = DispatchSemaphore(value: 0)
            Thread {
                var buffer = [UInt8](repeating: 0, count: piece)
                var all: [UInt8] = []
                while true {
                    let n = buffer.withUnsafeMutableBytes { Glibc.read(readEnd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    all += buffer[..<n]
                }
                received.withLock { $0 = all }
                readerDone.signal()
            }.start()
            try payload.withUnsafeBytes { try FileDescriptorIO.writeAll(writeEnd, $0) }
            close(writeEnd)
            readerDone.wait()
            XCTAssertEqual(received.withLock { $0 }, payload, "pieces of \(piece)")
        }
    }

    /// The reading side of the same: a writer hands over `piece` bytes at a time, so each
    /// `read(2)` returns less than asked; `readFully` gathers until the buffer is full.
    func testReadFullyGathersShortReads() throws {
        for piece in [1, 7, 1000] {
            let (readEnd, writeEnd) = try makePipe()
            defer { close(readEnd) }
            let payload = pattern(count: 20_000, seed: piece)
            let writer = Thread {
                payload.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = Glibc.write(writeEnd, bytes.baseAddress! + offset, min(piece, bytes.count - offset))
                        if n <= 0 { break }
                        offset += n
                        if offset % (piece * 50) == 0 { usleep(200) }
                    }
                }
                close(writeEnd)
            }
            writer.start()
            var buffer = [UInt8](repeating: 0, count: 15_000)
            let first = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.readFully(readEnd, into: $0) }
            XCTAssertEqual(first, 15_000, "pieces of \(piece)")
            XCTAssertEqual(Array(buffer[..<first]), Array(payload[..<15_000]))
            // The rest is shorter than the buffer: what there is, then the end of the file.
            let second = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.readFully(readEnd, into: $0) }
            XCTAssertEqual(second, 5_000)
            XCTAssertEqual(Array(buffer[..<second]), Array(payload[15_000...]))
            let third = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.readFully(readEnd, into: $0) }
            XCTAssertEqual(third, 0)
        }
    }

    /// `read` is one read: at most the buffer, what the pipe holds, 0 only at the end.
    func testReadReturnsWhatIsThereAndZeroAtTheEnd() throws {
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd) }
        let payload = pattern(count: 10, seed: 1)
        try payload.withUnsafeBytes { try FileDescriptorIO.writeAll(writeEnd, $0) }
        var buffer = [UInt8](repeating: 0, count: 100)
        let rows: [(capacity: Int, closeFirst: Bool, expected: Int)] = [
            (4, false, 4),      // less than the pipe holds: a full buffer
            (100, false, 6),    // more than it holds: the rest, not a wait for more
            (0, false, 0),      // an empty buffer reads nothing
            (100, true, 0),     // writer gone, pipe empty: the end of the file
        ]
        var offset = 0
        for row in rows {
            if row.closeFirst { close(writeEnd) }
            let n = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.read(readEnd, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<row.capacity])) }
            XCTAssertEqual(n, row.expected, "\(row)")
            XCTAssertEqual(Array(buffer[..<n]), Array(payload[offset..<(offset + n)]))
            offset += n
        }
    }

    /// `preadFully` at offsets inside, across and past the end of a file, leaving the
    /// descriptor's own offset where it was.
    func testPreadFullyAtOffsets() throws {
        let fd = try makeTemporaryFile()
        defer { close(fd) }
        let content = pattern(count: 1000, seed: 3)
        try content.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }
        XCTAssertEqual(lseek(fd, 100, SEEK_SET), 100)
        let rows: [(offset: Int64, count: Int, expected: Int)] = [
            (0, 1000, 1000), (10, 100, 100), (999, 1, 1), (990, 100, 10), (1000, 10, 0), (5000, 10, 0), (500, 0, 0),
        ]
        for row in rows {
            var buffer = [UInt8](repeating: 0, count: row.count)
            let n = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.preadFully(fd, into: $0, at: row.offset) }
            XCTAssertEqual(n, row.expected, "\(row)")
            let start = min(Int(row.offset), content.count)
            XCTAssertEqual(Array(buffer[..<n]), Array(content[start..<(start + n)]), "\(row)")
        }
        XCTAssertEqual(lseek(fd, 0, SEEK_CUR), 100, "pread moved the file offset")
    }

    /// `readFully` on a regular file: whole buffers, then the short tail, then 0.
    func testReadFullyStopsAtTheEndOfAFile() throws {
        let fd = try makeTemporaryFile()
        defer { close(fd) }
        let content = pattern(count: 2500, seed: 9)
        try content.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }
        XCTAssertEqual(lseek(fd, 0, SEEK_SET), 0)
        var buffer = [UInt8](repeating: 0, count: 1000)
        var counts: [Int] = []
        var all: [UInt8] = []
        for _ in 0..<4 {
            let n = try buffer.withUnsafeMutableBytes { try FileDescriptorIO.readFully(fd, into: $0) }
            counts.append(n)
            all += buffer[..<n]
        }
        XCTAssertEqual(counts, [1000, 1000, 500, 0])
        XCTAssertEqual(all, content)
    }

    /// A descriptor that is not open: each operation throws its own name and `EBADF`.
    func testClosedDescriptorThrowsTheOperationAndErrno() throws {
        let (readEnd, writeEnd) = try makePipe()
        close(readEnd)
        close(writeEnd)
        var buffer = [UInt8](repeating: 0, count: 16)
        let rows: [(FileDescriptorIOError.Operation, (UnsafeMutableRawBufferPointer) throws(FileDescriptorIOError) -> Void)] = [
            (.write, { b throws(FileDescriptorIOError) in try FileDescriptorIO.writeAll(writeEnd, UnsafeRawBufferPointer(b)) }),
            (.send, { b throws(FileDescriptorIOError) in try FileDescriptorIO.sendAll(writeEnd, UnsafeRawBufferPointer(b), flags: Int32(MSG_NOSIGNAL)) }),
            (.read, { b throws(FileDescriptorIOError) in _ = try FileDescriptorIO.read(readEnd, into: b) }),
            (.read, { b throws(FileDescriptorIOError) in _ = try FileDescriptorIO.readFully(readEnd, into: b) }),
            (.pread, { b throws(FileDescriptorIOError) in _ = try FileDescriptorIO.preadFully(readEnd, into: b, at: 4) }),
        ]
        for (operation, call) in rows {
            do {
                try buffer.withUnsafeMutableBytes { b in
                    do throws(FileDescriptorIOError) { try call(b) } catch { throw error }
                }
                XCTFail("\(operation): no error")
            } catch let error as FileDescriptorIOError {
                XCTAssertEqual(error, FileDescriptorIOError(operation, code: EBADF, transferred: 0))
                XCTAssertEqual(error.reason, String(cString: strerror(EBADF)))
            }
        }
    }

    /// A peer that stops reading part-way: `sendAll` (with `MSG_NOSIGNAL`, no `SIGPIPE`) throws
    /// `EPIPE` and says how much had gone before.
    func testSendAllToAClosedPeerSaysHowMuchWent() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { close(fds[0]) }
        let peer = fds[1]
        let taken = 10_000
        let readerDone = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: taken)
            _ = buffer.withUnsafeMutableBytes { try? FileDescriptorIO.readFully(peer, into: $0) }
            close(peer)
            readerDone.signal()
        }.start()
        let payload = pattern(count: 4 << 20, seed: 5)
        do {
            try payload.withUnsafeBytes { try FileDescriptorIO.sendAll(fds[0], $0, flags: Int32(MSG_NOSIGNAL)) }
            XCTFail("4 MiB went into a socket nobody reads")
        } catch let error as FileDescriptorIOError {
            XCTAssertEqual(error.operation, .send)
            XCTAssertEqual(error.code, EPIPE)
            XCTAssertGreaterThanOrEqual(error.transferred, taken)
            XCTAssertLessThan(error.transferred, payload.count)
        }
        readerDone.wait()
    }

    /// The loop itself, over calls scripted to fail: `EINTR` is retried, anything else thrown
    /// with the bytes done so far; a write that moves nothing is `EIO`, never a spin.
    func testLoopsRetryOnlyEINTR() throws {
        let rows: [(script: [(Int, Int32)], error: FileDescriptorIOError?)] = [
            ([(-1, EINTR), (-1, EINTR), (10, 0)], nil),
            ([(4, 0), (-1, EINTR), (6, 0)], nil),
            ([(4, 0), (-1, EAGAIN)], FileDescriptorIOError(.write, code: EAGAIN, transferred: 4)),
            ([(3, 0), (0, 0)], FileDescriptorIOError(.write, code: EIO, transferred: 3)),
        ]
        let bytes = [UInt8](repeating: 1, count: 10)
        for row in rows {
            var script = row.script[...]
            do {
                try bytes.withUnsafeBytes { buffer in
                    try FileDescriptorIO.moveAll(buffer, .write) { _, _ in
                        let (result, code) = script.popFirst()!
                        errno = code
                        return result
                    }
                }
                XCTAssertNil(row.error, "\(row.script)")
            } catch let error as FileDescriptorIOError {
                XCTAssertEqual(error, row.error, "\(row.script)")
            }
            XCTAssertTrue(script.isEmpty, "\(row.script): calls left over")
        }
    }

    /// The same for the read loop: `EINTR` retried at each offset, 0 the end, other errors
    /// thrown with what was read before them.
    func testReadLoopRetriesOnlyEINTR() throws {
        let rows: [(script: [(Int, Int32)], result: Int?, error: FileDescriptorIOError?)] = [
            ([(-1, EINTR), (10, 0)], 10, nil),
            ([(4, 0), (-1, EINTR), (-1, EINTR), (6, 0)], 10, nil),
            ([(4, 0), (0, 0)], 4, nil),
            ([(4, 0), (-1, EIO)], nil, FileDescriptorIOError(.pread, code: EIO, transferred: 4)),
        ]
        var bytes = [UInt8](repeating: 0, count: 10)
        for row in rows {
            var script = row.script[...]
            var offsets: [Int] = []
            do {
                let n = try bytes.withUnsafeMutableBytes { buffer in
                    try FileDescriptorIO.fill(buffer, .pread) { _, _, done in
                        offsets.append(done)
                        let (result, code) = script.popFirst()!
                        errno = code
                        return result
                    }
                }
                XCTAssertEqual(n, row.result, "\(row.script)")
            } catch let error as FileDescriptorIOError {
                XCTAssertEqual(error, row.error, "\(row.script)")
            }
            XCTAssertTrue(script.isEmpty, "\(row.script): calls left over")
            XCTAssertEqual(offsets.first, 0)
        }
    }
}

/// Bytes that differ from one offset to the next, so a lost or repeated piece shows.
func pattern(count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 31 &+ seed) % 251) }
}

func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw FileDescriptorIOError(.read, code: errno) }
    return (fds[0], fds[1])
}

/// A scratch file already unlinked: nothing is left in /tmp when its descriptor closes.
func makeTemporaryFile() throws -> Int32 {
    var template = Array("/tmp/fdio-test-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else { throw FileDescriptorIOError(.write, code: errno) }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return fd
}

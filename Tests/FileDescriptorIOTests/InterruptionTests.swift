@testable import FileDescriptorIO
import Foundation
import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `EINTR` for real: a thread blocked in `write(2)` on a full pipe or in `read(2)` on an empty
/// one is sent SIGUSR1 several times, with a handler installed without `SA_RESTART`, so each
/// signal makes the call return `EINTR`. A bare call in the same harness is shown to fail with
/// `EINTR` first (so the harness really interrupts), then the loops are shown to carry on.
final class InterruptionTests: XCTestCase {
    private var previous = sigaction()

    override func setUp() {
        super.setUp()
        _ = signalsDelivered.load(ordering: .relaxed)  // its lazy initialisation, outside the handler
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in signalsDelivered.add(1, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: the blocked call returns EINTR
        XCTAssertEqual(sigaction(SIGUSR1, &action, &previous), 0)
    }

    override func tearDown() {
        sigaction(SIGUSR1, &previous, nil)
        super.tearDown()
    }

    func testWriteAllCarriesOnThroughSignals() throws {
        // The harness: a bare write(2) on the full pipe is interrupted.
        try assertInterrupted(filled: true) { fd, byte in Glibc.write(fd.write, byte, 1) }
        // writeAll in the same place: every signal lands while it waits, and all bytes arrive.
        let (readEnd, writeEnd) = try makePipe()
        defer { close(readEnd); close(writeEnd) }
        let filled = try fill(writeEnd)
        let payload = pattern(count: 200_000, seed: 11)
        var received: [UInt8] = []
        let run = underSignals(signals: 5, unblock: {
            received = drain(readEnd, count: filled + payload.count)
        }) { () -> FileDescriptorIOError? in
            payload.withUnsafeBytes { buffer in
                do throws(FileDescriptorIOError) {
                    try FileDescriptorIO.writeAll(writeEnd, buffer)
                    return nil
                } catch {
                    return error
                }
            }
        }
        XCTAssertEqual(run.result, .some(nil), "no error, and finished")
        XCTAssertFalse(run.finishedEarly, "the write did not block: nothing was interrupted")
        XCTAssertGreaterThanOrEqual(run.delivered, 5)
        XCTAssertEqual(received.count, filled + payload.count)
        XCTAssertEqual(Array(received[filled...]), payload)
    }

    func testReadsCarryOnThroughSignals() throws {
        // The harness: a bare read(2) on the empty pipe is interrupted.
        try assertInterrupted(filled: false) { fd, byte in Glibc.read(fd.read, byte, 1) }
        let rows: [(name: String, expected: Int, call: @Sendable (Int32, UnsafeMutableRawBufferPointer) throws(FileDescriptorIOError) -> Int)] = [
            ("read", 1000, { fd, buffer throws(FileDescriptorIOError) in try FileDescriptorIO.read(fd, into: buffer) }),
            ("readFully", 3000, { fd, buffer throws(FileDescriptorIOError) in try FileDescriptorIO.readFully(fd, into: buffer) }),
        ]
        for row in rows {
            let (readEnd, writeEnd) = try makePipe()
            defer { close(readEnd); close(writeEnd) }
            let payload = pattern(count: 3000, seed: row.expected)
            let run = underSignals(signals: 5, unblock: {
                // In three pieces: `read` returns the first, `readFully` waits for all.
                for start in stride(from: 0, to: payload.count, by: 1000) {
                    payload[start..<(start + 1000)].withUnsafeBytes { _ = Glibc.write(writeEnd, $0.baseAddress, $0.count) }
                    usleep(20_000)
                }
            }) { () -> Result<[UInt8], FileDescriptorIOError> in
                var buffer = [UInt8](repeating: 0, count: 3000)
                return buffer.withUnsafeMutableBytes { bytes in
                    do throws(FileDescriptorIOError) {
                        let n = try row.call(readEnd, bytes)
                        return .success(Array(bytes[..<n]))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            XCTAssertFalse(run.finishedEarly, "\(row.name) did not block: nothing was interrupted")
            XCTAssertGreaterThanOrEqual(run.delivered, 5, row.name)
            XCTAssertEqual(try run.result?.get(), Array(payload[..<row.expected]), row.name)
        }
    }

    /// A bare one-byte `call` on a pipe (full when `filled`, else empty) is cut short by the
    /// first signal with `EINTR`: the harness does interrupt a blocked call.
    private func assertInterrupted(filled: Bool, _ call: @escaping @Sendable ((read: Int32, write: Int32), UnsafeMutableRawPointer) -> Int,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let fds = try makePipe()
        defer { close(fds.read); close(fds.write) }
        if filled { _ = try fill(fds.write) }
        let run = underSignals(signals: 5, unblock: {}) { () -> (Int, Int32) in
            var byte: UInt8 = 1
            let n = call(fds, &byte)
            return (n, errno)
        }
        XCTAssertEqual(run.result?.0, -1, file: file, line: line)
        XCTAssertEqual(run.result?.1, EINTR, file: file, line: line)
        XCTAssertTrue(run.finishedEarly, file: file, line: line)
    }

    /// Runs `operation` on a thread of its own and, once it is under way, sends that thread
    /// `signals` SIGUSR1s 20 ms apart (fewer if it finishes meanwhile); then `unblock` lets it
    /// finish (not called when it finished early: then it gave up on a signal, and a failed
    /// test must not hang). The thread stays alive until the end so that no signal goes to a
    /// dead thread. `result` is nil when the operation has not finished 30 s later.
    private func underSignals<T: Sendable>(signals: Int, unblock: () -> Void,
                                           _ operation: @escaping @Sendable () -> T) -> (result: T?, delivered: Int, finishedEarly: Bool) {
        let thread = Mutex<pthread_t?>(nil)
        let result = Mutex<T?>(nil)
        let started = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0), mayExit = DispatchSemaphore(value: 0)
        Thread {
            thread.withLock { $0 = pthread_self() }
            started.signal()
            let value = operation()
            result.withLock { $0 = value }
            done.signal()
            mayExit.wait()
        }.start()
        started.wait()
        usleep(50_000)  // into the blocking call
        let target = thread.withLock { $0 }!
        let before = signalsDelivered.load(ordering: .relaxed)
        var finishedEarly = false
        for _ in 0..<signals {
            pthread_kill(target, SIGUSR1)
            usleep(20_000)
            if done.wait(timeout: .now()) == .success { finishedEarly = true; break }
        }
        let delivered = signalsDelivered.load(ordering: .relaxed) - before
        if !finishedEarly {
            unblock()
            if done.wait(timeout: .now() + 30) == .timedOut { return (nil, delivered, false) }
        }
        mayExit.signal()
        return (result.withLock { $0 }, delivered, finishedEarly)
    }
}

/// SIGUSR1s the handler has seen (lock-free: safe to touch in a signal handler).
let signalsDelivered = Atomic<Int>(0)

/// Fills the pipe's write end until it takes no more; returns how many bytes that was.
private func fill(_ fd: Int32) throws -> Int {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    defer { _ = fcntl(fd, F_SETFL, flags) }
    let page = [UInt8](repeating: 0xAA, count: 4096)
    var total = 0
    while true {
        let n = page.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n > 0 { total += n; continue }
        guard errno == EAGAIN else { throw FileDescriptorIOError(.write, code: errno) }
        return total
    }
}

/// Reads `count` bytes (or to the end) from `fd`.
private func drain(_ fd: Int32, count: Int) -> [UInt8] {
    var all: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while all.count < count {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, count - all.count)) }
        if n <= 0 { break }
        all += buffer[..<n]
    }
    return all
}

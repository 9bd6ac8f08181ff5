import Foundation
import ImageModel
import XCTest
@testable import Layers

#if canImport(Glibc)
import Glibc
#endif

/// `SourceReadAhead` starts its workers only when the tar thread's first reads miss the page
/// cache, often enough to matter; it stays within its window of the tar thread; a FIFO swapped
/// in for a file does not block it; `stop()` ends it; and the layer is the same with it.
final class SourceReadAheadTests: XCTestCase {
    private func files(_ scratch: Scratch, count: Int, size: Int) throws -> [LayerItem] {
        try (0..<count).map { index in
            let path = scratch.file("f\(index)")
            try Data(repeating: UInt8(index & 0xff), count: size).write(to: URL(fileURLWithPath: path))
            return .entry(LayerEntry(path: "l\(index)", kind: .regularFile(.file(path: path, size: Int64(size))), mode: 0o644, mtimeSeconds: 1))
        }
    }

    private func waitUntil(_ condition: () -> Bool, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(2_000)
        }
        return true
    }

    /// Table: (first reads that hit, that miss) → whether the workers start. A few misses among
    /// many hits (a cache that lost some pages) are not enough; a cold start is.
    func testWorkersStartOnlyWhenEnoughFirstReadsMiss() throws {
        let cases: [(hits: Int, misses: Int, starts: Bool)] = [
            (1000, 0, false), (1000, 7, false), (1000, 50, false), (0, 7, false), (0, 8, true), (40, 8, true), (100, 20, true),
        ]
        for c in cases {
            let readAhead = SourceReadAhead(threads: 2)
            for _ in 0..<c.hits { readAhead.firstRead(cached: true) }
            for _ in 0..<c.misses { readAhead.firstRead(cached: false) }
            XCTAssertEqual(readAhead.hasStarted, c.starts, "\(c.hits) hits, \(c.misses) misses")
            readAhead.stop()
        }
    }

    func testWorkersStayWithinTheirWindowAndStopEndsThem() throws {
        let scratch = Scratch()
        let items = try files(scratch, count: 20, size: 1024)
        let readAhead = SourceReadAhead(threads: 3, window: 3 * 1024, missesToStart: 1)
        readAhead.add(items)
        readAhead.firstRead(cached: false)
        XCTAssertTrue(readAhead.hasStarted)
        // Files starting at 0, 1, 2 and 3 KiB are within 3 KiB of a reader at 0.
        XCTAssertTrue(waitUntil { readAhead.filesTaken == 4 }, "taken: \(readAhead.filesTaken)")
        usleep(50_000)
        XCTAssertEqual(readAhead.filesTaken, 4, "a worker went past the window")
        readAhead.passed(10 * 1024)
        XCTAssertTrue(waitUntil { readAhead.filesTaken == 14 }, "taken: \(readAhead.filesTaken)")
        readAhead.passed(100 * 1024)
        XCTAssertTrue(waitUntil { readAhead.filesTaken == 20 }, "taken: \(readAhead.filesTaken)")
        readAhead.stop()
        readAhead.add(try files(scratch, count: 1, size: 10))
        usleep(20_000)
        XCTAssertEqual(readAhead.filesTaken, 20, "a file was taken after stop()")
    }

    /// A FIFO where a file was planned: opened without O_NONBLOCK a worker would wait for a
    /// writer forever (and `stop()` with it).
    func testAFifoInPlaceOfAFileDoesNotBlockAWorker() throws {
        let scratch = Scratch()
        let fifo = scratch.file("fifo")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let readAhead = SourceReadAhead(threads: 1, missesToStart: 1)
        readAhead.add([.entry(LayerEntry(path: "fifo", kind: .regularFile(.file(path: fifo, size: 10)), mode: 0o644, mtimeSeconds: 1))]
                      + (try files(scratch, count: 3, size: 100)))
        readAhead.firstRead(cached: false)
        XCTAssertTrue(waitUntil { readAhead.filesTaken == 4 }, "taken: \(readAhead.filesTaken)")
        let stopped = expectation(description: "stop() returned")
        DispatchQueue.global().async { readAhead.stop(); stopped.fulfill() }
        wait(for: [stopped], timeout: 10)
    }

    /// The layer written from files out of the page cache (the read-ahead at work) is the one
    /// written from cached files, byte for byte.
    func testALayerFromUncachedFilesIsTheSameLayer() throws {
        let scratch = Scratch()
        let items = try files(scratch, count: 64, size: 70_000)
        let warm = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("warm.tar.gz")))
        for case .entry(let entry) in items {
            guard case .regularFile(.file(let path, _)) = entry.kind else { continue }
            let fd = open(path, O_RDONLY)
            _ = fdatasync(fd)
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
            close(fd)
        }
        let cold = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("cold.tar.gz")))
        XCTAssertEqual(cold, warm)
    }
}

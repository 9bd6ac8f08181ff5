import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// Counts writes running at once (the most seen) and which ran.
private final class Gauge: @unchecked Sendable {
    private let lock = NSLock()
    private var running = 0
    private(set) var most = 0
    private(set) var finished: [Int] = []
    func enter() { lock.withLock { running += 1; most = max(most, running) } }
    func leave(_ id: Int) { lock.withLock { running -= 1; finished.append(id) } }
    var snapshot: (most: Int, finished: [Int], running: Int) { lock.withLock { (most, finished, running) } }
}

private func layer(_ n: Int) -> WrittenLayer {
    let digest = SHA256Stream.digest(of: [UInt8(n)])
    return WrittenLayer(diffID: digest, digest: digest, size: Int64(n), uncompressedSize: Int64(n))
}

final class LayerWriteQueueTests: XCTestCase {
    /// At most `limit` writes at once, each result to its own handle, all ended on return.
    func testBoundedAndAllDoneOnReturn() async throws {
        for limit in [1, 2, 3] {
            let gauge = Gauge()
            let results = try await LayerWriteQueue.withLayerWrites(limit: limit) { queue -> [WrittenLayer] in
                let handles = (0..<8).map { n in
                    queue.submit {
                        gauge.enter()
                        try await Task.sleep(nanoseconds: 20_000_000)
                        gauge.leave(n)
                        return layer(n)
                    }
                }
                // The body goes on while writes run (a later step), then waits for one.
                let third = try await handles[2].value
                XCTAssertEqual(third, layer(2))
                return try await withThrowingTaskGroup(of: (Int, WrittenLayer).self) { group in
                    for (n, handle) in handles.enumerated() { group.addTask { (n, try await handle.value) } }
                    var out = [WrittenLayer?](repeating: nil, count: handles.count)
                    for try await (n, value) in group { out[n] = value }
                    return out.map { $0! }
                }
            }
            let seen = gauge.snapshot
            XCTAssertEqual(results, (0..<8).map(layer), "limit \(limit)")
            XCTAssertEqual(seen.most, limit, "limit \(limit)")
            XCTAssertEqual(seen.running, 0)
            XCTAssertEqual(Set(seen.finished), Set(0..<8))
        }
    }

    /// A failed write fails only its own handle; the build decides what that means.
    func testWriteErrorGoesToItsHandle() async throws {
        struct Refused: Error {}
        try await LayerWriteQueue.withLayerWrites(limit: 2) { queue in
            let bad = queue.submit { throw Refused() }
            let good = queue.submit { layer(1) }
            do {
                _ = try await bad.value
                XCTFail("expected the write's error")
            } catch is Refused {}
            let value = try await good.value
            XCTAssertEqual(value, layer(1))
        }
    }

    /// When the build fails, running writes end before it returns and queued ones never start.
    func testBuildErrorWaitsForRunningWritesAndDropsQueuedOnes() async throws {
        struct StepFailed: Error {}
        let gauge = Gauge()
        var handles: [PendingLayerWrite] = []
        do {
            try await LayerWriteQueue.withLayerWrites(limit: 1) { queue in
                for n in 0..<4 {
                    handles.append(queue.submit {
                        gauge.enter()
                        try? await Task.sleep(nanoseconds: 100_000_000)
                        gauge.leave(n)
                        return layer(n)
                    })
                }
                try await Task.sleep(nanoseconds: 20_000_000)
                throw StepFailed()
            }
            XCTFail("expected the build's error")
        } catch is StepFailed {}
        let seen = gauge.snapshot
        XCTAssertEqual(seen.running, 0, "a write still ran after the build returned")
        XCTAssertEqual(seen.finished, [0])
        let first = try await handles[0].value
        XCTAssertEqual(first, layer(0))
        for handle in handles.dropFirst() {
            do {
                _ = try await handle.value
                XCTFail("a queued write ran after the build failed")
            } catch is CancellationError {}
        }
    }
}

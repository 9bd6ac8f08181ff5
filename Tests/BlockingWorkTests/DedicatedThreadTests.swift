import BlockingWork
import Foundation
import XCTest

/// `DedicatedThread`: the body runs on a thread of its own (so blocking there never holds the
/// cooperative pool), every waiter gets its value or its error as thrown, and the thread's
/// name and stack size are the ones asked for.
final class DedicatedThreadTests: XCTestCase {
    private struct Refusal: Error, Equatable { let code: Int }

    /// More bodies than the pool has threads, each blocked until the last one has started: on
    /// the cooperative pool this would never finish; on threads of their own it does.
    func testBlockingBodiesDoNotHoldThePool() async {
        let count = ProcessInfo.processInfo.activeProcessorCount * 2 + 2
        let started = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let threads = (0..<count).map { index in
            DedicatedThread { () -> Int in
                started.signal()
                release.wait()
                return index
            }
        }
        for _ in 0..<count { await Task.detached { started.wait() }.value }
        for _ in 0..<count { release.signal() }
        var values: [Int] = []
        for thread in threads { values.append(await thread.value) }
        XCTAssertEqual(values, Array(0..<count))
    }

    func testErrorsReachEveryWaiterWithTheirType() async {
        let thread = DedicatedThread { () throws -> Int in throw Refusal(code: 7) }
        for _ in 0..<3 {
            do {
                _ = try await thread.value
                XCTFail("no error")
            } catch let error as Refusal {
                XCTAssertEqual(error, Refusal(code: 7))
            } catch {
                XCTFail("\(error) lost its type")
            }
        }
        do {
            _ = try await DedicatedThread.run { () throws -> Int in throw Refusal(code: 8) }
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error as? Refusal, Refusal(code: 8))
        }
    }

    /// Waiters that come before the end and after it, concurrently, all get the one value.
    func testEveryWaiterGetsTheValueBeforeAndAfterTheEnd() async {
        let gate = DispatchSemaphore(value: 0)
        let thread = DedicatedThread { () -> String in
            gate.wait()
            return "done"
        }
        let early = (0..<4).map { _ in Task { await thread.value } }
        gate.signal()
        for waiter in early { let value = await waiter.value; XCTAssertEqual(value, "done") }
        let late = await thread.value
        XCTAssertEqual(late, "done")
        let result = await thread.result
        XCTAssertEqual(try? result.get(), "done")
    }

    func testNameAndStackSize() async {
        let (name, stack) = await DedicatedThread.run(name: "swiftdock-test", stackSize: 8 << 20) { () -> (String, Int) in
            // The OS thread's own name, as ps and perf show it.
            let comm = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
            return (comm.trimmingCharacters(in: .newlines), Thread.current.stackSize)
        }
        XCTAssertEqual(name, "swiftdock-test")
        XCTAssertGreaterThanOrEqual(stack, 8 << 20)
    }

    /// Cancelling the waiting task does not stop the body (the caller's cancellation handler
    /// does that, as `Sandbox.run` kills its process): the value still arrives.
    func testCancellingAWaiterLeavesTheBodyRunning() async {
        let gate = DispatchSemaphore(value: 0)
        let thread = DedicatedThread { () -> Int in
            gate.wait()
            return 42
        }
        let waiter = Task { await thread.value }
        waiter.cancel()
        gate.signal()
        let value = await waiter.value
        XCTAssertEqual(value, 42)
    }
}

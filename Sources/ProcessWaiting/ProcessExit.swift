import Dispatch
import Foundation

/// Waits for a started `Process` to end without polling.
///
/// Why not `Process.waitUntilExit()`: swift-corelibs-foundation implements it as a loop that
/// runs the current run loop for 50 ms at a time until `isRunning` turns false, so a thread
/// waiting on a two-second child wakes about forty times (measured: ~210 voluntary context
/// switches for `sleep 2`, against ~11 here), and a task's thread is held in that loop.
/// Foundation already reaps the child on its own thread (a SIGCHLD source) and then calls the
/// `terminationHandler`; this handle turns that call into a `DispatchGroup` leave, so a
/// waiting thread sleeps until then and an async caller suspends. A separate `waitpid` would
/// race Foundation's own reaping, hence the handler.
///
/// The exit status and signal are Foundation's: `terminationStatus` with `terminationReason`
/// (`.exit`, or `.uncaughtSignal` with the signal number as the status), valid once a wait
/// returns. Like `waitUntilExit()`, it ends when Foundation notices the end: when every process
/// holding Foundation's status socket (the child and any descendant it left behind) has gone.
///
/// After the end is noticed, each wait also calls `waitUntilExit()` once, which then returns at
/// once (the process is no longer running) but drops the run-loop source through which the
/// `Process` retains itself: without it every `Process` started here stayed alive with its
/// pipes, two descriptors per child (measured: 100 children left 200 pipe ends open), and a
/// long-lived caller such as the test process reached ~1,500 descriptors — where
/// swift-corelibs-foundation's `Process.run()` can crash reading `/proc/self/fd`
/// (swiftlang/swift-corelibs-foundation#5472, not yet in this toolchain).
public struct ProcessExit: Sendable {
    private let exited: DispatchGroup
    // Process is `@unchecked Sendable` in swift-corelibs-foundation; only `waitUntilExit()` is
    // called on it here, after its end.
    private let process: Process

    /// Starts `process` (which must not be running yet and must have no `terminationHandler` of
    /// its own: this one replaces it). Throws what `Process.run()` throws; then nothing waits.
    public static func start(_ process: Process) throws -> ProcessExit {
        let exited = DispatchGroup()
        exited.enter()
        // Set before run(): a handler set after the child already ended would never be called.
        process.terminationHandler = { _ in exited.leave() }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            throw error
        }
        return ProcessExit(exited: exited, process: process)
    }

    /// Blocks this thread, asleep, until the process has ended. Any number of calls, from any thread.
    public func wait() {
        exited.wait()
        process.waitUntilExit()
    }

    /// Suspends until the process has ended; no thread is held meanwhile.
    public func ended() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exited.notify(queue: .global()) { [process] in
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

extension Process {
    /// `run()`, then sleep until the process ends (`ProcessExit` says why not `waitUntilExit()`).
    public func runToExit() throws {
        try ProcessExit.start(self).wait()
    }
}

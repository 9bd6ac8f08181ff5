import CLinux
import Foundation
import Synchronization

/// Blocking work — system calls that wait, a synchronous C library (libarchive, zlib), a child
/// process — run on an OS thread of its own and awaited from async code.
///
/// Why not a task: Swift's cooperative pool has as many threads as there are cores, and work
/// that blocks holds its thread for as long as it blocks — on 2 cores, half the pool. A
/// dedicated thread blocks only itself; the awaiting task is suspended meanwhile and holds none.
///
/// The thread starts at once, in `init`. Awaiting `value` (or `result`) never starts or cancels
/// anything: any number of tasks may await it, before or after it ended. Cancelling a waiting
/// task does not stop the body (a blocking call cannot be interrupted from here): a caller that
/// can stop its work wraps the wait in `withTaskCancellationHandler` (see `Sandbox.run`).
/// The body's error reaches every waiter as it was thrown, with its type.
public final class DedicatedThread<Success: Sendable, Failure: Error>: Sendable {
    private typealias Waiter = CheckedContinuation<Result<Success, Failure>, Never>

    private enum State {
        case running(waiters: [Waiter])
        case ended(Result<Success, Failure>)
    }

    private let state = Mutex(State.running(waiters: []))

    /// Starts `body` now on a new thread named `name`, with a stack of `stackSize` bytes
    /// (Foundation's default when nil; a body that recurses once per directory level wants more).
    private init(name: String?, stackSize: Int?, body: @escaping @Sendable () -> Result<Success, Failure>) {
        let thread = Thread { [self] in
            // Named from inside, by the OS thread itself: Foundation's `Thread.name` reaches the
            // OS thread only when set after `start()` has recorded it, a race; otherwise the thread
            // keeps its creator's (a pool thread's) name in ps, perf and gdb.
            if let name { _ = swiftdock_name_this_thread(name) }
            let outcome = body()
            let waiters: [Waiter] = state.withLock { state in
                guard case .running(let waiters) = state else { return [] }
                state = .ended(outcome)
                return waiters
            }
            for waiter in waiters { waiter.resume(returning: outcome) }
        }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }

    /// How the body ended: its value or its error. Returns once it has ended.
    public var result: Result<Success, Failure> {
        get async {
            await withCheckedContinuation { continuation in
                let ended: Result<Success, Failure>? = state.withLock { state in
                    switch state {
                    case .ended(let outcome):
                        return outcome
                    case .running(var waiters):
                        waiters.append(continuation)
                        state = .running(waiters: waiters)
                        return nil
                    }
                }
                if let ended { continuation.resume(returning: ended) }
            }
        }
    }
}

extension DedicatedThread where Failure == Never {
    /// Starts `body` now on a thread of its own (see the type's notes).
    public convenience init(name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Success) {
        self.init(name: name, stackSize: stackSize, body: { .success(body()) })
    }

    /// What the body returned, once it has returned.
    public var value: Success {
        get async { await result.get() }
    }

    /// Runs `body` on a thread of its own and returns what it returned.
    public static func run(name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Success) async -> Success {
        await DedicatedThread(name: name, stackSize: stackSize, body).value
    }
}

extension DedicatedThread where Failure == any Error {
    /// Starts `body` now on a thread of its own (see the type's notes).
    public convenience init(name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () throws -> Success) {
        self.init(name: name, stackSize: stackSize, body: { Result { try body() } })
    }

    /// What the body returned, once it has returned; what it threw, rethrown as it was.
    public var value: Success {
        get async throws { try await result.get() }
    }

    /// Runs `body` on a thread of its own and returns what it returned, or rethrows what it threw.
    public static func run(name: String? = nil, stackSize: Int? = nil, _ body: @escaping @Sendable () throws -> Success) async throws -> Success {
        try await DedicatedThread(name: name, stackSize: stackSize, body).value
    }
}

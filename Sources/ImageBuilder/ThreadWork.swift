import Foundation

/// Work on a thread of its own, beside the build; `ended()` waits for it.
///
/// Why not a task: the build's tasks share as many threads as there are cores, and work that
/// blocks in system calls for a while (a context walk, unpacking a root file system, waiting
/// for the sandbox probe's process) would hold one of them — on 2 cores, half of them — for
/// its whole length.
final class ThreadWork: Sendable {
    private let end: AsyncStream<Never>

    /// Starts `body` now on a new thread.
    init(_ body: @escaping @Sendable () -> Void) {
        let (end, ending) = AsyncStream<Never>.makeStream()
        self.end = end
        let thread = Thread {
            body()
            ending.finish()
        }
        thread.stackSize = 8 << 20  // a context walk recurses once per directory level
        thread.start()
    }

    /// Returns once `body` has returned. One waiter at a time (the stream's rule); any
    /// number of waits one after the other.
    func ended() async {
        for await _ in end {}
    }
}

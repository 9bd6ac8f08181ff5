import Foundation

/// Removes directories on a thread of its own while the build goes on; `wait()` returns once
/// they are gone. The build's last step is waiting for its final layers to be compressed:
/// removing the RUN lower directories it materialised from COPYs (32k hard links for issue
/// 13's tree) meanwhile, instead of after the image is committed, takes that removal off the
/// end of a cold build.
final class BackgroundRemoval: @unchecked Sendable {
    // @unchecked: `finished` and `waiters` are read and written under `lock`.
    private let lock = NSLock()
    private var finished = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Starts removing `paths` (best effort, as `BuildSession.cleanUp` removes temp files).
    init(_ paths: [String]) {
        let thread = Thread { [self] in
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
            lock.lock()
            finished = true
            let waiting = waiters
            waiters.removeAll()
            lock.unlock()
            for waiter in waiting { waiter.resume() }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Returns once every path is removed.
    func wait() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if finished {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}

extension BuildSession {
    /// Once no RUN is left to need them (every stage has run), removes the lower directories
    /// materialised from COPY layers in the background (see `BackgroundRemoval`); `cleanUp`
    /// waits for it. A RUN's own upper directory stays: its layer may still be being written
    /// from it.
    func removeMaterialisedLayersInBackground() {
        guard !materialisedDirectories.isEmpty, materialisedRemoval == nil else { return }
        materialisedRemoval = BackgroundRemoval(materialisedDirectories)
        materialisedDirectories.removeAll()
    }
}

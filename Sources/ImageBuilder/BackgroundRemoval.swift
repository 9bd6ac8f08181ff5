import Foundation
import Layers

/// Removes directories on a thread of its own while the build goes on; `wait()` returns once
/// they are gone. The build's last step is waiting for its final layers to be compressed:
/// removing the RUN lower directories it materialised from COPYs (32k hard links for issue
/// 13's tree) meanwhile, instead of after the image is committed, takes that removal off the
/// end of a cold build.
///
/// The hard links to context files go first, one by one through the `LinkJournal` (a stat
/// before and after each unlink); `unlinkedLinks()` returns as soon as they are gone, so the
/// file index can be restamped and saved while the rest of the trees is still being removed.
final class BackgroundRemoval: @unchecked Sendable {
    // @unchecked: everything below is read and written under `lock`.
    private let lock = NSLock()
    private var outcomes: [LinkJournal.Outcome]?
    private var finished = false
    private var linkWaiters: [CheckedContinuation<[LinkJournal.Outcome], Never>] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Starts unlinking `journal`'s links, then removing `paths` (best effort, as
    /// `BuildSession.cleanUp` removes temp files).
    init(_ paths: [String], journal: LinkJournal) {
        let thread = Thread { [self] in
            let unlinked = journal.unlinkAll()
            lock.lock()
            outcomes = unlinked
            let waitingForLinks = linkWaiters
            linkWaiters.removeAll()
            lock.unlock()
            for waiter in waitingForLinks { waiter.resume(returning: unlinked) }

            ConcurrentTreeRemoval.remove(paths)
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

    /// Returns once every journaled link is unlinked, with what each unlink saw.
    func unlinkedLinks() async -> [LinkJournal.Outcome] {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let outcomes {
                lock.unlock()
                continuation.resume(returning: outcomes)
            } else {
                linkWaiters.append(continuation)
                lock.unlock()
            }
        }
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
    /// Once no RUN is left to need them (every stage has run, or the build failed), removes the
    /// lower directories materialised from COPY layers in the background (see
    /// `BackgroundRemoval`); `cleanUp` waits for it. A RUN's own upper directory stays: its
    /// layer may still be being written from it.
    func removeMaterialisedLayersInBackground() {
        guard !materialisedDirectories.isEmpty, materialisedRemoval == nil else { return }
        materialisedRemoval = BackgroundRemoval(materialisedDirectories, journal: linkJournal)
        materialisedDirectories.removeAll()
    }

    /// Saves the context's file index once our own hard links to context files are gone, with
    /// the entries those links and unlinks left exact carried over to the files' new ctime
    /// (`FileDigestIndex.restamp`): the next build then reads none of them again.
    func saveFileDigestsAfterUnlinking() async {
        removeMaterialisedLayersInBackground()
        if let removal = materialisedRemoval, let index = fileDigestIndex {
            index.restamp(after: await removal.unlinkedLinks())
        }
        saveFileDigests()
    }
}

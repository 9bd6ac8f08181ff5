import BlockingWork
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
final class BackgroundRemoval: Sendable {
    /// The links' unlinking; it returns what each unlink saw and the removal of the trees,
    /// which it starts on a thread of its own once the links are gone.
    private let unlinking: DedicatedThread<(outcomes: [LinkJournal.Outcome], trees: DedicatedThread<Void, Never>), Never>

    /// Starts unlinking `journal`'s links, then removing `paths` (best effort, as
    /// `BuildSession.cleanUp` removes temp files).
    init(_ paths: [String], journal: LinkJournal) {
        unlinking = DedicatedThread(stackSize: 1 << 20) {
            let outcomes = journal.unlinkAll()
            return (outcomes, DedicatedThread(stackSize: 1 << 20) { ConcurrentTreeRemoval.remove(paths) })
        }
    }

    /// Returns once every journaled link is unlinked, with what each unlink saw.
    func unlinkedLinks() async -> [LinkJournal.Outcome] {
        await unlinking.value.outcomes
    }

    /// Returns once every path is removed.
    func wait() async {
        await unlinking.value.trees.value
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

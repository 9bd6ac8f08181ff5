import Foundation
import ImageStore

/// The context's file index finished beside the image's commit instead of after it (issue 13:
/// a cold build's serial tail). Once every stage has run nothing on the build's task touches
/// the index again, so it is handed to two tasks of its own: one forms each folded COPY's
/// content digest as its layer write ends and gives its reads to the index (`recorded`),
/// the other waits for our own hard links to be unlinked, restamps the entries they touched
/// and writes the index to the store (`saved`). Meanwhile the build's task commits: it waits
/// for the last layers, fsyncs them into the store (275 MB for issue 13's tree), writes
/// config, manifest and tags — mostly waiting on the disk, which leaves a core to the index.
///
/// The build's task takes the index back only through `recorded` (settling the folded keys,
/// `settleFoldedContent`) and `saved` (`finishFileIndex`); what either task did is then
/// visible to it (task completion orders memory).
struct FileIndexTail {
    let recorded: Task<Void, Never>
    /// The warning to give when the index could not be written, if so.
    let saved: Task<String?, Never>
}

/// What the tail's tasks work on, handed over whole.
private final class FileIndexTailWork: @unchecked Sendable {
    // @unchecked: `index` is not Sendable; from `startFileIndexTail` until `saved` has
    // completed only these tasks use it (first `recorded`'s, then `saved`'s, which awaits the
    // former), and the build's task touches it again only after awaiting them (see
    // `FileIndexTail`). Everything else here is Sendable.
    let index: FileDigestIndex
    let folded: [FoldedContent]
    let removal: BackgroundRemoval?
    let store: ImageStore
    let name: String

    init(index: FileDigestIndex, folded: [FoldedContent], removal: BackgroundRemoval?, store: ImageStore, name: String) {
        self.index = index
        self.folded = folded
        self.removal = removal
        self.store = store
        self.name = name
    }

    /// In build order, as `settleFoldedContent` would: a COPY whose write failed gives nothing.
    func recordFoldedReads() async {
        for folded in folded {
            guard case .success = await folded.formDigest(), folded.takeForIndex() else { continue }
            index.record(folded.recording.reads, hashedAt: folded.recording.startedAt)
        }
    }

    func restampAndSave() async -> String? {
        if let removal { index.restamp(after: await removal.unlinkedLinks()) }
        guard index.changed else { return nil }
        do {
            try store.writeFileDigestIndex(index.encoded(), name: name)
            return nil
        } catch {
            return "could not write the build context's file index: \(error)"
        }
    }
}

extension BuildSession {
    /// Starts the tail (see `FileIndexTail`) once every stage has run and the materialised
    /// lower directories are being removed; without a file index in use there is nothing to do.
    func startFileIndexTail() {
        guard fileIndexTail == nil, fileDigestIndex != nil || !foldedContents.isEmpty, let index = try? fileDigests() else { return }
        let work = FileIndexTailWork(index: index, folded: foldedContents.filter { !$0.isSettled }, removal: materialisedRemoval,
                                     store: store, name: Self.indexName(index.root))
        let recorded = Task.detached { await work.recordFoldedReads() }
        let saved = Task.detached { () -> String? in
            await recorded.value
            return await work.restampAndSave()
        }
        fileIndexTail = FileIndexTail(recorded: recorded, saved: saved)
    }

    /// The file index restamped and saved: by the tail if it was started, else here (a build
    /// that failed before its commit).
    func finishFileIndex() async {
        guard let tail = fileIndexTail else { return await saveFileDigestsAfterUnlinking() }
        if let warning = await tail.saved.value { emit(.warning(warning)) }
    }
}

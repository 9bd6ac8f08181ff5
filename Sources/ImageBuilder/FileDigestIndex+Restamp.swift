import Foundation
import Layers
import PathEncoding

/// Carrying entries over the build's own hard links (issue 13): a RUN above a COPY gets the
/// COPY's context files hard-linked into its lower directory (`LayerMaterialiser`), and link
/// and unlink set each file's ctime. The index must compare ctime (it is where a same-size
/// edit with its mtime put back shows), so without this the next build would read every
/// linked file again. `LinkJournal` stats each file around our link and our unlink; where
/// that chain shows nothing but our own link and unlink happened
/// (`LinkJournal.Outcome.stampAfterUnlink`), the entry keeps its digest under the file's
/// new stamp.
extension FileDigestIndex {
    /// Re-records the entries `outcomes` prove unchanged with the stamp their file has after
    /// our unlink; returns how many. Every other entry keeps its stamp (its file is read
    /// again next time). A source linked more than once in this build is left alone: its
    /// links' chains interleave, and a file read once more costs less than reasoning about them.
    ///
    /// The new entry's `hashedAt` is a coarse-clock reading taken after every unlink: a later
    /// write has a ctime at or after it, so `isSettled` keeps its meaning. A write after an
    /// unlink but before that reading gets a ctime after the unlink's, so it does not match
    /// the new stamp either. Call it after `unlinkAll` has returned and before `encoded()`.
    ///
    /// A file the layer writer was reading when we linked or unlinked it (a large file first
    /// in the COPY: 59 MB in issue 13's tree) needs nothing apart: its entry carries the
    /// status from before the read, which is `beforeLink` (read across our link) or
    /// `afterLink` (read across our unlink), and the chain rule judges it like any other.
    @discardableResult
    func restamp(after outcomes: [LinkJournal.Outcome]) -> Int {
        guard !outcomes.isEmpty else { return 0 }
        var bySource: [PathKey: Int] = [:]
        var linkedTwice = Set<PathKey>()
        bySource.reserveCapacity(outcomes.count)
        for (at, outcome) in outcomes.enumerated() where bySource.updateValue(at, forKey: PathKey(outcome.source)) != nil {
            linkedTwice.insert(PathKey(outcome.source))
        }
        for key in linkedTwice { bySource[key] = nil }
        let checkedAt = Self.settledMoment(after: outcomes)
        var restamped = 0
        replaceEntries { key, entry in
            guard let at = bySource[key],
                  let stamp = outcomes[at].stampAfterUnlink(ifRecorded: entry.stamp, settled: Self.isSettled(entry),
                                                                   mtimeSettled: Self.isMtimeSettled(entry))
            else { return nil }
            restamped += 1
            return Entry(stamp: stamp, hashedAt: checkedAt, digest: entry.digest)
        }
        return restamped
    }

    /// A coarse-clock reading by which the unlinks' ctimes are settled (`isSettled`), waiting
    /// for the clock's tick to pass when the last unlink was a moment ago (a few ms at most; a
    /// reading taken too soon would only make those entries be read once more).
    private static func settledMoment(after outcomes: [LinkJournal.Outcome]) -> Int64 {
        let newest = outcomes.map(\.afterUnlink.ctime).max() ?? 0
        let (settledAt, overflow) = newest.addingReportingOverflow(granularity(ofCtime: newest))
        var now = now()
        for _ in 0..<20 where !overflow && now < settledAt {
            usleep(1000)
            now = Self.now()
        }
        return now
    }
}

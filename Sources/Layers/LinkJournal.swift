import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// The hard links this build made to its sources (`LayerMaterialiser` links unchanged context
/// files into a RUN's lower directory), each with the source's status just before the link
/// and the link's just after, so they can be removed again with the same care
/// (`unlinkAll`), and a file-digest index can carry its entries over our own link and unlink
/// instead of reading every linked file again (`Outcome.stampAfterUnlink`).
///
/// Why it is needed: `link()` and `unlink()` change a file's ctime, and a file index that
/// trusts a stamp without its ctime is not exact (a same-size edit with its mtime put back,
/// `touch -r`, shows only there — git's index compares ctime for that reason). Without the
/// journal the first rebuild after a build whose RUN ran above a large COPY read the whole
/// COPY again (issue 13: 521 MB, 1.3–1.5 s instead of 0.4 s).
public final class LinkJournal: @unchecked Sendable {
    // @unchecked: `links` is appended to under `lock`; `unlinkAll` takes them under it.

    /// What `lstat` says about a file, as far as the chain rule compares it.
    public struct Status: Sendable, Hashable {
        public var stamp: SourceFileDigests.FileStatus
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        public var linkCount: UInt64

        public init(stamp: SourceFileDigests.FileStatus, mode: UInt32, uid: UInt32, gid: UInt32, linkCount: UInt64) {
            self.stamp = stamp
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.linkCount = linkCount
        }

        public init(_ st: stat) {
            self.init(stamp: SourceFileDigests.FileStatus(st), mode: UInt32(st.st_mode), uid: UInt32(st.st_uid),
                      gid: UInt32(st.st_gid), linkCount: UInt64(st.st_nlink))
        }

        /// The same file with the same content as far as a stat shows, allowing the two fields
        /// a link or an unlink of another name changes: ctime and the link count.
        func matchesApartFromLinking(_ other: Status) -> Bool {
            var a = self, b = other
            a.stamp.ctime = 0
            b.stamp.ctime = 0
            a.linkCount = 0
            b.linkCount = 0
            return a == b
        }
    }

    /// One link as made: the source's status just before (`beforeLink`) and the new name's
    /// just after (`afterLink`).
    public struct Link: Sendable {
        public var source: String
        public var link: String
        public var beforeLink: Status
        public var afterLink: Status
    }

    /// One link as made and removed: the statuses around the link, and the link's just before
    /// the unlink and the source's just after. Kept compact (32k of them for issue 13's tree):
    /// the parts of the chain that do not involve the index's entry are judged when it is made.
    public struct Outcome: Sendable, Hashable {
        public var source: String
        /// The source's stamp just before the link, and the link's just after.
        public var beforeLink: SourceFileDigests.FileStatus
        public var afterLink: SourceFileDigests.FileStatus
        /// The source's stamp just after the unlink.
        public var afterUnlink: SourceFileDigests.FileStatus
        /// Whether the link and the unlink changed nothing but ctime and the link count, and
        /// nothing changed between them (see `stampAfterUnlink`).
        public var linkedAndUnlinkedAlone: Bool

        public init(source: String, beforeLink: Status, afterLink: Status, beforeUnlink: Status, afterUnlink: Status) {
            self.source = source
            self.beforeLink = beforeLink.stamp
            self.afterLink = afterLink.stamp
            self.afterUnlink = afterUnlink.stamp
            linkedAndUnlinkedAlone = afterLink.matchesApartFromLinking(beforeLink) && beforeUnlink == afterLink
                && afterUnlink.matchesApartFromLinking(beforeUnlink)
        }

        /// The stamp a file index may record for the source, with the digest it already holds,
        /// once our own link and unlink have changed its ctime; nil when the chain is broken
        /// anywhere (the entry then keeps its old stamp and the file is read again — never a
        /// wrong digest).
        ///
        /// `recorded` is the entry's stamp; `settled` whether the index trusts that entry at
        /// all (`FileDigestIndex.isSettled`). The chain, every link of it exact:
        /// - the entry described the file just before the link: `recorded == beforeLink`
        ///   (every stamp field) and the entry is settled, so the bytes then were the digest's;
        ///   or the layer writer read the file after the link (the two run side by side), so
        ///   `recorded == afterLink`, ctime included; or it read the file after our unlink (the
        ///   lower directory goes while the last layers are still written), so
        ///   `recorded == afterUnlink` — the stamp is right already, but the entry was dated
        ///   before the unlink's ctime and so would not be trusted (`isSettled`); re-dated by
        ///   the caller to a moment after the unlinks, it is;
        /// - the link changed nothing but ctime and the link count: `afterLink` matches
        ///   `beforeLink` in inode, device, size, mtime, mode and owner;
        /// - nothing happened while the link existed: `beforeUnlink == afterLink`, every field;
        /// - the unlink changed nothing but ctime and the link count, and the source path
        ///   still names that inode: `afterUnlink` matches `beforeUnlink` apart from those.
        /// Any write, `chmod`, `chown`, `utimes`, rename over the path or further link changes
        /// ctime, so it breaks the chain — except one in the microseconds between a pre-stat
        /// and the link or unlink that also restores mtime to the nanosecond (on a kernel
        /// without multigrain timestamps, i.e. before Linux 6.13 or on a file system that does
        /// not opt in, also one in the same clock tick, at most 4 ms, after the link or
        /// unlink, since ctime then has that tick's value again). Git's index has the same kind
        /// of window: it writes a file on checkout and `lstat`s it afterwards, and a change in
        /// between is recorded as clean.
        ///
        /// `mtimeSettled` (the file's mtime at least a clock tick older than the read that made
        /// the entry) is what the later cases need instead of `settled`: the read came after our
        /// link, in the same tick, so the entry is not `settled`; but a write after that read
        /// sets mtime to the read's tick or later, which differs from an mtime a tick older, so
        /// `beforeUnlink == afterLink` shows it. Without it, a file written in the tick of our
        /// link, read, and written again in that tick would keep every stamp field.
        public func stampAfterUnlink(ifRecorded recorded: SourceFileDigests.FileStatus, settled: Bool,
                                     mtimeSettled: Bool) -> SourceFileDigests.FileStatus? {
            let describedBeforeLink = recorded == beforeLink && settled
            let describedLater = (recorded == afterLink || recorded == afterUnlink) && mtimeSettled
            guard describedBeforeLink || describedLater, linkedAndUnlinkedAlone else { return nil }
            return afterUnlink
        }
    }

    private let lock = NSLock()
    private var links: [Link] = []

    public init() {}

    /// Makes `link` a hard link to `source`, journaled; `before` is the source's `lstat` taken
    /// just before (the caller has it already). Returns the link's status just after, nil
    /// when the kernel refused it (another file system, `protected_hardlinks`) or the stat
    /// failed (nothing is then left behind).
    func link(_ source: String, to link: String, before: Status,
              sources: ParentDirectoryCursor = ParentDirectoryCursor(), links: ParentDirectoryCursor = ParentDirectoryCursor()) -> Status? {
        let linked = sources.at(source) { sourceDirectory, sourceName in
            links.at(link) { Glibc.linkat(sourceDirectory, sourceName, $0, $1, 0) }
        }
        guard linked == 0 else { return nil }
        guard let after = links.status(of: link) else {
            _ = links.at(link) { unlinkat($0, $1, 0) }
            return nil
        }
        lock.lock()
        self.links.append(Link(source: source, link: link, beforeLink: before, afterLink: after))
        lock.unlock()
        return after
    }

    /// Removes a link made by `link(_:to:)` at once (the entry did not match after all): its
    /// source is left as the link left it, and no outcome will claim otherwise.
    func unlinkLast(_ link: String) -> Bool {
        lock.lock()
        if links.last?.link == link { links.removeLast() }
        lock.unlock()
        return PathBytes.withCString(link) { unlink($0) } == 0
    }

    /// Forgets the links made under `directory` (a materialisation that was refused and whose
    /// directory is removed without the journal: those sources are read again next time).
    func forget(under directory: String) {
        let prefix = directory + "/"
        lock.lock()
        links.removeAll { PathBytes.hasPrefix($0.link, prefix) }
        lock.unlock()
    }

    /// Unlinks every journaled link (in the order made), stat'ing the link just before and the
    /// source just after; the journal is empty afterwards. A link that is already gone or
    /// cannot be removed gives no outcome (whoever removes its directory removes it).
    public func unlinkAll() -> [Outcome] {
        lock.lock()
        let taken = self.links
        self.links.removeAll()
        lock.unlock()
        // Two contiguous halves on two threads (each keeps its own directory cursors, so a
        // directory's links stay together): the unlinks run at the end of a build, when the
        // compressor has usually finished and a core is idle, and 32k links at three system
        // calls each were the cold build's tail (issue 13). Outcomes stay in the order made.
        let split = taken.count / 2
        guard split >= 1024, ProcessInfo.processInfo.activeProcessorCount > 1 else { return Self.unlinkEach(taken[...]) }
        let halves = OutcomeHalves()
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            // The first half's array has room for both: the second is appended to it in place,
            // not both copied into a third (32k outcomes, 4.5 MB of fresh pages, issue 13).
            halves.set(half, half == 0 ? Self.unlinkEach(taken[..<split], room: taken.count) : Self.unlinkEach(taken[split...]))
        }
        return halves.joined()
    }

    /// Unlinks `links` in order, stat'ing each link just before and its source just after;
    /// the result has capacity for `room` outcomes (at least `links.count`).
    private static func unlinkEach(_ links: ArraySlice<Link>, room: Int = 0) -> [Outcome] {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(max(room, links.count))
        let sourceDirectories = ParentDirectoryCursor(), linkDirectories = ParentDirectoryCursor()
        for made in links {
            guard let beforeUnlink = linkDirectories.status(of: made.link),
                  linkDirectories.at(made.link, { unlinkat($0, $1, 0) }) == 0,
                  let afterUnlink = sourceDirectories.status(of: made.source)
            else { continue }
            outcomes.append(Outcome(source: made.source, beforeLink: made.beforeLink, afterLink: made.afterLink,
                                    beforeUnlink: beforeUnlink, afterUnlink: afterUnlink))
        }
        return outcomes
    }

    /// The two halves' outcomes, each set once by its own thread.
    private final class OutcomeHalves: @unchecked Sendable {
        // @unchecked: `halves` is written and read under `lock`.
        private let lock = NSLock()
        private var halves: [[Outcome]] = [[], []]

        func set(_ half: Int, _ outcomes: [Outcome]) {
            lock.lock()
            halves[half] = outcomes
            lock.unlock()
        }

        /// The first half with the second appended to it (in its spare capacity).
        func joined() -> [Outcome] {
            lock.lock()
            defer { lock.unlock() }
            var all = halves[0]
            halves[0] = []  // `all` holds the only reference: appended to in place
            all.append(contentsOf: halves[1])
            halves[1] = []
            return all
        }
    }

    /// How many links are journaled and not yet removed.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return links.count
    }
}

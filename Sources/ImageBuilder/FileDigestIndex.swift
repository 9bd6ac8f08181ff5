import BuildContext
import Foundation
import ImageModel
import Layers
import PathEncoding

/// A per-context index of file digests, like git's index: path → (size, mtime and ctime with
/// nanoseconds, inode, device) → SHA-256, so a rebuild reads only the files whose stat changed
/// (a touched file is read again and, with the same bytes, still hits the step cache).
///
/// Racy entries are never trusted (git's "racily clean" case): a write in the same timestamp
/// tick as the hashing could change the bytes without changing the stat. Git compares each
/// entry with the index file's own mtime; we take the moment of hashing from the clock the
/// kernel stamps files with (`CLOCK_REALTIME_COARSE`), before reading, so any later write has
/// a ctime at or after it — see `isSettled`. No fixed window: a context copied a moment before
/// the build is trusted as soon as its timestamps' tick has passed.
final class FileDigestIndex {
    /// What `lstat` says about a file, as far as the index compares it (times in ns since the
    /// epoch): the layer writer's `FileStatus`, so digests it records (`record(_:hashedAt:)`)
    /// carry the same stamp. A build passes the context walker's own `lstat` here, so no file
    /// is statted twice.
    typealias Stamp = SourceFileDigests.FileStatus

    struct Entry: Equatable {
        var stamp: Stamp
        /// When the file was hashed (ns since the epoch, the coarse clock's; see `isSettled`).
        var hashedAt: Int64
        var digest: Digest

        init(stamp: Stamp, hashedAt: Int64, digest: Digest) {
            self.stamp = stamp
            self.hashedAt = hashedAt
            self.digest = digest
        }

        init(size: Int64, mtime: Int64, ctime: Int64, inode: UInt64, device: UInt64, hashedAt: Int64, digest: Digest) {
            self.init(stamp: Stamp(size: size, mtime: mtime, ctime: ctime, inode: inode, device: device), hashedAt: hashedAt, digest: digest)
        }

        var mtime: Int64 { stamp.mtime }
        var ctime: Int64 { stamp.ctime }
    }

    /// Only files under this directory are indexed (not temp copies of other stages).
    let root: String
    private let rootPrefix: String
    /// The index as stored, and its records in stored order (paths left in the bytes: making
    /// 30k Strings and hashing them into a dictionary was a tenth of a no-change rebuild).
    private let stored: [UInt8]
    private let records: [Record]
    private var recordUsed: [Bool]
    private var usedRecords = 0
    /// Where the next lookup is expected: the index is written in the order this build used
    /// it, so the next build with the same Dockerfile and files asks in the same order.
    private var cursor = 0
    /// Built on the first lookup out of that order (a file added, removed or reordered).
    private var recordByPath: [PathKey: Int]?
    private var reordered = false
    /// Entries this build hashed, and the order of every entry's first use (what `encoded()` writes).
    private var fresh: [PathKey: Entry] = [:]
    private var order: [Use] = []
    private enum Use { case stored(Int), fresh(PathKey) }
    /// How many files were actually read (for tests).
    private(set) var hashedFiles = 0
    /// Files `prehash(_:)` read ahead on several cores, taken by `digest(ofFile:stamp:)`
    /// instead of reading them again.
    var prehashed: [PathKey: Prehashed] = [:]

    init(root: String, encoded: [UInt8]?) {
        self.root = root
        rootPrefix = root + "/"
        let parsed = encoded.flatMap(Self.parse)
        stored = parsed == nil ? [] : encoded!
        records = parsed ?? []
        recordUsed = Array(repeating: false, count: records.count)
    }

    /// The SHA-256 of the file at `path`, from the index when its stat is unchanged.
    /// `stamp`: the file's `lstat` as the caller already has it (the context walk's); without
    /// one the file is statted here.
    func digest(ofFile path: String, stamp: Stamp? = nil) throws -> Digest {
        guard PathBytes.hasPrefix(path, rootPrefix) else {
            return try SHA256Stream.digest(ofFile: path)
        }
        let before = try stamp ?? Self.status(path)
        if !fresh.isEmpty, let entry = fresh[PathKey(path)] {
            if entry.stamp == before, Self.isSettled(entry) { return entry.digest }
        } else if let at = record(for: path) {
            if let entry = Self.entry(records[at], in: stored), entry.stamp == before, Self.isSettled(entry) {
                if !recordUsed[at] {
                    recordUsed[at] = true
                    usedRecords += 1
                    order.append(.stored(at))
                }
                return entry.digest
            }
            if recordUsed[at] {
                recordUsed[at] = false
                usedRecords -= 1
            }
        }
        let hashedAt: Int64, digest: Digest, after: Stamp?
        if !prehashed.isEmpty, let ahead = prehashed.removeValue(forKey: PathKey(path)), ahead.before == before {
            (hashedAt, digest, after) = (ahead.hashedAt, ahead.digest, ahead.after)
        } else {
            hashedAt = Self.now()
            digest = try SHA256Stream.digest(ofFile: path)
            after = try? Self.status(path)
        }
        hashedFiles += 1
        // Changed while being read (or since the walk saw it): use the bytes read, remember nothing.
        if let after, after == before {
            keep(Entry(stamp: before, hashedAt: hashedAt, digest: digest), for: PathKey(path))
        }
        return digest
    }

    /// Keeps an entry this build made, in the order of first use.
    private func keep(_ entry: Entry, for key: PathKey) {
        if fresh.updateValue(entry, forKey: key) == nil { order.append(.fresh(key)) }
    }

    /// A placeholder for `isSettled`, which reads only an entry's times.
    private static let noDigest = Digest(sha256Bytes: [UInt8](repeating: 0, count: 32))

    /// The stored record for `path`: the one at the cursor when the build asks in the stored
    /// order, else through a dictionary built once.
    private func record(for path: String) -> Int? {
        guard let (at, inOrder) = locate(path, at: cursor) else { return nil }
        if !inOrder { reordered = true }
        cursor = at + 1
        return at
    }

    /// Where `path`'s stored record is: at `position` when asked in stored order (`inOrder`),
    /// else anywhere. Moves no cursor.
    private func locate(_ path: String, at position: Int) -> (at: Int, inOrder: Bool)? {
        if position < records.count, Self.path(of: records[position], in: stored, equals: path) { return (position, true) }
        if recordByPath == nil {
            var byPath: [PathKey: Int] = [:]
            byPath.reserveCapacity(records.count)
            for (at, record) in records.enumerated() { byPath[PathKey(Self.path(of: record, in: stored))] = at }
            recordByPath = byPath
        }
        guard let at = recordByPath?[PathKey(path)] else { return nil }
        return (at, false)
    }

    /// The files among `files`, asked in this order, that `digest(ofFile:stamp:)` would read:
    /// new, changed or racy ones inside the context (the same tests, changing nothing).
    func filesToRead(_ files: [(path: String, stamp: Stamp)]) -> [(path: String, stamp: Stamp)] {
        var position = cursor
        return files.filter { path, stamp in
            guard PathBytes.hasPrefix(path, rootPrefix) else { return false }
            if !fresh.isEmpty, let entry = fresh[PathKey(path)] { return !(entry.stamp == stamp && Self.isSettled(entry)) }
            guard let (at, _) = locate(path, at: position) else { return true }
            position = at + 1
            let (recorded, hashedAt) = Self.stamp(records[at], in: stored)
            return !(recorded == stamp && Self.isSettled(Entry(stamp: recorded, hashedAt: hashedAt, digest: Self.noDigest)))
        }
    }

    /// Takes digests the layer writer made while copying files into a layer (a COPY that
    /// skipped hashing up front, see `FoldedContent`) as if `digest(ofFile:)` had made them,
    /// each under the status its file had before the read (`SourceFileDigests.Read`: a file
    /// changed while read gets a ctime that entry can never match). `hashedAt`: when the
    /// reading began, read from the coarse clock as `now()` is (see `isSettled`). A file our
    /// own link or unlink touched meanwhile is carried over by `restamp`, in this place.
    func record(_ reads: [SourceFileDigests.Read], hashedAt: Int64) {
        // Room for all at once: grown by doubling, 32k inserts rehashed every path several
        // times over (a third of a cold build's serial tail, issue 13).
        fresh.reserveCapacity(fresh.count + reads.count)
        order.reserveCapacity(order.count + reads.count)
        for read in reads where PathBytes.hasPrefix(read.path, rootPrefix) {
            keep(Entry(stamp: read.before, hashedAt: hashedAt, digest: read.digest), for: PathKey(read.path))
            hashedFiles += 1
        }
    }

    /// Offers every entry this build used or made, with its path, to `change`; an entry it
    /// returns replaces that one in place (same position in the stored order). For `restamp`.
    /// A fresh entry is found once and replaced through its dictionary index (hashing each of
    /// 32k paths once, not three times, in a cold build's tail).
    func replaceEntries(_ change: (PathKey, Entry) -> Entry?) {
        for (position, use) in order.enumerated() {
            switch use {
            case .stored(let at):
                guard recordUsed[at], let entry = Self.entry(records[at], in: stored) else { continue }
                let key = PathKey(Self.path(of: records[at], in: stored))
                guard let replacement = change(key, entry) else { continue }
                recordUsed[at] = false
                usedRecords -= 1
                fresh[key] = replacement
                order[position] = .fresh(key)
            case .fresh(let key):
                guard let found = fresh.index(forKey: key), let replacement = change(key, fresh.values[found]) else { continue }
                fresh.values[found] = replacement
            }
        }
    }

    /// Whether `encoded()` differs from the stored index this one was read from (a rebuild
    /// that read no file and used every entry, in order, has nothing to write).
    var changed: Bool { hashedFiles > 0 || !fresh.isEmpty || reordered || usedRecords != records.count }

    /// The index to store for the next build: the entries this build used, in the order it used them.
    func encoded() -> [UInt8] {
        var writer = Writer(capacity: stored.count + fresh.count * Self.recordSize(pathBytes: rootPrefix.utf8.count + 64))
        for use in order {
            switch use {
            case .stored(let at): if recordUsed[at] { writer.append(record: records[at], of: stored) }
            case .fresh(let key): if let entry = fresh[key] { writer.append(path: key.path, entry: entry) }  // else a place held in vain
            }
        }
        return writer.finish()
    }

    /// Whether an entry may be trusted: its ctime and mtime lie before the tick in which it was
    /// hashed. Every write sets ctime from the kernel's coarse clock (or a finer one, never
    /// behind it), the clock `hashedAt` was read from before the file was, so a write after
    /// that moment has `ctime >= hashedAt` and the entry stays untrusted until it is hashed
    /// again. Exact, with no window — but a file system that keeps coarser timestamps than
    /// nanoseconds truncates them, which could put a later write's stamp before `hashedAt`:
    /// the granularity is read off the ctime's trailing decimal zeros (a ctime with no
    /// nanoseconds at all is taken as FAT's 2 s, the coarsest there is), and the stamp must be
    /// a whole granule older. mtime is checked the same way, as git does (it can be set into
    /// the future; such a file is simply read every time).
    static func isSettled(_ entry: Entry) -> Bool {
        let (limit, overflow) = entry.hashedAt.subtractingReportingOverflow(granularity(ofCtime: entry.ctime))
        return !overflow && entry.ctime <= limit && entry.mtime <= limit
    }

    /// Whether the entry's mtime is at least a clock tick older than the read that made it: a
    /// write after that read would then show as a changed mtime (see `LinkJournal.Outcome`).
    static func isMtimeSettled(_ entry: Entry) -> Bool {
        let (limit, overflow) = entry.hashedAt.subtractingReportingOverflow(granularity(ofCtime: entry.ctime))
        return !overflow && entry.mtime <= limit
    }

    /// The timestamp granularity a ctime (ns since the epoch) shows: 10^k ns for k trailing
    /// decimal zeros in its nanosecond part (1 ns when there are none), 2 s when that part is 0.
    static func granularity(ofCtime ctime: Int64) -> Int64 {
        var nanoseconds = ctime % 1_000_000_000
        if nanoseconds < 0 { nanoseconds += 1_000_000_000 }
        if nanoseconds == 0 { return 2_000_000_000 }
        var granule: Int64 = 1
        while nanoseconds % 10 == 0 {
            nanoseconds /= 10
            granule *= 10
        }
        return granule
    }

    /// The kernel's coarse wall clock, the one it stamps file times with (ns since the epoch).
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// `lstat`, as the context walk does: a path that became a symlink does not match.
    static func status(_ path: String) throws -> Stamp {
        var st = stat()
        guard PathBytes.withCString(path, { lstat($0, &st) }) == 0 else {
            throw BuildError("\(PathBytes.display(path)): \(String(cString: strerror(errno)))")
        }
        return Stamp(st)
    }
}

extension FileDigestIndex.Stamp {
    /// The stamp of a file as the context walk `lstat`ed it (the same fields, the same arithmetic).
    init(_ entry: ContextEntry) {
        self.init(size: entry.size, mtime: entry.mtimeSeconds &* 1_000_000_000 &+ Int64(entry.mtimeNanoseconds),
                  ctime: entry.ctimeNanosecondsSinceEpoch, inode: entry.inode, device: entry.device)
    }
}

import Dispatch
import PathEncoding
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counters a walk can report (used by tests to prove pruning).
struct WalkStatistics {
    /// Directories whose listing was read.
    var directoriesRead = 0
}

extension ContextDirectory {
    /// Everything below the directory `entry` (not the entry itself), depth-first, children in byte
    /// order, parents before children. Returns `[]` for a non-directory.
    ///
    /// - `relativePath` of each result is `entry.relativePath` + `/` + the path below it (so paths
    ///   stay root-relative; below the root entry `.` they carry no prefix).
    /// - Ignore rules are applied to the real root-relative path, as fsutil does in BuildKit's
    ///   context transfer; `extra` (COPY `--exclude`) patterns are applied to the path relative to
    ///   the walked directory, `!` re-includes allowed.
    /// - Excluded directories are not entered when no exception could reach inside (fsutil's
    ///   pruning rules, see `PatternMatcher.canPrune`). When an exception re-includes a path inside
    ///   an excluded directory, the directories leading to it are emitted before it.
    /// - Uses `lstat` only: symlinks are reported, never followed; sockets, devices and FIFOs are
    ///   `.other`. No file content is read.
    /// - An unreadable directory, or a regular file without read permission, throws
    ///   `ContextError.unreadable` unless it is excluded.
    public func walk(_ entry: ContextEntry, excluding extra: [String] = []) throws -> [ContextEntry] {
        var statistics = WalkStatistics()
        return try walk(entry, excluding: extra, statistics: &statistics)
    }

    /// `walk(_:excluding:)` handed over as it goes: `deliver` receives the entries in chunks
    /// whose concatenation is exactly what `walk` returns, so a caller can start on the first
    /// ones while the rest are listed (`build --push` compressing a large COPY while it is
    /// walked, issue 12). One thread, in order (no fan-out: the caller's consumer has the other
    /// cores); an error is thrown after the entries before it were delivered.
    public func walk(_ entry: ContextEntry, excluding extra: [String] = [],
                     delivering deliver: ([ContextEntry]) throws -> Void) throws {
        var statistics = WalkStatistics()
        try withoutActuallyEscaping(deliver) { deliver in
            let rest = try walk(entry, excluding: extra, statistics: &statistics, inParallel: false, deliver: deliver)
            if !rest.isEmpty { try deliver(rest) }
        }
    }

    /// `inParallel`: false walks every directory in order on the calling thread (tests compare
    /// the two). With `deliver`, entries are handed to it in chunks as they are found and the
    /// rest returned.
    func walk(_ entry: ContextEntry, excluding extra: [String], statistics: inout WalkStatistics,
              inParallel: Bool = true, deliver: (([ContextEntry]) throws -> Void)? = nil) throws -> [ContextEntry] {
        guard entry.type == .directory else { return [] }
        guard let realRel = relativeToRoot(entry.absolutePath) else {
            throw ContextError.outsideContext(entry.absolutePath)
        }
        var walker = Walker(context: self, extra: nil)
        walker.deliver = deliver
        if !extra.isEmpty {
            let m = try PatternMatcher(patterns: extra)
            walker.extra = m.isEmpty ? nil : m
        }
        var ignoreInfo: PatternMatcher.MatchInfo? = nil
        var startSkipped = false
        if let matcher, !realRel.isEmpty {
            let state = ignoreState(realRel)
            if state.blocked || (state.excluded && matcher.canPrune(excludedDirectory: realRel)) { return [] }
            ignoreInfo = state.info
            startSkipped = state.excluded
        }
        let display = entry.relativePath == "." ? "" : entry.relativePath
        try walker.visit(directory: Walker.Position(absolute: entry.absolutePath, real: realRel, display: display,
                                                    extraRelative: "", ignoreInfo: ignoreInfo, extraInfo: nil,
                                                    identity: (entry.device, entry.inode), displayIsReal: PathBytes.same(realRel, display)),
                         skipped: startSkipped, fanOut: inParallel ? Walker.fanOutLevels : 0)
        statistics.directoriesRead += walker.statistics.directoriesRead
        return walker.output
    }
}

/// The state of one walk.
private struct Walker {
    struct Position {
        var absolute: String
        var real: String
        var display: String
        var extraRelative: String
        var ignoreInfo: PatternMatcher.MatchInfo?
        var extraInfo: PatternMatcher.MatchInfo?
        /// Device and inode the walk saw the directory with (see `FileSystem.listDirectory`).
        var identity: (device: UInt64, inode: UInt64)? = nil
        /// Whether `display` is `real` (so a child's is too, see `visit(_:in:)`).
        var displayIsReal = false
    }

    /// One child of a listed directory the walk keeps looking at.
    struct Visit {
        var entry: ContextEntry
        var position: Position
        /// Excluded (by `.dockerignore` or `--exclude`): emitted only as a parent of something kept.
        var skip: Bool
        /// A directory to enter.
        var descend: Bool
    }

    /// How many directory levels below the walked one may hand their subdirectories to other
    /// threads: the shallowest level with two or more subdirectories does, once.
    static let fanOutLevels = 3

    let context: ContextDirectory
    var extra: PatternMatcher?
    var output: [ContextEntry] = []
    /// Skipped (excluded) directories on the current path, emitted if something below is kept.
    var pendingParents: [ContextEntry] = []
    var statistics = WalkStatistics()
    /// Where kept entries go every `deliveryChunk` (see `walk(_:excluding:delivering:)`).
    var deliver: (([ContextEntry]) throws -> Void)?
    static let deliveryChunk = 256

    init(context: ContextDirectory, extra: PatternMatcher?) {
        self.context = context
        self.extra = extra
    }

    /// Walks `dir`. With `fanOut` > 0, the first level (at most `fanOut` down) that has two or
    /// more subdirectories to enter walks them on every core (`DispatchQueue.concurrentPerform`)
    /// and splices their results in order, so the output, and which error is thrown first, are
    /// those of the walk done in order. Why: listing and `lstat`ing 32k files is a third of a
    /// no-change rebuild's CPU and sits on its critical path (issue 13).
    mutating func visit(directory dir: Position, skipped: Bool, fanOut: Int) throws {
        statistics.directoriesRead += 1
        let children: [FileSystem.Child]
        do {
            children = try FileSystem.readDirectory(dir.absolute, identity: dir.identity)
        } catch let e as FileSystem.SystemError {
            // fsutil ignores permission errors on paths it was going to skip anyway.
            if skipped && (e.code == EACCES || e.code == EPERM) { return }
            throw ContextError.unreadable(dir.display.isEmpty ? "." : dir.display, reason: e.text)
        }
        // Every child's fate is decided from the listing first; the first failure is thrown
        // after the subtrees of the children before it (which may throw first, as in order).
        var visits: [Visit] = []
        var failure: Error?
        for listed in children {
            do {
                if let visit = try self.visit(listed, in: dir) { visits.append(visit) }
            } catch {
                failure = error
                break
            }
        }
        let subdirectories = visits.reduce(0) { $0 + ($1.descend ? 1 : 0) }  // no filtered copy of every visit
        if fanOut > 0, subdirectories >= 2 {
            try visitInParallel(visits)
        } else {
            for visit in visits {
                try emit(visit)
                guard visit.descend else { continue }
                if visit.skip { pendingParents.append(visit.entry) }
                try self.visit(directory: visit.position, skipped: visit.skip, fanOut: fanOut - 1)
                if visit.skip, let last = pendingParents.last, last.absolutePath == visit.entry.absolutePath {
                    pendingParents.removeLast()
                }
            }
        }
        if let failure { throw failure }
    }

    /// `visits`' subtrees walked by separate walkers at once, then spliced in order as `visit`
    /// would have produced them: a subtree that keeps something first emits the skipped
    /// parents pending above it.
    private mutating func visitInParallel(_ visits: [Visit]) throws {
        let descending = visits.indices.filter { visits[$0].descend }
        let walked = Slots<Result<Walker, Error>>(count: visits.count)
        // Made per subtree from the parts, not copied from a template: a walker holds `deliver`, which is not Sendable.
        let (context, extra) = (self.context, self.extra)
        DispatchQueue.concurrentPerform(iterations: descending.count) { n in
            let at = descending[n]
            var walker = Walker(context: context, extra: extra)
            walked[at] = Result { try walker.visit(directory: visits[at].position, skipped: visits[at].skip, fanOut: 0); return walker }
        }
        for (at, visit) in visits.enumerated() {
            try emit(visit)
            guard let result = walked[at] else { continue }
            walked[at] = nil  // each subtree's entries freed once spliced, not all at the end
            let subtree = try result.get()
            statistics.directoriesRead += subtree.statistics.directoriesRead
            guard !subtree.output.isEmpty else { continue }
            if visit.skip { pendingParents.append(visit.entry) }
            output.append(contentsOf: pendingParents)
            pendingParents.removeAll()
            output.append(contentsOf: subtree.output)
        }
    }

    /// Appends a kept entry, after the skipped parents pending above it.
    private mutating func emit(_ visit: Visit) throws {
        guard !visit.skip else { return }
        output.append(contentsOf: pendingParents)
        pendingParents.removeAll()
        output.append(visit.entry)
        if let deliver, output.count >= Self.deliveryChunk {
            try deliver(output)
            output.removeAll(keepingCapacity: true)
        }
    }

    /// What the walk does with one listed child: nil when it is left out (vanished, excluded
    /// without a reason to enter it); throws for a kept child it cannot describe or read.
    private func visit(_ listed: FileSystem.Child, in dir: Position) throws -> Visit? {
        let name = listed.name
        // `real` and `display` are one path when the walk started at its real relative path
        // (nearly always): made once and shared, one allocation fewer per file.
        let real = GoPath.join(dir.real, name)
        var child = Position(absolute: dir.absolute == "/" ? "/" + name : GoPath.joinNonEmpty(dir.absolute, name),
                             real: real, display: dir.displayIsReal ? real : GoPath.join(dir.display, name),
                             extraRelative: extra == nil ? "" : GoPath.join(dir.extraRelative, name),
                             ignoreInfo: nil, extraInfo: nil, displayIsReal: dir.displayIsReal)
        var ignored = false
        var extraExcluded = false
        if let matcher = context.matcher {
            let r = matcher.match(child.real, parent: dir.ignoreInfo)
            ignored = r.excluded
            child.ignoreInfo = r.info
        }
        if let extra {
            let r = extra.match(child.extraRelative, parent: dir.extraInfo)
            extraExcluded = r.excluded
            child.extraInfo = r.info
        }
        let skip = ignored || extraExcluded
        let entry: ContextEntry
        do {
            entry = try FileSystem.makeEntry(try listed.status.get(), relativePath: child.display, absolutePath: child.absolute) {
                if let error = listed.linkError { throw error }
                return listed.linkTarget ?? ""
            }
        } catch let e as FileSystem.SystemError {
            if skip { return nil }
            if e.code == ENOENT { return nil }
            // A path past PATH_MAX (ENAMETOOLONG) ends up here too: one line naming it, as
            // BuildKit's context transfer stops at the first error of its walk (fsutil
            // walks full path strings with Go's filepath.Walk and returns the Lstat error).
            throw ContextError.unreadable(child.display, reason: e.text)
        }
        let isDirectory = entry.type == .directory
        if isDirectory {
            if ignored && context.matcher!.canPrune(excludedDirectory: child.real) { return nil }
            if extraExcluded && extra!.canPrune(excludedDirectory: child.extraRelative) { return nil }
        }
        if !skip, entry.type == .regular, let e = listed.unreadable {
            throw ContextError.unreadable(child.display, reason: e.text)
        }
        if isDirectory { child.identity = (entry.device, entry.inode) }
        return Visit(entry: entry, position: child, skip: skip, descend: isDirectory)
    }
}

/// One slot per parallel iteration: each written by exactly one iteration of
/// `concurrentPerform`, and read only after it returned (which orders the writes before the
/// reads). Raw memory, so no two threads ever touch one array's buffer or its exclusivity
/// bookkeeping.
private final class Slots<Value>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<Value?>
    private let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: count)
        base.initialize(repeating: nil, count: count)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(at: Int) -> Value? {
        get { base[at] }
        set { base[at] = newValue }
    }
}

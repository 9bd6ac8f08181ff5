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

    func walk(_ entry: ContextEntry, excluding extra: [String], statistics: inout WalkStatistics) throws -> [ContextEntry] {
        guard entry.type == .directory else { return [] }
        guard let realRel = relativeToRoot(entry.absolutePath) else {
            throw ContextError.outsideContext(entry.absolutePath)
        }
        var walker = Walker(context: self, extra: nil)
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
                                                    identity: (entry.device, entry.inode)),
                         skipped: startSkipped)
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
    }

    let context: ContextDirectory
    var extra: PatternMatcher?
    var output: [ContextEntry] = []
    /// Skipped (excluded) directories on the current path, emitted if something below is kept.
    var pendingParents: [ContextEntry] = []
    var statistics = WalkStatistics()

    init(context: ContextDirectory, extra: PatternMatcher?) {
        self.context = context
        self.extra = extra
    }

    mutating func visit(directory dir: Position, skipped: Bool) throws {
        statistics.directoriesRead += 1
        let children: [FileSystem.Child]
        do {
            children = try FileSystem.readDirectory(dir.absolute, identity: dir.identity)
        } catch let e as FileSystem.SystemError {
            // fsutil ignores permission errors on paths it was going to skip anyway.
            if skipped && (e.code == EACCES || e.code == EPERM) { return }
            throw ContextError.unreadable(dir.display.isEmpty ? "." : dir.display, reason: e.text)
        }
        for listed in children {
            let name = listed.name
            var child = Position(absolute: dir.absolute == "/" ? "/" + name : dir.absolute + "/" + name,
                                 real: GoPath.join(dir.real, name), display: GoPath.join(dir.display, name),
                                 extraRelative: extra == nil ? "" : GoPath.join(dir.extraRelative, name),
                                 ignoreInfo: nil, extraInfo: nil)
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
                if skip { continue }
                if e.code == ENOENT { continue }
                // A path past PATH_MAX (ENAMETOOLONG) ends up here too: one line naming it, as
                // BuildKit's context transfer stops at the first error of its walk (fsutil
                // walks full path strings with Go's filepath.Walk and returns the Lstat error).
                throw ContextError.unreadable(child.display, reason: e.text)
            }
            let isDirectory = entry.type == .directory
            if isDirectory {
                if ignored && context.matcher!.canPrune(excludedDirectory: child.real) { continue }
                if extraExcluded && extra!.canPrune(excludedDirectory: child.extraRelative) { continue }
            }
            if !skip {
                if entry.type == .regular, let e = listed.unreadable {
                    throw ContextError.unreadable(child.display, reason: e.text)
                }
                output.append(contentsOf: pendingParents)
                pendingParents.removeAll()
                output.append(entry)
            }
            if isDirectory {
                if skip { pendingParents.append(entry) }
                child.identity = (entry.device, entry.inode)
                try visit(directory: child, skipped: skip)
                if skip, let last = pendingParents.last, last.absolutePath == entry.absolutePath {
                    pendingParents.removeLast()
                }
            }
        }
    }
}

import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Copy-and-compare's second half: what a RUN changed in a root made by
/// `TreeCopy.materialise`, as layer items in `OverlayDiff`'s format and order (parents before
/// children; in each directory the opaque marker, then the whiteouts, then the children), so
/// the layer writer, SOURCE_DATE_EPOCH clamping and id mapping work as for an overlay upper dir.
///
/// The rules, path by path against the snapshot:
/// - a new path is added (a new directory with everything in it);
/// - a path gone is a whiteout `.wh.NAME` in its parent (one for a whole directory);
/// - a changed type is the new entry (a new directory holds only new entries);
/// - a directory with another inode (removed and made again, or renamed over), or with none
///   of the entries it had left (file systems reuse a freed inode at once), is the directory,
///   an opaque marker `.wh..wh..opq` and everything in it, as overlayfs shows a directory made
///   again (for a directory merely emptied, overlayfs would list whiteouts: the same content);
/// - otherwise an entry changed when its mode, uid, gid or mtime (seconds and nanoseconds)
///   differ, for a regular file also its size, for a symlink its target. A regular file equal
///   in all of that but with a ctime not older than the copy was written or touched during the
///   RUN (perhaps with its mtime set back, as `cp -p`, `touch -r` or tar do): its bytes are
///   compared with the original. A file whose ctime predates the copy cannot have changed,
///   since nothing can set a ctime back, so the rest are never read.
/// - a directory that did not change itself is still emitted when something below it is, as an
///   overlay upper dir holds it; the root never is.
///
/// Changes to xattrs alone are not seen (layers do not carry xattrs). FIFOs, sockets and
/// devices are never emitted (as by `OverlayDiff`).
public enum TreeDiff {
    /// The changes in `root` since `snapshot` was taken.
    /// - Parameters:
    ///   - idMap: maps on-disk owners to container owners (see `IDMap`).
    ///   - excluding: layer paths dropped together with everything below them (`RUN --mount`
    ///     targets), neither added nor whited out; keyed by bytes, as `OverlayDiff`'s.
    ///   - sourceDateEpoch: when set, later mtimes are clamped to it.
    public static func changes(root: String, snapshot: TreeSnapshot, idMap: IDMap = .identity,
                               excluding: Set<PathKey> = [], sourceDateEpoch: Int64? = nil) throws -> TreeChanges {
        var base = root
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        let excluded = Set(excluding.map { PathKey(PathBytes.components($0.path).joined(separator: "/")) })
        var walker = TreeDiffWalker(root: base, snapshot: snapshot, excluded: excluded,
                                    entries: DiskEntries(idMap: idMap, epoch: sourceDateEpoch))
        let st = try TreeIO.requireStatus(base)
        guard st.st_mode & S_IFMT == S_IFDIR else { throw TreeIO.unreadable(base, "not a directory") }
        _ = try walker.walk("", st, compared: true)
        return TreeChanges(items: walker.items, wholeDirectories: walker.wholeDirectories)
    }
}

/// The layer items of a RUN's changes, and which directories are new as a whole.
public struct TreeChanges: Sendable {
    public var items: [LayerItem]
    /// Directories whose whole content (nothing excluded) is in `items`: new, recreated, or a
    /// former non-directory. `moveEntries` moves each with one rename.
    public var wholeDirectories: Set<String>
}

private struct TreeDiffWalker {
    let root: String
    let snapshot: TreeSnapshot
    let excluded: Set<PathKey>
    let entries: DiskEntries
    var items: [LayerItem] = []
    var wholeDirectories = Set<String>()
    /// First layer path of every multiply-linked regular file emitted so far.
    var links: [InodeKey: String] = [:]

    init(root: String, snapshot: TreeSnapshot, excluded: Set<PathKey>, entries: DiskEntries) {
        self.root = root
        self.snapshot = snapshot
        self.excluded = excluded
        self.entries = entries
    }

    /// Emits the whiteouts of directory `rel` and visits its children; `compared` is false
    /// below a new directory (nothing to compare with). Returns whether anything below was
    /// left out as excluded.
    mutating func walk(_ rel: String, _ st: stat, compared: Bool) throws -> Bool {
        let host = rel.isEmpty ? root : root + "/" + rel
        let prefix = rel.isEmpty ? "" : rel + "/"
        let all = try TreeIO.listDirectory(host)
        let names = all.filter { !excluded.contains(PathKey(prefix + $0)) }
        var leftOut = names.count != all.count
        if compared {
            let present = Set(names.map { PathKey($0) })  // by bytes: `é` and `e` + U+0301 are two names
            let gone = (snapshot.children[PathKey(rel)] ?? []).filter { !present.contains(PathKey($0)) && !excluded.contains(PathKey(prefix + $0)) }
            for name in gone.sorted(by: PathBytes.less) {
                items.append(.entry(entries.marker(prefix + OverlayDiff.whiteoutPrefix + name, st)))
            }
        }
        for name in names {
            let childHost = host + "/" + name
            if PathBytes.hasPrefix(name, OverlayDiff.whiteoutPrefix) {
                throw TreeIO.unreadable(childHost, "a file named \(OverlayDiff.whiteoutPrefix)* cannot be stored in a layer (it would read as a whiteout)")
            }
            guard let childSt = TreeIO.status(childHost) else {
                if errno == ENOENT { continue }
                throw TreeIO.unreadable(childHost, LayerError.errnoText())
            }
            let before = compared ? snapshot.entries[PathKey(prefix + name)] : nil
            if try visit(prefix + name, childHost, childSt, before: before) { leftOut = true }
        }
        return leftOut
    }

    /// Emits `rel` when it changed (a directory also when something below did). Returns
    /// whether anything below was left out as excluded.
    private mutating func visit(_ rel: String, _ host: String, _ st: stat, before: TreeSnapshot.Entry?) throws -> Bool {
        let type = st.st_mode & S_IFMT
        let old = before?.type == type ? before : nil
        switch type {
        case S_IFDIR:
            let recreated = try old.map { try $0.inode != UInt64(st.st_ino) || everyEntryGone(rel, host) } ?? false
            let keepsContent = old != nil && !recreated
            let changed = !keepsContent || metadataDiffers(old!, st)
            let mark = items.count
            items.append(.entry(entries.entry(rel, .directory, st)))
            if recreated { items.append(.entry(entries.marker(rel + "/" + OverlayDiff.opaqueMarker, st))) }
            let leftOut = try walk(rel, st, compared: keepsContent)
            if !keepsContent && !leftOut { wholeDirectories.insert(rel) }
            if !changed && items.count == mark + 1 { items.removeLast() }
            return leftOut
        case S_IFREG:
            if let old, try !fileChanged(old, st, host) { return false }
            if st.st_nlink > 1 {
                let key = InodeKey(st)
                if let first = links[key] {
                    items.append(.entry(entries.entry(rel, .hardlink(target: first), st)))
                    return false
                }
                links[key] = rel
            }
            items.append(.entry(entries.entry(rel, .regularFile(.file(path: host, size: Int64(st.st_size))), st)))
        case S_IFLNK:
            let target = try TreeIO.readLink(host, size: Int(st.st_size))
            if let old, !metadataDiffers(old, st), old.symlinkTarget == target { return false }
            items.append(.entry(entries.entry(rel, .symlink(target: target), st)))
        default:
            break
        }
        return false
    }

    /// Whether directory `rel` had entries and none of them is left.
    private func everyEntryGone(_ rel: String, _ host: String) throws -> Bool {
        // Excluded entries (mount targets) are neither gone nor kept.
        let before = (snapshot.children[PathKey(rel)] ?? []).filter { !excluded.contains(PathKey(rel + "/" + $0)) }
        for name in before {
            if TreeIO.status(host + "/" + name) != nil { return false }
            if errno != ENOENT { throw TreeIO.unreadable(host + "/" + name, LayerError.errnoText()) }
        }
        return !before.isEmpty
    }

    private func metadataDiffers(_ old: TreeSnapshot.Entry, _ st: stat) -> Bool {
        old.mode != st.st_mode & 0o7777 || old.uid != st.st_uid || old.gid != st.st_gid
            || old.mtime.tv_sec != st.st_mtim.tv_sec || old.mtime.tv_nsec != st.st_mtim.tv_nsec
    }

    private func fileChanged(_ old: TreeSnapshot.Entry, _ st: stat, _ host: String) throws -> Bool {
        if metadataDiffers(old, st) || old.size != Int64(st.st_size) { return true }
        let copiedAt = snapshot.copiedAt
        let touched = st.st_ctim.tv_sec > copiedAt.tv_sec
            || (st.st_ctim.tv_sec == copiedAt.tv_sec && st.st_ctim.tv_nsec >= copiedAt.tv_nsec)
        // Two empty files hold the same bytes (mount points the copy made have no original).
        guard touched, st.st_size > 0 else { return false }
        guard let original = old.content else { return true }
        return try !FileCopy.sameContent(original, host)
    }
}

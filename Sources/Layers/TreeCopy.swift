import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// What a root made by `TreeCopy.materialise` held before the command ran: the merged view of
/// its layers, path by path, for `TreeDiff` to compare against.
public struct TreeSnapshot: Sendable {
    struct Entry: Sendable {
        var type: mode_t
        /// Permission bits (`0o7777`).
        var mode: mode_t
        /// Owner on disk (host ids), as the sandbox sees it once `pendingOwners` are applied.
        var uid: uid_t
        var gid: gid_t
        var size: Int64
        var mtime: timespec
        var symlinkTarget: String?
        /// Regular files: where the original content lives (in a layer, never modified).
        var content: String?
        /// Directories: inode of the copy (another inode afterwards = removed and made again).
        var inode: UInt64

        init(_ st: stat) {
            type = st.st_mode & S_IFMT
            mode = st.st_mode & 0o7777
            uid = st.st_uid
            gid = st.st_gid
            size = Int64(st.st_size)
            mtime = st.st_mtim
            inode = 0
        }
    }

    /// By bytes (`PathKey`): `é` and `e` + U+0301 are two entries, as on disk.
    var entries: [PathKey: Entry] = [:]
    /// Directory (layer path, `""` for the root) → names of its children.
    var children: [PathKey: [String]] = [:]
    /// The file-system time right after the copy: a file whose ctime is not older may have been
    /// written since (ctime cannot be set back), so its content is compared.
    var copiedAt = timespec()
}

/// An owner the unprivileged copy could not set (a file of another image user, which only the
/// sandbox's user namespace maps): applied inside the sandbox before the command runs.
public struct PendingOwner: Sendable, Hashable {
    /// Layer path (relative to the root).
    public var path: String
    /// Container ids.
    public var uid: UInt32
    public var gid: UInt32
    /// Permission bits to restore after chown (which clears setuid/setgid).
    public var mode: UInt32
    public init(path: String, uid: UInt32, gid: UInt32, mode: UInt32) {
        self.path = path
        self.uid = uid
        self.gid = gid
        self.mode = mode
    }
}

/// A path the sandbox mounts over (`/proc`, `/dev`, `/etc/hosts`, `RUN --mount` targets). Made
/// before the snapshot when the image lacks it, so it never shows up as a change.
public struct MountPoint: Sendable, Hashable {
    /// Container path (leading `/` optional).
    public var path: String
    public var isDirectory: Bool
    public init(path: String, isDirectory: Bool) {
        self.path = path
        self.isDirectory = isDirectory
    }
}

/// A root made by `TreeCopy.materialise`.
public struct CopiedRoot: Sendable {
    public var snapshot: TreeSnapshot
    public var pendingOwners: [PendingOwner]
}

/// Copy-and-compare's first half: materialises the merged view of stacked layer directories
/// (see `MergedLayers`) as a real directory tree a RUN can change in place, where overlayfs in
/// a user namespace is refused. Real copies (reflinks where possible), never hard links into
/// the layers, which stay untouched; hard links among the layers' files are kept among the
/// copies. Keeps types, modes, owners (as root; unprivileged see `PendingOwner`), mtimes,
/// symlink targets and xattrs (where permitted); skips sockets and devices.
public enum TreeCopy {
    /// Copies `layers` (top first) into `root` (created; must not exist) and returns what it holds.
    /// - Parameters:
    ///   - mountPoints: made when missing, and then part of the snapshot.
    ///   - idMap: how the sandbox will map owners (for `pendingOwners`).
    ///   - owners: per layer directory (as given in `layers`), owners its files have in the
    ///     image but not on disk (an unprivileged unpack): the copy of such a file gets them
    ///     (through `pendingOwners`) and its mode, and the snapshot records them.
    public static func materialise(layers: [String], into root: String, mountPoints: [MountPoint] = [],
                                   idMap: IDMap = .identity, owners: [String: [PathKey: PendingOwner]] = [:]) throws -> CopiedRoot {
        let merged = MergedLayers(layers: layers)
        let sources = try merged.rootSources()
        guard mkdir(root, 0o700) == 0 else { throw LayerError.writeFailed(path: root, reason: LayerError.errnoText()) }
        var copier = RootCopier(merged: merged, root: root, idMap: idMap)
        copier.intendedOwners = owners.filter { !$0.value.isEmpty }.map { (prefix: $0.key + "/", owners: $0.value) }
        try copier.copy("", sources: sources)
        for point in mountPoints { try copier.add(point) }
        // Directories last, children before parents: making their entries changed their mtimes.
        for (rel, st) in copier.directories.reversed() { try copier.setMetadata(rel, st) }
        if let top = sources.first, let st = TreeIO.status(top) {
            chmod(root, st.st_mode & 0o7777)
            var times = [st.st_atim, st.st_mtim]
            utimensat(AT_FDCWD, root, &times, 0)
        }
        copier.snapshot.copiedAt = try fileSystemTime(near: root)
        return CopiedRoot(snapshot: copier.snapshot, pendingOwners: copier.pendingOwners)
    }

    /// Removes a tree made by `materialise`, best effort. Directories are made owner-writable
    /// first: a RUN may have left some read-only.
    public static func remove(_ path: String) {
        guard let st = TreeIO.status(path) else { return }
        guard st.st_mode & S_IFMT == S_IFDIR else { _ = PathBytes.withCString(path) { unlink($0) }; return }
        if st.st_uid == geteuid() && st.st_mode & 0o700 != 0o700 { _ = PathBytes.withCString(path) { chmod($0, (st.st_mode & 0o7777) | 0o700) } }
        for name in (try? TreeIO.listDirectory(path)) ?? [] { remove(path + "/" + name) }
        _ = PathBytes.withCString(path) { rmdir($0) }
    }

    /// The ctime a file written next to `root` gets now.
    private static func fileSystemTime(near root: String) throws -> timespec {
        let marker = root + ".copied"
        let fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LayerError.writeFailed(path: marker, reason: LayerError.errnoText()) }
        var st = stat()
        fstat(fd, &st)
        close(fd)
        unlink(marker)
        return st.st_ctim
    }
}

private struct RootCopier {
    let merged: MergedLayers
    let root: String
    let idMap: IDMap
    var snapshot = TreeSnapshot()
    var pendingOwners: [PendingOwner] = []
    /// Every directory made, parents first, with the status it must end up with.
    var directories: [(rel: String, st: stat)] = []
    /// First copy of every multiply-linked source file.
    var links: [InodeKey: String] = [:]
    /// Layer directories (with a trailing `/`) whose files' owners are given here, by path.
    var intendedOwners: [(prefix: String, owners: [PathKey: PendingOwner])] = []

    init(merged: MergedLayers, root: String, idMap: IDMap) {
        self.merged = merged
        self.root = root
        self.idMap = idMap
    }

    mutating func copy(_ rel: String, sources: [String]) throws {
        var names: [String] = []
        for child in try merged.children(of: sources) {
            let childRel = rel.isEmpty ? child.name : rel + "/" + child.name
            let destination = root + "/" + childRel
            let st = intended(child.status, of: childRel, host: child.host)
            var entry = TreeSnapshot.Entry(st)
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                // Owner-writable until the end, whatever its final mode.
                guard PathBytes.withCString(destination, { mkdir($0, 0o700) }) == 0 else { throw written(destination) }
                entry.inode = UInt64(try TreeIO.requireStatus(destination).st_ino)
                try FileCopy.copyXattrs(from: child.host, to: destination)
                directories.append((childRel, st))
                try copy(childRel, sources: child.sources)
            case S_IFREG:
                entry.content = child.host
                let key = InodeKey(st)
                if st.st_nlink > 1, let first = links[key] {
                    guard PathBytes.withCString(root + "/" + first, { a in PathBytes.withCString(destination) { link(a, $0) } }) == 0 else {
                        throw written(destination)
                    }
                } else {
                    try FileCopy.copyContent(from: child.host, to: destination, size: Int64(st.st_size))
                    try FileCopy.copyXattrs(from: child.host, to: destination)
                    try setMetadata(childRel, st)
                    if st.st_nlink > 1 { links[key] = childRel }
                }
            case S_IFLNK:
                let target = try TreeIO.readLink(child.host, size: Int(st.st_size))
                entry.symlinkTarget = target
                guard PathBytes.withCString(target, { t in PathBytes.withCString(destination) { symlink(t, $0) } }) == 0 else {
                    throw written(destination)
                }
                try setMetadata(childRel, st)
            case S_IFIFO:
                guard PathBytes.withCString(destination, { mkfifo($0, 0o600) }) == 0 else { throw written(destination) }
                try setMetadata(childRel, st)
            default:
                continue  // sockets and devices cannot go into a layer either
            }
            snapshot.entries[PathKey(childRel)] = entry
            names.append(child.name)
        }
        snapshot.children[PathKey(rel)] = names
    }

    /// Makes the missing components of a mount point (directories, and a file at the end when
    /// it is not one) and records them. Stops at anything that is not a directory: the sandbox
    /// resolves symlinks itself.
    mutating func add(_ point: MountPoint) throws {
        let parts = point.path.split(separator: "/").map(String.init)
        var rel = ""
        for (index, name) in parts.enumerated() {
            let parent = rel
            rel = rel.isEmpty ? name : rel + "/" + name
            let path = root + "/" + rel
            let isLast = index == parts.count - 1
            if let st = TreeIO.status(path) {
                if st.st_mode & S_IFMT == S_IFDIR && !isLast { continue }
                return
            }
            if !isLast || point.isDirectory {
                guard mkdir(path, 0o755) == 0 else { throw written(path) }
            } else {
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw written(path) }
                close(fd)
            }
            let st = try TreeIO.requireStatus(path)
            var entry = TreeSnapshot.Entry(st)
            entry.inode = UInt64(st.st_ino)
            snapshot.entries[PathKey(rel)] = entry
            snapshot.children[PathKey(parent), default: []].append(name)
            if st.st_mode & S_IFMT == S_IFDIR {
                snapshot.children[PathKey(rel)] = []
                directories.append((rel, st))
            }
        }
    }

    /// `st` with the owner (as host ids: what the sandbox's map shows as the image's) and mode
    /// the file's layer gives it in `intendedOwners`, if any.
    func intended(_ st: stat, of rel: String, host: String) -> stat {
        guard !intendedOwners.isEmpty,
              let owner = intendedOwners.first(where: { PathBytes.hasPrefix(host, $0.prefix) })?.owners[PathKey(rel)],
              let uid = idMap.hostUID(owner.uid), let gid = idMap.hostGID(owner.gid) else { return st }
        var result = st
        result.st_uid = uid
        result.st_gid = gid
        if st.st_mode & S_IFMT != S_IFLNK { result.st_mode = (st.st_mode & S_IFMT) | mode_t(owner.mode & 0o7777) }
        return result
    }

    mutating func setMetadata(_ rel: String, _ st: stat) throws {
        if try !FileCopy.applyMetadata(root + "/" + rel, st) {
            pendingOwners.append(PendingOwner(path: rel, uid: idMap.containerUID(st.st_uid), gid: idMap.containerGID(st.st_gid),
                                              mode: UInt32(st.st_mode & 0o7777)))
        }
    }

    private func written(_ path: String) -> LayerError {
        .writeFailed(path: path, reason: LayerError.errnoText())
    }
}

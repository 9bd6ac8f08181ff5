import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns the upper directory of an overlay mount (what a RUN step changed) into layer items.
///
/// Mapping (overlayfs → OCI layer):
/// - character device 0/0 (overlay whiteout) → empty regular file `dir/.wh.NAME`, mode 0, 0:0;
/// - directory with xattr `trusted.overlay.opaque=y` or `user.overlay.opaque=y` (mounted with
///   `userxattr`) → the directory entry, then empty regular file `dir/.wh..wh..opq`, mode 0, 0:0;
/// - directories (including parents overlay merely copied up), regular files (content read
///   from the upper dir when the layer is written), symlinks; a second path of an inode already
///   emitted becomes a hard link to the first;
/// - sockets, FIFOs and other devices are skipped.
///
/// Order: depth-first, parents before children, siblings compared bytewise by name (the order
/// of a tar of a sorted tree), except that in each directory the opaque marker and then the
/// whiteouts (sorted by name) come right after the directory's own entry, before any sibling.
///
/// Upper dirs written with overlay's `redirect_dir` or `metacopy` features (xattrs
/// `overlay.redirect` / `overlay.metacopy`) cannot be diffed without the lower layers and are
/// rejected; mount the sandbox with `redirect_dir=off,metacopy=off` (the kernel defaults, and
/// implied by `userxattr`).
public enum OverlayDiff {
    /// Prefix of an OCI whiteout file name.
    public static let whiteoutPrefix = ".wh."
    /// Name of the OCI opaque-directory marker.
    public static let opaqueMarker = ".wh..wh..opq"

    /// The items of the layer that `upperDir` describes.
    /// - Parameters:
    ///   - idMap: maps on-disk owners to container owners (see `IDMap`).
    ///   - excluding: layer paths (`etc/hosts`, `dev`; leading/trailing `/` ignored) dropped
    ///     together with everything below them, whatever they are (whiteouts included).
    ///   - sourceDateEpoch: when set, later mtimes are clamped to it.
    public static func items(upperDir: String, idMap: IDMap = .identity, excluding: Set<String> = [],
                             sourceDateEpoch: Int64? = nil) throws -> [LayerItem] {
        var root = upperDir
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        let excluded = Set(excluding.map { $0.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/") })
        var walker = OverlayWalker(root: root, idMap: idMap, excluded: excluded, epoch: sourceDateEpoch)
        try walker.run()
        return walker.items
    }
}

private struct InodeKey: Hashable {
    var device: UInt64
    var inode: UInt64
}

/// One depth-first walk of an upper dir.
private struct OverlayWalker {
    let root: String
    let idMap: IDMap
    let excluded: Set<String>
    let epoch: Int64?
    var items: [LayerItem] = []
    /// First layer path of every multiply-linked regular file emitted so far.
    var links: [InodeKey: String] = [:]

    init(root: String, idMap: IDMap, excluded: Set<String>, epoch: Int64?) {
        self.root = root
        self.idMap = idMap
        self.excluded = excluded
        self.epoch = epoch
    }

    mutating func run() throws {
        guard let st = status(root) else { throw unreadable(root, LayerError.errnoText()) }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw unreadable(root, "not a directory") }
        // Pending entries, the next one last; a directory's children are pushed in reverse.
        var stack: [(rel: String, st: stat)] = []
        try expand("", st, onto: &stack)
        while let (rel, st) = stack.popLast() {
            let host = root + "/" + rel
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                items.append(.entry(entry(rel, .directory, st)))
                try expand(rel, st, onto: &stack)
            case S_IFREG:
                if try xattrNames(host).contains(where: { isOverlayXattr($0, "metacopy") }) {
                    throw unreadable(host, "overlay metacopy file (content lives in a lower layer); mount with metacopy=off")
                }
                if st.st_nlink > 1 {
                    let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                    if let first = links[key] {
                        items.append(.entry(entry(rel, .hardlink(target: first), st)))
                        continue
                    }
                    links[key] = rel
                }
                items.append(.entry(entry(rel, .regularFile(.file(path: host, size: Int64(st.st_size))), st)))
            case S_IFLNK:
                items.append(.entry(entry(rel, .symlink(target: try readLink(host, size: Int(st.st_size))), st)))
            default:
                continue  // sockets, FIFOs, devices (whiteouts were handled by the parent)
            }
        }
    }

    /// Emits the opaque marker and whiteouts of directory `rel` and pushes its other children.
    private mutating func expand(_ rel: String, _ st: stat, onto stack: inout [(rel: String, st: stat)]) throws {
        let host = rel.isEmpty ? root : root + "/" + rel
        let prefix = rel.isEmpty ? "" : rel + "/"
        var opaque = false
        for name in try xattrNames(host) {
            if isOverlayXattr(name, "redirect") {
                throw unreadable(host, "overlay redirected directory (renamed from a lower layer); mount with redirect_dir=off")
            }
            if isOverlayXattr(name, "opaque"), try xattrValue(host, name) == Array("y".utf8) { opaque = true }
        }
        if opaque {
            items.append(.entry(marker(prefix + OverlayDiff.opaqueMarker, st)))
        }
        var children: [(rel: String, st: stat)] = []
        for name in try listDirectory(host) {
            let childRel = prefix + name
            if excluded.contains(childRel) { continue }
            let childHost = host + "/" + name
            guard let childSt = status(childHost) else {
                if errno == ENOENT { continue }
                throw unreadable(childHost, LayerError.errnoText())
            }
            if childSt.st_mode & S_IFMT == S_IFCHR && childSt.st_rdev == 0 {
                items.append(.entry(marker(prefix + OverlayDiff.whiteoutPrefix + name, childSt)))
                continue
            }
            if name.hasPrefix(OverlayDiff.whiteoutPrefix) {
                throw unreadable(childHost, "a file named \(OverlayDiff.whiteoutPrefix)* cannot be stored in a layer (it would read as a whiteout)")
            }
            children.append((childRel, childSt))
        }
        stack.append(contentsOf: children.reversed())
    }

    private func entry(_ rel: String, _ kind: LayerEntry.Kind, _ st: stat) -> LayerEntry {
        LayerEntry(path: rel, kind: kind, mode: UInt32(st.st_mode) & 0o7777,
                   uid: Int(idMap.containerUID(UInt32(st.st_uid))), gid: Int(idMap.containerGID(UInt32(st.st_gid))),
                   mtimeSeconds: mtime(st), mtimeNanoseconds: 0)
    }

    /// A whiteout or opaque marker: empty regular file, mode 0, owned by 0:0, with the mtime of
    /// the overlay object it stands for.
    private func marker(_ rel: String, _ st: stat) -> LayerEntry {
        LayerEntry(path: rel, kind: .regularFile(.bytes([])), mode: 0, uid: 0, gid: 0,
                   mtimeSeconds: mtime(st), mtimeNanoseconds: 0)
    }

    /// Whole seconds (as `LayerWriter` writes them), clamped to the epoch.
    private func mtime(_ st: stat) -> Int64 {
        let seconds = Int64(st.st_mtim.tv_sec)
        if let epoch, seconds > epoch { return epoch }
        return seconds
    }

    private func status(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    private func unreadable(_ path: String, _ reason: String) -> LayerError {
        .unreadable(path: path, reason: reason)
    }

    /// `trusted.overlay.NAME` or `user.overlay.NAME`.
    private func isOverlayXattr(_ name: String, _ suffix: String) -> Bool {
        name == "trusted.overlay." + suffix || name == "user.overlay." + suffix
    }

    /// Names of the extended attributes of `path` (not following symlinks); empty when the
    /// file system has none.
    private func xattrNames(_ path: String) throws -> [String] {
        while true {
            let size = Xattr.list(path, nil, 0)
            if size < 0 {
                if errno == ENOTSUP || errno == ENODATA { return [] }
                throw unreadable(path, "cannot list extended attributes: \(LayerError.errnoText())")
            }
            if size == 0 { return [] }
            var buffer = [CChar](repeating: 0, count: size)
            let got = Xattr.list(path, &buffer, size)
            if got < 0 {
                if errno == ERANGE { continue }  // grew in between
                throw unreadable(path, "cannot list extended attributes: \(LayerError.errnoText())")
            }
            return buffer[0..<got].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        }
    }

    private func xattrValue(_ path: String, _ name: String) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let got = Xattr.get(path, name, &buffer, buffer.count)
        if got < 0 {
            if errno == ENODATA || errno == ENOTSUP { return nil }
            if errno == ERANGE { return Array("too long".utf8) }  // not "y"
            throw unreadable(path, "cannot read extended attribute \(name): \(LayerError.errnoText())")
        }
        return Array(buffer[0..<got])
    }

    private func readLink(_ path: String, size: Int) throws -> String {
        var capacity = max(size, 255) + 1
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let n = buffer.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) { readlink(path, $0, capacity) }
            }
            if n < 0 { throw unreadable(path, "cannot read symlink: \(LayerError.errnoText())") }
            if n < capacity { return try utf8(Array(buffer[0..<n]), path: path, what: "symlink target") }
            capacity *= 2
        }
    }

    /// Entry names of a directory, without `.` and `..`, sorted bytewise.
    private func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            throw unreadable(path, "cannot list directory: \(LayerError.errnoText())")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw unreadable(path, "cannot list directory: \(LayerError.errnoText())") }
                break
            }
            let bytes: [UInt8] = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: Int(NAME_MAX) + 1) {
                    Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))))
                }
            }
            if bytes == [46] || bytes == [46, 46] { continue }
            names.append(try utf8(bytes, path: path, what: "file name"))
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private func utf8(_ bytes: [UInt8], path: String, what: String) throws -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            throw unreadable(path, "\(what) is not valid UTF-8: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        return text
    }
}

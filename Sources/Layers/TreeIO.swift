import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// The file-system reads shared by the walkers over on-disk trees (overlay upper dirs, stacked
/// layer directories, copy-and-compare roots). Every failure is a one-line
/// `LayerError.unreadable` naming the path.
enum TreeIO {
    /// `lstat(2)`; nil (with `errno` set) when it fails.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return PathBytes.withCString(path, { lstat($0, &st) }) == 0 ? st : nil
    }

    /// `lstat(2)` that throws, naming the path.
    static func requireStatus(_ path: String) throws -> stat {
        guard let st = status(path) else { throw unreadable(path, LayerError.errnoText()) }
        return st
    }

    static func unreadable(_ path: String, _ reason: String) -> LayerError {
        .unreadable(path: path, reason: reason)
    }

    /// True for the 0/0 character device overlayfs uses as a whiteout.
    static func isOverlayWhiteout(_ st: stat) -> Bool {
        st.st_mode & S_IFMT == S_IFCHR && st.st_rdev == 0
    }

    /// `trusted.overlay.NAME` or `user.overlay.NAME` (the latter when mounted with `userxattr`).
    static func isOverlayXattr(_ name: String, _ suffix: String) -> Bool {
        name == "trusted.overlay." + suffix || name == "user.overlay." + suffix
    }

    /// Whether directory `path` carries overlay's opaque xattr set to `y`.
    static func hasOpaqueXattr(_ path: String) throws -> Bool {
        for name in try xattrNames(path) where isOverlayXattr(name, "opaque") {
            if try xattrValue(path, name) == Array("y".utf8) { return true }
        }
        return false
    }

    /// Names of the extended attributes of `path` (not following symlinks); empty when the
    /// file system has none.
    static func xattrNames(_ path: String) throws -> [String] {
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

    /// The value of xattr `name`, nil when absent. Values longer than `limit` bytes read as
    /// `nil` too unless `limit` is nil (then any length is read).
    static func xattrValue(_ path: String, _ name: String, limit: Int? = 16) throws -> [UInt8]? {
        var capacity = limit ?? max(Xattr.get(path, name, nil, 0), 0)
        while true {
            var buffer = [UInt8](repeating: 0, count: max(capacity, 1))
            let got = Xattr.get(path, name, &buffer, capacity)
            if got >= 0 { return Array(buffer[0..<got]) }
            if errno == ENODATA || errno == ENOTSUP { return nil }
            if errno == ERANGE {
                if limit != nil { return Array("too long".utf8) }  // not "y"
                capacity = max(Xattr.get(path, name, nil, 0), capacity * 2)
                continue
            }
            throw unreadable(path, "cannot read extended attribute \(name): \(LayerError.errnoText())")
        }
    }

    static func readLink(_ path: String, size: Int) throws -> String {
        var capacity = max(size, 255) + 1
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let n = buffer.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) { b in PathBytes.withCString(path) { readlink($0, b, capacity) } }
            }
            if n < 0 { throw unreadable(path, "cannot read symlink: \(LayerError.errnoText())") }
            if n < capacity { return PathBytes.string(buffer[0..<n]) }  // any bytes, kept exactly
            capacity *= 2
        }
    }

    /// Entry names of a directory, without `.` and `..`, sorted bytewise (the order of a tar of
    /// a sorted tree).
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = PathBytes.withCString(path, { opendir($0) }) else {
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
            names.append(PathBytes.string(bytes))  // any bytes, kept exactly (`PathBytes`)
        }
        return names.sorted { PathBytes.bytes($0).lexicographicallyPrecedes(PathBytes.bytes($1)) }
    }
}

/// One file (inode) on one file system: the identity of hard links.
struct InodeKey: Hashable {
    var device: UInt64
    var inode: UInt64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

/// Layer entries for files found on disk: owners mapped back through `idMap`, mtimes in whole
/// seconds (as `LayerWriter` writes them) clamped to `epoch` (SOURCE_DATE_EPOCH).
struct DiskEntries {
    let idMap: IDMap
    let epoch: Int64?

    func entry(_ rel: String, _ kind: LayerEntry.Kind, _ st: stat) -> LayerEntry {
        LayerEntry(path: rel, kind: kind, mode: UInt32(st.st_mode) & 0o7777,
                   uid: Int(idMap.containerUID(UInt32(st.st_uid))), gid: Int(idMap.containerGID(UInt32(st.st_gid))),
                   mtimeSeconds: mtime(st), mtimeNanoseconds: 0)
    }

    /// A whiteout or opaque marker: empty regular file, mode 0, owned by 0:0, with the mtime of
    /// the object it stands for.
    func marker(_ rel: String, _ st: stat) -> LayerEntry {
        LayerEntry(path: rel, kind: .regularFile(.bytes([])), mode: 0, uid: 0, gid: 0,
                   mtimeSeconds: mtime(st), mtimeNanoseconds: 0)
    }

    private func mtime(_ st: stat) -> Int64 {
        let seconds = Int64(st.st_mtim.tv_sec)
        if let epoch, seconds > epoch { return epoch }
        return seconds
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PathEncoding

/// Thin POSIX wrappers: `lstat` → `ContextEntry`, directory listing, `readlink`.
///
/// Paths are `PathBytes` strings: names read from the kernel are decoded losslessly, and every
/// path handed back to it is its exact bytes, so a name that is not UTF-8 is found again.
enum FileSystem {
    struct SystemError: Error {
        let code: Int32
        var text: String { String(cString: strerror(code)) }
    }

    /// `lstat` the path (never following a final symlink) and describe it.
    static func entry(relativePath: String, absolutePath: String) throws -> ContextEntry {
        var st = stat()
        guard PathBytes.withCString(absolutePath, { lstat($0, &st) }) == 0 else { throw SystemError(code: errno) }
        return try makeEntry(st, relativePath: relativePath, absolutePath: absolutePath)
    }

    static func makeEntry(_ st: stat, relativePath: String, absolutePath: String) throws -> ContextEntry {
        let type: ContextEntry.FileType
        switch st.st_mode & S_IFMT {
        case S_IFREG: type = .regular
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink(target: try readLink(absolutePath))
        default: type = .other
        }
        return ContextEntry(relativePath: relativePath, absolutePath: absolutePath, type: type,
                            mode: UInt32(st.st_mode) & 0o7777, uid: Int(st.st_uid), gid: Int(st.st_gid),
                            size: Int64(st.st_size),
                            mtimeSeconds: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: Int32(st.st_mtim.tv_nsec),
                            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), linkCount: UInt64(st.st_nlink))
    }

    /// The raw target of a symlink.
    static func readLink(_ path: String) throws -> String {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let n = PathBytes.withCString(path) { readlink($0, &buffer, size) }
            if n < 0 { throw SystemError(code: errno) }
            if n < size {
                return PathBytes.string(buffer[0..<n].map { UInt8(bitPattern: $0) })
            }
            size *= 4
        }
    }

    /// The names in a directory (without `.` and `..`), sorted in byte order.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = PathBytes.withCString(path, { opendir($0) }) else { throw SystemError(code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw SystemError(code: errno) }
                break
            }
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { PathBytes.string(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        names.sort(by: GoPath.byteLess)
        return names
    }

    /// `stat` (follows symlinks) or `lstat` of a path.
    static func status(_ path: String, follow: Bool) throws -> stat {
        var st = stat()
        let rc = PathBytes.withCString(path) { follow ? stat($0, &st) : lstat($0, &st) }
        guard rc == 0 else { throw SystemError(code: errno) }
        return st
    }

    static func isDirectory(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isSymlink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }

    /// `access(R_OK)` as an error.
    static func checkReadable(_ path: String) throws {
        if PathBytes.withCString(path, { access($0, R_OK) }) != 0 { throw SystemError(code: errno) }
    }

    /// The canonical absolute form of an existing path.
    static func realPath(_ path: String) -> String? {
        guard let p = PathBytes.withCString(path, { realpath($0, nil) }) else { return nil }
        defer { free(p) }
        return PathBytes.string(cString: p)
    }
}

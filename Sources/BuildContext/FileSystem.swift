#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX wrappers: `lstat` → `ContextEntry`, directory listing, `readlink`.
enum FileSystem {
    struct SystemError: Error {
        let code: Int32
        var text: String { String(cString: strerror(code)) }
    }

    /// `lstat` the path (never following a final symlink) and describe it.
    static func entry(relativePath: String, absolutePath: String) throws -> ContextEntry {
        var st = stat()
        guard lstat(absolutePath, &st) == 0 else { throw SystemError(code: errno) }
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
            let n = readlink(path, &buffer, size)
            if n < 0 { throw SystemError(code: errno) }
            if n < size {
                return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            size *= 4
        }
    }

    /// The names in a directory (without `.` and `..`), sorted in byte order.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SystemError(code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw SystemError(code: errno) }
                break
            }
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
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
        let rc = follow ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { throw SystemError(code: errno) }
        return st
    }

    static func isDirectory(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    static func isSymlink(_ st: stat) -> Bool { (st.st_mode & S_IFMT) == S_IFLNK }

    /// `access(R_OK)` as an error.
    static func checkReadable(_ path: String) throws {
        if access(path, R_OK) != 0 { throw SystemError(code: errno) }
    }

    /// The canonical absolute form of an existing path.
    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}

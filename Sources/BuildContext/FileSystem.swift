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
        var text: String { code == Self.replaced ? "it was replaced while the context was being read" : String(cString: strerror(code)) }
        /// Not an errno: the directory opened is not the one the walk's `lstat` saw.
        static let replaced: Int32 = -1
    }

    /// `lstat` the path (never following a final symlink) and describe it.
    static func entry(relativePath: String, absolutePath: String) throws -> ContextEntry {
        var st = stat()
        guard PathBytes.withCString(absolutePath, { lstat($0, &st) }) == 0 else { throw SystemError(code: errno) }
        return try makeEntry(st, relativePath: relativePath, absolutePath: absolutePath)
    }

    static func makeEntry(_ st: stat, relativePath: String, absolutePath: String) throws -> ContextEntry {
        try makeEntry(st, relativePath: relativePath, absolutePath: absolutePath, linkTarget: { try readLink(absolutePath) })
    }

    static func makeEntry(_ st: stat, relativePath: String, absolutePath: String,
                          linkTarget: () throws -> String) throws -> ContextEntry {
        let type: ContextEntry.FileType
        switch st.st_mode & S_IFMT {
        case S_IFREG: type = .regular
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink(target: try linkTarget())
        default: type = .other
        }
        return ContextEntry(relativePath: relativePath, absolutePath: absolutePath, type: type,
                            mode: UInt32(st.st_mode) & 0o7777, uid: Int(st.st_uid), gid: Int(st.st_gid),
                            size: Int64(st.st_size),
                            mtimeSeconds: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: Int32(st.st_mtim.tv_nsec),
                            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), linkCount: UInt64(st.st_nlink),
                            ctimeNanosecondsSinceEpoch: Int64(st.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_ctim.tv_nsec))
    }

    /// The raw target of a symlink (`name` relative to `directory`, a descriptor, when given).
    static func readLink(_ path: String, in directory: Int32? = nil) throws -> String {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let n = PathBytes.withCString(path) { name in
                if let directory { return readlinkat(directory, name, &buffer, size) }
                return readlink(name, &buffer, size)
            }
            if n < 0 { throw SystemError(code: errno) }
            if n < size {
                return PathBytes.string(buffer[0..<n].map { UInt8(bitPattern: $0) })
            }
            size *= 4
        }
    }

    /// The names in a directory (without `.` and `..`), sorted in byte order.
    ///
    /// The directory is opened `O_NOFOLLOW` and listed through that descriptor, and when the
    /// caller saw it with `lstat` (`identity`: device and inode) the opened one must be that
    /// same directory: one swapped for a symlink, or moved, after the walk looked at it is
    /// refused rather than listed wherever the path now leads.
    static func listDirectory(_ path: String, identity: (device: UInt64, inode: UInt64)? = nil) throws -> [String] {
        try withDirectory(path, identity: identity) { _, names in names.map(nameString) }
    }

    /// One name of a directory and what `lstat` said of it, looked up relative to the listed
    /// directory's descriptor (see `readDirectory`).
    struct Child {
        var name: String
        /// `lstat`'s answer, or the errno it failed with.
        var status: Result<stat, SystemError>
        /// A symlink's target (nil for other types, or when `readlink` failed: then `linkError`).
        var linkTarget: String?
        var linkError: SystemError?
        /// For a regular file: the errno of `access(R_OK)`, nil when it is readable (decided from
        /// the `lstat` alone where that is certain, see `ReadPermission`).
        var unreadable: SystemError?
    }

    /// The children of a directory, sorted in byte order, each `lstat`ed (and a symlink's target
    /// read, a regular file's readability checked) relative to the directory's descriptor,
    /// opened as `listDirectory` opens it.
    ///
    /// Why not `lstat` of each full path: the kernel then walks every component of every path
    /// again, which was a fifth of a no-change rebuild of a 32k-file context (issue 13); and a
    /// lookup relative to the verified descriptor cannot be redirected by a directory on the
    /// path swapped for a symlink meanwhile. A child whose full path would reach `PATH_MAX`
    /// fails with `ENAMETOOLONG`, as the path's own `lstat` would (and as BuildKit's walk does).
    static func readDirectory(_ path: String, identity: (device: UInt64, inode: UInt64)? = nil) throws -> [Child] {
        let pathLength = path == "/" ? 0 : (PathBytes.hasEscapes(path) ? PathBytes.bytes(path).count : path.utf8.count)
        return try withDirectory(path, identity: identity) { fd, names in
            names.map { raw in
                let name = nameString(raw)
                guard pathLength + raw.count < Int(PATH_MAX) else {  // raw.count counts the "/" the NUL stands for
                    return Child(name: name, status: .failure(SystemError(code: ENAMETOOLONG)))
                }
                return raw.withUnsafeBufferPointer { buffer in
                    let cName = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                    var st = stat()
                    guard fstatat(fd, cName, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                        return Child(name: name, status: .failure(SystemError(code: errno)))
                    }
                    var child = Child(name: name, status: .success(st))
                    switch st.st_mode & S_IFMT {
                    case S_IFLNK:
                        do { child.linkTarget = try readLink(name, in: fd) } catch let e as SystemError { child.linkError = e } catch {}
                    case S_IFREG:
                        if !ReadPermission.ownerMayRead(st, as: ReadPermission.processUser),
                           faccessat(fd, cName, R_OK, 0) != 0 {
                            child.unreadable = SystemError(code: errno)
                        }
                    default:
                        break
                    }
                    return child
                }
            }
        }
    }

    /// Opens the directory (`O_NOFOLLOW`, checked against `identity`) and hands `body` its
    /// descriptor and its names — each NUL-terminated, in byte order — while it is open.
    private static func withDirectory<T>(_ path: String, identity: (device: UInt64, inode: UInt64)?,
                                         _ body: (Int32, [[UInt8]]) throws -> T) throws -> T {
        let fd = PathBytes.withCString(path) { open($0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError(code: errno) }
        if let identity {
            var st = stat()
            guard fstat(fd, &st) == 0, UInt64(st.st_dev) == identity.device, UInt64(st.st_ino) == identity.inode else {
                close(fd)
                throw SystemError(code: SystemError.replaced)
            }
        }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw SystemError(code: code)
        }
        defer { closedir(dir) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw SystemError(code: errno) }
                break
            }
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) + 1) }
            }
            if name.count == 2 && name[0] == UInt8(ascii: ".") { continue }
            if name.count == 3 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".") { continue }
            names.append(Array(name))
        }
        // NUL-terminated names compare in byte order with one memcmp: no name holds a NUL, so
        // where one ends its NUL sorts below the other's byte.
        names.sort { a, b in
            a.withUnsafeBytes { x in b.withUnsafeBytes { y in memcmp(x.baseAddress!, y.baseAddress!, min(x.count, y.count)) < 0 } }
        }
        return try body(dirfd(dir), names)
    }

    /// A NUL-terminated name as a `PathBytes` string. An ASCII name is its own encoding and is
    /// made directly (the generic decoder, called across modules, was a twentieth of a walk).
    private static func nameString(_ raw: [UInt8]) -> String {
        raw.withUnsafeBufferPointer { buffer in
            let name = UnsafeBufferPointer(rebasing: buffer.dropLast())
            if !name.contains(where: { $0 >= 0x80 }) { return String(decoding: name, as: UTF8.self) }
            return PathBytes.string(name)
        }
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

    /// The canonical absolute form of an existing path.
    static func realPath(_ path: String) -> String? {
        guard let p = PathBytes.withCString(path, { realpath($0, nil) }) else { return nil }
        defer { free(p) }
        return PathBytes.string(cString: p)
    }
}

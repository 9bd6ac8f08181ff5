import Layers
import FileDescriptorIO
import Foundation
import ImageModel
#if canImport(Glibc)
import Glibc
#endif

/// Thin POSIX helpers the store builds its durability on; every failure becomes a one-line
/// `StoreError.io` naming the path.
enum FileSystem {
    static let chunkSize = 1 << 20

    /// The text of the current `errno`.
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func ioError(_ path: String, _ what: String, _ code: Int32 = errno) -> StoreError {
        .io(path: path, reason: "\(what): \(errorText(code))")
    }

    /// `stat(2)`, nil when the path does not exist.
    static func status(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    static func exists(_ path: String) -> Bool { status(path) != nil }

    static func isDirectory(_ path: String) -> Bool {
        guard let st = status(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func isRegularFile(_ path: String) -> Bool {
        guard let st = status(path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFREG
    }

    /// Creates a directory and its missing parents.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path && parent != "/" { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw ioError(path, "cannot create directory")
        }
        guard isDirectory(path) else { throw StoreError.io(path: path, reason: "exists and is not a directory") }
    }

    /// Names of the entries in a directory, without `.` and `..`, sorted.
    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw ioError(path, "cannot list directory") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Opens a file, retrying on `EINTR`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw ioError(path, "cannot open") }
        }
    }

    /// Writes all of `bytes` to `fd`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        do throws(FileDescriptorIOError) {
            try FileDescriptorIO.writeAll(fd, bytes)
        } catch {
            throw ioError(path, "write failed", error.code)
        }
    }

    /// Reads up to `count` bytes; an empty result means end of file.
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        do throws(FileDescriptorIOError) {
            return try FileDescriptorIO.read(fd, into: buffer)
        } catch {
            throw ioError(path, "read failed", error.code)
        }
    }

    /// Reads until `buffer` is full or the file ends; fewer bytes than asked only at the end.
    static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        do throws(FileDescriptorIOError) {
            return try FileDescriptorIO.readFully(fd, into: buffer)
        } catch {
            throw ioError(path, "read failed", error.code)
        }
    }

    /// Creates `path` exclusively, writes `bytes` and fsyncs it.
    static func createDurably(_ path: String, _ bytes: [UInt8]) throws {
        try create(path, bytes, durably: true)
    }

    /// Creates `path` exclusively and writes `bytes`; fsyncs it when `durably`. Without: only
    /// for caches whose reader checks a checksum over the content, so what a crash leaves
    /// (empty, torn, or the file it replaced) is rebuilt or still true, never trusted wrongly.
    static func create(_ path: String, _ bytes: [UInt8], durably: Bool) throws {
        let fd = try open(path, O_WRONLY | O_CREAT | O_EXCL)
        defer { close(fd) }
        if !bytes.isEmpty { try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) } }
        if durably, fsync(fd) != 0 { throw ioError(path, "fsync failed") }
    }

    /// Replaces the file at `path` with `bytes`, whole or not at all: `temporary` is written
    /// durably (and removed again on failure) and renamed over `path`, then `directory` is
    /// synced so that the rename survives a crash.
    static func replaceDurably(_ path: String, with bytes: [UInt8], temporary: String, syncing directory: String) throws {
        do {
            try createDurably(temporary, bytes)
            try rename(temporary, path)
        } catch {
            try? removeFile(temporary)
            throw error
        }
        syncDirectory(directory)
    }

    /// The whole content of a file.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        // Read straight into one buffer of the size `fstat` gives (one byte more, to see the
        // end): growing by 64 KiB appends reallocated and page-faulted a 4 MB file index
        // several times over (issue 13). A file that grows meanwhile goes on in chunks.
        var st = stat()
        let expected = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : 0
        var ended = false
        var result = try [UInt8](unsafeUninitializedCapacity: expected + 1) { buffer, count in
            count = try readFully(fd, into: UnsafeMutableRawBufferPointer(buffer), path: path)
            ended = count < buffer.count
        }
        if ended { return result }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(fd, into: $0, path: path) }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
        }
    }

    /// Calls `body` with successive chunks of a file; returns the number of bytes read.
    @discardableResult
    static func forEachChunk(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while true {
            let n = try read(fd, into: buffer, path: path)
            if n == 0 { return total }
            total += Int64(n)
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    /// Flushes a file's data to disk.
    static func sync(_ path: String) throws {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        if fsync(fd) != 0 { throw ioError(path, "fsync failed") }
    }

    /// Flushes a directory, making renames and creations in it durable. Best effort: some
    /// file systems refuse fsync on directories.
    static func syncDirectory(_ path: String) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }

    static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw ioError(to, "cannot rename \(from) into place") }
    }

    /// Removes a file; a missing file is not an error.
    static func removeFile(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw ioError(path, "cannot remove") }
    }

    /// Removes a file or directory tree; a missing path is not an error.
    static func removeTree(_ path: String) throws {
        guard let st = status(path) else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw ioError(path, "cannot remove directory") }
        } else {
            try removeFile(path)
        }
    }

    /// Copies a file, returning the SHA-256 digest of what was copied; the copy is fsynced.
    static func copyFile(_ from: String, to: String) throws -> Digest {
        let out = try open(to, O_WRONLY | O_CREAT | O_EXCL)
        defer { close(out) }
        var hasher = SHA256Stream()
        try forEachChunk(from) { chunk in
            hasher.update(chunk)
            try writeAll(out, chunk, path: to)
        }
        if fsync(out) != 0 { throw ioError(to, "fsync failed") }
        return hasher.finalize()
    }

    /// A random lower-case hex string of `count` digits for unique temporary names.
    static func randomHex(_ count: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int(generator.next() % 16)] })
    }

    /// Makes `path` absolute against the current directory, without resolving links.
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }
}

import CLinux
import FileDescriptorIO
import PathEncoding
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies single files for copy-and-compare RUN steps: content by reflink where the file
/// system shares extents (btrfs, xfs), else `copy_file_range` (in the kernel, no user-space
/// buffer), else read/write; then xattrs, owner, mode and times.
public enum FileCopy {
    /// Creates `destination` (which must not exist) with the content of regular file `source`,
    /// mode 0600 until `applyMetadata` runs.
    public static func copyContent(from source: String, to destination: String, size: Int64) throws {
        let input = PathBytes.withCString(source) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard input >= 0 else { throw TreeIO.unreadable(source, LayerError.errnoText()) }
        defer { close(input) }
        let output = PathBytes.withCString(destination) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600) }
        guard output >= 0 else { throw LayerError.writeFailed(path: destination, reason: LayerError.errnoText()) }
        defer { close(output) }
        if size == 0 { return }
        if swiftdock_ficlone(output, input) == 0 { return }
        var copied: Int64 = 0
        while copied < size {
            let n = swiftdock_copy_file_range(input, output, Int(min(size - copied, 1 << 30)))
            if n > 0 { copied += Int64(n); continue }
            if n == 0 { return }  // shrank meanwhile: copy what there is
            if errno == EINTR { continue }
            if copied == 0 && [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EPERM].contains(errno) { break }
            throw LayerError.writeFailed(path: destination, reason: "copy_file_range from \(source): \(LayerError.errnoText())")
        }
        if copied >= size { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        try buffer.withUnsafeMutableBytes { buffer in
            while true {
                let n: Int
                do throws(FileDescriptorIOError) { n = try FileDescriptorIO.read(input, into: buffer) } catch { throw TreeIO.unreadable(source, error.reason) }
                if n == 0 { return }
                do throws(FileDescriptorIOError) {
                    try FileDescriptorIO.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                } catch {
                    throw LayerError.writeFailed(path: destination, reason: error.reason)
                }
            }
        }
    }

    /// Copies the extended attributes of `source` to `destination` except overlay's own; where
    /// the file system or our privileges refuse one (`security.*`, `trusted.*` unprivileged), it
    /// is left out, as a rootless build cannot carry it anyway.
    static func copyXattrs(from source: String, to destination: String) throws {
        for name in try TreeIO.xattrNames(source) where !name.hasPrefix("trusted.overlay.") && !name.hasPrefix("user.overlay.") {
            guard let value = try TreeIO.xattrValue(source, name, limit: nil) else { continue }
            _ = Xattr.set(destination, name, value)
        }
    }

    /// Gives `path` the owner, mode and times in `st` (never following a symlink). Owner first:
    /// chown clears setuid/setgid. Returns false when the owner could not be set (an
    /// unprivileged user can give files away only inside the sandbox's user namespace).
    @discardableResult
    static func applyMetadata(_ path: String, _ st: stat) throws -> Bool {
        var owned = true
        if st.st_uid != geteuid() || st.st_gid != getegid() {
            if PathBytes.withCString(path, { fchownat(AT_FDCWD, $0, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) }) != 0 {
                guard errno == EPERM || errno == EINVAL else {
                    throw LayerError.writeFailed(path: path, reason: "chown: \(LayerError.errnoText())")
                }
                owned = false
            }
        }
        if st.st_mode & S_IFMT != S_IFLNK, PathBytes.withCString(path, { chmod($0, st.st_mode & 0o7777) }) != 0 {
            throw LayerError.writeFailed(path: path, reason: "chmod: \(LayerError.errnoText())")
        }
        var times = [st.st_atim, st.st_mtim]
        if PathBytes.withCString(path, { utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 {
            throw LayerError.writeFailed(path: path, reason: "utimensat: \(LayerError.errnoText())")
        }
        return owned
    }

    /// Whether two regular files hold the same bytes (stops at the first difference).
    static func sameContent(_ a: String, _ b: String) throws -> Bool {
        let fa = PathBytes.withCString(a) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard fa >= 0 else { throw TreeIO.unreadable(a, LayerError.errnoText()) }
        defer { close(fa) }
        let fb = PathBytes.withCString(b) { open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) }
        guard fb >= 0 else { throw TreeIO.unreadable(b, LayerError.errnoText()) }
        defer { close(fb) }
        var ba = [UInt8](repeating: 0, count: 1 << 16), bb = ba
        while true {
            let na = try readFull(fa, &ba, path: a), nb = try readFull(fb, &bb, path: b)
            if na != nb || ba[0..<na] != bb[0..<nb] { return false }
            if na == 0 { return true }
        }
    }

    /// Reads until `buffer` is full or the file ends.
    private static func readFull(_ fd: Int32, _ buffer: inout [UInt8], path: String) throws -> Int {
        try buffer.withUnsafeMutableBytes { buffer in
            do throws(FileDescriptorIOError) {
                return try FileDescriptorIO.readFully(fd, into: buffer)
            } catch {
                throw TreeIO.unreadable(path, error.reason)
            }
        }
    }
}

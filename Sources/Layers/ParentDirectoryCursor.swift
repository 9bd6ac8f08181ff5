import CLinux
import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the parent directory of the last path it was given open, so a run of paths
/// in one directory reaches the kernel as `*at` calls on a bare name instead of a full path
/// that the kernel walks again, component by component, on every call. Layer items come in tar
/// order (a directory's files together), so materialising a 32k-file COPY and unlinking it
/// again opens each directory once instead of walking ~9 components per system call
/// (issue 13: path walking was a tenth of the lower directory's cost). The directory is the
/// one the path named when it was opened; a path whose parent cannot be opened goes to the
/// kernel whole, as before.
final class ParentDirectoryCursor {
    /// The open directory's path as the kernel was given it (`PathBytes`' bytes, no NUL).
    private var parent: [UInt8] = []
    private var descriptor: Int32 = -1

    init() {}

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Runs `body` with a directory descriptor and a name that together name `path`.
    ///
    /// Works on the path's C string: the name is its tail after the last `/` (already
    /// NUL-terminated), and the parent part is compared with the open directory's bytes in
    /// place, so a call in the directory already open allocates nothing — a `String` for the
    /// name and one for the parent were a measurable part of 32k links and their unlinks
    /// (issue 13). Bytes, not `==`: `é` and `e` + U+0301 are two directories on disk.
    func at<T>(_ path: String, _ body: (Int32, UnsafePointer<CChar>) -> T) -> T {
        PathBytes.withCString(path) { whole in
            guard let slash = strrchr(whole, Int32(UInt8(ascii: "/"))), slash != whole else { return body(AT_FDCWD, whole) }
            let length = whole.distance(to: UnsafePointer(slash))
            let same = parent.count == length && parent.withUnsafeBytes { memcmp($0.baseAddress!, whole, length) == 0 }
            if !same {
                if descriptor >= 0 { close(descriptor) }
                parent = Array(UnsafeRawBufferPointer(start: whole, count: length))
                descriptor = (parent + [0]).withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
                }
            }
            guard descriptor >= 0 else { return body(AT_FDCWD, whole) }
            return body(descriptor, UnsafePointer(slash) + 1)
        }
    }

    /// `lstat` of `path`; nil when it fails.
    func lstatus(of path: String) -> stat? {
        var st = stat()
        return at(path) { fstatat($0, $1, &st, AT_SYMLINK_NOFOLLOW) } == 0 ? st : nil
    }

    func status(of path: String) -> LinkJournal.Status? {
        lstatus(of: path).map(LinkJournal.Status.init)
    }

    /// The size of `path`'s extended attribute list, as `llistxattr(path, nil, 0)` gives it (0:
    /// none, -1: failed), not following a symlink. Listed by name in the open parent
    /// (`listxattrat`, Linux 6.13) where the kernel has it: `llistxattr` takes only a whole
    /// path, and walking it again for each of a COPY's 32k linked files was a tenth of the
    /// lower directory's system time (issue 13). Elsewhere (an older kernel, or a seccomp
    /// filter that refuses the call) the whole path, as before.
    func extendedAttributeListSize(of path: String) -> Int {
        guard Self.listsByName else { return Xattr.list(path, nil, 0) }
        return at(path) { swiftdock_listxattrat($0, $1, nil, 0) }
    }

    /// Whether `listxattrat` works here, tried once on `/`.
    private static let listsByName: Bool = swiftdock_listxattrat(AT_FDCWD, "/", nil, 0) >= 0 || (errno != ENOSYS && errno != EPERM)
}

/// Whether two paths' bytes are the same: `memcmp` where both are contiguous (native strings
/// are), since a generic `elementsEqual` over UTF-8 views walks index by index — slower than the
/// String it spares. Bytes, not `==`: `é` and `e` + U+0301 are two directories on disk.
func sameBytes(_ a: Substring.UTF8View, _ b: Substring.UTF8View) -> Bool {
    guard a.count == b.count else { return false }
    let compared = a.withContiguousStorageIfAvailable { x in
        b.withContiguousStorageIfAvailable { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
    return (compared ?? nil) ?? a.elementsEqual(b)
}

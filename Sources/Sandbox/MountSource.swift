import CSandbox
import FileDescriptorIO
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A path opened inside a directory tree without leaving it: every component, symlinks
/// included, is resolved relative to the tree's root (an absolute link target, or `..` above
/// the root, lands on the root), as BuildKit resolves `RUN --mount` sources. The sandbox binds
/// what this opens; the builder uses it to check a source before the step runs.
public enum MountSource {
    /// How the path is resolved: `openat2(RESOLVE_IN_ROOT)` where the kernel has it, falling back
    /// to a userspace walk (`automatic`), or one of the two alone (tests).
    public enum Method: Int32, Sendable, CaseIterable {
        case automatic = 0
        case kernel = 1
        case userspace = 2
    }

    public enum Kind: Sendable, Equatable {
        case directory, regularFile, other
    }

    /// What `path` inside `root` is; throws (with the errno text) when it cannot be opened there.
    public static func kind(of path: String, in root: String, method: Method = .automatic) throws -> Kind {
        try withDescriptor(of: path, in: root, method: method) { fd in
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw SandboxError("fstat \(path) in \(root): \(String(cString: strerror(errno)))") }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: return .directory
            case S_IFREG: return .regularFile
            default: return .other
            }
        }
    }

    /// The contents of the regular file `path` inside `root` (tests and small reads).
    public static func contents(of path: String, in root: String, method: Method = .automatic) throws -> [UInt8] {
        try withDescriptor(of: path, in: root, method: method) { fd in
            let readable = open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
            guard readable >= 0 else { throw SandboxError("open \(path) in \(root): \(String(cString: strerror(errno)))") }
            defer { close(readable) }
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = try buf.withUnsafeMutableBytes { buffer in
                    do throws(FileDescriptorIOError) {
                        return try FileDescriptorIO.read(readable, into: buffer)
                    } catch {
                        throw SandboxError("read \(path) in \(root): \(error.reason)")
                    }
                }
                if n == 0 { return out }
                out += buf[0..<n]
            }
        }
    }

    /// Calls `body` with an O_PATH descriptor of `path` inside `root`, closed afterwards.
    public static func withDescriptor<T>(of path: String, in root: String, method: Method = .automatic,
                                         _ body: (Int32) throws -> T) throws -> T {
        let fd = csb_open_in_root(root, path, method.rawValue)
        guard fd >= 0 else {
            throw SandboxError("\(path.isEmpty ? "/" : path) in \(root): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try body(fd)
    }
}

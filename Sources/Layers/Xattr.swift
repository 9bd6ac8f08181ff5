#if canImport(Glibc)
import Glibc
#endif

/// `llistxattr(2)`, `lgetxattr(2)` and `lsetxattr(2)`: `<sys/xattr.h>` is not part of Swift's Glibc module, so
/// the libc symbols are looked up once at run time.
enum Xattr {
    private typealias ListFunction = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int
    private typealias GetFunction = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?, Int) -> Int

    nonisolated(unsafe) private static let listFunction: ListFunction? = dlsym(nil, "llistxattr").map { unsafeBitCast($0, to: ListFunction.self) }
    private typealias SetFunction = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeRawPointer?, Int, Int32) -> Int32

    private static let setFunction: SetFunction? = dlsym(nil, "lsetxattr").map { unsafeBitCast($0, to: SetFunction.self) }
    nonisolated(unsafe) private static let getFunction: GetFunction? = dlsym(nil, "lgetxattr").map { unsafeBitCast($0, to: GetFunction.self) }

    /// `llistxattr(path, list, size)`; -1 with `errno = ENOTSUP` when libc lacks it.
    static func list(_ path: String, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        guard let listFunction else { errno = ENOTSUP; return -1 }
        return listFunction(path, list, size)
    }

    /// `lgetxattr(path, name, value, size)`; -1 with `errno = ENOTSUP` when libc lacks it.
    static func get(_ path: String, _ name: String, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        guard let getFunction else { errno = ENOTSUP; return -1 }
        return getFunction(path, name, value, size)
    }

    /// `lsetxattr(path, name, value, size, 0)`; -1 with `errno = ENOTSUP` when libc lacks it.
    static func set(_ path: String, _ name: String, _ value: [UInt8]) -> Int32 {
        guard let setFunction else { errno = ENOTSUP; return -1 }
        return value.withUnsafeBytes { setFunction(path, name, $0.baseAddress, $0.count, 0) }
    }
}

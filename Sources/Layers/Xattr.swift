import CLinux
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// `llistxattr(2)`, `lgetxattr(2)` and `lsetxattr(2)` (through `CLinux`: `<sys/xattr.h>` is not
/// part of Swift's Glibc module).
enum Xattr {
    static func list(_ path: String, _ list: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
        PathBytes.withCString(path) { swiftdock_llistxattr($0, list, size) }
    }

    static func get(_ path: String, _ name: String, _ value: UnsafeMutableRawPointer?, _ size: Int) -> Int {
        PathBytes.withCString(path) { swiftdock_lgetxattr($0, name, value, size) }
    }

    static func set(_ path: String, _ name: String, _ value: [UInt8]) -> Int32 {
        value.withUnsafeBytes { v in PathBytes.withCString(path) { swiftdock_lsetxattr($0, name, v.baseAddress, v.count) } }
    }
}

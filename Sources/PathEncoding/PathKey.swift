#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file path as a dictionary key, set member or sort key: equal, hashed and ordered by the
/// bytes it stands for (`PathBytes`), never by Unicode canonical equivalence.
///
/// Why: Swift's `String` `==`, hashing and `<` treat `é` (U+00E9) and `é` (`e` + U+0301) as one
/// string, but the kernel, tar and BuildKit (Go strings are bytes) see two files. A context,
/// base layer or RUN diff may hold both, so every collection keyed by a path uses this type,
/// and path tests (`PathBytes.same`, `hasPrefix`, `components`) look at bytes too.
public struct PathKey: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path, in `PathBytes`' encoding.
    public let path: String

    public init(_ path: String) { self.path = path }

    public init(stringLiteral path: String) { self.path = path }

    public static func == (a: PathKey, b: PathKey) -> Bool { PathBytes.same(a.path, b.path) }

    public func hash(into hasher: inout Hasher) {
        // The same bytes whichever way the string is stored, so equal keys hash alike.
        if let done: Void = path.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) {
            return done
        }
        Array(path.utf8).withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Byte order of the names' real bytes: how Go (so BuildKit) sorts paths.
    public static func < (a: PathKey, b: PathKey) -> Bool { PathBytes.less(a.path, b.path) }

    public var description: String { path }
}

extension PathBytes {
    /// Whether `a` and `b` stand for the same bytes (not merely canonically equivalent text).
    public static func same(_ a: String, _ b: String) -> Bool {
        // Native strings compare with one memcmp: the generic `elementsEqual` walked the views
        // byte by byte, a twentieth of a no-change rebuild's path dictionaries (issue 13).
        let compared = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
        if let compared, let result = compared { return result }
        return a.utf8.elementsEqual(b.utf8)
    }

    /// Byte order of the bytes `a` and `b` stand for.
    public static func less(_ a: String, _ b: String) -> Bool {
        if hasEscapes(a) || hasEscapes(b) { return bytes(a).lexicographicallyPrecedes(bytes(b)) }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Whether the bytes of `name` start with those of `prefix` (`String.hasPrefix` compares
    /// characters: `e` is no prefix of `e` + U+0301, and `/` + U+0301 is one character).
    public static func hasPrefix(_ name: String, _ prefix: String) -> Bool {
        // One memcmp for native strings: the generic `starts(with:)` walked both views byte by
        // byte, a fiftieth of a no-change rebuild (the file index asks it for every file).
        let compared = name.utf8.withContiguousStorageIfAvailable { x in
            prefix.utf8.withContiguousStorageIfAvailable { y in
                x.count >= y.count && (y.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, y.count) == 0)
            }
        }
        if let compared, let result = compared { return result }
        return name.utf8.starts(with: prefix.utf8)
    }

    /// The `/`-separated components of `path`, empty ones dropped, split at `/` bytes (a `/`
    /// followed by a combining mark is one `Character`, so `split(separator: "/")` misses it).
    public static func components(_ path: String) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/")).map { String($0)! }
    }

    /// `path` split at its last `/` byte into (directory, name); ("", path) without one.
    public static func splitLast(_ path: String) -> (String, String) {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", path) }
        return (String(path.utf8[..<slash])!, String(path.utf8[path.utf8.index(after: slash)...])!)
    }
}

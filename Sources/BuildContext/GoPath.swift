import PathEncoding
/// Small helpers reproducing Go's `path/filepath` and `strings` behaviour on `/`-separated paths.
/// Everything here works on bytes / Unicode scalars, never on grapheme clusters, so that
/// comparisons are exact (Swift's `String ==` uses canonical equivalence).
enum GoPath {
    /// Go's `filepath.Clean` (Unix): collapse `//`, drop `.`, resolve `..` lexically,
    /// drop a trailing `/`; `""` → `"."`; `..` above a rooted path is dropped.
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.utf8.first == UInt8(ascii: "/")
        var out: [Substring.UTF8View] = []
        for comp in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if comp.elementsEqual(".".utf8) { continue }
            if comp.elementsEqual("..".utf8) {
                if let last = out.last, !last.elementsEqual("..".utf8) {
                    out.removeLast()
                } else if !rooted {
                    out.append(comp)
                }
                continue
            }
            out.append(comp)
        }
        var bytes: [UInt8] = rooted ? [UInt8(ascii: "/")] : []
        for (i, comp) in out.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: "/")) }
            bytes.append(contentsOf: comp)
        }
        if bytes.isEmpty { return "." }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Go's `strings.TrimSpace` (Unicode `White_Space`).
    static func trimSpace(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// Byte-wise equality.
    static func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

    /// Byte-wise prefix test.
    static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        s.utf8.starts(with: prefix.utf8)
    }

    /// Byte-wise suffix test.
    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        let a = s.utf8, b = suffix.utf8
        guard b.count <= a.count else { return false }
        return a.reversed().starts(with: b.reversed())
    }

    /// Byte order, as Go sorts directory entries.
    static func byteLess(_ a: String, _ b: String) -> Bool {
        if PathBytes.hasEscapes(a) || PathBytes.hasEscapes(b) {
            return PathBytes.bytes(a).lexicographicallyPrecedes(PathBytes.bytes(b))  // the names' real bytes
        }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Joins a relative directory (`""` for the top) and a name.
    static func join(_ dir: String, _ name: String) -> String {
        dir.isEmpty ? name : joinNonEmpty(dir, name)
    }

    /// `dir + "/" + name` made with one allocation (`+` makes `dir + "/"` first): the walk
    /// joins paths for every file of the context.
    static func joinNonEmpty(_ dir: String, _ name: String) -> String {
        var joined = ""
        joined.reserveCapacity(dir.utf8.count + 1 + name.utf8.count)
        joined += dir
        joined += "/"
        joined += name
        return joined
    }

    /// `/`-separated components of a relative path (no empty components).
    static func components(_ path: String) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// fsutil's `containsWildcards`: `* ? [` not preceded by a `\` escape.
    static func containsWildcards(_ s: String) -> Bool {
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "\\") {
                _ = it.next()
            } else if c == UInt8(ascii: "*") || c == UInt8(ascii: "?") || c == UInt8(ascii: "[") {
                return true
            }
        }
        return false
    }
}

import Layers
import PathEncoding

/// What the stage's file system looks like so far, as far as COPY, WORKDIR and `--chown`
/// need to know: every path with its type, mode, owner and link target, and which layer of
/// the stage holds it. Built from the base layers' header index (never their content) and
/// from the entries this build adds, applying OCI whiteouts — the same view docker has of the
/// merged lower file systems.
struct FilesystemView {
    /// One path as the topmost layer holding it says, and that layer's index in the stage.
    struct Entry {
        var header: LayerHeaders.Header
        var layer: Int
        var kind: LayerHeaders.Header.Kind { header.kind }
    }

    /// Keyed by bytes: `é` and `e` + U+0301 are two paths, as in the kernel (`PathKey`).
    private(set) var entries: [PathKey: Entry] = [:]

    /// Applies the headers of the stage's layer `layer` on top, honouring `.wh.NAME` and
    /// `.wh..wh..opq`, and a non-directory replacing a directory (its subtree goes).
    mutating func apply(_ headers: [LayerHeaders.Header], layer: Int) {
        apply(headers, count: headers.count, layer: layer)
    }

    /// `apply(_:layer:)` over any sequence of `count` headers (a COPY's items are applied
    /// without first making an array of 30k headers).
    private mutating func apply<Headers: Sequence>(_ headers: Headers, count: Int, layer: Int)
        where Headers.Element == LayerHeaders.Header {
        // Whiteouts and opaque markers hide lower content only. They are collected while the
        // layer's own entries go in, and applied in one pass over the view afterwards (a base
        // layer may hold thousands of them); that pass keeps this layer's entries, so the
        // result is the same as hiding first. Names are looked at as bytes, without making
        // Strings: this runs for every entry of a 30k-entry COPY taken from the cache.
        var gone = Set<PathKey>()      // paths whose lower entry and subtree go
        var cleared = Set<PathKey>()   // directories whose lower children go
        entries.reserveCapacity(entries.count + count)
        for h in headers where !h.path.isEmpty {
            if Self.baseIsWhiteout(h.path) {
                let (dir, base) = FilesystemView.split(h.path)
                if PathBytes.same(base, ".wh..wh..opq") {
                    cleared.insert(PathKey(dir))
                } else {
                    gone.insert(PathKey(FilesystemView.join(dir, String(base.utf8.dropFirst(4))!)))
                }
                continue
            }
            let previous = entries.updateValue(Entry(header: h, layer: layer), forKey: PathKey(h.path))
            if h.kind != .directory, let previous, previous.kind == .directory {
                gone.insert(PathKey(h.path))  // a non-directory replacing a directory takes its subtree
            }
        }
        if !gone.isEmpty || !cleared.isEmpty {
            entries = entries.filter { path, entry in
                entry.layer >= layer || !FilesystemView.isHidden(path.path, gone: gone, cleared: cleared)
            }
        }
    }

    /// Whether the last component of `path` starts with `.wh.` (compared as bytes).
    private static func baseIsWhiteout(_ path: String) -> Bool {
        // Native strings through their buffer (this runs for every entry applied).
        let found = path.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            let start = bytes.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0
            return bytes.count - start >= 4 && bytes[start] == UInt8(ascii: ".") && bytes[start + 1] == UInt8(ascii: "w")
                && bytes[start + 2] == UInt8(ascii: "h") && bytes[start + 3] == UInt8(ascii: ".")
        }
        if let found { return found }
        let utf8 = path.utf8
        let start = utf8.lastIndex(of: UInt8(ascii: "/")).map { utf8.index(after: $0) } ?? utf8.startIndex
        return utf8[start...].starts(with: ".wh.".utf8)
    }

    /// Whether `path` is one of `gone`, beneath one of them, or beneath one of `cleared`.
    private static func isHidden(_ path: String, gone: Set<PathKey>, cleared: Set<PathKey>) -> Bool {
        if gone.contains(PathKey(path)) || cleared.contains(PathKey("")) { return true }
        let utf8 = path.utf8
        var end = utf8.endIndex
        while let slash = utf8[..<end].lastIndex(of: UInt8(ascii: "/")) {
            let ancestor = PathKey(String(utf8[..<slash])!)
            if gone.contains(ancestor) || cleared.contains(ancestor) { return true }
            end = slash
        }
        return false
    }

    /// Records the entries of the layer `layer` this build adds (whiteouts from RUN diffs included).
    mutating func apply(_ items: [LayerItem], layer: Int) {
        apply(items.lazy.compactMap { item -> LayerHeaders.Header? in
            guard case .entry(let e) = item else { return nil }
            let kind: LayerHeaders.Header.Kind
            var link: String?
            switch e.kind {
            case .directory: kind = .directory
            case .regularFile: kind = .file
            case .symlink(let target): kind = .symlink; link = target
            case .hardlink(let target): kind = .hardlink; link = target
            }
            return LayerHeaders.Header(path: e.path, kind: kind, mode: e.mode, uid: e.uid, gid: e.gid,
                                       mtimeSeconds: e.mtimeSeconds, linkTarget: link)
        }, count: items.count, layer: layer)
    }

    func entry(_ path: String) -> Entry? { entries[PathKey(path)] }

    func isDirectory(_ path: String) -> Bool {
        path.isEmpty || entries[PathKey(path)]?.kind == .directory
    }

    func exists(_ path: String) -> Bool {
        path.isEmpty || entries[PathKey(path)] != nil
    }

    /// `path` (a clean layer path) with every symlink on it followed inside this root, as the
    /// kernel would inside the container: absolute targets start again at the root, `..`
    /// stops there. With `followLast` false the final component is kept as it is. A missing
    /// component ends the walk (the rest is appended as written), so a dangling symlink
    /// resolves to the path it names — where BuildKit creates the destination. Nil after
    /// 255 links (a loop). BuildKit's rule (`fs.RootPath`); buildah refuses some of these.
    func resolve(_ path: String, followLast: Bool = true) -> String? {
        var pending = Array(PathBytes.components(path).reversed())
        var current: [String] = []
        var hops = 0
        while let component = pending.popLast() {
            if component == "." || component.isEmpty { continue }
            if component == ".." { _ = current.popLast(); continue }
            let candidate = (current + [component]).joined(separator: "/")
            guard let e = entries[PathKey(candidate)], e.kind == .symlink, followLast || !pending.isEmpty,
                  let target = e.header.linkTarget else {
                current.append(component)
                continue
            }
            hops += 1
            if hops > 255 { return nil }
            if target.hasPrefix("/") { current = [] }
            pending.append(contentsOf: PathBytes.components(target).reversed())
        }
        return current.joined(separator: "/")
    }

    static func split(_ path: String) -> (String, String) { PathBytes.splitLast(path) }

    static func join(_ dir: String, _ name: String) -> String {
        dir.isEmpty ? name : dir + "/" + name
    }
}

/// Layer paths: `/a/./b/` → `a/b`; `..` cannot climb above the root. Split at `/` bytes.
func cleanLayerPath(_ path: String) -> String {
    var parts: [String] = []
    for component in PathBytes.components(path) {
        if component == "." { continue }
        if component == ".." { _ = parts.popLast(); continue }
        parts.append(component)
    }
    return parts.joined(separator: "/")
}

/// `a/b/c` → [`a`, `a/b`]
func ancestors(of path: String) -> [String] {
    var result: [String] = []
    var current = ""
    for component in PathBytes.components(path).dropLast() {
        current = current.isEmpty ? String(component) : current + "/" + component
        result.append(current)
    }
    return result
}

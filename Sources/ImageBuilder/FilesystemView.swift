import Layers

/// What the stage's filesystem looks like so far, as far as COPY needs to know: which paths
/// exist and whether they are directories. Built from layer headers (never content) and
/// from the entries this build adds, applying OCI whiteouts.
struct FilesystemView {
    private(set) var entries: [String: LayerHeaders.Header] = [:]
    /// False when some lower layer was not read (a base layer still in its registry): then a
    /// path this view does not know may exist, and the builder must not create or replace it.
    private(set) var isComplete = true

    mutating func markIncomplete() {
        isComplete = false
    }

    /// Applies one layer's headers on top, honouring `.wh.NAME` and `.wh..wh..opq`.
    mutating func apply(_ headers: [LayerHeaders.Header]) {
        // Opaque markers and whiteouts hide lower content only; apply them first.
        for h in headers {
            let (dir, base) = FilesystemView.split(h.path)
            if base == ".wh..wh..opq" {
                removeDescendants(of: dir)
            } else if base.hasPrefix(".wh.") {
                let target = FilesystemView.join(dir, String(base.dropFirst(4)))
                entries[target] = nil
                removeDescendants(of: target)
            }
        }
        for h in headers where !FilesystemView.split(h.path).1.hasPrefix(".wh.") && !h.path.isEmpty {
            entries[h.path] = h
        }
    }

    /// Records entries added by this build (whiteouts from RUN diffs included).
    mutating func apply(_ items: [LayerItem]) {
        apply(items.compactMap { item -> LayerHeaders.Header? in
            guard case .entry(let e) = item else { return nil }
            let kind: LayerHeaders.Header.Kind
            switch e.kind {
            case .directory: kind = .directory
            case .regularFile: kind = .file
            case .symlink: kind = .symlink
            case .hardlink: kind = .hardlink
            }
            return LayerHeaders.Header(path: e.path, kind: kind, mode: e.mode, uid: e.uid, gid: e.gid, mtimeSeconds: e.mtimeSeconds)
        })
    }

    func isDirectory(_ path: String) -> Bool {
        path.isEmpty || entries[path]?.kind == .directory
    }

    /// True when the path exists — or, in an incomplete view, might exist.
    func exists(_ path: String) -> Bool {
        path.isEmpty || entries[path] != nil || !isComplete
    }

    private mutating func removeDescendants(of dir: String) {
        let prefix = dir.isEmpty ? "" : dir + "/"
        entries = entries.filter { !$0.key.hasPrefix(prefix) || $0.key == dir }
    }

    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.isEmpty ? name : dir + "/" + name
    }
}

/// Layer paths: `/a/./b/` → `a/b`; `..` cannot climb above the root.
func cleanLayerPath(_ path: String) -> String {
    var parts: [Substring] = []
    for component in path.split(separator: "/") {
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
    let components = path.split(separator: "/")
    for component in components.dropLast() {
        current = current.isEmpty ? String(component) : current + "/" + component
        result.append(current)
    }
    return result
}

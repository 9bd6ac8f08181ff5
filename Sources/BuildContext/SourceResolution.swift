#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ContextDirectory {
    /// Resolves one COPY/ADD source, as written (already variable-expanded), to the entries it names.
    ///
    /// - The path is relative to the root; a leading `/` also means the root, and `.` / `/` name the
    ///   root itself (`relativePath == "."`). The path is cleaned; leaving the root lexically or via a
    ///   symlink throws `ContextError.outsideContext`.
    /// - Wildcards (`*`, `?`, `[...]`, Go `filepath.Match` per path component; dotfiles match too)
    ///   are expanded against the tree; results are sorted in byte order, one entry per match.
    /// - Symlinks on the way, and a symlink that is itself the source (or a wildcard match), are
    ///   followed within the root (BuildKit's FollowLinks): the entry keeps the name as written in
    ///   `relativePath` while `absolutePath`, `type` and the stat fields describe the target.
    ///   Symlinks inside a directory are not followed by `walk`.
    /// - Paths removed by `.dockerignore` never match. Nothing left → `ContextError.notFound`.
    public func resolveSources(_ source: String) throws -> [ContextEntry] {
        if GoPath.trimSpace(source).isEmpty { throw ContextError.notFound(source) }
        let rel = try normalizedRelative(source)
        if rel.isEmpty {
            return [try entry(display: ".", real: "", source: source)]
        }
        let comps = GoPath.components(rel)
        guard let firstWild = comps.firstIndex(where: GoPath.containsWildcards) else {
            return [try resolveNamed(rel, display: rel, source: source)]
        }

        // The literal prefix is resolved (following symlinks) and must be a present directory.
        var candidates: [(display: String, real: String)]
        if firstWild == 0 {
            candidates = [("", "")]
        } else {
            let prefix = comps[..<firstWild].joined(separator: "/")
            let e = try resolveNamed(prefix, display: prefix, source: source)
            guard e.type == .directory, let real = relativeToRoot(e.absolutePath) else {
                throw ContextError.notFound(source)
            }
            candidates = [(prefix, real)]
        }
        let wildParts = Array(comps[firstWild...])
        for (k, part) in wildParts.enumerated() {
            let isLast = k == wildParts.count - 1
            var next: [(display: String, real: String)] = []
            for candidate in candidates {
                let names: [String]
                do {
                    names = try FileSystem.listDirectory(absolute(candidate.real))
                } catch let e as FileSystem.SystemError {
                    throw ContextError.unreadable(candidate.display.isEmpty ? "." : candidate.display, reason: e.text)
                }
                for name in names where try matchGlob(part, name) {
                    let real = GoPath.join(candidate.real, name)
                    guard let e = try? FileSystem.entry(relativePath: real, absolutePath: absolute(real)),
                          isPresent(real, isDirectory: e.type == .directory) else { continue }
                    if isLast || e.type == .directory {
                        next.append((GoPath.join(candidate.display, name), real))
                    }
                }
            }
            candidates = next
        }
        if candidates.isEmpty { throw ContextError.notFound(source) }
        return try candidates.map { try resolveNamed($0.real, display: $0.display, source: source) }
    }

    /// Resolves a literal root-relative path, following symlinks within the root, and applies the
    /// ignore rules to every symlink passed through and to the final path.
    private func resolveNamed(_ rel: String, display: String, source: String) throws -> ContextEntry {
        guard let (real, links) = try resolveInRoot(rel, source: source) else {
            throw ContextError.notFound(source)
        }
        for link in links where !isPresent(link, isDirectory: false) {
            throw ContextError.notFound(source)
        }
        let e = try entry(display: display, real: real, source: source)
        guard isPresent(real, isDirectory: e.type == .directory) else { throw ContextError.notFound(source) }
        return e
    }

    private func entry(display: String, real: String, source: String) throws -> ContextEntry {
        do {
            return try FileSystem.entry(relativePath: display, absolutePath: absolute(real))
        } catch let e as FileSystem.SystemError {
            if e.code == ENOENT || e.code == ENOTDIR { throw ContextError.notFound(source) }
            throw ContextError.unreadable(display, reason: e.text)
        }
    }

    /// Follows every symlink in `rel` without leaving the root. Returns the resolved root-relative
    /// path and the root-relative locations of the symlinks passed through; nil when a component
    /// is missing. Relative targets resolve against the link's directory; absolute targets must
    /// point inside the root.
    func resolveInRoot(_ rel: String, source: String) throws -> (String, [String])? {
        var pending = Array(GoPath.components(rel).reversed())
        var current: [String] = []
        var links: [String] = []
        var hops = 0
        while let comp = pending.popLast() {
            if comp == "." { continue }
            if comp == ".." {
                if current.isEmpty && isImageRoot { continue }
                if current.isEmpty { throw ContextError.outsideContext(source) }
                current.removeLast()
                continue
            }
            let candidate = (current + [comp]).joined(separator: "/")
            let st: stat
            do {
                st = try FileSystem.status(absolute(candidate), follow: false)
            } catch let e as FileSystem.SystemError {
                if e.code == ENOENT || e.code == ENOTDIR { return nil }
                throw ContextError.unreadable(candidate, reason: e.text)
            }
            guard FileSystem.isSymlink(st) else {
                current.append(comp)
                continue
            }
            hops += 1
            if hops > 255 { throw ContextError.unreadable(source, reason: "too many levels of symbolic links") }
            links.append(candidate)
            let target: String
            do {
                target = try FileSystem.readLink(absolute(candidate))
            } catch let e as FileSystem.SystemError {
                throw ContextError.unreadable(candidate, reason: e.text)
            }
            if target.utf8.first == UInt8(ascii: "/") && isImageRoot {
                current = []
                pending.append(contentsOf: GoPath.components(target).reversed())
            } else if target.utf8.first == UInt8(ascii: "/") {
                guard let inside = relativeToRoot(GoPath.clean(target)) else {
                    throw ContextError.outsideContext(source)
                }
                current = []
                pending.append(contentsOf: GoPath.components(inside).reversed())
            } else {
                pending.append(contentsOf: GoPath.components(target).reversed())
            }
        }
        return (current.joined(separator: "/"), links)
    }
}

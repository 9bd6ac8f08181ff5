#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A build-context directory with optional ignore rules.
///
/// Paths handed in and out are `/`-separated and relative to `root` (no `./`); the root itself is
/// `.`. Ignore rules are applied the way BuildKit's context transfer applies them (fsutil's filter),
/// so an excluded path is simply absent, except that an excluded directory still exists when an
/// exception re-includes something inside it.
public struct ContextDirectory: Sendable {
    /// The canonical absolute path of the context root.
    public let root: String
    /// The ignore rules (nil when there are none).
    public let matcher: PatternMatcher?
    /// True for an image's or stage's root file system (`COPY --from`): symlinks there resolve
    /// as inside a container — an absolute target from this root, `..` stopping at it — where
    /// in the build context they must stay inside it or are refused. BuildKit's rule (its
    /// source paths resolve in the source's own root).
    public var isImageRoot = false

    /// Opens `root`, which must exist and be a directory (symlinks to directories are resolved).
    /// Throws `ContextError.missingContext` or `.notADirectory`.
    public init(root: String, matcher: PatternMatcher? = nil) throws {
        let st: stat
        do {
            st = try FileSystem.status(root, follow: true)
        } catch let e as FileSystem.SystemError {
            if e.code == ENOENT || e.code == ENOTDIR { throw ContextError.missingContext(root) }
            throw ContextError.unreadable(root, reason: e.text)
        }
        guard FileSystem.isDirectory(st) else { throw ContextError.notADirectory(root) }
        guard let real = FileSystem.realPath(root) else { throw ContextError.missingContext(root) }
        self.root = real
        self.matcher = (matcher?.isEmpty ?? true) ? nil : matcher
    }

    /// Opens a context the way `docker build -f dockerfilePath root` does: the ignore file is
    /// chosen by `IgnoreFile.locate` (`<Dockerfile>.dockerignore` beats `<root>/.dockerignore`).
    /// Ignore-file problems surface as `ContextError.badIgnoreFile(path, line, reason)`.
    public static func buildContext(root: String, dockerfilePath: String) throws -> ContextDirectory {
        _ = try ContextDirectory(root: root)
        let matcher = try IgnoreFile.locate(contextDirectory: root, dockerfilePath: dockerfilePath)
            .map { try IgnoreFile.load(path: $0) }
        return try ContextDirectory(root: root, matcher: matcher)
    }

    /// `lstat` of a path inside the context (no ignore rules applied, final symlink not followed).
    /// Throws `.outsideContext` for a path escaping the root and `.notFound` when it is missing.
    public func stat(_ relativePath: String) throws -> ContextEntry {
        let rel = try normalizedRelative(relativePath)
        do {
            return try FileSystem.entry(relativePath: rel.isEmpty ? "." : rel, absolutePath: absolute(rel))
        } catch let e as FileSystem.SystemError {
            if e.code == ENOENT || e.code == ENOTDIR { throw ContextError.notFound(relativePath) }
            throw ContextError.unreadable(relativePath, reason: e.text)
        }
    }

    // MARK: - Internals shared by source resolution and the walker

    /// Cleans a user path into a root-relative one (`""` for the root); a leading `/` means the root.
    func normalizedRelative(_ path: String) throws -> String {
        var p = GoPath.clean(path)
        if p.utf8.first == UInt8(ascii: "/") {
            p = p == "/" ? "." : String(p.unicodeScalars.dropFirst())
        }
        if p == ".." || GoPath.hasPrefix(p, "../") { throw ContextError.outsideContext(path) }
        return p == "." ? "" : p
    }

    /// Absolute host path of a root-relative path.
    func absolute(_ rel: String) -> String {
        if rel.isEmpty { return root }
        return root == "/" ? "/" + rel : root + "/" + rel
    }

    /// Root-relative path of an absolute path under the root (`""` for the root), nil if outside.
    func relativeToRoot(_ abs: String) -> String? {
        if GoPath.same(abs, root) { return "" }
        let prefix = root == "/" ? "/" : root + "/"
        guard GoPath.hasPrefix(abs, prefix) else { return nil }
        return String(decoding: abs.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }

    /// fsutil's view of one root-relative path: walk the rules from the top down.
    /// `blocked`: a proper ancestor is an excluded, pruned directory (so the walk never gets here).
    func ignoreState(_ rel: String) -> (excluded: Bool, blocked: Bool, info: PatternMatcher.MatchInfo?) {
        guard let matcher, !rel.isEmpty else { return (false, false, nil) }
        let parts = GoPath.components(rel)
        var info: PatternMatcher.MatchInfo? = nil
        var prefix = ""
        var excluded = false
        for (i, part) in parts.enumerated() {
            prefix = GoPath.join(prefix, part)
            let r = matcher.match(prefix, parent: info)
            info = r.info
            excluded = r.excluded
            if excluded && i < parts.count - 1 && matcher.canPrune(excludedDirectory: prefix) {
                return (true, true, info)
            }
        }
        return (excluded, false, info)
    }

    /// Whether the path survives the ignore rules as BuildKit's filtered context would show it.
    func isPresent(_ rel: String, isDirectory: Bool) -> Bool {
        guard let matcher, !rel.isEmpty else { return true }
        let state = ignoreState(rel)
        if state.blocked { return false }
        if !state.excluded { return true }
        guard isDirectory, !matcher.canPrune(excludedDirectory: rel) else { return false }
        return hasIncludedDescendant(rel, info: state.info)
    }

    /// True when some path below the excluded directory `rel` is re-included by an exception.
    private func hasIncludedDescendant(_ rel: String, info: PatternMatcher.MatchInfo?) -> Bool {
        guard let matcher, let names = try? FileSystem.listDirectory(absolute(rel)) else { return false }
        for name in names {
            let child = GoPath.join(rel, name)
            let r = matcher.match(child, parent: info)
            if !r.excluded { return true }
            guard let entry = try? FileSystem.entry(relativePath: child, absolutePath: absolute(child)),
                  entry.type == .directory, !matcher.canPrune(excludedDirectory: child) else { continue }
            if hasIncludedDescendant(child, info: r.info) { return true }
        }
        return false
    }
}

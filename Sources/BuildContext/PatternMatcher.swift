/// `.dockerignore` / `COPY --exclude` matching with moby/patternmatcher semantics.
///
/// Patterns are trimmed and `filepath.Clean`ed; a leading `!` makes an exception (re-include).
/// `*` and `?` never cross `/`; `**` spans any number of segments (including none); a leading `**`
/// is a suffix match (`**/foo` also matches `foo`); a trailing `/**` is a prefix match.
/// A path is excluded when a pattern matches it **or any of its ancestors**, evaluated in order
/// with the last matching pattern winning. The root (`.`) is never excluded.
public struct PatternMatcher: Sendable {
    let patterns: [IgnorePattern]
    /// True when some pattern is a `!` exception.
    public let hasExceptions: Bool
    /// fsutil's `onlyPrefixExcludeExceptions`: every exception is literal apart from a trailing
    /// `/*` or `/**`, so whether one can reach inside a directory is a plain prefix test.
    let onlyLiteralExceptions: Bool

    /// Compiles `patterns` (as produced by `IgnoreFile.parse`, or raw `--exclude` values).
    /// Blank patterns are skipped. Throws `ContextError.badPattern` for a lone `!` or a pattern
    /// that Go's `filepath.Match` rejects (`[`, `[]a]`, `[-]`, `[x-]`, `\`, `a[`, ...).
    public init(patterns: [String]) throws {
        var compiled: [IgnorePattern] = []
        for raw in patterns {
            if let p = try IgnorePattern(raw: raw) { compiled.append(p) }
        }
        self.patterns = compiled
        self.hasExceptions = compiled.contains { $0.exclusion }
        let special: Set<UInt8> = Set("*[]?^\\".utf8)
        self.onlyLiteralExceptions = !compiled.contains { p in
            p.exclusion && p.withoutTrailingGlob.utf8.contains(where: special.contains)
        }
    }

    /// True when there are no patterns at all.
    public var isEmpty: Bool { patterns.isEmpty }

    /// The cleaned patterns, exceptions prefixed with `!`.
    public var patternStrings: [String] { patterns.map { ($0.exclusion ? "!" : "") + $0.text } }

    /// patternmatcher's `MatchesOrParentMatches` on a `/`-separated path relative to the root.
    /// The path is cleaned first; `.` (the root itself) is never excluded.
    public func isExcluded(_ relativePath: String) -> Bool {
        let file = GoPath.clean(relativePath)
        if file == "." { return false }
        let parts = GoPath.components(file)
        var ancestors: [String] = []
        var prefix = ""
        for part in parts.dropLast() {
            prefix = GoPath.join(prefix, part)
            ancestors.append(prefix)
        }
        var matched = false
        for pattern in patterns where pattern.exclusion == matched {
            var match = pattern.matches(file)
            if !match {
                match = ancestors.contains { pattern.matches($0) }
            }
            if match { matched = !pattern.exclusion }
        }
        return matched
    }

    /// Per-pattern "matched this path or an ancestor" flags, as fsutil threads them down a walk.
    typealias MatchInfo = [Bool]

    /// patternmatcher's `MatchesUsingParentResults`, the variant fsutil's walker (and so BuildKit's
    /// context transfer) uses. `parent` is nil at the top of a walk, where ancestors are checked
    /// directly as `MatchesOrParentMatches` does.
    func match(_ path: String, parent: MatchInfo?) -> (excluded: Bool, info: MatchInfo) {
        var info = MatchInfo(repeating: false, count: patterns.count)
        var matched = false
        for (i, pattern) in patterns.enumerated() {
            var match = parent?[i] ?? false
            if !match {
                if pattern.exclusion != matched { continue }
                match = pattern.matches(path)
                if !match && parent == nil {
                    var prefix = ""
                    for part in GoPath.components(path).dropLast() {
                        prefix = GoPath.join(prefix, part)
                        if pattern.matches(prefix) {
                            match = true
                            break
                        }
                    }
                }
            }
            info[i] = match
            if match { matched = !pattern.exclusion }
        }
        return (matched, info)
    }

    /// fsutil's pruning rule for an excluded directory: with no exceptions it is skipped; with only
    /// literal exceptions it is skipped unless an exception lies below it; with any wildcard
    /// exception nothing is skipped (an exception might match anywhere).
    public func canPrune(excludedDirectory dir: String) -> Bool {
        if !hasExceptions { return true }
        if !onlyLiteralExceptions { return false }
        let dirSlash = dir + "/"
        for pattern in patterns where pattern.exclusion {
            if GoPath.hasPrefix(pattern.withoutTrailingGlob + "/", dirSlash) { return false }
        }
        return true
    }
}

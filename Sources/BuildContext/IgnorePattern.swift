/// One compiled moby/patternmatcher pattern.
///
/// Compilation follows patternmatcher exactly: the cleaned pattern is classified as an exact,
/// prefix (`dir/**`), suffix (`**/name`) or regexp match, and in the regexp case the same Go
/// regexp string is built (`*`→`[^/]*`, `?`→`[^/]`, `**`→`(.*/)?` or `.*`, `.+()|{}$` escaped,
/// `\x` kept as an escape, `[`/`]` passed through) and interpreted with Go's rules.
struct IgnorePattern: Sendable {
    enum Kind: Sendable { case exact, prefix, suffix, regexp }

    /// The cleaned pattern without its `!`.
    let text: String
    /// True for `!` exceptions (re-includes).
    let exclusion: Bool
    let kind: Kind
    private let scalars: [UInt32]
    private let regex: MiniRegex?

    /// `raw` is one patternmatcher input: it is trimmed and cleaned here, like `patternmatcher.New`.
    /// Returns nil for a blank pattern.
    init?(raw: String) throws {
        var p = GoPath.trimSpace(raw)
        if p.isEmpty { return nil }
        p = GoPath.clean(p)
        var exclusion = false
        if p.utf8.first == UInt8(ascii: "!") {
            if p.utf8.count == 1 {
                throw ContextError.badPattern(raw, reason: "illegal exclusion pattern: \"!\"")
            }
            exclusion = true
            p = String(p.unicodeScalars.dropFirst())
        }
        guard GoGlob.isValid(p) else {
            throw ContextError.badPattern(raw, reason: "syntax error in pattern")
        }
        self.text = p
        self.exclusion = exclusion
        self.scalars = p.unicodeScalars.map(\.value)
        let (kind, regexString) = IgnorePattern.translate(scalars)
        self.kind = kind
        if kind == .regexp {
            do {
                self.regex = try MiniRegex(regexString)
            } catch let error as MiniRegex.Unsupported {
                throw ContextError.badPattern(raw, reason: error.reason)
            }
        } else {
            self.regex = nil
        }
    }

    /// patternmatcher's `compile`: the match kind and, for `.regexp`, the Go regexp source.
    static func translate(_ s: [UInt32]) -> (Kind, String) {
        func c(_ x: Unicode.Scalar) -> UInt32 { x.value }
        var re = "^"
        var kind = Kind.exact
        var k = 0
        var step = 0
        func append(_ v: UInt32) { re.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}") }
        while k < s.count {
            let ch = s[k]
            k += 1
            if ch == c("*") {
                if k < s.count && s[k] == c("*") {
                    k += 1
                    if k < s.count && s[k] == c("/") { k += 1 }
                    if k == s.count {
                        if kind == .exact {
                            kind = .prefix
                        } else {
                            re += ".*"
                            kind = .regexp
                        }
                    } else {
                        re += "(.*/)?"
                        kind = .regexp
                    }
                    if step == 0 { kind = .suffix }
                } else {
                    re += "[^/]*"
                    kind = .regexp
                }
            } else if ch == c("?") {
                re += "[^/]"
                kind = .regexp
            } else if ".+()|{}$".unicodeScalars.contains(where: { $0.value == ch }) {
                re += "\\"
                append(ch)
            } else if ch == c("\\") {
                if k < s.count {
                    re += "\\"
                    append(s[k])
                    k += 1
                    kind = .regexp
                } else {
                    re += "\\"
                }
            } else if ch == c("[") || ch == c("]") {
                append(ch)
                kind = .regexp
            } else {
                append(ch)
            }
            step += 1
        }
        if kind == .regexp { re += "$" }
        return (kind, re)
    }

    /// Whether this pattern alone matches `path` (a cleaned, `/`-separated relative path).
    func matches(_ path: String) -> Bool {
        switch kind {
        case .exact:
            return GoPath.same(path, text)
        case .prefix:
            return GoPath.hasPrefix(path, String(text.utf8.dropLast(2))!)
        case .suffix:
            let suffix = String(text.utf8.dropFirst(2))!
            if GoPath.hasSuffix(path, suffix) { return true }
            // "**/foo" also matches "foo".
            return suffix.utf8.first == UInt8(ascii: "/") && GoPath.same(path, String(suffix.utf8.dropFirst())!)
        case .regexp:
            return regex!.matches(path.unicodeScalars.map(\.value))
        }
    }

    /// fsutil's `patternWithoutTrailingGlob`: the text without one trailing `/**`, then one `/*`.
    var withoutTrailingGlob: String {
        var p = text
        if GoPath.hasSuffix(p, "/**") { p = String(p.utf8.dropLast(3))! }
        if GoPath.hasSuffix(p, "/*") { p = String(p.utf8.dropLast(2))! }
        return p
    }
}

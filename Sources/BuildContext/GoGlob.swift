/// Go's `path/filepath.Match` (Unix flavour) on a single name.
///
/// `*` matches any run of non-`/` characters, `?` one non-`/` character, `[...]` / `[^...]` a
/// character class with ranges, and `\x` the literal `x`. Dotfiles are not special.
/// A malformed pattern throws `ContextError.badPattern`; like Go, the whole pattern is
/// syntax-checked even when the match fails early.
public func matchGlob(_ pattern: String, _ name: String) throws -> Bool {
    do {
        return try GoGlob.match(Array(pattern.unicodeScalars.map(\.value))[...],
                                Array(name.unicodeScalars.map(\.value))[...])
    } catch is GoGlob.BadPattern {
        throw ContextError.badPattern(pattern, reason: "syntax error in pattern")
    }
}

enum GoGlob {
    struct BadPattern: Error {}
    typealias Text = ArraySlice<UInt32>

    private static let slash = UInt32(UInt8(ascii: "/"))
    private static let star = UInt32(UInt8(ascii: "*"))
    private static let question = UInt32(UInt8(ascii: "?"))
    private static let backslash = UInt32(UInt8(ascii: "\\"))
    private static let open = UInt32(UInt8(ascii: "["))
    private static let close = UInt32(UInt8(ascii: "]"))
    private static let caret = UInt32(UInt8(ascii: "^"))
    private static let dash = UInt32(UInt8(ascii: "-"))

    /// True when `pattern` is syntactically valid for `filepath.Match`.
    static func isValid(_ pattern: String) -> Bool {
        (try? match(Array(pattern.unicodeScalars.map(\.value))[...], Array(".".unicodeScalars.map(\.value))[...])) != nil
    }

    static func match(_ pattern: Text, _ name: Text) throws -> Bool {
        var pattern = pattern
        var name = name
        outer: while !pattern.isEmpty {
            let (isStar, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if isStar && chunk.isEmpty {
                // A trailing * matches the rest of the name unless it holds a separator.
                return !name.contains(slash)
            }
            let (t, ok) = try matchChunk(chunk, name)
            if ok && (t.isEmpty || !pattern.isEmpty) {
                name = t
                continue outer
            }
            if isStar {
                var i = name.startIndex
                while i < name.endIndex && name[i] != slash {
                    let (t, ok) = try matchChunk(chunk, name[(i + 1)...])
                    if ok {
                        if pattern.isEmpty && !t.isEmpty {
                            i += 1
                            continue
                        }
                        name = t
                        continue outer
                    }
                    i += 1
                }
            }
            // Report syntax errors in the remainder before answering "no match".
            while !pattern.isEmpty {
                let (_, chunk, rest) = scanChunk(pattern)
                pattern = rest
                _ = try matchChunk(chunk, [])
            }
            return false
        }
        return name.isEmpty
    }

    private static func scanChunk(_ pattern: Text) -> (star: Bool, chunk: Text, rest: Text) {
        var p = pattern
        var isStar = false
        while p.first == star {
            p = p.dropFirst()
            isStar = true
        }
        var inRange = false
        var i = p.startIndex
        scan: while i < p.endIndex {
            switch p[i] {
            case backslash:
                if i + 1 < p.endIndex { i += 1 }
            case open:
                inRange = true
            case close:
                inRange = false
            case star:
                if !inRange { break scan }
            default:
                break
            }
            i += 1
        }
        return (isStar, p[p.startIndex..<i], p[i...])
    }

    private static func matchChunk(_ chunk: Text, _ s: Text) throws -> (Text, Bool) {
        var chunk = chunk
        var s = s
        var failed = false
        while let c = chunk.first {
            if !failed && s.isEmpty { failed = true }
            switch c {
            case open:
                var r: UInt32 = 0
                if !failed {
                    r = s.first!
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
                var negated = false
                if chunk.first == caret {
                    negated = true
                    chunk = chunk.dropFirst()
                }
                var matched = false
                var ranges = 0
                while true {
                    if chunk.first == close && ranges > 0 {
                        chunk = chunk.dropFirst()
                        break
                    }
                    let lo = try getEsc(&chunk)
                    var hi = lo
                    if chunk.first == dash {
                        chunk = chunk.dropFirst()
                        hi = try getEsc(&chunk)
                    }
                    if lo <= r && r <= hi { matched = true }
                    ranges += 1
                }
                if matched == negated { failed = true }
            case question:
                if !failed {
                    if s.first == slash { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            default:
                if c == backslash {
                    chunk = chunk.dropFirst()
                    if chunk.isEmpty { throw BadPattern() }
                }
                if !failed {
                    if chunk.first != s.first { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? ([], false) : (s, true)
    }

    private static func getEsc(_ chunk: inout Text) throws -> UInt32 {
        guard let first = chunk.first, first != dash, first != close else { throw BadPattern() }
        if first == backslash {
            chunk = chunk.dropFirst()
            if chunk.isEmpty { throw BadPattern() }
        }
        let r = chunk.first!
        chunk = chunk.dropFirst()
        if chunk.isEmpty { throw BadPattern() }
        return r
    }
}

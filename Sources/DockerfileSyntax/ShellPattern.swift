// Shell patterns for `${v#p}`, `${v%p}` and `${v/p/r}`: `?` is one character, `*` any run,
// `\` escapes `*`, `?` and `\` (and is dropped before `}` and `/`). No bracket expressions, as in BuildKit.

enum PatternToken: Hashable {
    case literal(Unicode.Scalar)
    case any
    case star

    static func parse(_ pattern: String) throws -> [PatternToken] {
        let s = Array(pattern.unicodeScalars)
        var out: [PatternToken] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            i += 1
            switch c {
            case "*": out.append(.star)
            case "?": out.append(.any)
            case "\\":
                if i < s.count && (s[i] == "}" || s[i] == "/") { continue }
                guard i < s.count else { throw LexFailure(message: "invalid escape '\\'") }
                let e = s[i]
                i += 1
                guard e == "*" || e == "?" || e == "\\" else {
                    throw LexFailure(message: "invalid escape '\\\(Character(e))'")
                }
                out.append(.literal(e))
            default:
                out.append(.literal(c))
            }
        }
        return out
    }
}

/// Finds the end of a match of `tokens` starting exactly at `start`, preferring longer (`greedy`)
/// or shorter runs for each `*` in turn, like a backtracking regex engine (leftmost-first).
private func matchEnd(_ tokens: ArraySlice<PatternToken>, _ text: [Unicode.Scalar], _ start: Int, greedy: Bool) -> Int? {
    guard let first = tokens.first else { return start }
    let rest = tokens.dropFirst()
    switch first {
    case .literal(let c):
        guard start < text.count, text[start] == c else { return nil }
        return matchEnd(rest, text, start + 1, greedy: greedy)
    case .any:
        guard start < text.count else { return nil }
        return matchEnd(rest, text, start + 1, greedy: greedy)
    case .star:
        let lengths = greedy ? Array((0...(text.count - start)).reversed()) : Array(0...(text.count - start))
        for n in lengths {
            if let end = matchEnd(rest, text, start + n, greedy: greedy) { return end }
        }
        return nil
    }
}

func trimPrefix(_ tokens: [PatternToken], _ value: String, greedy: Bool) -> String {
    let text = Array(value.unicodeScalars)
    guard let end = matchEnd(tokens[...], text, 0, greedy: greedy) else { return value }
    var out = ""
    out.unicodeScalars.append(contentsOf: text[end...])
    return out
}

func trimSuffix(_ tokens: [PatternToken], _ value: String, greedy: Bool) -> String {
    // Reverse both pattern and text so the shortest/longest suffix becomes a prefix.
    var reversedValue = ""
    reversedValue.unicodeScalars.append(contentsOf: value.unicodeScalars.reversed())
    let trimmed = trimPrefix(tokens.reversed(), reversedValue, greedy: greedy)
    var out = ""
    out.unicodeScalars.append(contentsOf: trimmed.unicodeScalars.reversed())
    return out
}

/// Replaces the first (or every) leftmost match; `*` is greedy. Empty matches right after a
/// previous match are skipped, as Go's `ReplaceAllString` does.
func replacePattern(_ tokens: [PatternToken], in value: String, with replacement: String, all: Bool) -> String {
    let text = Array(value.unicodeScalars)
    var out = ""
    var copied = 0
    var searchFrom = 0
    var previousEnd: Int?
    while searchFrom <= text.count {
        var found: (Int, Int)?
        for start in searchFrom...text.count {
            if let end = matchEnd(tokens[...], text, start, greedy: true) {
                if end == start, start == previousEnd { continue }
                found = (start, end)
                break
            }
        }
        guard let (start, end) = found else { break }
        out.unicodeScalars.append(contentsOf: text[copied..<start])
        out += replacement
        copied = end
        previousEnd = end
        if !all { break }
        searchFrom = end > start ? end : end + 1
        if end == start && start < text.count {
            out.unicodeScalars.append(text[start])
            copied = start + 1
        }
    }
    if copied < text.count { out.unicodeScalars.append(contentsOf: text[copied...]) }
    return out
}

// Splitting an instruction line into keyword, flags and arguments (BuildKit `line_parsers.go`,
// `split_command.go`), JSON arrays, and heredoc delimiter words.

import Foundation

/// `[\t\v\f\r ]+`
func isSplitSpace(_ s: Unicode.Scalar) -> Bool {
    s == " " || s == "\t" || s == "\u{0B}" || s == "\u{0C}" || s == "\r"
}

/// Splits on runs of `[\t\v\f\r ]`, at most `limit` pieces (0 = no limit); no empty pieces at the ends
/// when the input is trimmed.
func splitWhitespace(_ text: String, limit: Int = 0) -> [String] {
    var parts: [String] = []
    var current = ""
    var scalars = text.unicodeScalars[...]
    while let c = scalars.first {
        if isSplitSpace(c) && (limit == 0 || parts.count < limit - 1) {
            parts.append(current)
            current = ""
            scalars = scalars.drop(while: isSplitSpace)
            continue
        }
        current.unicodeScalars.append(c)
        scalars = scalars.dropFirst()
    }
    parts.append(current)
    return parts
}

/// A line split into its keyword, leading `--flags` (quotes removed, values unexpanded) and the rest.
struct SplitCommand {
    var keyword: String
    var flags: [String]
    var rest: String

    init(_ line: String) {
        let pieces = splitWhitespace(trimWhitespace(line), limit: 2)
        keyword = pieces[0]
        if pieces.count == 2 {
            let (rest, flags) = Self.extractFlags(pieces[1])
            self.rest = trimWhitespace(rest)
            self.flags = flags
        } else {
            rest = ""
            flags = []
        }
    }

    /// Leading words that start with `--`, with quotes and backslash escapes processed; `--` ends them.
    static func extractFlags(_ line: String) -> (String, [String]) {
        let s = Array(line.unicodeScalars)
        var words: [String] = []
        var word = ""
        var blankOK = false
        var quote: Unicode.Scalar = "\0"
        enum Phase { case spaces, word, quote }
        var phase = Phase.spaces
        func restOf(_ i: Int) -> String {
            var out = ""
            out.unicodeScalars.append(contentsOf: s[i...])
            return out
        }
        var pos = 0
        while pos <= s.count {
            let atEnd = pos == s.count
            let ch: Unicode.Scalar = atEnd ? "\0" : s[pos]
            if phase == .spaces {
                if atEnd { break }
                if isSpaceScalar(ch) { pos += 1; continue }
                if ch != "-" || pos + 1 == s.count || s[pos + 1] != "-" { return (restOf(pos), words) }
                phase = .word
            }
            if atEnd {
                if word != "--" && (blankOK || !word.isEmpty) { words.append(word) }
                break
            }
            if phase == .word {
                if isSpaceScalar(ch) {
                    phase = .spaces
                    if word == "--" { return (restOf(pos), words) }
                    if blankOK || !word.isEmpty { words.append(word) }
                    word = ""
                    blankOK = false
                    pos += 1
                    continue
                }
                if ch == "'" || ch == "\"" {
                    quote = ch
                    blankOK = true
                    phase = .quote
                    pos += 1
                    continue
                }
                var c = ch
                if c == "\\" {
                    if pos + 1 == s.count { pos += 1; continue }
                    pos += 1
                    c = s[pos]
                }
                word.unicodeScalars.append(c)
                pos += 1
                continue
            }
            // inside quotes
            if ch == quote {
                phase = .word
                pos += 1
                continue
            }
            var c = ch
            if c == "\\" {
                if pos + 1 == s.count { phase = .word; pos += 1; continue }
                pos += 1
                c = s[pos]
            }
            word.unicodeScalars.append(c)
            pos += 1
        }
        return ("", words)
    }
}

/// Splits on unquoted whitespace, keeping quotes and escape characters (BuildKit `parseWords`).
func parseWords(_ rest: String, escape: Character) -> [String] {
    let esc = escape.unicodeScalars.first!
    let s = Array(rest.unicodeScalars)
    var words: [String] = []
    var word = ""
    var blankOK = false
    var inWord = false
    var quote: Unicode.Scalar?
    var pos = 0
    while pos < s.count {
        let ch = s[pos]
        if let q = quote {
            if ch == q { quote = nil }
            if ch == esc && q != "'" {
                if pos + 1 == s.count { quote = nil; pos += 1; continue }
                word.unicodeScalars.append(ch)
                pos += 1
                word.unicodeScalars.append(s[pos])
                pos += 1
                continue
            }
            word.unicodeScalars.append(ch)
            pos += 1
            continue
        }
        if !inWord {
            if isSpaceScalar(ch) { pos += 1; continue }
            inWord = true
        }
        if isSpaceScalar(ch) {
            if blankOK || !word.isEmpty { words.append(word) }
            word = ""
            blankOK = false
            inWord = false
            pos += 1
            continue
        }
        if ch == "'" || ch == "\"" {
            quote = ch
            blankOK = true
        }
        if ch == esc {
            if pos + 1 == s.count { pos += 1; continue }
            word.unicodeScalars.append(ch)
            pos += 1
        }
        word.unicodeScalars.append(s[pos])
        pos += 1
    }
    if inWord && (blankOK || !word.isEmpty) { words.append(word) }
    return words
}

enum JSONArrayParse {
    case strings([String])
    /// Valid JSON array containing something other than strings (an error in BuildKit).
    case notStrings
    /// Not a JSON array at all: the caller falls back to shell form.
    case notJSON
}

let notStringArrayMessage = "when using JSON array syntax, arrays must be comprised of strings only"

/// Parses `rest` as a JSON array of strings, as BuildKit's `parseJSON` does.
func parseJSONArray(_ rest: String) -> JSONArrayParse {
    let trimmed = trimLeadingWhitespace(rest)
    guard trimmed.hasPrefix("["), let data = trimmed.data(using: .utf8),
          let object = try? JSONSerialization.jsonObject(with: data, options: []),
          let array = object as? [Any]
    else { return .notJSON }
    var strings: [String] = []
    for element in array {
        guard let string = element as? String, !(element is NSNumber) else { return .notStrings }
        strings.append(string)
    }
    return .strings(strings)
}

/// A heredoc delimiter word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) before its body is read.
struct HeredocWord {
    var name: String
    var chomp: Bool
    var expand: Bool
    var fileDescriptor: Int?

    /// Parses one word against `^(\d*)<<(-?)\s*([^<]*)$`; nil when it is not a heredoc.
    init?(_ word: String) {
        var s = Substring(word)
        let digits = s.prefix(while: { $0.isASCII && $0.isNumber })
        s = s.dropFirst(digits.count)
        guard s.hasPrefix("<<") else { return nil }
        s = s.dropFirst(2)
        chomp = s.first == "-"
        if chomp { s = s.dropFirst() }
        s = s.drop(while: { $0.isWhitespace })
        guard !s.contains("<"), !s.isEmpty else { return nil }
        let rest = String(s)
        var lexer = ShellWordExpander()
        lexer.skipUnsetEnv = true
        guard let plain = try? lexer.expandWords(rest, lookup: { _ in nil }), plain.count == 1 else { return nil }
        lexer.rawQuotes = true
        guard let raw = try? lexer.expandWords(rest, lookup: { _ in nil }), raw.count == 1 else { return nil }
        func quotes(_ w: String) -> Int { w.filter { $0 == "'" || $0 == "\"" }.count }
        name = plain[0]
        expand = quotes(plain[0]) == quotes(raw[0])
        fileDescriptor = digits.isEmpty ? nil : Int(digits)
    }

    /// The heredoc delimiter words on an instruction line, in order.
    static func all(in line: String) -> [HeredocWord] {
        var lexer = ShellWordExpander()
        lexer.rawQuotes = true
        lexer.rawEscapes = true
        guard let words = try? lexer.expandWords(line, lookup: { _ in nil }) else { return [] }
        return words.compactMap(HeredocWord.init)
    }
}

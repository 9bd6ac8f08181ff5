// Physical lines → logical instructions: parser directives, comments, continuations, heredoc bodies.

/// One physical line of the file.
struct PhysicalLine {
    /// 1-based line number.
    var number: Int
    /// Text without the line terminator.
    var text: String
    /// Whether a newline followed the line in the file.
    var hadNewline: Bool
}

/// One instruction's text before it is split into keyword, flags and arguments.
struct LogicalLine {
    var text: String
    var startLine: Int
    var endLine: Int
    var hadEmptyContinuation: Bool
}

/// Splits the file into physical lines, stripping a UTF-8 BOM and `\r` before `\n`.
func physicalLines(_ text: String) -> [PhysicalLine] {
    var body = Substring(text)
    if body.unicodeScalars.first == "\u{FEFF}" { body = body.dropFirst() }
    var lines: [PhysicalLine] = []
    var number = 0
    var current = ""
    for scalar in body.unicodeScalars {
        if scalar == "\n" {
            number += 1
            if current.unicodeScalars.last == "\r" { current.unicodeScalars.removeLast() }
            lines.append(PhysicalLine(number: number, text: current, hadNewline: true))
            current = ""
        } else {
            current.unicodeScalars.append(scalar)
        }
    }
    if !current.isEmpty {
        if current.unicodeScalars.last == "\r" { current.unicodeScalars.removeLast() }
        lines.append(PhysicalLine(number: number + 1, text: current, hadNewline: false))
    }
    return lines
}

func isSpaceScalar(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }

func trimLeadingWhitespace(_ s: String) -> String {
    String(s.unicodeScalars.drop(while: isSpaceScalar))
}

func trimTrailingWhitespace(_ s: String) -> String {
    var scalars = Array(s.unicodeScalars)
    while let last = scalars.last, isSpaceScalar(last) { scalars.removeLast() }
    var out = ""
    out.unicodeScalars.append(contentsOf: scalars)
    return out
}

func trimWhitespace(_ s: String) -> String { trimTrailingWhitespace(trimLeadingWhitespace(s)) }

/// A comment line: `#` after optional leading whitespace.
func isCommentLine(_ s: String) -> Bool { trimLeadingWhitespace(s).hasPrefix("#") }

/// If `line` ends with the escape character followed only by spaces and tabs, the line without them.
/// BuildKit's rule (its `lineContinuationRegex`, `([^E])E[ \t]*$|^E[ \t]*$`): the final escape
/// continues the line only when the character before it is not the escape too, so
/// `ENV A hello\\` ends the instruction (an escaped escape). BuildKit's regex cannot tell an
/// escaped escape from an unescaped one further left, so `foo \\\` does not continue either;
/// we mirror that, since BuildKit is the reference.
func stripContinuation(_ line: String, escape: Character) -> String? {
    var scalars = Array(line.unicodeScalars)
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    guard let last = scalars.last, Character(last) == escape else { return nil }
    scalars.removeLast()
    if let before = scalars.last, Character(before) == escape { return nil }
    var out = ""
    out.unicodeScalars.append(contentsOf: scalars)
    return out
}

/// Reads parser directives from the top of the file (BuildKit `directives.go`).
struct DirectiveScanner {
    var done = false
    var seen: Set<String> = []
    var directives = Directives()
    let fileName: String

    init(fileName: String) { self.fileName = fileName }

    /// Looks at a line (leading whitespace already dropped); stops at the first non-directive.
    mutating func consider(_ line: String, number: Int) throws {
        guard !done else { return }
        guard let (rawKey, value) = Self.match(line) else {
            done = true
            return
        }
        let key = rawKey.lowercased()
        guard key == "escape" || key == "syntax" || key == "check" else {
            done = true
            return
        }
        let location = SourceLocation(file: fileName, line: number)
        if seen.contains(key) {
            throw DockerfileError(location, nil, "only one \(key) parser directive can be used")
        }
        seen.insert(key)
        switch key {
        case "escape":
            guard value == "\\" || value == "`" else {
                throw DockerfileError(location, nil, "invalid escape token '\(value)' does not match ` or \\")
            }
            directives.escape = Character(value)
        case "syntax": directives.syntax = value
        default: directives.check = value
        }
    }

    /// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
    static func match(_ line: String) -> (String, String)? {
        var s = Substring(line)
        guard s.first == "#" else { return nil }
        s = s.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
        guard let first = s.first, first.isASCII, first.isLetter else { return nil }
        let key = s.prefix(while: { $0.isASCII && ($0.isLetter || $0.isNumber) })
        s = s.dropFirst(key.count).drop(while: { $0 == " " || $0 == "\t" })
        guard s.first == "=" else { return nil }
        let value = trimWhitespace(String(s.dropFirst()))
        guard !value.isEmpty else { return nil }
        return (String(key), value)
    }
}

/// Walks the physical lines, producing logical lines; heredoc bodies are read on request.
struct LineReader {
    let lines: [PhysicalLine]
    var index = 0
    var directives: DirectiveScanner

    init(text: String, fileName: String) {
        lines = physicalLines(text)
        directives = DirectiveScanner(fileName: fileName)
    }

    var lastLineNumber: Int { lines.last?.number ?? 1 }

    /// The next instruction's joined text, or nil at the end of the file.
    mutating func nextLogicalLine() throws -> LogicalLine? {
        while index < lines.count {
            let first = lines[index]
            index += 1
            let trimmed = trimLeadingWhitespace(first.text)
            try directives.consider(trimmed, number: first.number)
            if trimmed.hasPrefix("#") { continue }
            let escape = directives.directives.escape
            var line: String
            var continued: Bool
            if let stripped = stripContinuation(trimmed, escape: escape) {
                line = stripped
                continued = true
            } else {
                line = trimmed
                continued = false
            }
            if !continued && line.isEmpty { continue }
            var end = first.number
            var hadEmpty = false
            while continued && index < lines.count {
                let next = lines[index]
                index += 1
                end = next.number
                try directives.consider(next.text, number: next.number)
                if isCommentLine(next.text) { continue }
                if trimLeadingWhitespace(next.text).isEmpty {
                    hadEmpty = true
                    continue
                }
                if let stripped = stripContinuation(next.text, escape: escape) {
                    line += stripped
                } else {
                    line += next.text
                    continued = false
                }
            }
            return LogicalLine(text: line, startLine: first.number, endLine: end, hadEmptyContinuation: hadEmpty)
        }
        return nil
    }

    /// Reads a heredoc body up to its terminator; nil when the file ends first.
    /// Returns the body (tabs stripped for `<<-`) and the terminator's line number.
    mutating func readHeredocBody(name: String, chomp: Bool) -> (String, Int)? {
        var content = ""
        while index < lines.count {
            let line = lines[index]
            index += 1
            var candidate = Substring(line.text)
            if chomp { candidate = candidate.drop(while: { $0 == "\t" }) }
            if candidate == name { return (content, line.number) }
            content += chomp ? String(line.text.drop(while: { $0 == "\t" })) : line.text
            if line.hadNewline { content += "\n" }
        }
        return nil
    }
}

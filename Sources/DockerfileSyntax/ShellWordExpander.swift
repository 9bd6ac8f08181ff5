// Word expansion with BuildKit's shell-lexer semantics (quotes, escapes, `$v`, `${v…}`).

import GoQuoting

/// An expansion failure, worded like BuildKit: `failed to process "${v:?}": v: is not allowed to be unset`.
public struct ExpansionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The word being expanded, as written.
    public var word: String
    /// What went wrong (`v: is not allowed to be unset`, `syntax error: missing '}'`, …).
    public var message: String

    public init(word: String, message: String) {
        self.word = word
        self.message = message
    }

    public var description: String { "failed to process \(goQuoted(word)): \(message)" }
}

/// BuildKit's Dockerfile word lexer (`frontend/dockerfile/shell`): removes quotes, processes the
/// escape character and substitutes variables. Unset variables expand to the empty string.
public struct ShellWordExpander: Sendable {
    /// The escape character from the `# escape=` directive.
    public var escape: Character
    /// Keep quote characters in the result (used to recognise quoted heredoc delimiters).
    var rawQuotes = false
    /// Keep escape characters in the result.
    var rawEscapes = false
    /// Treat quotes as ordinary characters (used for heredoc bodies).
    var skipProcessQuotes = false
    /// Leave references to unset variables as written.
    var skipUnsetEnv = false

    /// The result of expanding one word.
    public struct Expansion: Hashable, Sendable {
        /// The expanded text, quotes removed.
        public var value: String
        /// Every variable name referenced while expanding (set or not).
        public var usedNames: Set<String>
        /// The text split into fields on unquoted whitespace (BuildKit's ProcessWords).
        public var words: [String]

        public init(value: String, usedNames: Set<String>, words: [String] = []) {
            self.value = value
            self.usedNames = usedNames
            self.words = words
        }
    }

    /// The deepest `${…}` nesting expanded. Each level is a few stack frames here (BuildKit's Go
    /// lexer recurses the same way but on a growable stack, so it has no limit); real Dockerfiles
    /// nest two or three levels (`${A:-${B:-x}}`), so 200 is far beyond any BuildKit-compatible
    /// file yet keeps the recursion a few hundred KiB deep, well inside even a 512 KiB thread
    /// stack, where ~50,000 levels overflowed it (SIGSEGV).
    static let maxNesting = 200

    public init(escape: Character = "\\") {
        self.escape = escape
    }

    /// Expands one word (BuildKit's ProcessWordWithMatches).
    public func expand(_ word: String, lookup: (String) -> String?) throws -> Expansion {
        try withoutActuallyEscaping(lookup) { lookup in
            var lexer = Lexer(options: self, scalars: Array(word.unicodeScalars), lookup: lookup)
            do {
                let (value, words) = try lexer.processStopOn(nil, rawEscapes: rawEscapes)
                return Expansion(value: value, usedNames: lexer.used, words: words)
            } catch let failure as LexFailure {
                throw ExpansionError(word: word, message: failure.message)
            }
        }
    }

    /// Expands `text` and splits the result into fields on unquoted whitespace (BuildKit's ProcessWords).
    public func expandWords(_ text: String, lookup: (String) -> String?) throws -> [String] {
        try expand(text, lookup: lookup).words
    }
}

struct LexFailure: Error {
    var message: String
}

/// Accumulates fields the way BuildKit's `wordsStruct` does.
private struct WordsBuilder {
    var word = ""
    var words: [String] = []
    var inWord = false

    mutating func addChar(_ ch: Unicode.Scalar) {
        if ch.properties.isWhitespace {
            if inWord && !word.isEmpty {
                words.append(word)
                word = ""
                inWord = false
            }
        } else {
            addRawChar(ch)
        }
    }

    mutating func addRawChar(_ ch: Unicode.Scalar) {
        word.unicodeScalars.append(ch)
        inWord = true
    }

    mutating func addString(_ s: String) {
        for ch in s.unicodeScalars { addChar(ch) }
    }

    mutating func addRawString(_ s: String) {
        word += s
        inWord = true
    }

    mutating func finish() -> [String] {
        if !word.isEmpty {
            words.append(word)
            word = ""
            inWord = false
        }
        return words
    }
}

private struct Lexer {
    let options: ShellWordExpander
    let scalars: [Unicode.Scalar]
    let lookup: (String) -> String?
    let escape: Unicode.Scalar
    var pos = 0
    var used: Set<String> = []
    var rawEscapes: Bool
    /// How many `${…}` enclose the current position.
    var nesting = 0

    init(options: ShellWordExpander, scalars: [Unicode.Scalar], lookup: @escaping (String) -> String?) {
        self.options = options
        self.scalars = scalars
        self.lookup = lookup
        self.escape = options.escape.unicodeScalars.first ?? "\\"
        self.rawEscapes = options.rawEscapes
    }

    func peek() -> Unicode.Scalar? { pos < scalars.count ? scalars[pos] : nil }

    mutating func next() -> Unicode.Scalar? {
        guard pos < scalars.count else { return nil }
        defer { pos += 1 }
        return scalars[pos]
    }

    mutating func getEnv(_ name: String) -> String? {
        used.insert(name)
        return lookup(name)
    }

    /// Processes until `stop` (consumed) or the end of input.
    mutating func processStopOn(_ stop: Unicode.Scalar?, rawEscapes raw: Bool) throws -> (String, [String]) {
        let saved = rawEscapes
        rawEscapes = raw
        defer { rawEscapes = saved }
        var result = ""
        var words = WordsBuilder()
        while let ch = peek() {
            if let stop, ch == stop {
                pos += 1
                return (result, words.finish())
            }
            if ch == "$" {
                let value = try processDollar()
                result += value
                words.addString(value)
            } else if !options.skipProcessQuotes && (ch == "'" || ch == "\"") {
                let value = ch == "'" ? try processSingleQuote() : try processDoubleQuote()
                result += value
                words.addRawString(value)
            } else {
                var c = next()!
                if c == escape {
                    if rawEscapes {
                        words.addRawChar(c)
                        result.unicodeScalars.append(c)
                    }
                    guard let escaped = next() else { break }
                    c = escaped
                    words.addRawChar(c)
                } else {
                    words.addChar(c)
                }
                result.unicodeScalars.append(c)
            }
        }
        if let stop {
            throw LexFailure(message: "unexpected end of statement while looking for matching \(Character(stop))")
        }
        return (result, words.finish())
    }

    mutating func processSingleQuote() throws -> String {
        var result = ""
        let open = next()!
        if options.rawQuotes { result.unicodeScalars.append(open) }
        while true {
            guard let ch = next() else {
                throw LexFailure(message: "unexpected end of statement while looking for matching single-quote")
            }
            if ch == "'" {
                if options.rawQuotes { result.unicodeScalars.append(ch) }
                return result
            }
            result.unicodeScalars.append(ch)
        }
    }

    mutating func processDoubleQuote() throws -> String {
        var result = ""
        let open = next()!
        if options.rawQuotes { result.unicodeScalars.append(open) }
        while true {
            guard let ch = peek() else {
                throw LexFailure(message: "unexpected end of statement while looking for matching double-quote")
            }
            if ch == "\"" {
                pos += 1
                if options.rawQuotes { result.unicodeScalars.append(ch) }
                return result
            }
            if ch == "$" {
                result += try processDollar()
                continue
            }
            var c = next()!
            if c == escape {
                if rawEscapes { result.unicodeScalars.append(c) }
                guard let following = peek() else { continue }
                if following == "\"" || following == "$" || following == escape {
                    c = next()!
                }
            }
            result.unicodeScalars.append(c)
        }
    }

    mutating func processDollar() throws -> String {
        pos += 1 // the `$`
        if peek() != "{" {
            let name = processName()
            if name.isEmpty { return "$" }
            let value = getEnv(name)
            if value == nil && options.skipUnsetEnv { return "$" + name }
            return value ?? ""
        }
        pos += 1 // the `{`
        nesting += 1
        defer { nesting -= 1 }
        if nesting > ShellWordExpander.maxNesting {
            throw LexFailure(message: "more than \(ShellWordExpander.maxNesting) nested ${…} substitutions")
        }
        guard let first = peek() else { throw LexFailure(message: "syntax error: missing '}'") }
        if first == "{" || first == "}" || first == ":" {
            throw LexFailure(message: "syntax error: bad substitution")
        }
        let name = processName()
        guard var ch = next() else { throw LexFailure(message: "syntax error: missing '}'") }
        var modifier = String(Character(ch))
        switch ch {
        case "}":
            let value = getEnv(name)
            if value == nil && options.skipUnsetEnv { return "${\(name)}" }
            return value ?? ""
        case ":", "+", "-", "?", "#", "%":
            var nullIsUnset = false
            if ch == ":" {
                nullIsUnset = true
                guard let m = next() else { throw LexFailure(message: "syntax error: missing '}'") }
                ch = m
                modifier.unicodeScalars.append(m)
            }
            let patternLike = ch == "#" || ch == "%"
            if nullIsUnset && patternLike {
                throw LexFailure(message: "unsupported modifier (\(modifier)) in substitution")
            }
            let word: String
            do {
                word = try processStopOn("}", rawEscapes: patternLike).0
            } catch let failure as LexFailure {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '}'") }
                throw failure
            }
            let value = getEnv(name)
            if value == nil && options.skipUnsetEnv { return "${\(name)\(modifier)\(word)}" }
            let isUnset = value == nil || (nullIsUnset && value == "")
            switch ch {
            case "-":
                return isUnset ? word : value!
            case "+":
                return isUnset ? "" : word
            case "?":
                if value == nil {
                    throw LexFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be unset" : word)")
                }
                if nullIsUnset && value == "" {
                    throw LexFailure(message: "\(name): \(word.isEmpty ? "is not allowed to be empty" : word)")
                }
                return value!
            case "#", "%":
                var pattern = word
                var greedy = false
                if pattern.unicodeScalars.first == ch {
                    greedy = true
                    pattern = String(pattern.unicodeScalars.dropFirst())
                }
                let tokens: [PatternToken]
                do {
                    tokens = try PatternToken.parse(pattern)
                } catch let failure as LexFailure {
                    throw LexFailure(message: "invalid pattern (\(pattern)) in substitution: \(failure.message)")
                }
                return ch == "%" ? trimSuffix(tokens, value ?? "", greedy: greedy)
                    : trimPrefix(tokens, value ?? "", greedy: greedy)
            default:
                throw LexFailure(message: "unsupported modifier (\(modifier)) in substitution")
            }
        case "/":
            let replaceAll = peek() == "/"
            if replaceAll { pos += 1 }
            let pattern: String
            do {
                pattern = try processStopOn("/", rawEscapes: true).0
            } catch let failure as LexFailure {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '/' in ${}") }
                throw failure
            }
            let replacement: String
            do {
                replacement = try processStopOn("}", rawEscapes: true).0
            } catch let failure as LexFailure {
                if peek() == nil { throw LexFailure(message: "syntax error: missing '}'") }
                throw failure
            }
            let value = getEnv(name)
            if value == nil && options.skipUnsetEnv { return "${\(name)/\(pattern)/\(replacement)}" }
            let tokens: [PatternToken]
            do {
                tokens = try PatternToken.parse(pattern)
            } catch let failure as LexFailure {
                throw LexFailure(message: "invalid pattern (\(pattern)) in substitution: \(failure.message)")
            }
            return replacePattern(tokens, in: value ?? "", with: replacement, all: replaceAll)
        default:
            throw LexFailure(message: "unsupported modifier (\(modifier)) in substitution")
        }
    }

    /// A variable name: a run of digits, one special parameter, or letters/digits/underscores.
    mutating func processName() -> String {
        var name = ""
        while let ch = peek() {
            if name.isEmpty && ch.properties.numericType == .decimal && ch.isASCII {
                while let d = peek(), d.isASCII, d.properties.numericType == .decimal {
                    name.unicodeScalars.append(d)
                    pos += 1
                }
                return name
            }
            if name.isEmpty && "@*#?-$!0".unicodeScalars.contains(ch) {
                pos += 1
                return String(Character(ch))
            }
            if !(ch.properties.isAlphabetic || ch.properties.numericType == .decimal || ch == "_") { break }
            name.unicodeScalars.append(ch)
            pos += 1
        }
        return name
    }
}

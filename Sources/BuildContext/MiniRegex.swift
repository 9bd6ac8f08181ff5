/// A small regular-expression engine for the Go (RE2) syntax subset that patternmatcher emits.
///
/// patternmatcher turns a pattern into a Go regexp string and lets Go interpret it, including the
/// odd corners (a class written as `[*]` becomes `[[^/]*]`; a bare `^` is an anchor). To give the
/// same answers we build the identical regexp string and interpret it with Go's rules:
/// literals, `.`, classes (ranges, `[:name:]`, `\d\s\w` and negations, leading `]` literal,
/// negated classes never match `\n`), groups, `|`, `* + ?` (lazy forms accepted), `^ $ \A \z \b \B`.
/// Matching is a Pike VM (linear time, no backtracking), with Go's unanchored-search semantics.
/// Constructs Go accepts but this subset does not (`\x41`, `\pL`, `\Q..\E`, `(?i)`, `{n,m}`) throw.
struct MiniRegex {
    struct Unsupported: Error { let reason: String }

    struct CharClass {
        var ranges: [ClosedRange<UInt32>]
        func contains(_ c: UInt32) -> Bool { ranges.contains { $0.contains(c) } }
    }

    private indirect enum Node {
        case char(UInt32), cls(CharClass), any, begin, end, wordBoundary(Bool)
        case concat([Node]), alternate([Node]), star(Node), plus(Node), quest(Node)
    }

    private enum Inst {
        case char(UInt32), cls(CharClass), any
        case split(Int, Int), jump(Int)
        case begin, end, wordBoundary(Bool)
        case match
    }

    private let program: [Inst]

    init(_ pattern: String) throws {
        var parser = Parser(text: Array(pattern.unicodeScalars.map(\.value)))
        let node = try parser.parseAll()
        var prog: [Inst] = []
        MiniRegex.emit(node, into: &prog)
        prog.append(.match)
        program = prog
    }

    /// Go's `Regexp.MatchString`: true if the expression matches anywhere in `text`.
    func matches(_ text: [UInt32]) -> Bool {
        let n = text.count
        var mark = [Int](repeating: -1, count: program.count)
        var current: [Int] = []
        var next: [Int] = []
        var stack: [Int] = []

        // Adds pc and its epsilon closure at position pos; returns true when `match` is reachable.
        func add(_ pc0: Int, _ pos: Int, _ list: inout [Int]) -> Bool {
            stack.append(pc0)
            while let pc = stack.popLast() {
                if mark[pc] == pos { continue }
                mark[pc] = pos
                switch program[pc] {
                case .match:
                    stack.removeAll()
                    return true
                case .jump(let to):
                    stack.append(to)
                case .split(let a, let b):
                    stack.append(b)
                    stack.append(a)
                case .begin:
                    if pos == 0 { stack.append(pc + 1) }
                case .end:
                    if pos == n { stack.append(pc + 1) }
                case .wordBoundary(let wanted):
                    let before = pos > 0 && MiniRegex.isWord(text[pos - 1])
                    let after = pos < n && MiniRegex.isWord(text[pos])
                    if (before != after) == wanted { stack.append(pc + 1) }
                case .char, .cls, .any:
                    list.append(pc)
                }
            }
            return false
        }

        for pos in 0...n {
            if add(0, pos, &current) { return true }
            if pos == n { break }
            let c = text[pos]
            next.removeAll(keepingCapacity: true)
            for pc in current {
                let ok: Bool
                switch program[pc] {
                case .char(let want): ok = c == want
                case .cls(let cls): ok = cls.contains(c)
                case .any: ok = c != 10
                default: ok = false
                }
                if ok && add(pc + 1, pos + 1, &next) { return true }
            }
            swap(&current, &next)
        }
        return false
    }

    private static func isWord(_ c: UInt32) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    private static func emit(_ node: Node, into p: inout [Inst]) {
        switch node {
        case .char(let c): p.append(.char(c))
        case .cls(let c): p.append(.cls(c))
        case .any: p.append(.any)
        case .begin: p.append(.begin)
        case .end: p.append(.end)
        case .wordBoundary(let b): p.append(.wordBoundary(b))
        case .concat(let nodes):
            for n in nodes { emit(n, into: &p) }
        case .alternate(let nodes):
            var jumps: [Int] = []
            for (i, n) in nodes.enumerated() {
                if i < nodes.count - 1 {
                    let split = p.count
                    p.append(.split(split + 1, -1))
                    emit(n, into: &p)
                    jumps.append(p.count)
                    p.append(.jump(-1))
                    p[split] = .split(split + 1, p.count)
                } else {
                    emit(n, into: &p)
                }
            }
            for j in jumps { p[j] = .jump(p.count) }
        case .star(let n):
            let split = p.count
            p.append(.split(split + 1, -1))
            emit(n, into: &p)
            p.append(.jump(split))
            p[split] = .split(split + 1, p.count)
        case .plus(let n):
            let start = p.count
            emit(n, into: &p)
            p.append(.split(start, p.count + 1))
        case .quest(let n):
            let split = p.count
            p.append(.split(split + 1, -1))
            emit(n, into: &p)
            p[split] = .split(split + 1, p.count)
        }
    }

    // MARK: - Parser

    private struct Parser {
        let text: [UInt32]
        var i = 0

        static func ch(_ s: Unicode.Scalar) -> UInt32 { s.value }

        var peek: UInt32? { i < text.count ? text[i] : nil }

        mutating func parseAll() throws -> Node {
            let node = try parseAlternation()
            if i < text.count { throw Unsupported(reason: "unexpected )") }
            return node
        }

        mutating func parseAlternation() throws -> Node {
            var branches = [try parseConcat()]
            while peek == Parser.ch("|") {
                i += 1
                branches.append(try parseConcat())
            }
            return branches.count == 1 ? branches[0] : .alternate(branches)
        }

        mutating func parseConcat() throws -> Node {
            var items: [Node] = []
            while let c = peek, c != Parser.ch("|"), c != Parser.ch(")") {
                var atom = try parseAtom()
                var quantified = false
                while let q = peek, q == Parser.ch("*") || q == Parser.ch("+") || q == Parser.ch("?") {
                    if quantified { throw Unsupported(reason: "invalid nested repetition operator") }
                    i += 1
                    switch q {
                    case Parser.ch("*"): atom = .star(atom)
                    case Parser.ch("+"): atom = .plus(atom)
                    default: atom = .quest(atom)
                    }
                    quantified = true
                    if peek == Parser.ch("?") { i += 1 } // lazy: irrelevant for a yes/no answer
                }
                items.append(atom)
            }
            return .concat(items)
        }

        mutating func parseAtom() throws -> Node {
            let c = text[i]
            i += 1
            switch c {
            case Parser.ch("("):
                if peek == Parser.ch("?") { throw Unsupported(reason: "group flags are not supported") }
                let inner = try parseAlternation()
                guard peek == Parser.ch(")") else { throw Unsupported(reason: "missing closing )") }
                i += 1
                return inner
            case Parser.ch("["):
                return .cls(try parseClass())
            case Parser.ch("."):
                return .any
            case Parser.ch("^"):
                return .begin
            case Parser.ch("$"):
                return .end
            case Parser.ch("*"), Parser.ch("+"), Parser.ch("?"):
                throw Unsupported(reason: "missing argument to repetition operator")
            case Parser.ch("{"):
                throw Unsupported(reason: "repetition counts are not supported")
            case Parser.ch("\\"):
                guard let e = peek else { throw Unsupported(reason: "trailing backslash at end of expression") }
                i += 1
                switch e {
                case Parser.ch("b"): return .wordBoundary(true)
                case Parser.ch("B"): return .wordBoundary(false)
                case Parser.ch("A"): return .begin
                case Parser.ch("z"): return .end
                default:
                    if let cls = Parser.perlClass(e) { return .cls(cls) }
                    return .char(try Parser.escapedChar(e))
                }
            default:
                return .char(c)
            }
        }

        /// `\d \D \s \S \w \W`.
        static func perlClass(_ e: UInt32) -> CharClass? {
            let digit: [ClosedRange<UInt32>] = [48...57]
            let space: [ClosedRange<UInt32>] = [9...10, 12...13, 32...32]
            let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
            switch e {
            case ch("d"): return CharClass(ranges: digit)
            case ch("D"): return CharClass(ranges: complement(digit))
            case ch("s"): return CharClass(ranges: space)
            case ch("S"): return CharClass(ranges: complement(space))
            case ch("w"): return CharClass(ranges: word)
            case ch("W"): return CharClass(ranges: complement(word))
            default: return nil
            }
        }

        /// A single escaped character: ASCII punctuation or a C-style control escape.
        static func escapedChar(_ e: UInt32) throws -> UInt32 {
            let isAlnum = (e >= 48 && e <= 57) || (e >= 65 && e <= 90) || (e >= 97 && e <= 122)
            if e < 128 && !isAlnum { return e }
            switch e {
            case ch("a"): return 7
            case ch("f"): return 12
            case ch("t"): return 9
            case ch("n"): return 10
            case ch("r"): return 13
            case ch("v"): return 11
            default: throw Unsupported(reason: "invalid or unsupported escape sequence")
            }
        }

        static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
            let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
            var out: [ClosedRange<UInt32>] = []
            var next: UInt32 = 0
            for r in sorted {
                if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
                if r.upperBound >= next { next = r.upperBound + 1 }
            }
            if next <= 0x10FFFF { out.append(next...0x10FFFF) }
            return out
        }

        static let posixClasses: [String: [ClosedRange<UInt32>]] = [
            "alnum": [48...57, 65...90, 97...122], "alpha": [65...90, 97...122], "ascii": [0...127],
            "blank": [9...9, 32...32], "cntrl": [0...31, 127...127], "digit": [48...57],
            "graph": [33...126], "lower": [97...122], "print": [32...126],
            "punct": [33...47, 58...64, 91...96, 123...126], "space": [9...13, 32...32],
            "upper": [65...90], "word": [48...57, 65...90, 95...95, 97...122], "xdigit": [48...57, 65...70, 97...102],
        ]

        /// Parses after the opening `[` up to and including the closing `]`.
        mutating func parseClass() throws -> CharClass {
            var negated = false
            if peek == Parser.ch("^") {
                negated = true
                i += 1
            }
            var ranges: [ClosedRange<UInt32>] = []
            var first = true
            while true {
                guard let c = peek else { throw Unsupported(reason: "missing closing ]") }
                if c == Parser.ch("]") && !first {
                    i += 1
                    break
                }
                first = false
                // [:name:] / [:^name:]
                if c == Parser.ch("["), i + 1 < text.count, text[i + 1] == Parser.ch(":"),
                   let endIdx = findPosixEnd(from: i + 2) {
                    var nameScalars = Array(text[(i + 2)..<endIdx])
                    var neg = false
                    if nameScalars.first == Parser.ch("^") {
                        neg = true
                        nameScalars.removeFirst()
                    }
                    let name = String(String.UnicodeScalarView(nameScalars.compactMap(Unicode.Scalar.init)))
                    guard let set = Parser.posixClasses[name] else {
                        throw Unsupported(reason: "invalid character class range")
                    }
                    ranges += neg ? Parser.complement(set) : set
                    i = endIdx + 2
                    continue
                }
                if c == Parser.ch("\\"), i + 1 < text.count, let cls = Parser.perlClass(text[i + 1]) {
                    ranges += cls.ranges
                    i += 2
                    continue
                }
                let lo = try classChar()
                var hi = lo
                if peek == Parser.ch("-"), i + 1 < text.count, text[i + 1] != Parser.ch("]") {
                    i += 1
                    hi = try classChar()
                    if hi < lo { throw Unsupported(reason: "invalid character class range") }
                }
                ranges.append(lo...hi)
            }
            if negated {
                // Go (without the s flag) never lets a negated class match a newline.
                ranges = Parser.complement(ranges + [10...10])
            }
            return CharClass(ranges: ranges)
        }

        private func findPosixEnd(from start: Int) -> Int? {
            var k = start
            while k + 1 < text.count {
                if text[k] == Parser.ch(":") && text[k + 1] == Parser.ch("]") { return k }
                k += 1
            }
            return nil
        }

        private mutating func classChar() throws -> UInt32 {
            guard let c = peek else { throw Unsupported(reason: "missing closing ]") }
            i += 1
            if c != Parser.ch("\\") { return c }
            guard let e = peek else { throw Unsupported(reason: "trailing backslash at end of expression") }
            i += 1
            return try Parser.escapedChar(e)
        }
    }
}

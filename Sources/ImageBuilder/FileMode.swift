/// `--chmod` values: octal (`755`, `0644`) or symbolic (`u=rwX,go=rX`, `+x`, `a-w`) as BuildKit
/// (Dockerfile 1.14) accepts them.
struct FileModeChange: Sendable, Equatable {
    private enum Form: Equatable { case octal(UInt32); case symbolic([Clause]) }
    private struct Clause: Equatable {
        var who: UInt32      // mask of affected bits (u=0o4700 g=0o2070 o=0o1007 combos)
        var op: Character    // + - =
        var perms: String    // letters r w x X s t
    }
    private let form: Form

    struct ParseError: Error, CustomStringConvertible {
        var text: String
        var description: String { "invalid --chmod value \"\(text)\": expected octal (0755) or symbolic (u=rwX,go=rX)" }
    }

    init(parsing text: String) throws {
        if !text.isEmpty, text.allSatisfy({ ("0"..."7").contains($0) }) {
            guard let v = UInt32(text, radix: 8), v <= 0o7777 else { throw ParseError(text: text) }
            form = .octal(v)
            return
        }
        var clauses: [Clause] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            var who: UInt32 = 0
            var rest = Substring(part)
            while let c = rest.first, "ugoa".contains(c) {
                switch c {
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                case "o": who |= 0o0007
                default: who |= 0o7777
                }
                rest = rest.dropFirst()
            }
            if who == 0 { who = 0o7777 }
            guard let op = rest.first, "+-=".contains(op) else { throw ParseError(text: text) }
            let perms = String(rest.dropFirst())
            guard perms.allSatisfy({ "rwxXst".contains($0) }) else { throw ParseError(text: text) }
            clauses.append(Clause(who: who, op: op, perms: perms))
        }
        guard !clauses.isEmpty else { throw ParseError(text: text) }
        form = .symbolic(clauses)
    }

    /// The new permission bits for an entry that had `mode`.
    func apply(to mode: UInt32, isDirectory: Bool) -> UInt32 {
        switch form {
        case .octal(let v):
            return v
        case .symbolic(let clauses):
            var m = mode & 0o7777
            for clause in clauses {
                var bits: UInt32 = 0
                for p in clause.perms {
                    switch p {
                    case "r": bits |= 0o444
                    case "w": bits |= 0o222
                    case "x": bits |= 0o111
                    case "X": if isDirectory || m & 0o111 != 0 { bits |= 0o111 }
                    case "s": bits |= 0o6000
                    case "t": bits |= 0o1000
                    default: break
                    }
                }
                bits &= clause.who
                switch clause.op {
                case "+": m |= bits
                case "-": m &= ~bits
                default: m = (m & ~(clause.who & 0o777 | (clause.who & 0o7000))) | bits
                }
            }
            return m
        }
    }
}

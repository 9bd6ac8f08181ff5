/// Parses a template into nodes: text, `{{pipeline}}`, `{{if}}`, `{{range}}`, `{{with}}`
/// (each with `{{else}}` / `{{else if}}` and `{{end}}`), following Go's `text/template/parse`.
struct TemplateParser {
    let template: String
    private var pieces: [TemplateLexer.Piece]
    private var index = 0

    /// Function names the executor knows; any other name is a parse error, as in Go.
    static let functions: Set<String> = [
        "and", "or", "not", "len", "index", "print", "println", "eq", "ne", "lt", "le", "gt", "ge",
        "json", "join", "split", "lower", "upper", "title", "truncate",
    ]

    init(_ template: String) throws {
        self.template = template
        self.pieces = try TemplateLexer.pieces(template)
    }

    /// What ended a list of nodes.
    private enum Terminator { case end, eof, otherwise(elseIf: Pipeline?) }

    mutating func parse() throws -> [TemplateNode] {
        try checkVariables()
        let (nodes, terminator, position) = try parseList()
        switch terminator {
        case .eof: return nodes
        case .end: throw TemplateError.parse(template, at: position, "unexpected {{end}}")
        case .otherwise: throw TemplateError.parse(template, at: position, "unexpected {{else}}")
        }
    }

    /// Go refuses, when parsing, a variable used before any declaration of it.
    private func checkVariables() throws {
        var declared: Set<String> = ["$"]
        for case .action(let body, let position) in pieces {
            let tokens = try TemplateLexer.tokens(body, offset: position, template: template)
            let separator = tokens.firstIndex { $0.kind == .declare || $0.kind == .assign }
            for (i, token) in tokens.enumerated() {
                guard case .variable(let name) = token.kind else { continue }
                if let separator, i < separator { declared.insert(name) }
                else if !declared.contains(name) { throw TemplateError.parse(template, at: token.position, "undefined variable \"\(name)\"") }
            }
        }
    }

    private mutating func parseList() throws -> ([TemplateNode], Terminator, Int) {
        var nodes: [TemplateNode] = []
        while index < pieces.count {
            let piece = pieces[index]
            index += 1
            switch piece {
            case .text(let text): nodes.append(.text(text))
            case .action(let body, let position):
                let tokens = try TemplateLexer.tokens(body, offset: position, template: template)
                guard let first = tokens.first else { throw TemplateError.parse(template, at: position, "missing value for command") }
                if case .identifier(let word) = first.kind {
                    switch word {
                    case "end":
                        guard tokens.count == 1 else { throw TemplateError.parse(template, at: position, "unexpected \(describe(tokens[1])) in end") }
                        return (nodes, .end, position)
                    case "else":
                        if tokens.count > 1, case .identifier("if") = tokens[1].kind {
                            return (nodes, .otherwise(elseIf: try pipeline(Array(tokens.dropFirst(2)), at: tokens[1].position, context: "if")), position)
                        }
                        guard tokens.count == 1 else { throw TemplateError.parse(template, at: position, "unexpected \(describe(tokens[1])) in else") }
                        return (nodes, .otherwise(elseIf: nil), position)
                    case "if", "range", "with":
                        let condition = try pipeline(Array(tokens.dropFirst()), at: first.position, context: word)
                        nodes.append(try block(word, condition, at: position))
                        continue
                    case "define", "template", "block", "break", "continue":
                        throw TemplateError.parse(template, at: position, "{{\(word)}} is not supported by swiftdock's templates")
                    default: break
                    }
                }
                nodes.append(.action(try pipeline(tokens, at: position, context: "command")))
            }
        }
        return (nodes, .eof, template.utf8.count)
    }

    /// The body of an `if`/`range`/`with` up to its `{{end}}`, with an `{{else}}` branch.
    private mutating func block(_ keyword: String, _ condition: Pipeline, at position: Int) throws -> TemplateNode {
        let (body, terminator, end) = try parseList()
        var otherwise: [TemplateNode]?
        switch terminator {
        case .eof: throw TemplateError.parse(template, at: end, "unexpected EOF")
        case .end: break
        case .otherwise(let elseIf):
            if let elseIf {
                // `{{else if X}}` is an `if` inside the else branch that shares the `{{end}}`.
                otherwise = [try block("if", elseIf, at: end)]
            } else {
                let (rest, final, finalPosition) = try parseList()
                switch final {
                case .end: otherwise = rest
                case .eof: throw TemplateError.parse(template, at: finalPosition, "unexpected EOF")
                case .otherwise: throw TemplateError.parse(template, at: finalPosition, "expected end; found {{else}}")
                }
            }
        }
        switch keyword {
        case "if": return .ifBlock(condition, body: body, otherwise: otherwise)
        case "range": return .rangeBlock(condition, body: body, otherwise: otherwise)
        default: return .withBlock(condition, body: body, otherwise: otherwise)
        }
    }

    /// `[$a[, $b] :=] command | command …`
    private func pipeline(_ tokens: [TemplateLexer.Token], at position: Int, context: String) throws -> Pipeline {
        var rest = ArraySlice(tokens)
        var declarations: [String] = []
        if let separator = tokens.firstIndex(where: { $0.kind == .declare || $0.kind == .assign }),
           tokens[..<separator].allSatisfy({ if case .variable = $0.kind { return true }; return $0.kind == .comma }) {
            declarations = tokens[..<separator].compactMap { if case .variable(let v) = $0.kind { return v }; return nil }
            rest = tokens[(separator + 1)...]
        }
        var commands: [Command] = []
        var current: [TemplateLexer.Token] = []
        var depth = 0
        for token in rest {
            if token.kind == .leftParen { depth += 1 }
            if token.kind == .rightParen { depth -= 1 }
            if token.kind == .pipe && depth == 0 {
                commands.append(try command(current, at: position))
                current = []
            } else {
                current.append(token)
            }
        }
        commands.append(try command(current, at: position))
        let start = rest.first?.position ?? position
        return Pipeline(declarations: declarations, commands: commands, position: start,
                        source: source(start, rest.last?.end ?? start))
    }

    private func command(_ tokens: [TemplateLexer.Token], at position: Int) throws -> Command {
        guard !tokens.isEmpty else { throw TemplateError.parse(template, at: position, "missing value for command") }
        var operands: [Operand] = []
        var i = 0
        while i < tokens.count {
            operands.append(try operand(tokens, &i))
        }
        return Command(operands: operands, position: tokens[0].position, source: source(tokens[0].position, tokens.last!.end))
    }

    /// A term and the `.Field`s glued to it.
    private func operand(_ tokens: [TemplateLexer.Token], _ i: inout Int) throws -> Operand {
        let token = tokens[i]
        i += 1
        var term: Operand.Term
        var fields: [String] = []
        var end = token.end
        switch token.kind {
        case .dot: term = .dot
        case .field(let name): term = .dot; fields = [name]
        case .variable(let name): term = .variable(name)
        case .string(let s): term = .literal(.string(s))
        case .number(let n): term = .literal(n)
        case .identifier(let word):
            switch word {
            case "true": term = .literal(.bool(true))
            case "false": term = .literal(.bool(false))
            case "nil": term = .literal(.null)
            default:
                guard TemplateParser.functions.contains(word) else {
                    throw TemplateError.parse(template, at: token.position, "function \"\(word)\" not defined")
                }
                term = .function(word)
            }
        case .leftParen:
            var depth = 1
            var j = i
            while j < tokens.count {
                if tokens[j].kind == .leftParen { depth += 1 }
                if tokens[j].kind == .rightParen { depth -= 1; if depth == 0 { break } }
                j += 1
            }
            guard j < tokens.count else { throw TemplateError.parse(template, at: token.position, "unclosed left paren") }
            term = .pipeline(try pipeline(Array(tokens[i..<j]), at: token.position, context: "parenthesized pipeline"))
            end = tokens[j].end
            i = j + 1
        default:
            throw TemplateError.parse(template, at: token.position, "unexpected \(describe(token)) in operand")
        }
        while i < tokens.count, !tokens[i].spaced, case .field(let name) = tokens[i].kind {
            fields.append(name)
            end = tokens[i].end
            i += 1
        }
        return Operand(term: term, fields: fields, position: token.position, source: source(token.position, end))
    }

    private func source(_ start: Int, _ end: Int) -> String {
        let bytes = Array(template.utf8)
        guard start < end, end <= bytes.count else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private func describe(_ token: TemplateLexer.Token) -> String {
        "\"\(source(token.position, token.end))\""
    }
}

import Foundation

/// A Go `text/template` as `docker inspect --format` takes it: field chains (`{{.Config.Env}}`),
/// `{{.}}`, variables, pipes, `if`/`else`/`range`/`with`, Go's builtins (`index`, `len`, `eq`,
/// `and`, `or`, `not`, `print`, `println`, …) and docker's own (`json`, `join`, `split`, `upper`,
/// `lower`, `title`, `truncate`). Values print as Go prints them (`[a b]`, `map[k:v]`, `<nil>`).
///
/// Hand-written: no Swift package on the machine implements Go templates, and the point is to
/// match Go's output and errors exactly (docker's missing field → `map has no entry for key`).
public struct GoTemplate: Sendable {
    public let source: String
    let nodes: [TemplateNode]

    /// Parses `source`; a syntax error is a `TemplateError` worded as Go's.
    public init(_ source: String) throws {
        self.source = source
        var parser = try TemplateParser(source)
        nodes = try parser.parse()
    }

    /// Executes the template with `data` as `.` and `$`.
    public func render(_ data: TemplateValue) throws -> String {
        var execution = TemplateExecution(template: source, variables: [("$", data)])
        try execution.run(nodes, dot: data)
        return execution.output
    }
}

/// One run of a template: the output so far and the variables in scope.
struct TemplateExecution {
    let template: String
    var variables: [(String, TemplateValue)]
    var output = ""

    mutating func run(_ nodes: [TemplateNode], dot: TemplateValue) throws {
        for node in nodes {
            switch node {
            case .text(let text): output += text
            case .action(let pipeline):
                let value = try evaluate(pipeline, dot: dot)
                if pipeline.declarations.isEmpty { output += value.goString }
            case .ifBlock(let condition, let body, let otherwise):
                let mark = variables.count
                if try evaluate(condition, dot: dot).isTrue { try run(body, dot: dot) } else if let otherwise { try run(otherwise, dot: dot) }
                variables.removeLast(variables.count - mark)
            case .withBlock(let condition, let body, let otherwise):
                let mark = variables.count
                let value = try evaluate(condition, dot: dot)
                if value.isTrue { try run(body, dot: value) } else if let otherwise { try run(otherwise, dot: dot) }
                variables.removeLast(variables.count - mark)
            case .rangeBlock(let pipeline, let body, let otherwise):
                try runRange(pipeline, body: body, otherwise: otherwise, dot: dot)
            }
        }
    }

    private mutating func runRange(_ pipeline: Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?, dot: TemplateValue) throws {
        var condition = pipeline
        condition.declarations = []
        let value = try evaluate(condition, dot: dot)
        var items: [(TemplateValue, TemplateValue)]
        switch value {
        case .list(let list): items = (list ?? []).enumerated().map { (.int(Int64($0.offset)), $0.element) }
        case .map(let map): items = (map ?? [:]).sorted { $0.key < $1.key }.map { (.string($0.key), $0.value) }
        case .int(let n): items = (0..<max(0, n)).map { (.int($0), .int($0)) }
        case .null, .noValue: items = []
        default:
            throw TemplateError.execution(template, at: pipeline.position, node: pipeline.source, "range can't iterate over \(value.goString)")
        }
        guard !items.isEmpty else {
            if let otherwise { try run(otherwise, dot: dot) }
            return
        }
        for (key, element) in items {
            let mark = variables.count
            switch pipeline.declarations.count {
            case 0: break
            case 1: variables.append((pipeline.declarations[0], element))
            default:
                variables.append((pipeline.declarations[0], key))
                variables.append((pipeline.declarations[1], element))
            }
            try run(body, dot: element)
            variables.removeLast(variables.count - mark)
        }
    }

    /// A pipeline's value; each command's result is the last argument of the next.
    mutating func evaluate(_ pipeline: Pipeline, dot: TemplateValue) throws -> TemplateValue {
        var value: TemplateValue?
        for command in pipeline.commands {
            value = try evaluate(command, dot: dot, final: value)
        }
        let result = value ?? .noValue
        for name in pipeline.declarations { variables.append((name, result)) }
        return result
    }

    private mutating func evaluate(_ command: Command, dot: TemplateValue, final: TemplateValue?) throws -> TemplateValue {
        let first = command.operands[0]
        if case .function(let name) = first.term, first.fields.isEmpty {
            var arguments: [TemplateValue] = []
            for operand in command.operands.dropFirst() { arguments.append(try evaluate(operand, dot: dot)) }
            if let final { arguments.append(final) }
            do {
                return try TemplateFunctions.call(name, arguments)
            } catch let error as TemplateFunctions.CallError {
                throw TemplateError.execution(template, at: command.position, node: command.source, "error calling \(name): \(error.message)")
            }
        }
        guard command.operands.count == 1, final == nil else {
            throw TemplateError.execution(template, at: command.position, node: command.source, "can't give argument to non-function \(first.source)")
        }
        return try evaluate(first, dot: dot)
    }

    private mutating func evaluate(_ operand: Operand, dot: TemplateValue) throws -> TemplateValue {
        var value: TemplateValue
        switch operand.term {
        case .dot: value = dot
        case .literal(let literal): value = literal
        case .function(let name):
            do { value = try TemplateFunctions.call(name, []) } catch let error as TemplateFunctions.CallError {
                throw TemplateError.execution(template, at: operand.position, node: operand.source, "error calling \(name): \(error.message)")
            }
        case .pipeline(let pipeline): value = try evaluate(pipeline, dot: dot)
        case .variable(let name):
            guard let found = variables.last(where: { $0.0 == name }) else {
                throw TemplateError.execution(template, at: operand.position, node: operand.source, "undefined variable \"\(name)\"")
            }
            value = found.1
        }
        for name in operand.fields {
            switch value {
            case .object(let fields):
                // docker executes the template again on the raw JSON with missingkey=error,
                // so an unknown field reads as a missing map key.
                guard let field = fields.first(where: { $0.name == name }) else {
                    throw TemplateError.execution(template, at: operand.position, node: operand.source, "map has no entry for key \"\(name)\"")
                }
                value = field.value
            case .map(let entries):
                value = entries?[name] ?? .noValue
            case .null, .noValue:
                throw TemplateError.execution(template, at: operand.position, node: operand.source, "nil pointer evaluating interface {}.\(name)")
            default:
                throw TemplateError.execution(template, at: operand.position, node: operand.source, "can't evaluate field \(name) in type \(value.goTypeName)")
            }
        }
        return value
    }
}

/// The parsed form of a Go template (the subset of `text/template` docker users write).

/// A piece of a template.
indirect enum TemplateNode: Equatable, Sendable {
    case text(String)
    case action(Pipeline)
    case ifBlock(Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case rangeBlock(Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
    case withBlock(Pipeline, body: [TemplateNode], otherwise: [TemplateNode]?)
}

/// `[$a[, $b] :=] command | command …`
struct Pipeline: Equatable, Sendable {
    var declarations: [String]
    var commands: [Command]
    var position: Int
    var source: String
}

/// A function call (`index .X "k"`) or a single operand (`.A.B`).
struct Command: Equatable, Sendable {
    var operands: [Operand]
    var position: Int
    var source: String
}

/// One operand with the field names that follow it (`$v.Name`, `(index .X 0).Id`).
struct Operand: Equatable, Sendable {
    enum Term: Equatable, Sendable {
        case dot
        case variable(String)
        case literal(TemplateValue)
        case function(String)
        case pipeline(Pipeline)
    }
    var term: Term
    var fields: [String]
    var position: Int
    var source: String
}

/// The error a template raises, worded as Go's `text/template` words it (docker prints these
/// after `template parsing error: `).
public struct TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    /// `template: :LINE: message`
    static func parse(_ template: String, at position: Int, _ message: String) -> TemplateError {
        TemplateError(message: "template: :\(location(template, position).line): \(message)")
    }

    /// `template: :LINE:COL: executing "" at <node>: message`
    static func execution(_ template: String, at position: Int, node: String, _ message: String) -> TemplateError {
        let (line, column) = location(template, position)
        return TemplateError(message: "template: :\(line):\(column): executing \"\" at <\(node)>: \(message)")
    }

    /// Line (1-based) and byte column (0-based) of a byte offset, as Go's `ErrorContext`.
    static func location(_ template: String, _ position: Int) -> (line: Int, column: Int) {
        let bytes = Array(template.utf8.prefix(position))
        let line = 1 + bytes.filter { $0 == UInt8(ascii: "\n") }.count
        let column = bytes.lastIndex(of: UInt8(ascii: "\n")).map { bytes.count - $0 - 1 } ?? bytes.count
        return (line, column)
    }
}

import Foundation

/// The functions templates may call: Go's builtins and the ones docker's CLI adds.
enum TemplateFunctions {
    /// A function's failure; the caller words it as Go's `error calling NAME: …`.
    struct CallError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func call(_ name: String, _ args: [TemplateValue]) throws -> TemplateValue {
        func arity(_ n: Int) throws {
            guard args.count == n else { throw CallError("wrong number of args for \(name): want \(n) got \(args.count)") }
        }
        func string(_ value: TemplateValue) throws -> String {
            guard case .string(let s) = value else { throw CallError("wrong type for value; expected string; got \(value.goTypeName)") }
            return s
        }
        switch name {
        case "json":
            try arity(1)
            return .string(GoJSON.compact(args[0]))
        case "index":
            guard var value = args.first else { throw CallError("wrong number of args for index: want at least 1 got 0") }
            for key in args.dropFirst() {
                switch (value, key) {
                case (.list(let items), .int(let i)):
                    guard i >= 0, i < (items ?? []).count else { throw CallError("index out of range: \(i)") }
                    value = items![Int(i)]
                case (.map(let entries), .string(let k)):
                    // A missing key gives the element type's zero value; labels are strings.
                    value = entries?[k] ?? .string("")
                case (.null, _), (.noValue, _):
                    throw CallError("index of untyped nil")
                default:
                    throw CallError("cannot index slice/array with type \(key.goTypeName)")
                }
            }
            return value
        case "len":
            try arity(1)
            switch args[0] {
            case .string(let s): return .int(Int64(s.utf8.count))
            case .list(let items): return .int(Int64((items ?? []).count))
            case .map(let entries): return .int(Int64((entries ?? [:]).count))
            default: throw CallError("len of type \(args[0].goTypeName)")
            }
        case "not":
            try arity(1)
            return .bool(!args[0].isTrue)
        case "and":
            guard !args.isEmpty else { throw CallError("wrong number of args for and: want at least 1 got 0") }
            return args.first { !$0.isTrue } ?? args.last!
        case "or":
            guard !args.isEmpty else { throw CallError("wrong number of args for or: want at least 1 got 0") }
            return args.first { $0.isTrue } ?? args.last!
        case "eq":
            guard args.count >= 2 else { throw CallError("missing argument for comparison") }
            return .bool(try args.dropFirst().contains { try compare(args[0], $0) == .orderedSame })
        case "ne":
            try arity(2)
            return .bool(try compare(args[0], args[1]) != .orderedSame)
        case "lt", "le", "gt", "ge":
            try arity(2)
            let order = try compare(args[0], args[1], ordered: true)
            switch name {
            case "lt": return .bool(order == .orderedAscending)
            case "le": return .bool(order != .orderedDescending)
            case "gt": return .bool(order == .orderedDescending)
            default: return .bool(order != .orderedAscending)
            }
        case "print":
            return .string(goSprint(args))
        case "println":
            return .string(args.map(\.goString).joined(separator: " ") + "\n")
        case "join":
            try arity(2)
            guard case .list(let items) = args[0] else { throw CallError("wrong type for value; expected []string; got \(args[0].goTypeName)") }
            return .string(try (items ?? []).map(string).joined(separator: try string(args[1])))
        case "split":
            try arity(2)
            let separator = try string(args[1])
            let text = try string(args[0])
            let parts = separator.isEmpty ? text.map(String.init) : text.components(separatedBy: separator)
            return .strings(parts)
        case "lower": try arity(1); return .string(try string(args[0]).lowercased())
        case "upper": try arity(1); return .string(try string(args[0]).uppercased())
        case "title": try arity(1); return .string(try string(args[0]).capitalized)
        case "truncate":
            try arity(2)
            guard case .int(let n) = args[1] else { throw CallError("wrong type for value; expected int; got \(args[1].goTypeName)") }
            let text = try string(args[0])
            return .string(text.count <= n ? text : String(text.prefix(Int(max(0, n)))))
        default:
            throw CallError("function \"\(name)\" not defined")
        }
    }

    /// Go's `fmt.Sprint`: spaces only between operands when neither is a string.
    static func goSprint(_ args: [TemplateValue]) -> String {
        var out = ""
        for (i, arg) in args.enumerated() {
            if i > 0, !isString(arg), !isString(args[i - 1]) { out += " " }
            out += arg.goString
        }
        return out
    }

    private static func isString(_ value: TemplateValue) -> Bool {
        if case .string = value { return true }
        return false
    }

    /// Go's comparison of basic values: numbers with numbers, strings with strings, bools
    /// with bools (equality only); anything else is `incompatible types for comparison`.
    static func compare(_ a: TemplateValue, _ b: TemplateValue, ordered: Bool = false) throws -> ComparisonResult {
        func order<T: Comparable>(_ x: T, _ y: T) -> ComparisonResult { x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame) }
        switch (a, b) {
        case (.int(let x), .int(let y)): return order(x, y)
        case (.int(let x), .double(let y)): return order(Double(x), y)
        case (.double(let x), .int(let y)): return order(x, Double(y))
        case (.double(let x), .double(let y)): return order(x, y)
        case (.string(let x), .string(let y)): return order(x, y)
        case (.bool(let x), .bool(let y)) where !ordered: return x == y ? .orderedSame : .orderedAscending
        case (.null, .null) where !ordered: return .orderedSame
        default: throw CallError("incompatible types for comparison")
        }
    }
}

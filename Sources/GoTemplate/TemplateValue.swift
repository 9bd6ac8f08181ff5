import Foundation

/// A value a template reads, shaped like the Go value docker's template would see, because
/// Go prints each kind differently: a nil slice as `[]`, a nil map as `map[]`, a nil pointer as
/// `<nil>`, a struct as `{a b}`; `json` writes `null` for all three.
public indirect enum TemplateValue: Equatable, Sendable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// A nil pointer or interface.
    case null
    /// What a missing map key yields: printed `<no value>`, as Go does.
    case noValue
    /// A slice; nil for a nil slice.
    case list([TemplateValue]?)
    /// A map with string keys; nil for a nil map. Missing keys are not errors.
    case map([String: TemplateValue]?)
    /// A struct: fields in declaration order. A missing field is an error.
    case object([TemplateField])

    /// A list of strings, nil staying a nil slice.
    public static func strings(_ values: [String]?) -> TemplateValue {
        .list(values.map { $0.map(TemplateValue.string) })
    }

    /// A map of strings, nil staying a nil map.
    public static func stringMap(_ values: [String: String]?) -> TemplateValue {
        .map(values.map { $0.mapValues(TemplateValue.string) })
    }

    /// A value decoded from JSON bytes: objects become maps, integral numbers `int`.
    public static func decodeJSON(_ data: Data) throws -> TemplateValue {
        try JSONDecoder().decode(JSONValue.self, from: data).value
    }

    /// Go's `fmt.Print` of the value (`%v`).
    public var goString: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return TemplateValue.goFloat(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "<nil>"
        case .noValue: return "<no value>"
        case .list(let items): return "[" + (items ?? []).map(\.goString).joined(separator: " ") + "]"
        case .map(let entries):
            return "map[" + (entries ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.goString)" }.joined(separator: " ") + "]"
        case .object(let fields): return "{" + fields.map(\.value.goString).joined(separator: " ") + "}"
        }
    }

    /// Go's `%v` of a float64: the shortest form, with an exponent from 1e21 on.
    static func goFloat(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e21 { return String(format: "%.0f", d) }
        return "\(d)"
    }

    /// Go's template truth: false, 0, nil, and empty strings, slices and maps are false.
    public var isTrue: Bool {
        switch self {
        case .string(let s): return !s.isEmpty
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .bool(let b): return b
        case .null, .noValue: return false
        case .list(let items): return !(items ?? []).isEmpty
        case .map(let entries): return !(entries ?? [:]).isEmpty
        case .object: return true
        }
    }

    /// The Go type name errors mention.
    var goTypeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int64"
        case .double: return "float64"
        case .bool: return "bool"
        case .null, .noValue: return "interface {}"
        case .list: return "[]interface {}"
        case .map: return "map[string]interface {}"
        case .object: return "struct"
        }
    }
}

/// One field of a struct value; `omitEmpty` drops it from JSON when empty, as Go's
/// `json:",omitempty"` does (templates still see it).
public struct TemplateField: Equatable, Sendable {
    public var name: String
    public var value: TemplateValue
    public var omitEmpty: Bool

    public init(_ name: String, _ value: TemplateValue, omitEmpty: Bool = false) {
        self.name = name
        self.value = value
        self.omitEmpty = omitEmpty
    }
}

/// Decodes any JSON into a `TemplateValue`.
struct JSONValue: Decodable {
    var value: TemplateValue

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { value = .null }
        else if let b = try? c.decode(Bool.self) { value = .bool(b) }
        else if let i = try? c.decode(Int64.self) { value = .int(i) }
        else if let d = try? c.decode(Double.self) { value = .double(d) }
        else if let s = try? c.decode(String.self) { value = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { value = .list(a.map(\.value)) }
        else { value = .map(try c.decode([String: JSONValue].self).mapValues(\.value)) }
    }
}

import GoQuoting

/// JSON as Go's `encoding/json` writes it with `SetEscapeHTML(false)` (docker's `json`
/// template function and `docker inspect`'s output): struct fields in declaration order, map
/// keys sorted, nil slices and maps as `null`, `omitempty` fields dropped when empty.
public enum GoJSON {
    /// Compact form, as the `json` function returns it.
    public static func compact(_ value: TemplateValue) -> String {
        var out = ""
        write(value, indent: nil, depth: 0, into: &out)
        return out
    }

    /// Indented form (`json.Indent` with `indent` per level), as `docker inspect` prints.
    public static func indented(_ value: TemplateValue, indent: String = "    ") -> String {
        var out = ""
        write(value, indent: indent, depth: 0, into: &out)
        return out
    }

    private static func write(_ value: TemplateValue, indent: String?, depth: Int, into out: inout String) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n" + String(repeating: indent, count: level)
        }
        func members(_ items: [(String?, TemplateValue)], open: Character, close: Character) {
            out.append(open)
            guard !items.isEmpty else { out.append(close); return }
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(depth + 1)
                if let key = item.0 {
                    out += goJSONQuoted(key) + (indent == nil ? ":" : ": ")
                }
                write(item.1, indent: indent, depth: depth + 1, into: &out)
            }
            newline(depth)
            out.append(close)
        }
        switch value {
        case .string(let s): out += goJSONQuoted(s)
        case .int(let i): out += String(i)
        case .double(let d): out += TemplateValue.goFloat(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null, .noValue, .list(nil), .map(nil): out += "null"
        case .list(let items?): members(items.map { (nil, $0) }, open: "[", close: "]")
        case .map(let entries?): members(entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, open: "{", close: "}")
        case .object(let fields):
            members(fields.filter { !($0.omitEmpty && isEmpty($0.value)) }.map { ($0.name, $0.value) }, open: "{", close: "}")
        }
    }

    /// Go's notion of an empty value for `omitempty`.
    static func isEmpty(_ value: TemplateValue) -> Bool {
        switch value {
        case .object: return false
        default: return !value.isTrue
        }
    }
}

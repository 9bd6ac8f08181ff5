// Go's two ways of quoting a string, both of which docker and BuildKit print: `%q`
// (strconv.Quote: errors, history) and a JSON string (encoding/json: `{{json …}}`).

/// Quotes a string the way Go's `%q` does (BuildKit writes history and errors with it):
/// other control characters and DEL as `\xXX`.
public func goQuoted(_ s: String) -> String {
    quoted(s) { scalar in
        guard scalar.value < 0x20 || scalar.value == 0x7f else { return nil }
        return "\\x" + hex(scalar.value, digits: 2)
    }
}

/// A JSON string as Go writes it: other control characters as `\u00XX`, U+2028 and U+2029
/// escaped; no HTML escaping.
public func goJSONQuoted(_ s: String) -> String {
    quoted(s) { scalar in
        switch scalar {
        case "\u{2028}": return "\\u2028"
        case "\u{2029}": return "\\u2029"
        default: return scalar.value < 0x20 ? "\\u" + hex(scalar.value, digits: 4) : nil
        }
    }
}

/// `s` in double quotes with `"`, `\` and the `\n`, `\r`, `\t` escapes both forms share;
/// `escape` answers how any other scalar is written (nil: as it is).
private func quoted(_ s: String, escape: (Unicode.Scalar) -> String?) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if let escaped = escape(scalar) {
                out += escaped
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Lower-case hex of `value`, zero-padded to `digits`.
private func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}

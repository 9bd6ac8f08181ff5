// Go's two ways of quoting a string, both of which docker and BuildKit print: `%q`
// (strconv.Quote: errors, history) and a JSON string (encoding/json: `{{json …}}`).

/// Quotes a string the way Go's `%q` does (strconv.Quote; BuildKit writes history and errors
/// with it, so a `CMD` history entry is byte-for-byte BuildKit's): `\a \b \f \v` by name, other
/// control characters below U+0020 and DEL as `\xXX`, and every other scalar Go's
/// `unicode.IsPrint` rejects (not a letter, mark, number, punctuation or symbol: C1 controls,
/// format characters such as U+200B and U+00AD, separators other than the ASCII space, private
/// use, unassigned) as `\uXXXX` or `\UXXXXXXXX`. Swift's general categories stand in for Go's
/// tables; the two may disagree on scalars one Unicode version assigns and the other does not.
public func goQuoted(_ s: String) -> String {
    quoted(s) { scalar in
        switch scalar.value {
        case 0x07: return "\\a"
        case 0x08: return "\\b"
        case 0x0b: return "\\v"
        case 0x0c: return "\\f"
        case ..<0x20, 0x7f: return "\\x" + hex(scalar.value, digits: 2)
        case ..<0x7f: return nil
        default:
            if isGoPrintable(scalar) { return nil }
            return scalar.value < 0x10000 ? "\\u" + hex(scalar.value, digits: 4) : "\\U" + hex(scalar.value, digits: 8)
        }
    }
}

/// Go's `unicode.IsPrint` above ASCII: letters, marks, numbers, punctuation and symbols.
private func isGoPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
         .nonspacingMark, .spacingMark, .enclosingMark,
         .decimalNumber, .letterNumber, .otherNumber,
         .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
         .initialPunctuation, .finalPunctuation, .otherPunctuation,
         .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
        return true
    default:
        return false
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

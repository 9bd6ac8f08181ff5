/// Stanzas of `Key: value` lines separated by blank lines, with indented continuation lines:
/// the shape of dpkg's status file (deb822), Python's core metadata headers (RFC 822) and,
/// with one-letter keys, apk's installed database. Hand-written because no kept library
/// parses these; bytes that are not UTF-8 are repaired, never fatal.
enum ControlFields {
    /// One stanza: its fields in order (a key may repeat; the first wins in `value`).
    struct Stanza {
        var fields: [(key: String, value: String)] = []

        func value(_ key: String) -> String? {
            fields.first { $0.key.equalsIgnoringCase(key) }?.value
        }
    }

    /// Splits `bytes` into stanzas. With `headersOnly`, stops at the first blank line (a
    /// METADATA file's body is the long description). A line that is neither a field nor a
    /// continuation makes its stanza invalid (`nil` in the result), not the whole file.
    static func stanzas(_ bytes: [UInt8], separator: Character = ":", headersOnly: Bool = false) -> [Stanza?] {
        var result: [Stanza?] = []
        var current: Stanza? = Stanza()
        var open = false
        func finish() {
            if open { result.append(current) }
            current = Stanza()
            open = false
        }
        let text = String(decoding: bytes, as: UTF8.self)
        // "\r\n" is one Character in Swift: both end a line.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if headersOnly && open { break }
                finish()
                continue
            }
            open = true
            if line.first == " " || line.first == "\t" {
                // Continuation of the previous field's value.
                if current != nil, !(current!.fields.isEmpty) {
                    current!.fields[current!.fields.count - 1].value += "\n" + line.drop { $0 == " " || $0 == "\t" }
                } else {
                    current = nil
                }
                continue
            }
            guard let colon = line.firstIndex(of: separator), colon != line.startIndex else {
                current = nil
                continue
            }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingSpaces()
            current?.fields.append((key, value))
        }
        finish()
        return result
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    func equalsIgnoringCase(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}

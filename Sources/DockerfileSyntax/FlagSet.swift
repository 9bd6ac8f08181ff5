// Instruction flags (`--name=value`), checked the way BuildKit's `bflag.go` checks them.

struct FlagSet {
    enum Kind { case bool, string, strings }

    /// Accepted flags for the instruction.
    let kinds: [String: Kind]
    /// Flags as they appeared, in order (quotes already removed by `SplitCommand`).
    private(set) var parsed: [Flag] = []
    private var values: [String: [String?]] = [:]

    /// Parses the raw `--…` words; throws a message in BuildKit's wording.
    init(_ words: [String], accepting kinds: [String: Kind]) throws {
        self.kinds = kinds
        for word in words {
            var body = String(word.dropFirst(2))
            var value: String?
            if let eq = body.firstIndex(of: "=") {
                value = String(body[body.index(after: eq)...])
                body = String(body[..<eq])
            }
            guard let kind = kinds[body] else { throw FlagError("unknown flag: \(body)") }
            if values[body] != nil && kind != .strings { throw FlagError("duplicate flag specified: \(body)") }
            switch kind {
            case .bool:
                if let v = value {
                    guard !v.isEmpty else { throw FlagError("missing a value on flag: \(body)") }
                    guard ["true", "false"].contains(v.lowercased()) else {
                        throw FlagError("expecting boolean value for flag \(body), not: \(v)")
                    }
                }
            case .string, .strings:
                guard value != nil else { throw FlagError("missing a value on flag: \(body)") }
            }
            values[body, default: []].append(value)
            parsed.append(Flag(name: body, value: value))
        }
    }

    /// The value of a string flag, nil when absent.
    func string(_ name: String) -> String? { values[name]?.last ?? nil }

    /// Every value of a repeatable flag, in order.
    func strings(_ name: String) -> [String] { (values[name] ?? []).compactMap { $0 } }

    /// A boolean flag: nil when absent, true for a bare `--name`.
    func bool(_ name: String) -> Bool? {
        guard let entry = values[name]?.last else { return nil }
        guard let v = entry else { return true }
        return v.lowercased() == "true"
    }
}

struct FlagError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

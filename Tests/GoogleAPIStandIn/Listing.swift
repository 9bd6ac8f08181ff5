import Foundation

/// List answers (AIP-132, AIP-158, AIP-160) shared by the list methods.
enum Listing {
    /// One page of `items` under `key`: `pageSize` (else `defaultPageSize`, else all) items from
    /// the offset `pageToken` names, with `nextPageToken` while more remain. No items: `{}`, as
    /// proto3 JSON omits empty lists.
    static func page(_ items: [JSONValue], key: String, query: [String: String], defaultPageSize: Int?) throws -> JSONValue {
        var offset = 0
        if let token = query["pageToken"], !token.isEmpty {
            guard token.hasPrefix("page-"), let start = Int(token.dropFirst(5)), (0...items.count).contains(start) else {
                throw GoogleError.invalidArgument("Invalid page token \(token).")
            }
            offset = start
        }
        var size = items.count
        if let text = query["pageSize"], !text.isEmpty {
            guard let requested = Int(text), requested >= 0 else { throw GoogleError.invalidArgument("Invalid pageSize \(text).") }
            if requested > 0 { size = requested }
        } else if let defaultPageSize, defaultPageSize > 0 {
            size = defaultPageSize
        }
        let end = min(items.count, offset + size)
        var answer: JSONValue = [:]
        if end > offset { answer[key] = .array(Array(items[offset..<end])) }
        if end < items.count { answer["nextPageToken"] = .string("page-\(end)") }
        return answer
    }

    /// Whether `resource` passes a list filter: terms joined by ` AND `, each `FIELD=VALUE` or
    /// `FIELD!=VALUE` (the value optionally in double quotes), FIELD one of `labels.KEY`, `state`,
    /// `display_name` / `displayName`. Anything else is refused with 400 INVALID_ARGUMENT.
    static func matches(_ resource: JSONValue, filter: String) throws -> Bool {
        let trimmed = filter.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return true }
        for term in trimmed.components(separatedBy: " AND ") {
            guard let (field, negated, value) = parse(term) else {
                throw GoogleError.invalidArgument("Unsupported filter: \(filter) (the stand-in takes FIELD=\"VALUE\" terms joined by AND).")
            }
            let actual: JSONValue?
            switch field {
            case "state": actual = resource["state"]
            case "display_name", "displayName": actual = resource["displayName"]
            case _ where field.hasPrefix("labels."): actual = resource["labels"]?[String(field.dropFirst(7))]
            default: throw GoogleError.invalidArgument("Unsupported filter field \(field) in \(filter).")
            }
            if (actual?.stringValue == value) == negated { return false }
        }
        return true
    }

    private static func parse(_ term: String) -> (field: String, negated: Bool, value: String)? {
        let term = term.trimmingCharacters(in: .whitespaces)
        let negated = term.contains("!=")
        let parts = term.components(separatedBy: negated ? "!=" : "=")
        guard parts.count == 2 else { return nil }
        let field = parts[0].trimmingCharacters(in: .whitespaces)
        var value = parts[1].trimmingCharacters(in: .whitespaces)
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        guard !field.isEmpty, !value.contains("\"") else { return nil }
        return (field, negated, value)
    }
}

import Foundation

/// The subset of Go templates `inspect --format` needs: `{{.A.B}}` and `{{json .A}}`,
/// with literal text around them.
enum TemplateField {
    struct TemplateError: Error, CustomStringConvertible {
        var template: String
        var description: String { "template parsing error: unsupported template \"\(template)\": use {{.Field.Sub}} or {{json .Field}}" }
    }

    static func render(_ template: String, _ document: [String: Any]) throws -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw TemplateError(template: template) }
            var expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            var asJSON = false
            if expression.hasPrefix("json ") {
                asJSON = true
                expression = String(expression.dropFirst(5)).trimmingCharacters(in: .whitespaces)
            }
            guard expression.hasPrefix(".") else { throw TemplateError(template: template) }
            var value: Any? = document
            for key in expression.dropFirst().split(separator: ".") {
                value = (value as? [String: Any])?[String(key)]
            }
            output += try stringify(value, asJSON: asJSON)
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private static func stringify(_ value: Any?, asJSON: Bool) throws -> String {
        guard let value, !(value is NSNull) else { return asJSON ? "null" : "<no value>" }
        if !asJSON, let s = value as? String { return s }
        if !asJSON, let n = value as? NSNumber { return n.stringValue }
        if !asJSON, let list = value as? [Any] { return "[" + list.map { (try? stringify($0, asJSON: false)) ?? "" }.joined(separator: " ") + "]" }
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}

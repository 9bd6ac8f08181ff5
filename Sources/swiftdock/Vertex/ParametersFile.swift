import ArgumentParser
import Foundation

/// `--parameters-file FILE.yaml|json`: the file's text, handed to papermill's `-y` inside the
/// container (JSON is YAML). JSON is checked here to be an object; YAML is parsed by papermill
/// (PyYAML) in the container, since the machine's Swift package list has no YAML parser, and a
/// bad file fails the job with PyYAML's message in its log.
enum ParametersFile {
    /// Vertex AI limits a container's arguments; a parameters file is meant to be small.
    static let maximumSize = 64 * 1024

    static func read(_ path: String) throws -> String {
        let lower = path.lowercased()
        let isJSON = lower.hasSuffix(".json")
        guard isJSON || lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") else {
            throw ValidationError("--parameters-file \(path): expected a .yaml, .yml or .json file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("--parameters-file \(path): cannot be read")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maximumSize + 1)) ?? Data()
        guard data.count <= maximumSize else {
            throw ValidationError("--parameters-file \(path): larger than \(maximumSize / 1024) KiB")
        }
        guard let text = String(data: data, encoding: .utf8), !text.contains("\0") else {
            throw ValidationError("--parameters-file \(path): not UTF-8 text")
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("--parameters-file \(path): empty")
        }
        if isJSON {
            guard (try? JSONSerialization.jsonObject(with: data)) is [String: Any] else {
                throw ValidationError("--parameters-file \(path): not a JSON object of parameter names and values")
            }
        }
        return text
    }
}

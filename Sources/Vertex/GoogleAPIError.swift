import Foundation

/// Google's error body (AIP-193): `{"error": {"code": 409, "message": "…", "status": "ALREADY_EXISTS"}}`.
struct GoogleAPIErrorBody: Decodable {
    struct Detail: Decodable {
        var code: Int?
        var message: String?
        var status: String?
    }
    var error: Detail
}

extension VertexError {
    /// A one-line error for a Google API reply with a non-2xx status: what was being done,
    /// Google's status and message, and the HTTP status.
    static func api(_ action: String, status: Int, body: [UInt8]) -> VertexError {
        let detail = (try? JSONDecoder().decode(GoogleAPIErrorBody.self, from: Data(body)))?.error
        var text = "\(action): "
        if let name = detail?.status, !name.isEmpty { text += name + ": " }
        if let message = detail?.message, !message.isEmpty {
            text += oneLine(message)
        } else {
            let raw = oneLine(String(decoding: body.prefix(200), as: UTF8.self))
            text += raw.isEmpty ? "no error message" : raw
        }
        return VertexError(status == 401 || status == 403 ? .credentials : .api, text + " (HTTP \(status))",
                           httpStatus: status, googleStatus: detail?.status)
    }

    /// Newlines folded into spaces so a message stays on one line.
    public static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTransport

/// The distribution spec's error body: `{"errors":[{"code":"…","message":"…"}]}`.
struct ErrorResponse: Decodable {
    struct Entry: Decodable {
        var code: String?
        var message: String?
    }
    var errors: [Entry]?
}

extension RegistryClient {
    /// Turns an unexpected response into a one-line `RegistryError`, reading the registry's
    /// error code when it sent one. `what` says what was being done (`push blob sha256:…`).
    public static func failure(_ response: HTTPClientResponse, registry: String, repository: String?,
                               what: String) async -> RegistryError {
        let status = Int(response.status.code)
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { Array(buffer: $0) } ?? []
        let entry = (try? JSONDecoder().decode(ErrorResponse.self, from: Data(body)))?.errors?.first
        let detail = [entry?.code, entry?.message].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        let kind: RegistryError.Kind
        var reason: String
        switch status {
        case 401:
            kind = .unauthorized
            reason = "authentication failed"
        case 403:
            kind = .denied
            reason = "access denied"
        case 404:
            kind = .notFound
            reason = "not found"
        default:
            kind = .invalidResponse
            reason = "unexpected response"
        }
        if !detail.isEmpty { reason += " (\(detail.replacingOccurrences(of: "\n", with: " ")))" }
        return RegistryError(kind, registry: registry, repository: repository, status: status, "\(what): \(reason)")
    }
}

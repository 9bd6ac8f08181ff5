import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An answer from a token endpoint, metadata server or `/v2/` probe.
struct AuthHTTPReply: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// What authentication needs from HTTP; `RegistryClient` provides it, tests fake it.
protocol AuthHTTP: Sendable {
    /// A request with the transport's retries; errors are `RegistryError(.transport)` naming the host.
    func authFetch(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> AuthHTTPReply
    /// One quick attempt (metadata server): throws on any connection problem or after `timeout`.
    func authProbe(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> AuthHTTPReply
    /// `https://host` or `http://host` for a registry.
    func authBaseURL(for registry: String) -> String
}

extension RegistryClient: AuthHTTP {
    func authFetch(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> AuthHTTPReply {
        let reply = try await fetch(url: url, method: method, headers: headers, body: body)
        return AuthHTTPReply(status: reply.status, headers: reply.headers.map { ($0.name, $0.value) }, body: reply.body)
    }

    func authProbe(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> AuthHTTPReply {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: options.userAgent)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return AuthHTTPReply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                             body: Array(buffer: bytes))
    }

    func authBaseURL(for registry: String) -> String {
        options.baseURL(for: registry)
    }
}

/// `application/x-www-form-urlencoded` and query-string encoding.
enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// `a=1&b=2`, in the given order (repeated names allowed).
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// `url` with `pairs` appended as its query (after `&` when it has one already).
    static func url(_ url: String, adding pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return url }
        return url + (url.contains("?") ? "&" : "?") + encode(pairs)
    }
}

/// A bearer or access token and when to stop using it.
struct ExpiringToken: Sendable {
    var value: String
    /// When it stops being offered: shortly before the server's expiry.
    var refreshAfter: Date
    /// A refresh token the server issued alongside (docker's OAuth2 flow).
    var refreshToken: String?

    /// Reads `{"token" | "access_token", "expires_in", "issued_at", "refresh_token"}`.
    /// `expires_in` defaults to 60 s; `issued_at` shortens the lifetime by the token's age
    /// (never by more than half, in case the clocks disagree).
    static func decode(_ body: [UInt8], now: Date) -> ExpiringToken? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        let value = [object["token"], object["access_token"]].compactMap { $0 as? String }.first { !$0.isEmpty }
        guard let value else { return nil }
        var lifetime = (object["expires_in"] as? NSNumber)?.doubleValue ?? 60
        if lifetime <= 0 { lifetime = 60 }
        if let issued = (object["issued_at"] as? String).flatMap(parseDate) {
            let age = min(max(now.timeIntervalSince(issued), 0), lifetime / 2)
            lifetime -= age
        }
        return ExpiringToken(value: value, refreshAfter: now.addingTimeInterval(lifetime - margin(lifetime)),
                             refreshToken: (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : $0 })
    }

    /// How long before expiry a token stops being used: a quarter of its life, at most 60 s.
    static func margin(_ lifetime: TimeInterval) -> TimeInterval {
        min(60, lifetime / 4)
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        // Go's RFC 3339 with nanoseconds: drop the fraction.
        if let dot = text.firstIndex(of: "."),
           let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            return formatter.date(from: String(text[..<dot]) + String(text[end...]))
        }
        return nil
    }

    /// The server's OAuth2 / registry error text, one line, for messages.
    static func errorText(_ body: [UInt8]) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        var parts: [String] = []
        if let error = object["error"] as? String { parts.append(error) }
        if let description = object["error_description"] as? String { parts.append(description) }
        if let errors = object["errors"] as? [[String: Any]], let first = errors.first {
            parts += [first["code"] as? String, first["message"] as? String].compactMap { $0 }
        }
        let text = parts.filter { !$0.isEmpty }.joined(separator: ": ").replacingOccurrences(of: "\n", with: " ")
        return text.isEmpty ? nil : String(text.prefix(200))
    }
}

import Foundation
import ImageModel

/// A bearer or access token and when to stop using it.
public struct ExpiringToken: Sendable {
    public var value: String
    /// When it stops being offered: shortly before the server's expiry.
    public var refreshAfter: Date
    /// A refresh token the server issued alongside (docker's OAuth2 flow).
    public var refreshToken: String?

    public init(value: String, refreshAfter: Date, refreshToken: String? = nil) {
        self.value = value
        self.refreshAfter = refreshAfter
        self.refreshToken = refreshToken
    }

    /// Reads `{"token" | "access_token", "expires_in", "issued_at", "refresh_token"}`.
    /// `expires_in` defaults to 60 s; `issued_at` shortens the lifetime by the token's age
    /// (never by more than half, in case the clocks disagree).
    public static func decode(_ body: [UInt8], now: Date) -> ExpiringToken? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        let value = [object["token"], object["access_token"]].compactMap { $0 as? String }.first { !$0.isEmpty }
        guard let value else { return nil }
        var lifetime = (object["expires_in"] as? NSNumber)?.doubleValue ?? 60
        if lifetime <= 0 { lifetime = 60 }
        if let issued = (object["issued_at"] as? String).flatMap(Timestamp.parse) {
            let age = min(max(now.timeIntervalSince(issued), 0), lifetime / 2)
            lifetime -= age
        }
        return ExpiringToken(value: value, refreshAfter: now.addingTimeInterval(lifetime - margin(lifetime)),
                             refreshToken: (object["refresh_token"] as? String).flatMap { $0.isEmpty ? nil : $0 })
    }

    /// How long before expiry a token stops being used: a quarter of its life, at most 60 s.
    public static func margin(_ lifetime: TimeInterval) -> TimeInterval {
        min(60, lifetime / 4)
    }

    /// The server's OAuth2 / registry error text, one line, for messages.
    public static func errorText(_ body: [UInt8]) -> String? {
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

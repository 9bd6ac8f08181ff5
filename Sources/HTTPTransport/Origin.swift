import Foundation

/// The web origin of a URL — scheme, host and port (RFC 6454) — the unit credentials are bound to.
///
/// Credentials a registry asked for travel only to that registry's origin: a redirect or an
/// upload `Location` to the same host on another port, or to plain HTTP on the same port, is
/// another origin and gets no `Authorization` header (docker and go-containerregistry compare
/// host names only, which hands the token to any service on the same machine).
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    /// nil for a URL without scheme or host (a relative one).
    public init?(url: String) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host, !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = host.lowercased()
        guard let port = components.port ?? Self.defaultPort(scheme) else { return nil }
        self.port = port
    }

    /// 80 for `http`, 443 for `https`; nil for schemes without a known default.
    public static func defaultPort(_ scheme: String) -> Int? {
        switch scheme {
        case "http": return 80
        case "https": return 443
        default: return nil
        }
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}

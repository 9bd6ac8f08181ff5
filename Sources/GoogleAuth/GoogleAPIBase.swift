import Foundation

/// Where Google API requests actually go. `SWIFTDOCK_GOOGLE_API_BASE` (for example
/// `http://127.0.0.1:8080`) replaces the scheme and host of every `*.googleapis.com` URL —
/// OAuth2, `REGION-aiplatform`, notebooks, cloudscheduler — so tests and air-gapped users can
/// point at a stand-in. Only the transport changes: URLs written into request bodies, JWT
/// audiences and messages keep Google's real hosts.
public struct GoogleAPIBase: Sendable, Equatable {
    /// The replacement `scheme://host[:port]`, without a trailing slash; nil when unset.
    public let override: String?

    public static let environmentKey = "SWIFTDOCK_GOOGLE_API_BASE"

    public init(environment: [String: String]) {
        let value = environment[Self.environmentKey]?.trimmingCharacters(in: .whitespaces) ?? ""
        var base = value
        while base.hasSuffix("/") { base.removeLast() }
        override = base.isEmpty ? nil : base
    }

    /// `url` as it should be requested: unchanged unless an override is set and the URL's host
    /// is a Google API host.
    public func transportURL(_ url: String) -> String {
        guard let override, let host = Self.host(of: url), Self.isGoogleAPIHost(host),
              let schemeEnd = url.range(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let pathStart = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        return override + afterScheme[pathStart...]
    }

    /// `googleapis.com` and its subdomains.
    public static func isGoogleAPIHost(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "googleapis.com" || host.hasSuffix(".googleapis.com")
    }

    static func host(of url: String) -> String? {
        URL(string: url)?.host
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore

/// Follows `Location` on 301, 302, 303, 307 and 308 (AHC's own redirects are off), at most
/// `limit` times. Each hop goes down through the layers below again, so the authentication
/// layer decides per hop whose credentials may go; headers the caller set that carry
/// credentials are dropped as soon as a hop leaves the first request's origin.
public struct RedirectLayer: HTTPLayer {
    let inner: HTTPLayer
    public static let limit = 10
    static let statuses: Set<UInt> = [301, 302, 303, 307, 308]
    private static let credentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"]

    public init(inner: HTTPLayer) {
        self.inner = inner
    }

    public func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
        var current = request
        let origin = Origin(url: request.url)
        var redirects = 0
        while true {
            let response = try await inner.send(current)
            guard Self.statuses.contains(response.status.code),
                  let location = response.headers.first(name: "Location"), !location.isEmpty else { return response }
            let seeOther = response.status.code == 303
            // A body that cannot be sent twice cannot follow a 307/308: the caller sees the redirect.
            if !seeOther, current.method != .GET, current.method != .HEAD, !current.body.isReplayable { return response }
            await discardBody(response)
            redirects += 1
            let next = Self.resolve(location, against: current.url)
            guard redirects <= Self.limit else {
                throw TransportError.tooManyRedirects(url: next, status: Int(response.status.code))
            }
            current.url = next
            if Origin(url: next) != origin {
                for name in Self.credentialHeaders { current = current.setting(name, to: nil) }
            }
            if seeOther {
                current.method = .GET
                current.body = .none
            }
        }
    }

    /// Resolves a `Location` header (absolute, or relative to the request URL).
    public static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else { return location }
        return resolved.absoluteString
    }
}

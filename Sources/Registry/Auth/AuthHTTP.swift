import AsyncHTTPClient
import Foundation
import HTTPTransport
import NIOCore
import NIOHTTP1

/// An answer from a token endpoint, metadata server or `/v2/` probe.
typealias AuthHTTPReply = HTTPReply

/// What registry authentication needs from HTTP: the transport's plain requests, and the
/// registry's base URL. `RegistryClient` provides it, tests fake it.
protocol AuthHTTP: HTTPFetching {
    /// `https://host` or `http://host` for a registry.
    func authBaseURL(for registry: String) -> String
}

extension AuthHTTP {
    /// A request with the transport's retries; a failure below HTTP becomes
    /// `RegistryError(.transport)` naming the host, the `TransportError` kept as its cause.
    func authFetch(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> AuthHTTPReply {
        do {
            return try await fetchReply(url: url, method: method, headers: headers, body: body)
        } catch let error as TransportError {
            throw RegistryError(.transport, registry: URL(string: url)?.host ?? url, error.description, underlying: error)
        }
    }
}

extension RegistryClient: AuthHTTP {
    public func fetchReply(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPReply {
        try await transport.fetchReply(url: url, method: method, headers: headers, body: body)
    }

    public func probeReply(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> HTTPReply {
        try await transport.probeReply(url: url, headers: headers, timeout: timeout)
    }

    func authBaseURL(for registry: String) -> String {
        options.baseURL(for: registry)
    }
}

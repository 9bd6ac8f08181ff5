import AsyncHTTPClient
import Foundation
import NIOCore

/// Credentials bound to one origin, and how to answer that origin's 401 challenge. The
/// registry client supplies one per request (registry, scopes, token cache); the transport
/// only decides where they may go.
public protocol OriginCredentials: Sendable {
    /// The only origin (scheme, host, port) these credentials are ever sent to.
    var origin: Origin? { get }
    /// An `Authorization` value already known (a cached token), without any request.
    func cachedAuthorization() async -> String?
    /// Answers a 401's `WWW-Authenticate` header with the `Authorization` value to retry with.
    func authorize(challenge: String) async throws -> String
    /// Forgets what `cachedAuthorization` returned: the origin refused it (expired, revoked).
    func invalidate() async
}

/// Attaches a request's credentials — and answers their origin's 401 challenge — only when
/// the request goes to that origin (scheme, host and port). A request elsewhere (a blob
/// redirect to storage, an upload `Location` on another port) passes without any
/// `Authorization` header, even one the caller set.
public struct AuthenticationLayer: HTTPLayer {
    let inner: HTTPLayer

    public init(inner: HTTPLayer) {
        self.inner = inner
    }

    public func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
        guard let credentials = request.credentials, let origin = credentials.origin, Origin(url: request.url) == origin else {
            return try await inner.send(request.setting("Authorization", to: nil))
        }
        let cached = await credentials.cachedAuthorization()
        let response = try await inner.send(request.setting("Authorization", to: cached))
        guard response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate") else {
            return response
        }
        await discardBody(response)
        if cached != nil { await credentials.invalidate() }
        let answer = try await credentials.authorize(challenge: challenge)
        // A stream body was consumed by the first attempt: the caller sees the 401 and restarts.
        guard request.body.isReplayable else { return response }
        return try await inner.send(request.setting("Authorization", to: answer))
    }
}

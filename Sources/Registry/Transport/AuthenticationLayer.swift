import AsyncHTTPClient
import Foundation
import NIOCore

/// Attaches the registry's credentials — and answers its 401 challenge — only when the
/// request goes to the registry's own origin (scheme, host and port). A request elsewhere (a
/// blob redirect to storage, an upload `Location` on another port) passes without any
/// `Authorization` header, even one the caller set.
struct AuthenticationLayer: HTTPLayer {
    let inner: HTTPLayer
    let authenticator: RegistryAuthenticating
    let options: RegistryOptions
    /// The client the authenticator uses to reach token endpoints (the client owns this layer).
    let handle: ClientHandle

    func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
        guard let credentials = request.credentials, Origin(url: request.url) == registryOrigin(credentials.registry) else {
            return try await inner.send(request.setting("Authorization", to: nil))
        }
        let registry = credentials.registry, scopes = credentials.scopes
        let cached = await authenticator.cachedAuthorization(registry: registry, scopes: scopes)
        let response = try await inner.send(request.setting("Authorization", to: cached))
        guard response.status == .unauthorized, let challenge = response.headers.first(name: "WWW-Authenticate") else {
            return response
        }
        await discardBody(response)
        if cached != nil { await authenticator.invalidate(registry: registry, scopes: scopes) }
        guard let client = handle.client else { throw CancellationError() }
        let answer = try await authenticator.authorize(registry: registry, challenge: challenge, scopes: scopes, using: client)
        // A stream body was consumed by the first attempt: the caller sees the 401 and restarts.
        guard request.body.isReplayable else { return response }
        return try await inner.send(request.setting("Authorization", to: answer))
    }

    /// `https://registry-1.docker.io:443` for `docker.io`; the scheme `options` picks otherwise.
    func registryOrigin(_ registry: String) -> Origin? {
        Origin(url: options.baseURL(for: registry))
    }
}

/// A weak way back from the layers to the client that owns them.
///
/// `@unchecked Sendable`: `client` is written once, at the end of `RegistryClient.init`,
/// before the client (and so this handle) is shared with any other task; after that it is only read.
final class ClientHandle: @unchecked Sendable {
    weak var client: RegistryClient?
}

/// Follows `Location` on 301, 302, 303, 307 and 308 (AHC's own redirects are off), at most
/// `limit` times. Each hop goes down through the layers below again, so the authentication
/// layer decides per hop whose credentials may go; headers the caller set that carry
/// credentials are dropped as soon as a hop leaves the first request's origin.
struct RedirectLayer: HTTPLayer {
    let inner: HTTPLayer
    static let limit = 10
    static let statuses: Set<UInt> = [301, 302, 303, 307, 308]
    private static let credentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"]

    func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
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
            let next = RegistryClient.resolve(location, against: current.url)
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
}

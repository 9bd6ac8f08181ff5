import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import HTTPTransport

/// What a request needs the token to allow: `repository:NAME:pull,push`.
public struct AuthScope: Hashable, Sendable, CustomStringConvertible {
    public var repository: String
    public var actions: [String]

    public init(repository: String, actions: [String]) {
        self.repository = repository
        self.actions = actions
    }

    public static func pull(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["pull"]) }
    /// Push scope lists `push` first: a few registries only read the first action.
    public static func push(_ repository: String) -> AuthScope { AuthScope(repository: repository, actions: ["push", "pull"]) }

    public var description: String { "repository:\(repository):\(actions.joined(separator: ","))" }
}

/// One registry API call, before authentication, scheme choice, retries and redirects.
public struct RegistryRequest: Sendable {
    public var method: HTTPMethod
    /// The registry as named in the reference (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// The path and query (`/v2/a/b/manifests/latest`), or an absolute URL (upload `Location`).
    public var target: String
    public var headers: [(String, String)]
    public var body: RequestBody
    public var scopes: [AuthScope]
    /// Called with each chunk's byte count as a `file` or `stream` body is sent.
    public var onProgress: (@Sendable (Int) -> Void)?

    public init(method: HTTPMethod, registry: String, target: String, headers: [(String, String)] = [],
                body: RequestBody = .none, scopes: [AuthScope], onProgress: (@Sendable (Int) -> Void)? = nil) {
        self.method = method
        self.registry = registry
        self.target = target
        self.headers = headers
        self.body = body
        self.scopes = scopes
        self.onProgress = onProgress
    }
}

/// Supplies `Authorization` headers: from a cache, or by answering a `WWW-Authenticate`
/// challenge (token servers, Basic credentials, Google access tokens).
public protocol RegistryAuthenticating: Sendable {
    /// A header value already known for these scopes (a cached token), without any request.
    func cachedAuthorization(registry: String, scopes: [AuthScope]) async -> String?
    /// Answers a 401's `WWW-Authenticate` header with a header value to retry with.
    /// Throws `RegistryError` (`.unauthorized`/`.credentials`) with a one-line reason.
    func authorize(registry: String, challenge: String, scopes: [AuthScope], using client: RegistryClient) async throws -> String
    /// Forgets what was cached for these scopes (the registry refused it: expired or revoked).
    func invalidate(registry: String, scopes: [AuthScope]) async
}

/// Sends no credentials: for open registries, and for tests.
public struct AnonymousAuthenticator: RegistryAuthenticating {
    public init() {}
    public func cachedAuthorization(registry: String, scopes: [AuthScope]) async -> String? { nil }
    public func authorize(registry: String, challenge: String, scopes: [AuthScope], using client: RegistryClient) async throws -> String {
        throw RegistryError(.unauthorized, registry: registry, repository: scopes.first?.repository, status: 401,
                            "authentication required and no credentials are configured")
    }
    public func invalidate(registry: String, scopes: [AuthScope]) async {}
}

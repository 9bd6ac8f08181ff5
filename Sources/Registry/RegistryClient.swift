import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import HTTPTransport

/// The HTTP side of the registry API, standing on the shared `HTTPTransport`: scheme by
/// registry (plain HTTP for loopback and `--insecure`), and per request the registry's
/// credentials, bound to its origin (scheme, host, port) so they reach nowhere else.
public final class RegistryClient: Sendable {
    public let options: RegistryOptions
    public let authenticator: RegistryAuthenticating
    /// The HTTP stack (retries, redirects, TLS roots, the same-origin rule).
    public let transport: HTTPTransport

    public init(options: RegistryOptions = RegistryOptions(), authenticator: RegistryAuthenticating) {
        self.options = options
        self.authenticator = authenticator
        transport = HTTPTransport(options: options.transport)
    }

    /// Closes connections; call once when done.
    public func shutdown() async {
        await transport.shutdown()
    }

    /// Sends a registry request through the registry stack (redirects → authentication →
    /// retries → one exchange): credentials go to the registry's origin only, one 401
    /// challenge is answered, transient failures are retried (replayable bodies only).
    /// The caller reads (or drops) the returned response's body.
    public func send(_ request: RegistryRequest) async throws -> HTTPClientResponse {
        let outgoing = TransportRequest(url: absoluteURL(request.target, registry: request.registry), method: request.method,
                                        headers: request.headers, body: request.body, onProgress: request.onProgress,
                                        credentials: RegistryCredentials(client: self, registry: request.registry, scopes: request.scopes))
        do {
            return try await transport.authenticating.send(outgoing)
        } catch let error as TransportError {
            throw Self.registryError(error, registry: request.registry, repository: request.scopes.first?.repository)
        }
    }

    /// The statuses `send` and `fetch` retry by default.
    public static let retriedStatuses: Set<Int> = TransportRequest.defaultRetriedStatuses

    /// A plain request outside the registry API (token endpoints, metadata servers, Google
    /// APIs): retries like `send` (on `retrying` statuses; a caller whose request must not run
    /// twice narrows them), no registry credentials, no redirects, body collected (at most 4 MiB).
    public func fetch(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
                      body: [UInt8]? = nil, retrying: Set<Int> = retriedStatuses)
        async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let host = URL(string: url)?.host ?? url
        do {
            let reply = try await transport.fetch(url: url, method: method, headers: headers, body: body, retriedStatuses: retrying)
            var fields = HTTPHeaders()
            for (name, value) in reply.headers { fields.add(name: name, value: value) }
            return (reply.status, fields, reply.body)
        } catch let error as TransportError {
            // Not a registry API call: name the URL, not "the registry".
            if case .unreachable = error { throw RegistryError(.transport, registry: host, error.description, underlying: error) }
            throw Self.registryError(error, registry: host, repository: nil)
        }
    }

    /// One line for a transport failure, naming the registry (never a credential or a query).
    static func registryError(_ error: TransportError, registry: String, repository: String?) -> RegistryError {
        switch error {
        case .unreachable(let url, let cause):
            return RegistryError(.transport, registry: registry, repository: repository,
                                 "cannot reach the registry at \(TransportError.display(url)): \(TransientErrors.describe(cause))",
                                 underlying: error)
        case .retryAfterTooLong(_, let status, let seconds, let limit):
            return RegistryError(.transport, registry: registry, repository: repository, status: status,
                                 "the registry asks to retry after \(Int(seconds)) s, longer than the \(Int(limit)) s "
                                 + "swiftdock waits; try again later", underlying: error)
        case .tooManyRedirects(_, let status):
            return RegistryError(.invalidResponse, registry: registry, repository: repository, status: status,
                                 "too many redirects", underlying: error)
        case .unsupportedURL, .resumeFailed:
            return RegistryError(.invalidResponse, registry: registry, repository: repository, error.description, underlying: error)
        case .unreadableAnswer, .unreadableFile:
            return RegistryError(.transport, registry: registry, repository: repository, error.description, underlying: error)
        }
    }

    // MARK: pieces

    func absoluteURL(_ target: String, registry: String) -> String {
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        return options.baseURL(for: registry) + (target.hasPrefix("/") ? target : "/" + target)
    }

    /// Resolves a `Location` header (absolute, or relative to the request URL).
    static func resolve(_ location: String, against base: String) -> String {
        RedirectLayer.resolve(location, against: base)
    }

    /// A short human reason for a failure below HTTP (`connection refused`, `timed out`).
    static func describe(_ error: Error) -> String { TransientErrors.describe(error) }
}

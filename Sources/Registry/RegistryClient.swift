import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The HTTP side of the registry API: one shared client, scheme by registry (plain HTTP for
/// loopback and `--insecure`), and a transport of single-job layers (`RedirectLayer`,
/// `AuthenticationLayer`, `RetryLayer`, `ClientLayer`) so credentials reach only the origin
/// (scheme, host, port) of the registry that asked for them.
public final class RegistryClient: Sendable {
    public let options: RegistryOptions
    public let authenticator: RegistryAuthenticating
    let http: HTTPClient

    public init(options: RegistryOptions = RegistryOptions(), authenticator: RegistryAuthenticating) {
        self.options = options
        self.authenticator = authenticator
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = TrustRoots.fromEnvironment(options.environment)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(30), read: .seconds(300)), decompression: .disabled)
        // A refused connection fails the request at once; `send` retries with its own bounded
        // backoff. (AHC would otherwise retry silently until the 30 s connect timeout.)
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let handle = ClientHandle()
        let retrying = RetryLayer(inner: ClientLayer(http: http, userAgent: options.userAgent), policy: RetryPolicy(options))
        registryStack = RedirectLayer(inner: AuthenticationLayer(inner: retrying, authenticator: authenticator,
                                                                 options: options, handle: handle))
        plainStack = retrying
        downloadStack = RedirectLayer(inner: retrying)
        handle.client = self
    }

    // The layers, composed once. Registry API calls: redirects over authentication over
    // retries over one exchange, so every hop of a redirect is retried and judged on its own
    // origin. Plain calls (token endpoints, Google APIs) carry no registry credentials and
    // follow no redirects; downloads (`ADD <url>`) follow redirects without credentials.
    let registryStack: HTTPLayer
    let plainStack: HTTPLayer
    let downloadStack: HTTPLayer

    /// Closes connections; call once when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Sends a registry request through the registry stack (redirects → authentication →
    /// retries → one exchange): credentials go to the registry's origin only, one 401
    /// challenge is answered, transient failures are retried (replayable bodies only).
    /// The caller reads (or drops) the returned response's body.
    public func send(_ request: RegistryRequest) async throws -> HTTPClientResponse {
        let outgoing = TransportRequest(url: absoluteURL(request.target, registry: request.registry), method: request.method,
                                        headers: request.headers, body: request.body, onProgress: request.onProgress,
                                        credentials: (request.registry, request.scopes))
        do {
            return try await registryStack.send(outgoing)
        } catch let error as TransportError {
            throw Self.registryError(error, registry: request.registry, repository: request.scopes.first?.repository)
        }
    }

    /// The statuses `send` and `fetch` retry by default.
    public static let retriedStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    /// A plain request outside the registry API (token endpoints, metadata servers, Google
    /// APIs): retries like `send` (on `retrying` statuses; a caller whose request must not run
    /// twice narrows them), no registry credentials, no redirects, body collected (at most 4 MiB).
    public func fetch(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
                      body: [UInt8]? = nil, retrying: Set<Int> = retriedStatuses)
        async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        let outgoing = TransportRequest(url: url, method: method, headers: headers, body: body.map { RequestBody.bytes($0) } ?? RequestBody.none,
                                        timeout: .seconds(60), retriedStatuses: retrying)
        let host = URL(string: url)?.host ?? url
        do {
            let response = try await plainStack.send(outgoing)
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return (Int(response.status.code), response.headers, Array(buffer: bytes))
        } catch let error as TransportError {
            if case .unreachable(_, let cause) = error {
                throw RegistryError(.transport, registry: host,
                                    "cannot reach \(TransportError.display(url)): \(TransientErrors.describe(cause))")
            }
            throw Self.registryError(error, registry: host, repository: nil)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError(.transport, registry: host,
                                "cannot read the answer of \(TransportError.display(url)): \(TransientErrors.describe(error))")
        }
    }

    /// One line for a transport failure, naming the registry (never a credential or a query).
    static func registryError(_ error: TransportError, registry: String, repository: String?) -> RegistryError {
        switch error {
        case .unreachable(let url, let cause):
            return RegistryError(.transport, registry: registry, repository: repository,
                                 "cannot reach the registry at \(TransportError.display(url)): \(TransientErrors.describe(cause))")
        case .retryAfterTooLong(_, let status, let seconds, let limit):
            return RegistryError(.transport, registry: registry, repository: repository, status: status,
                                 "the registry asks to retry after \(Int(seconds)) s, longer than the \(Int(limit)) s "
                                 + "swiftdock waits; try again later")
        case .tooManyRedirects(_, let status):
            return RegistryError(.invalidResponse, registry: registry, repository: repository, status: status,
                                 "too many redirects")
        case .unsupportedURL, .resumeFailed:
            return RegistryError(.invalidResponse, registry: registry, repository: repository, error.description)
        }
    }

    // MARK: pieces

    func absoluteURL(_ target: String, registry: String) -> String {
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return target }
        return options.baseURL(for: registry) + (target.hasPrefix("/") ? target : "/" + target)
    }

    /// Resolves a `Location` header (absolute, or relative to the request URL).
    static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else { return location }
        return resolved.absoluteString
    }

    /// A short human reason for a failure below HTTP (`connection refused`, `timed out`).
    static func describe(_ error: Error) -> String { TransientErrors.describe(error) }
}

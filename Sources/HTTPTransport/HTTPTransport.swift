import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The project's one HTTP stack: a shared AsyncHTTPClient (system trust plus `SSL_CERT_FILE`
/// and `SSL_CERT_DIR`, no automatic redirects or decompression) under single-job layers
/// composed once, as go-containerregistry stacks its `http.RoundTripper`s. The registry
/// client and the Google API client both stand on it, so retries, redirects and the
/// same-origin rule for credentials are written once.
public final class HTTPTransport: HTTPFetching {
    public let options: TransportOptions
    /// Made on the first request (see `LazyHTTPClient`).
    let http: LazyHTTPClient

    /// Retries over one exchange: token endpoints, metadata servers, Google APIs. No
    /// credentials are attached and no redirects followed.
    public let retrying: HTTPLayer
    /// Redirects over retries, no credentials anywhere: downloads (`ADD <url>`).
    public let downloading: HTTPLayer
    /// Redirects over authentication over retries: every hop of a redirect is retried and
    /// judged on its own origin, so a request's `credentials` reach their origin only.
    public let authenticating: HTTPLayer

    public init(options: TransportOptions = TransportOptions()) {
        self.options = options
        let environment = options.environment
        http = LazyHTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = TrustRoots.fromEnvironment(environment)
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(30), read: .seconds(300)), decompression: .disabled)
            // A refused connection fails the request at once; `RetryLayer` retries with its own
            // bounded backoff. (AHC would otherwise retry silently until the 30 s connect timeout.)
            configuration.connectionPool.retryConnectionEstablishment = false
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        let retrying = RetryLayer(inner: ClientLayer(lazy: http, userAgent: options.userAgent), policy: RetryPolicy(options))
        self.retrying = retrying
        downloading = RedirectLayer(inner: retrying)
        authenticating = RedirectLayer(inner: AuthenticationLayer(inner: retrying))
    }

    /// Makes the shared client now, on a background thread, instead of at the first request.
    /// For a command certain to send (`build --push`): making it loads the trust store (every
    /// certificate under `SSL_CERT_DIR` too), which otherwise sits between the first upload's
    /// `POST` and its first byte — 0.1 s of a time-to-first-byte that streaming the COPY
    /// brought to about 0.2 s (issue 12). A request arriving meanwhile waits for the same client.
    public func prepareInBackground() {
        let http = self.http
        DispatchQueue.global(qos: .userInitiated).async { http.prepare() }
    }

    /// Closes connections; call once when done.
    public func shutdown() async {
        await http.shutdown()
    }

    /// A plain request through `retrying` (on `retriedStatuses`; a caller whose request must
    /// not run twice narrows them), body collected (at most 4 MiB). Throws `TransportError`.
    public func fetch(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: [UInt8]? = nil,
                      retriedStatuses: Set<Int> = TransportRequest.defaultRetriedStatuses) async throws -> HTTPReply {
        let outgoing = TransportRequest(url: url, method: method, headers: headers, body: body.map { .bytes($0) } ?? .none,
                                        timeout: .seconds(60), retriedStatuses: retriedStatuses)
        let response = try await retrying.send(outgoing)
        do {
            return try await HTTPReply(collecting: response, upTo: 4 << 20)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TransportError.unreadableAnswer(url: url, cause: error)
        }
    }

    public func fetchReply(url: String, method: HTTPMethod, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPReply {
        try await fetch(url: url, method: method, headers: headers, body: body)
    }

    public func probeReply(url: String, headers: [(String, String)], timeout: TimeInterval) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: options.userAgent)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await http.client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            return try await HTTPReply(collecting: response, upTo: 1 << 20)
        } catch let error as CancellationError {
            throw error
        } catch {
            throw TransportError.unreachable(url: url, cause: error)
        }
    }
}

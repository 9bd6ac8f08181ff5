import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP request as it travels down the transport's layers: an absolute URL, the body,
/// and what the layers need to decide (which statuses to retry, whose credentials it may carry).
struct TransportRequest: Sendable {
    var url: String
    var method: HTTPMethod
    var headers: [(String, String)]
    var body: RequestBody
    /// Called with each chunk's byte count as a `file` or `stream` body is sent.
    var onProgress: (@Sendable (Int) -> Void)?
    /// Whole-exchange timeout (headers and body).
    var timeout: TimeAmount
    /// Statuses the retry layer answers by sending again (replayable bodies only).
    var retriedStatuses: Set<Int>
    /// The registry and scopes whose credentials the authentication layer may attach
    /// (to this registry's origin only); nil for requests that carry none.
    var credentials: (registry: String, scopes: [AuthScope])?

    init(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: RequestBody = .none,
         onProgress: (@Sendable (Int) -> Void)? = nil, timeout: TimeAmount = .seconds(3600),
         retriedStatuses: Set<Int> = RegistryClient.retriedStatuses,
         credentials: (registry: String, scopes: [AuthScope])? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.onProgress = onProgress
        self.timeout = timeout
        self.retriedStatuses = retriedStatuses
        self.credentials = credentials
    }

    /// The value of a header the caller set (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A copy with `name` set to `value` (replacing any earlier value), or removed when nil.
    func setting(_ name: String, to value: String?) -> TransportRequest {
        var copy = self
        copy.headers.removeAll { $0.0.lowercased() == name.lowercased() }
        if let value { copy.headers.append((name, value)) }
        return copy
    }
}

/// One job of the transport (sending, retrying, authenticating, following redirects); each
/// layer wraps the next and the client composes them once, as go-containerregistry stacks its
/// `http.RoundTripper`s. The caller reads (or drops) the returned response's body.
protocol HTTPLayer: Sendable {
    func send(_ request: TransportRequest) async throws -> HTTPClientResponse
}

/// Reads and drops what is left of a response body we do not use (at most 1 MiB), so the
/// connection can go back to the pool.
func discardBody(_ response: HTTPClientResponse) async {
    _ = try? await response.body.collect(upTo: 1 << 20)
}

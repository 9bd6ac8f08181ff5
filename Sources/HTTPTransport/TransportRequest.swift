import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One HTTP request as it travels down the transport's layers: an absolute URL, the body,
/// and what the layers need to decide (which statuses to retry, whose credentials it may carry).
public struct TransportRequest: Sendable {
    public var url: String
    public var method: HTTPMethod
    public var headers: [(String, String)]
    public var body: RequestBody
    /// Called with each chunk's byte count as a `file` or `stream` body is sent.
    public var onProgress: (@Sendable (Int) -> Void)?
    /// Whole-exchange timeout (headers and body).
    public var timeout: TimeAmount
    /// Statuses the retry layer answers by sending again (replayable bodies only).
    public var retriedStatuses: Set<Int>
    /// Whose credentials the authentication layer may attach — to their own origin only;
    /// nil for requests that carry none.
    public var credentials: (any OriginCredentials)?

    /// The statuses retried unless a request narrows them: timeouts, rate limits, 5xx gateways.
    public static let defaultRetriedStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]

    public init(url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: RequestBody = .none,
                onProgress: (@Sendable (Int) -> Void)? = nil, timeout: TimeAmount = .seconds(3600),
                retriedStatuses: Set<Int> = defaultRetriedStatuses,
                credentials: (any OriginCredentials)? = nil) {
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
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// A copy with `name` set to `value` (replacing any earlier value), or removed when nil.
    public func setting(_ name: String, to value: String?) -> TransportRequest {
        var copy = self
        copy.headers.removeAll { $0.0.lowercased() == name.lowercased() }
        if let value { copy.headers.append((name, value)) }
        return copy
    }
}

/// One job of the transport (sending, retrying, authenticating, following redirects); each
/// layer wraps the next and the client composes them once, as go-containerregistry stacks its
/// `http.RoundTripper`s. The caller reads (or drops) the returned response's body.
public protocol HTTPLayer: Sendable {
    func send(_ request: TransportRequest) async throws -> HTTPClientResponse
}

/// Reads and drops what is left of a response body we do not use (at most 1 MiB), so the
/// connection can go back to the pool.
public func discardBody(_ response: HTTPClientResponse) async {
    _ = try? await response.body.collect(upTo: 1 << 20)
}

/// A request body. Only `none`, `bytes` and `file` can be sent again, so only requests with
/// those bodies are retried or re-sent after an authentication challenge.
public enum RequestBody: Sendable {
    case none
    case bytes([UInt8])
    /// A whole file, streamed from disk in chunks; `onProgress` sees every chunk's size.
    case file(path: String, size: Int64)
    /// A stream that can be consumed once (e.g. a blob read from another registry). With
    /// `length` nil the length is unknown and the body goes with HTTP/1.1 chunked transfer
    /// encoding (a layer uploaded while it is being compressed).
    case stream(length: Int64?, makeStream: @Sendable () -> AsyncThrowingStream<ByteBuffer, Error>)

    public var isReplayable: Bool {
        if case .stream = self { return false }
        return true
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore

/// How often and how patiently the transport tries again.
public struct RetryPolicy: Sendable {
    /// Attempts per request, the first one included.
    public var maxAttempts: Int
    public var initialBackoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// The longest `Retry-After` honoured; a server asking for more fails the request at once
    /// rather than hold a push for minutes (or days: `Retry-After: 100000`).
    public var retryAfterLimit: TimeInterval

    public init(_ options: TransportOptions) {
        maxAttempts = max(1, options.maxAttempts)
        initialBackoff = options.initialBackoff
        maxBackoff = options.maxBackoff
        retryAfterLimit = options.retryAfterLimit
    }

    /// Exponential backoff with up to 25% jitter before attempt `attempt + 1`.
    public func backoff(after attempt: Int) -> TimeInterval {
        min(maxBackoff, initialBackoff * pow(2, Double(max(attempt, 1) - 1))) * (1 + Double.random(in: 0...0.25))
    }

    public func sleep(_ seconds: TimeInterval) async throws {
        try await Task.sleep(nanoseconds: UInt64(max(seconds, 0) * 1_000_000_000))
    }

    /// `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3), in seconds from now.
    static func retryAfter(_ value: String?, now: Date = Date()) -> TimeInterval? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = TimeInterval(value) { return seconds.isFinite ? max(seconds, 0) : nil }
        return HTTPDate.parse(value).map { max($0.timeIntervalSince(now), 0) }
    }
}

/// Sends again after a failure below HTTP that `TransientErrors` calls transient, or after
/// one of the request's `retriedStatuses`, with backoff — only while the body can be sent
/// again. Honours `Retry-After` up to the policy's limit and fails at once beyond it.
public struct RetryLayer: HTTPLayer {
    let inner: HTTPLayer
    let policy: RetryPolicy

    public init(inner: HTTPLayer, policy: RetryPolicy) {
        self.inner = inner
        self.policy = policy
    }

    public func send(_ request: TransportRequest) async throws -> HTTPClientResponse {
        let attempts = request.body.isReplayable ? policy.maxAttempts : 1
        var attempt = 0
        while true {
            attempt += 1
            let response: HTTPClientResponse
            do {
                response = try await inner.send(request)
            } catch {
                guard attempt < attempts, TransientErrors.isTransient(error) else { throw error }
                try await policy.sleep(policy.backoff(after: attempt))
                continue
            }
            let status = Int(response.status.code)
            guard request.retriedStatuses.contains(status) else { return response }
            let retryAfter = RetryPolicy.retryAfter(response.headers.first(name: "Retry-After"))
            if let retryAfter, retryAfter > policy.retryAfterLimit {
                await discardBody(response)
                throw TransportError.retryAfterTooLong(url: request.url, status: status, seconds: retryAfter,
                                                       limit: policy.retryAfterLimit)
            }
            guard attempt < attempts else { return response }
            await discardBody(response)
            try await policy.sleep(retryAfter ?? policy.backoff(after: attempt))
        }
    }
}

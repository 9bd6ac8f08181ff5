import Foundation

/// How patient the transport is and whom it trusts: what both the registry client and the
/// Google API client configure (`RegistryOptions` adds registry naming on top).
public struct TransportOptions: Sendable {
    public var userAgent: String
    /// Attempts per request for connection errors and retried statuses, first one included.
    public var maxAttempts: Int
    /// First backoff delay; doubles each retry, with up to 25% jitter, capped at `maxBackoff`.
    public var initialBackoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// The longest `Retry-After` a retry waits for; a server asking for more fails the request
    /// at once with a message saying so (docker would wait; a CI job should not sit for hours).
    public var retryAfterLimit: TimeInterval
    /// Environment for `SSL_CERT_FILE` / `SSL_CERT_DIR`.
    public var environment: [String: String]

    public init(userAgent: String = "swiftdock/0.1.0", maxAttempts: Int = 4, initialBackoff: TimeInterval = 0.5,
                maxBackoff: TimeInterval = 8, retryAfterLimit: TimeInterval = 30,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.userAgent = userAgent
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.retryAfterLimit = retryAfterLimit
        self.environment = environment
    }
}

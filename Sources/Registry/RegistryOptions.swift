import Foundation
import ImageModel

/// How swiftdock talks to registries.
public struct RegistryOptions: Sendable {
    /// Registries reached over plain HTTP besides loopback ones (`--insecure`).
    public var insecureRegistries: Set<String>
    /// Treat every registry as insecure (`--insecure`).
    public var insecureAll: Bool
    public var userAgent: String
    /// Attempts per request for connection errors and 408/429/5xx, first one included.
    public var maxAttempts: Int
    /// First backoff delay; doubles each retry, with up to 25% jitter, capped at `maxBackoff`.
    public var initialBackoff: TimeInterval
    public var maxBackoff: TimeInterval
    /// The longest `Retry-After` a retry waits for; a server asking for more fails the request
    /// at once with a message saying so (docker would wait; a CI job should not sit for hours).
    public var retryAfterLimit: TimeInterval
    /// Environment for `SSL_CERT_FILE` / `SSL_CERT_DIR` and credential lookups.
    public var environment: [String: String]

    public init(insecureRegistries: Set<String> = [], insecureAll: Bool = false, userAgent: String = "swiftdock/0.1.0",
                maxAttempts: Int = 4, initialBackoff: TimeInterval = 0.5, maxBackoff: TimeInterval = 8,
                retryAfterLimit: TimeInterval = 30,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.insecureRegistries = insecureRegistries
        self.insecureAll = insecureAll
        self.userAgent = userAgent
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.retryAfterLimit = retryAfterLimit
        self.environment = environment
    }

    /// `http` for loopback and insecure registries, as docker does; `https` otherwise.
    public func scheme(for registry: String) -> String {
        if insecureAll || insecureRegistries.contains(registry) || Reference.isLoopback(domain: registry) { return "http" }
        return "https"
    }

    /// `https://registry-1.docker.io` for `docker.io`, else the scheme and the registry's host.
    public func baseURL(for registry: String) -> String {
        let host = registry == Reference.defaultDomain ? "registry-1.docker.io" : registry
        return "\(scheme(for: registry))://\(host)"
    }
}

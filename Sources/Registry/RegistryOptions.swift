import Foundation
import HTTPTransport
import ImageModel

/// How swiftdock talks to registries.
public struct RegistryOptions: Sendable {
    /// Registries reached over plain HTTP besides loopback ones (`--insecure`).
    public var insecureRegistries: Set<String>
    /// Treat every registry as insecure (`--insecure`).
    public var insecureAll: Bool
    /// Patience, trust and user agent: what the HTTP transport is built with.
    public var transport: TransportOptions

    public init(insecureRegistries: Set<String> = [], insecureAll: Bool = false, userAgent: String = "swiftdock/0.1.0",
                maxAttempts: Int = 4, initialBackoff: TimeInterval = 0.5, maxBackoff: TimeInterval = 8,
                retryAfterLimit: TimeInterval = 30,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.insecureRegistries = insecureRegistries
        self.insecureAll = insecureAll
        transport = TransportOptions(userAgent: userAgent, maxAttempts: maxAttempts, initialBackoff: initialBackoff,
                                     maxBackoff: maxBackoff, retryAfterLimit: retryAfterLimit, environment: environment)
    }

    /// Environment for `SSL_CERT_FILE` / `SSL_CERT_DIR` and credential lookups.
    public var environment: [String: String] {
        get { transport.environment }
        set { transport.environment = newValue }
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

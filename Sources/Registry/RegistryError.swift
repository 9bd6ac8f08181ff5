import HTTPTransport
import ImageModel

/// A registry failure: what, which registry and repository, and the HTTP status when there
/// is one, and what caused it (a `TransportError`, a `GoogleAuthError`). Never carries credentials.
public struct RegistryError: CausedError, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case unauthorized, denied, notFound, invalidResponse, transport, digestMismatch, unsupported, credentials
    }
    public var kind: Kind
    public var registry: String
    public var repository: String?
    public var status: Int?
    public var message: String
    /// What went wrong underneath, kept for callers that decide by type (its text is already
    /// in `message` where it helps a reader).
    public var underlying: (any Error)?

    public init(_ kind: Kind, registry: String, repository: String? = nil, status: Int? = nil, _ message: String,
                underlying: (any Error)? = nil) {
        self.underlying = underlying
        self.kind = kind
        self.registry = registry
        self.repository = repository
        self.status = status
        self.message = message
    }

    public var description: String {
        var place = registry
        if let repository { place += "/" + repository }
        if let status { return "\(place): \(message) (HTTP \(status))" }
        return "\(place): \(message)"
    }
}

/// What `ImagePusher` may try again after a failed blob upload (a streamed body cannot be
/// replayed by the transport's own retry, so the pusher retries with a fresh stream): a 5xx, a
/// 408 or 429, a dropped connection, and an expired token (the next POST authorizes again).
/// Not a `Retry-After` longer than the transport waits for, nor a refusal or a wrong digest.
extension RegistryError: RetryableError {
    public var isRetryable: Bool {
        if let transport = cause(as: TransportError.self), case .retryAfterTooLong = transport { return false }
        if let status { return status == 401 || status == 408 || status == 429 || status >= 500 }
        return kind == .transport || kind == .unauthorized
    }
}

import ImageModel

/// Why no Google access token could be had: one line, never carrying a secret, with the
/// cause kept (a `TransportError`, a failed `gcloud` launch). The registry client wraps it in
/// a `RegistryError`, the Vertex client in a `VertexError`, each by its kind.
public struct GoogleAuthError: CausedError, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Credentials are missing, malformed or were refused.
        case credentials
        /// The token endpoint could not be reached.
        case transport
    }

    public var kind: Kind
    public var message: String
    public var underlying: (any Error)?

    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

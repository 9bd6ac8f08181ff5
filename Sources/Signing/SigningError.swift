/// Why signing or verifying failed, in one line that names the key file or the image; never a
/// password or key material. The underlying error, when there is one, is kept in `cause`.
public struct SigningError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The key file is not a key swiftdock can use (format, type, curve, size).
        case badKey
        /// An encrypted key did not open: wrong password or damaged file.
        case decryption
        /// The image has no signature, none verifies with the key, or one verifies but names
        /// another image than the reference now points at.
        case verification
        /// What the registry holds under the signature tag is not cosign's format.
        case badSignatureManifest
    }

    public var kind: Kind
    public var message: String
    public var cause: (any Error)?

    public init(_ kind: Kind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    public var description: String { message }
}

/// A key of one of the two schemes swiftdock signs with (`SignatureAlgorithm`), either half:
/// `SigningKey` holds the private halves, `VerificationKey` the public ones. The one place the
/// schemes are told apart and tried in order, so the two key types cannot disagree on them.
enum SchemeKey<P256Key: Sendable, Ed25519Key: Sendable>: Sendable {
    case p256(P256Key)
    case ed25519(Ed25519Key)

    var algorithm: SignatureAlgorithm {
        switch self {
        case .p256: return .ecdsaP256SHA256
        case .ed25519: return .ed25519
        }
    }

    /// The key DER bytes hold: P-256 first (its parser checks the curve), then Ed25519; nil
    /// when neither parser accepts them.
    static func parse(der: [UInt8], p256: ([UInt8]) throws -> P256Key, ed25519: ([UInt8]) throws -> Ed25519Key) -> Self? {
        if let key = try? p256(der) { return .p256(key) }
        if let key = try? ed25519(der) { return .ed25519(key) }
        return nil
    }
}

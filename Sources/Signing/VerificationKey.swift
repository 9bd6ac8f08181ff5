import Crypto
import Foundation
import _CryptoExtras

/// A public key that checks cosign signatures: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), EC
/// P-256 or Ed25519, as `cosign generate-key-pair` writes `cosign.pub`.
public struct VerificationKey: Sendable {
    typealias Material = SchemeKey<P256.Signing.PublicKey, Curve25519.Signing.PublicKey>
    let material: Material
    /// The key file as the user named it (errors say which key did not verify).
    public var name: String

    public var algorithm: SignatureAlgorithm { material.algorithm }

    /// The key as a PEM `PUBLIC KEY` block.
    public var pemRepresentation: String {
        switch material {
        case .p256(let key): return key.pemRepresentation
        case .ed25519(let key): return key.pemRepresentation
        }
    }

    init(material: Material, name: String) {
        self.material = material
        self.name = name
    }

    /// Reads a public key file's contents; `name` names it in errors.
    public init(pem: [UInt8], name: String) throws {
        self.name = name
        let block = try PEMBlock.key(in: pem, name: name, what: "public key")
        guard block.label == "PUBLIC KEY" else {
            if block.label.contains("PRIVATE KEY") {
                throw SigningError(.badKey, "\(name): is a private key; verify needs the public key (cosign.pub)")
            }
            throw SigningError(.badKey, "\(name): unsupported PEM block \"\(block.label)\" (expected PUBLIC KEY)")
        }
        guard let material = Material.parse(der: block.bytes, p256: { try P256.Signing.PublicKey(derRepresentation: $0) },
                                            ed25519: { try Curve25519.Signing.PublicKey(derRepresentation: $0) }) else {
            throw SigningError(.badKey, "\(name): not an EC P-256 or Ed25519 public key")
        }
        self.material = material
    }

    /// Whether `signature` is this key's signature of `payload` (see `SigningKey.sign`).
    public func isValidSignature(_ signature: [UInt8], for payload: [UInt8]) -> Bool {
        switch material {
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: payload)
        case .ed25519(let key):
            return key.isValidSignature(signature, for: payload)
        }
    }
}

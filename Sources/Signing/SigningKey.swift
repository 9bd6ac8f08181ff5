import Crypto
import Foundation
import _CryptoExtras

/// The signature schemes cosign uses with key pairs, and swiftdock's: ECDSA over P-256 with
/// SHA-256 (cosign's default key type; ASN.1 DER signatures) and Ed25519.
public enum SignatureAlgorithm: String, Sendable {
    case ecdsaP256SHA256 = "ECDSA P-256 SHA-256"
    case ed25519 = "Ed25519"
}

/// A private key that signs cosign payloads, read from a PEM file:
///
/// - `PRIVATE KEY` — PKCS#8, EC P-256 or Ed25519 (`openssl genpkey`);
/// - `EC PRIVATE KEY` — SEC 1, P-256 (`openssl ecparam -genkey`);
/// - `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY` — cosign's own format
///   (`cosign generate-key-pair`), opened with the password the caller supplies.
///
/// RSA keys, which cosign also takes, are refused: swiftdock's issue asks for P-256 and Ed25519.
public struct SigningKey: Sendable {
    typealias Material = SchemeKey<P256.Signing.PrivateKey, Curve25519.Signing.PrivateKey>
    let material: Material
    /// The key file as the user named it.
    public var name: String

    public var algorithm: SignatureAlgorithm { material.algorithm }

    /// The matching public key.
    public var publicKey: VerificationKey {
        switch material {
        case .p256(let key): return VerificationKey(material: .p256(key.publicKey), name: "the public key of \(name)")
        case .ed25519(let key): return VerificationKey(material: .ed25519(key.publicKey), name: "the public key of \(name)")
        }
    }

    /// Reads a key file's contents.
    /// - Parameters:
    ///   - name: the file as the user named it, for errors.
    ///   - password: asked only when the key is encrypted (cosign reads `COSIGN_PASSWORD`).
    public init(pem: [UInt8], name: String, password: () throws -> [UInt8]) throws {
        self.name = name
        let block = try PEMBlock.key(in: pem, name: name, what: "private key")
        switch block.label {
        case "PRIVATE KEY":
            material = try Self.pkcs8(block.bytes, name: name)
        case "EC PRIVATE KEY":
            do {
                material = .p256(try P256.Signing.PrivateKey(derRepresentation: block.bytes))
            } catch {
                throw SigningError(.badKey, "\(name): not an EC P-256 private key (only P-256 and Ed25519 are supported)", cause: error)
            }
        case let label where EncryptedPrivateKey.labels.contains(label):
            let der = try EncryptedPrivateKey.open(block.bytes, password: try password(), what: name)
            material = try Self.pkcs8(der, name: name)
        case "RSA PRIVATE KEY":
            throw SigningError(.badKey, "\(name): RSA keys are not supported (use EC P-256 or Ed25519)")
        case "PUBLIC KEY":
            throw SigningError(.badKey, "\(name): is a public key; signing needs the private key")
        default:
            throw SigningError(.badKey, "\(name): unsupported PEM block \"\(block.label)\" (expected a PKCS#8 or cosign private key)")
        }
    }

    /// A PKCS#8 DER key: P-256 or Ed25519.
    static func pkcs8(_ der: [UInt8], name: String) throws -> Material {
        guard let material = Material.parse(der: der, p256: { try P256.Signing.PrivateKey(derRepresentation: $0) },
                                            ed25519: { try Curve25519.Signing.PrivateKey(derRepresentation: $0) }) else {
            throw SigningError(.badKey, "\(name): not an EC P-256 or Ed25519 private key (PKCS#8)")
        }
        return material
    }

    /// Signs `payload`: ECDSA over its SHA-256, DER-encoded (what Go's `ecdsa.SignASN1` writes
    /// and cosign verifies), or pure Ed25519 over the bytes (what cosign 2.x writes into `.sig`
    /// manifests for Ed25519 keys).
    public func sign(_ payload: [UInt8]) throws -> [UInt8] {
        switch material {
        case .p256(let key): return Array(try key.signature(for: payload).derRepresentation)
        case .ed25519(let key): return Array(try key.signature(for: payload))
        }
    }
}

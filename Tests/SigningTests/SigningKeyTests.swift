import Foundation
import Signing
import XCTest

/// Key files as cosign and openssl write them: each loads, signs, and its signature verifies
/// with the matching public key only; bad and hostile files fail with a line naming the file.
final class SigningKeyTests: XCTestCase {
    let payload = Array(#"{"critical":{"type":"cosign container image signature"}}"#.utf8)

    func key(_ pem: String, password: String? = KeyFixtures.password) throws -> SigningKey {
        try SigningKey(pem: Array(pem.utf8), name: "test.key") {
            guard let password else { throw SigningError(.decryption, "no password") }
            return Array(password.utf8)
        }
    }

    func testEveryKeyKindSignsAndVerifiesWithItsPublicKey() throws {
        let cases: [(String, String, String, SignatureAlgorithm)] = [
            ("cosign encrypted P-256", KeyFixtures.cosignP256, KeyFixtures.cosignP256Public, .ecdsaP256SHA256),
            ("PKCS#8 Ed25519", KeyFixtures.ed25519, KeyFixtures.ed25519Public, .ed25519),
            ("cosign encrypted Ed25519", KeyFixtures.cosignEd25519, KeyFixtures.ed25519Public, .ed25519),
            ("SEC 1 P-256", KeyFixtures.sec1P256, KeyFixtures.sec1P256Public, .ecdsaP256SHA256),
        ]
        for (name, privatePEM, publicPEM, algorithm) in cases {
            let signer = try key(privatePEM)
            XCTAssertEqual(signer.algorithm, algorithm, name)
            let publicKey = try VerificationKey(pem: Array(publicPEM.utf8), name: "test.pub")
            XCTAssertEqual(publicKey.pemRepresentation.trimmingCharacters(in: .whitespacesAndNewlines),
                           publicPEM.trimmingCharacters(in: .whitespacesAndNewlines), name)
            let signature = try signer.sign(payload)
            XCTAssertTrue(publicKey.isValidSignature(signature, for: payload), name)
            XCTAssertTrue(signer.publicKey.isValidSignature(signature, for: payload), name)
            XCTAssertFalse(publicKey.isValidSignature(signature, for: payload + [0x20]), "\(name): another payload")
            var flipped = signature
            flipped[flipped.count / 2] ^= 1
            XCTAssertFalse(publicKey.isValidSignature(flipped, for: payload), "\(name): a changed signature")
            for other in [KeyFixtures.cosignP256Public, KeyFixtures.ed25519Public, KeyFixtures.sec1P256Public] where other != publicPEM {
                XCTAssertFalse(try VerificationKey(pem: Array(other.utf8), name: "o.pub").isValidSignature(signature, for: payload),
                               "\(name): another key")
            }
        }
    }

    func testEd25519SignaturesArePureAndDeterministic() throws {
        // cosign 2.x writes pure Ed25519 into `.sig` manifests; the same payload signs the same.
        let signer = try key(KeyFixtures.ed25519)
        XCTAssertEqual(try signer.sign(payload), try key(KeyFixtures.cosignEd25519).sign(payload))
        XCTAssertEqual(try signer.sign(payload).count, 64)
    }

    func testBadKeysFailWithOneLineNamingTheFile() throws {
        let cases: [(String, String, String?, SigningError.Kind, String)] = [
            ("garbage", "not a key", nil, .badKey, "not a PEM private key"),
            ("wrong password", KeyFixtures.cosignP256, "wrong", .decryption, "wrong password"),
            ("P-384", KeyFixtures.p384, nil, .badKey, "not an EC P-256 or Ed25519"),
            ("public key", KeyFixtures.ed25519Public, nil, .badKey, "is a public key"),
            ("RSA PKCS#1", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", nil, .badKey, "RSA"),
            ("scrypt N 2^30", KeyFixtures.encrypted(n: 1 << 30), "x", .badKey, "cost more than 256 MiB"),
            ("scrypt N not a power of two", KeyFixtures.encrypted(n: 65535), "x", .badKey, "invalid"),
            ("scrypt r huge", KeyFixtures.encrypted(n: 2, r: 1 << 40), "x", .badKey, "invalid"),
            ("scrypt p huge", KeyFixtures.encrypted(n: 2, p: 1 << 20), "x", .badKey, "invalid"),
            ("other KDF", KeyFixtures.encrypted(n: 2, kdf: "pbkdf2"), "x", .badKey, "unsupported key derivation"),
            ("other cipher", KeyFixtures.encrypted(n: 2, cipher: "aes"), "x", .badKey, "unsupported cipher"),
            ("damaged box", KeyFixtures.encrypted(n: 2), "x", .decryption, "wrong password"),
            ("not JSON inside", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
             "x", .badKey, "not cosign's encrypted key format"),
            ("too big", String(repeating: "A", count: 70_000), nil, .badKey, "not a PEM private key"),
        ]
        for (name, pem, password, kind, expected) in cases {
            XCTAssertThrowsError(try key(pem, password: password), name) { error in
                guard let error = error as? SigningError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(error.kind, kind, "\(name): \(error)")
                XCTAssertTrue(error.description.hasPrefix("test.key: "), "\(name): \(error)")
                XCTAssertTrue(error.description.contains(expected), "\(name): \(error)")
                XCTAssertFalse(error.description.contains("\n"), name)
            }
        }
    }

    func testNoPasswordIsAskedForAPlainKey() throws {
        XCTAssertNoThrow(try key(KeyFixtures.ed25519, password: nil))
        XCTAssertThrowsError(try key(KeyFixtures.cosignEd25519, password: nil))
    }

    func testBadPublicKeys() throws {
        let cases: [(String, String)] = [
            ("not a key", "not a PEM public key"),
            (KeyFixtures.ed25519, "is a private key"),
            ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not an EC P-256 or Ed25519 public key"),
        ]
        for (pem, expected) in cases {
            XCTAssertThrowsError(try VerificationKey(pem: Array(pem.utf8), name: "k.pub")) { error in
                XCTAssertTrue("\(error)".hasPrefix("k.pub: ") && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}

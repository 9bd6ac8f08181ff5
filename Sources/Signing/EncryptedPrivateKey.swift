import CSodium
import Crypto
import Foundation
import _CryptoExtras

/// cosign's encrypted private key (`cosign generate-key-pair`, `import-key-pair`): a PEM block
/// labelled `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`)
/// whose bytes are go-securesystemslib's `encrypted` JSON:
///
/// ```
/// {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<base64 32 bytes>"},
///  "cipher":{"name":"nacl/secretbox","nonce":"<base64 24 bytes>"},
///  "ciphertext":"<base64 tag ‖ box>"}
/// ```
///
/// The key is scrypt(password, salt, N, r, p) → 32 bytes; the plaintext, a PKCS#8 DER private
/// key, is NaCl's secretbox (XSalsa20-Poly1305) under that key and nonce, tag first.
struct EncryptedPrivateKey: Decodable {
    static let labels = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"]

    struct KDF: Decodable {
        struct Parameters: Decodable {
            var N: Int
            var r: Int
            var p: Int
        }
        var name: String
        var params: Parameters
        var salt: String
    }
    struct Cipher: Decodable {
        var name: String
        var nonce: String
    }
    var kdf: KDF
    var cipher: Cipher
    var ciphertext: String

    /// scrypt needs 128·N·r bytes; cosign writes N=65536, r=8 (64 MiB). A hostile key file
    /// could ask for far more, so the cost is capped (256 MiB, p ≤ 16).
    static let maxScryptMemory = 256 << 20
    static let maxParallelism = 16

    /// The PKCS#8 DER key inside, decrypted with `password`.
    /// - Parameter what: names the key file in errors.
    static func open(_ bytes: [UInt8], password: [UInt8], what: String) throws -> [UInt8] {
        let sealed: EncryptedPrivateKey
        do {
            sealed = try JSONDecoder().decode(EncryptedPrivateKey.self, from: Data(bytes))
        } catch {
            throw SigningError(.badKey, "\(what): not cosign's encrypted key format (\(Self.oneLine(error)))", cause: error)
        }
        guard sealed.kdf.name == "scrypt" else { throw SigningError(.badKey, "\(what): unsupported key derivation \"\(sealed.kdf.name)\" (expected scrypt)") }
        guard sealed.cipher.name == "nacl/secretbox" else {
            throw SigningError(.badKey, "\(what): unsupported cipher \"\(sealed.cipher.name)\" (expected nacl/secretbox)")
        }
        let (n, r, p) = (sealed.kdf.params.N, sealed.kdf.params.r, sealed.kdf.params.p)
        guard n > 1, n & (n - 1) == 0, r >= 1, p >= 1, p <= maxParallelism,
              r <= maxScryptMemory / 128, n <= maxScryptMemory / (128 * r) else {
            throw SigningError(.badKey, "\(what): scrypt parameters N=\(n) r=\(r) p=\(p) are invalid or cost more than 256 MiB")
        }
        guard let salt = Data(base64Encoded: sealed.kdf.salt), !salt.isEmpty, salt.count <= 1024,
              let nonce = Data(base64Encoded: sealed.cipher.nonce), nonce.count == Int(crypto_secretbox_NONCEBYTES),
              let box = Data(base64Encoded: sealed.ciphertext), box.count > Int(crypto_secretbox_MACBYTES) else {
            throw SigningError(.badKey, "\(what): the salt, nonce or ciphertext is not valid base64 of the expected length")
        }
        let key: SymmetricKey
        do {
            key = try _CryptoExtras.KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: Int(crypto_secretbox_KEYBYTES),
                                           rounds: n, blockSize: r, parallelism: p)
        } catch {
            throw SigningError(.badKey, "\(what): scrypt failed (\(error))", cause: error)
        }
        guard sodium_init() >= 0 else { throw SigningError(.decryption, "\(what): libsodium failed to initialise") }
        var plain = [UInt8](repeating: 0, count: box.count - Int(crypto_secretbox_MACBYTES))
        let opened = key.withUnsafeBytes { keyBytes in
            box.withUnsafeBytes { boxBytes in
                nonce.withUnsafeBytes { nonceBytes in
                    crypto_secretbox_open_easy(&plain, boxBytes.bindMemory(to: UInt8.self).baseAddress!, UInt64(box.count),
                                               nonceBytes.bindMemory(to: UInt8.self).baseAddress!,
                                               keyBytes.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard opened == 0 else {
            throw SigningError(.decryption, "\(what): cannot decrypt the key: wrong password (COSIGN_PASSWORD) or damaged file")
        }
        return plain
    }

    static func oneLine(_ error: Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}


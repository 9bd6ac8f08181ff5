import Crypto
import _CryptoExtras
import Foundation

/// The key ID docker/libtrust gives a public key, which docker-registry 2.x matches against a
/// JWT's `kid` header: SHA-256 of the SubjectPublicKeyInfo DER, first 240 bits, base32
/// (RFC 4648, no padding), in twelve colon-separated groups of four characters.
enum LibtrustKeyID {
    static func of(_ key: _RSA.Signing.PublicKey) -> String {
        let digest = Array(SHA256.hash(data: key.derRepresentation).prefix(30))
        let encoded = base32(digest)
        var groups: [Substring] = []
        var rest = encoded[...]
        while !rest.isEmpty {
            groups.append(rest.prefix(4))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: ":")
    }

    /// RFC 4648 base32; `bytes.count` is a multiple of 5 here, so no padding arises.
    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var output = ""
        var buffer = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}

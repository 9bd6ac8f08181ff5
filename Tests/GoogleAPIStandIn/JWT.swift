import Crypto
import _CryptoExtras
import Foundation

/// A compact-serialised RS256 JSON Web Token: `base64url(header).base64url(claims).base64url(signature)`.
public struct JWT {
    public var header: [String: Any]
    public var claims: [String: Any]

    public init(header: [String: Any], claims: [String: Any]) {
        self.header = header
        self.claims = claims
    }

    /// Signs with RSASSA-PKCS1-v1_5 over SHA-256 (`alg: RS256`).
    public func signed(with key: _RSA.Signing.PrivateKey) throws -> String {
        var header = self.header
        header["alg"] = "RS256"
        header["typ"] = "JWT"
        let signingInput = try Self.segment(header) + "." + Self.segment(claims)
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// Parses `token` and checks its RS256 signature against `key`; nil when either fails.
    public static func verified(_ token: String, with key: _RSA.Signing.PublicKey) -> JWT? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerData = Base64URL.decode(parts[0]),
              let claimsData = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let claims = try? JSONSerialization.jsonObject(with: claimsData) as? [String: Any],
              header["alg"] as? String == "RS256"
        else { return nil }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard key.isValidSignature(.init(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
        else { return nil }
        return JWT(header: header, claims: claims)
    }

    private static func segment(_ object: [String: Any]) throws -> String {
        Base64URL.encode(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}

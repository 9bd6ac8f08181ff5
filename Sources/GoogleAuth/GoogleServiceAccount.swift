import Crypto
import _CryptoExtras
import Foundation

/// A Google service-account key file (`"type": "service_account"`) and the RS256
/// JWT-bearer assertion it is exchanged with for an access token.
public struct GoogleServiceAccountKey: Sendable {
    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    public static let cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"
    public static let jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    public var clientEmail: String
    public var privateKeyID: String?
    /// PEM, PKCS#8 (`BEGIN PRIVATE KEY`) as Google issues it; PKCS#1 works too.
    public var privateKeyPEM: String
    /// The key's `token_uri`: where to exchange the assertion, and its `aud`.
    public var tokenURI: String

    public init(clientEmail: String, privateKeyID: String?, privateKeyPEM: String, tokenURI: String?) {
        self.clientEmail = clientEmail
        self.privateKeyID = privateKeyID
        self.privateKeyPEM = privateKeyPEM
        self.tokenURI = tokenURI.flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultTokenURI
    }

    /// Reads a parsed key file; nil when a required field is missing.
    public init?(json object: [String: Any]) {
        guard let email = object["client_email"] as? String, let pem = object["private_key"] as? String else { return nil }
        self.init(clientEmail: email, privateKeyID: object["private_key_id"] as? String, privateKeyPEM: pem,
                  tokenURI: object["token_uri"] as? String)
    }

    /// The signed assertion: header `{"alg":"RS256","typ":"JWT","kid":…}`, claims
    /// `iss` = client email, `scope` = cloud-platform, `aud` = token URI, `iat` = now,
    /// `exp` = now + `lifetime` (at most an hour), signed RSASSA-PKCS1-v1_5 / SHA-256.
    public func assertion(now: Date = Date(), lifetime: TimeInterval = 3600) throws -> String {
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
        } catch {
            throw GoogleAuthError(.credentials, "service account \(clientEmail): private_key is not an RSA PEM key", underlying: error)
        }
        var header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
        if let privateKeyID, !privateKeyID.isEmpty { header["kid"] = privateKeyID }
        let issuedAt = Int(now.timeIntervalSince1970)
        let claims: [String: Any] = [
            "iss": clientEmail, "scope": Self.cloudPlatformScope, "aud": tokenURI,
            "iat": issuedAt, "exp": issuedAt + Int(min(lifetime, 3600)),
        ]
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        let signingInput = Base64URL.encode(try JSONSerialization.data(withJSONObject: header, options: options)) + "."
            + Base64URL.encode(try JSONSerialization.data(withJSONObject: claims, options: options))
        let signature = try key.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }
}

/// base64url without padding (RFC 7515).
public enum Base64URL {
    public static func encode<D: DataProtocol>(_ data: D) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}

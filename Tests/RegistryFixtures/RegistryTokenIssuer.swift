import Crypto
import _CryptoExtras
import Foundation
import GoogleAPIStandIn

/// How a registry JWT tells docker-registry which key signed it.
enum JWTKeyIdentification: String {
    /// `x5c: [base64 DER of the signing certificate]`; the registry checks the chain against
    /// `auth.token.rootcertbundle` (works for distribution 2.x and 3.x).
    case x5c
    /// `kid: <libtrust key ID>`; distribution 2.x looks it up among the keys of the root bundle.
    case libtrust
}

/// One entry of a token's `access` claim, and one `scope=type:name:actions` request item.
struct ResourceAccess: Equatable {
    var type: String
    var name: String
    var actions: [String]

    /// Parses `repository:library/busybox:pull,push`. The name may itself contain colons
    /// (`repository:host:5000/x:pull`), so the type ends at the first colon and the actions
    /// start after the last.
    init?(scope: some StringProtocol) {
        let scope = String(scope)
        guard let first = scope.firstIndex(of: ":"), let last = scope.lastIndex(of: ":"), first < last else { return nil }
        type = String(scope[..<first])
        name = String(scope[scope.index(after: first)..<last])
        actions = String(scope[scope.index(after: last)...]).split(separator: ",").map(String.init)
        guard !type.isEmpty, !name.isEmpty else { return nil }
    }

    var claim: [String: Any] { ["type": type, "name": name, "actions": actions] }
}

/// Signs the Bearer tokens docker-registry's `auth: token` mode verifies: RS256 JWTs with
/// `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti` and `access`.
struct RegistryTokenIssuer {
    static let lifetime = 300

    let key: _RSA.Signing.PrivateKey
    /// The signing certificate, base64 DER, as the `x5c` header wants it.
    let certificateBase64DER: String
    let keyIdentification: JWTKeyIdentification
    let issuer: String

    /// Loads `keyPath` (PKCS#1 or PKCS#8 PEM) and `certificatePath` (PEM).
    init(keyPath: String, certificatePath: String, keyIdentification: JWTKeyIdentification, issuer: String) throws {
        key = try _RSA.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
        let pem = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let body = pem.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("-----") }.joined()
        guard let der = Data(base64Encoded: body), !der.isEmpty else {
            throw UsageError(message: "\(certificatePath): not a PEM certificate")
        }
        certificateBase64DER = der.base64EncodedString()
        self.keyIdentification = keyIdentification
        self.issuer = issuer
    }

    /// A token for `subject` (empty for anonymous) valid at `audience` for `access`.
    func token(subject: String, audience: String, access: [ResourceAccess], now: Date = Date()) throws -> String {
        let issuedAt = Int(now.timeIntervalSince1970)
        var header: [String: Any] = [:]
        switch keyIdentification {
        case .x5c: header["x5c"] = [certificateBase64DER]
        case .libtrust: header["kid"] = LibtrustKeyID.of(key.publicKey)
        }
        let claims: [String: Any] = [
            "iss": issuer,
            "sub": subject,
            "aud": audience,
            "exp": issuedAt + Self.lifetime,
            "nbf": issuedAt - 10,
            "iat": issuedAt,
            "jti": CredentialStore.randomToken(),
            "access": access.map(\.claim),
        ]
        return try JWT(header: header, claims: claims).signed(with: key)
    }
}

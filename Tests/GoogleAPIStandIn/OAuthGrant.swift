import Crypto
import _CryptoExtras
import Foundation
import HTTPTypes

/// The checks Google's OAuth2 token endpoint (`POST https://oauth2.googleapis.com/token`) makes of a
/// grant, shared by every stand-in that mints Google access tokens.
///
/// - `grant_type=refresh_token` with `client_id`, `client_secret` and `refresh_token` of an
///   `authorized_user` ADC file;
/// - `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion`, an RS256 JWT signed by
///   the service account's key: signature, `iss` = client_email, `aud` = the expected audience, a
///   scope, `exp` in the future and at most an hour after `iat`.
public struct OAuthGrantVerifier: Sendable {
    /// The `grant_type` of a service-account assertion (RFC 7523).
    public static let jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Seconds an access token lives, as Google answers (`expires_in`).
    public static let accessTokenLifetime = 3599

    /// The client and refresh token of an `authorized_user` ADC file.
    public struct AuthorizedUser: Sendable, Equatable {
        public var clientID: String
        public var clientSecret: String
        public var refreshToken: String

        public init(clientID: String, clientSecret: String, refreshToken: String) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.refreshToken = refreshToken
        }
    }

    /// The service account whose assertions are accepted.
    public struct ServiceAccount: Sendable {
        public var email: String
        /// The `aud` an assertion must carry: the key file's `token_uri`.
        public var audience: String
        public var publicKey: _RSA.Signing.PublicKey
        /// A scope the space-separated `scope` claim must list; nil accepts any non-empty scope.
        public var requiredScope: String?

        public init(email: String, audience: String, publicKey: _RSA.Signing.PublicKey, requiredScope: String? = nil) {
            self.email = email
            self.audience = audience
            self.publicKey = publicKey
            self.requiredScope = requiredScope
        }
    }

    /// Who a granted token was minted for.
    public enum Grantee: Sendable, Equatable {
        /// A service account, by email.
        case serviceAccount(String)
        /// An `authorized_user`, by OAuth client id.
        case authorizedUser(String)
    }

    /// A refused grant: the HTTP status and Google's `{"error", "error_description"}`.
    public struct Refusal: Error, Sendable, Equatable {
        public var status: HTTPResponse.Status
        public var error: String
        public var description: String

        public init(status: HTTPResponse.Status, error: String, description: String) {
            self.status = status
            self.error = error
            self.description = description
        }

        /// The JSON body Google's token endpoint answers with.
        public var body: [String: Any] { ["error": error, "error_description": description] }
    }

    public var authorizedUser: AuthorizedUser
    public var serviceAccount: ServiceAccount

    public init(authorizedUser: AuthorizedUser, serviceAccount: ServiceAccount) {
        self.authorizedUser = authorizedUser
        self.serviceAccount = serviceAccount
    }

    /// Checks the fields of a token request's form body.
    public func check(_ form: [String: String], now: Date = Date()) -> Result<Grantee, Refusal> {
        switch form["grant_type"] {
        case "refresh_token":
            guard form["client_id"] == authorizedUser.clientID, form["client_secret"] == authorizedUser.clientSecret else {
                return .failure(Refusal(status: .unauthorized, error: "invalid_client", description: "The OAuth client was not found."))
            }
            guard form["refresh_token"] == authorizedUser.refreshToken else {
                return .failure(Refusal(status: .badRequest, error: "invalid_grant", description: "Bad Request"))
            }
            return .success(.authorizedUser(authorizedUser.clientID))
        case Self.jwtBearerGrant:
            if let problem = assertionProblem(form["assertion"], now: now) {
                return .failure(Refusal(status: .badRequest, error: "invalid_grant", description: problem))
            }
            return .success(.serviceAccount(serviceAccount.email))
        default:
            return .failure(Refusal(status: .badRequest, error: "unsupported_grant_type",
                                    description: "Invalid grant_type: \(form["grant_type"] ?? "")"))
        }
    }

    /// Why a service-account assertion is refused, or nil when it is good.
    public func assertionProblem(_ assertion: String?, now: Date = Date()) -> String? {
        guard let assertion else { return "Missing required parameter: assertion" }
        guard let jwt = JWT.verified(assertion, with: serviceAccount.publicKey) else { return "Invalid JWT Signature." }
        let claims = jwt.claims
        let now = Int(now.timeIntervalSince1970)
        guard claims["iss"] as? String == serviceAccount.email else { return "Invalid JWT: iss is not the service account" }
        guard claims["aud"] as? String == serviceAccount.audience else {
            return "Invalid JWT: aud must be \(serviceAccount.audience)"
        }
        guard let scope = claims["scope"] as? String, !scope.isEmpty else { return "Invalid JWT: scope is required" }
        if let required = serviceAccount.requiredScope, !scope.split(separator: " ").contains(Substring(required)) {
            return "Invalid JWT: scope must include \(required)"
        }
        guard let exp = (claims["exp"] as? NSNumber)?.intValue, let iat = (claims["iat"] as? NSNumber)?.intValue else {
            return "Invalid JWT: exp and iat are required"
        }
        guard exp > now, iat <= now + 60, exp - iat <= 3600 else {
            return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        }
        return nil
    }

    /// The body of a successful grant.
    public static func tokenResponse(_ token: String) -> [String: Any] {
        ["access_token": token, "expires_in": accessTokenLifetime, "token_type": "Bearer"]
    }
}

import Foundation

/// Google's OAuth2 token endpoint, `POST /token` (form encoded), and the access tokens it mints.
///
/// Grants (checked by `OAuthGrantVerifier`): `urn:ietf:params:oauth:grant-type:jwt-bearer` with an
/// RS256 assertion of `credentials`' service account (`aud` = https://oauth2.googleapis.com/token,
/// scope cloud-platform), or `refresh_token` with the authorized user's client and refresh token.
/// Answers `{"access_token", "expires_in": 3599, "token_type": "Bearer"}`, or 400/401
/// `{"error": "invalid_grant", "error_description": …}`.
extension StandInServer {
    func token(_ request: IncomingRequest) -> APIResponse {
        let form = FormEncoding.decode(String(decoding: request.body, as: UTF8.self))
        switch credentials.verifier.check(form) {
        case .failure(let refusal):
            return APIResponse(status: refusal.status.code,
                               body: ["error": .string(refusal.error), "error_description": .string(refusal.description)])
        case .success(let grantee):
            return .ok(["access_token": .string(mintAccessToken(for: grantee)),
                        "expires_in": .integer(OAuthGrantVerifier.accessTokenLifetime), "token_type": "Bearer"])
        }
    }

    /// A new access token the API endpoints accept, as if `grantee` had been granted one; for tests
    /// that call the APIs directly.
    public func mintAccessToken(for grantee: OAuthGrantVerifier.Grantee? = nil) -> String {
        let token = "ya29.standin-" + StandInCredentials.hex(24)
        let grantee = grantee ?? .serviceAccount(credentials.serviceAccountEmail)
        accessTokens[token] = grantee
        grantLog.append(grantee)
        return token
    }

    /// Who each access token minted so far was granted to, in order.
    public var grantees: [OAuthGrantVerifier.Grantee] { grantLog }

    /// Makes every token minted so far invalid: the next API call answers 401 UNAUTHENTICATED.
    public func revokeAccessTokens() {
        accessTokens.removeAll()
    }
}

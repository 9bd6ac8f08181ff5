import Crypto
import _CryptoExtras
import Foundation
import GoogleAPIStandIn
import HTTPTypes
import Hummingbird

/// Google's OAuth2 token endpoint and the GCE metadata server, on one loopback port.
///
/// - `POST /token`, form encoded:
///   - `grant_type=refresh_token` with the `client_id`, `client_secret` and `refresh_token` of the
///     `authorized_user` ADC file;
///   - `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with `assertion`, an RS256 JWT
///     signed by the service-account key (checked: signature, `iss` = client_email,
///     `aud` = token_uri, non-empty `scope`, `exp` in the future and at most an hour after `iat`).
///   Success: `{"access_token", "expires_in": 3599, "token_type": "Bearer"}`; failure: 400/401
///   `{"error", "error_description"}` as Google answers. The checks are `OAuthGrantVerifier`'s
///   (module GoogleAPIStandIn), shared with the in-process Google API stand-in.
/// - `GET /computeMetadata/v1/instance/service-accounts/default/token` with
///   `Metadata-Flavor: Google` → the same JSON; 403 without the header. Also `/`,
///   `…/default/email` and `/computeMetadata/v1/project/project-id` for environment probes.
///
/// Every access token minted is recorded in the `CredentialStore`, where the registry token
/// servers accept it as the password of `oauth2accesstoken`.
struct GoogleStandIn {
    static let accessTokenLifetime = OAuthGrantVerifier.accessTokenLifetime

    let credentials: CredentialStore
    let grants: OAuthGrantVerifier

    /// Reads `adc-user.json`, `sa-key.json` (email and token_uri) and `sa.pub.pem` from the state directory.
    init(options: FixtureOptions, credentials: CredentialStore) throws {
        func object(_ name: String) throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: options.statePath(name)))
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw UsageError(message: "\(name): not a JSON object")
            }
            return object
        }
        let adc = try object("adc-user.json")
        let sa = try object("sa-key.json")
        guard let clientID = adc["client_id"] as? String, let secret = adc["client_secret"] as? String,
              let refresh = adc["refresh_token"] as? String else {
            throw UsageError(message: "adc-user.json lacks client_id, client_secret or refresh_token")
        }
        guard let email = sa["client_email"] as? String, let tokenURI = sa["token_uri"] as? String else {
            throw UsageError(message: "sa-key.json lacks client_email or token_uri")
        }
        let pem = try String(contentsOfFile: options.statePath("sa.pub.pem"), encoding: .utf8)
        self.credentials = credentials
        self.grants = OAuthGrantVerifier(
            authorizedUser: .init(clientID: clientID, clientSecret: secret, refreshToken: refresh),
            serviceAccount: .init(email: email, audience: tokenURI, publicKey: try .init(pemRepresentation: pem)))
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.info))
        router.post("/token") { request, _ in try await self.token(request) }
        router.get("/") { request, _ in
            try self.metadata(request) { HTTPHelpers.text("computeMetadata/\n", status: .ok, headers: $0) }
        }
        router.get("/computeMetadata/v1/project/project-id") { request, _ in
            try self.metadata(request) { HTTPHelpers.text("swiftdock-test", status: .ok, headers: $0) }
        }
        router.get("/computeMetadata/v1/instance/service-accounts/default/email") { request, _ in
            try self.metadata(request) { HTTPHelpers.text(self.grants.serviceAccount.email, status: .ok, headers: $0) }
        }
        router.get("/computeMetadata/v1/instance/service-accounts/default/token") { request, _ in
            let token = await self.credentials.mintGoogleAccessToken(lifetime: TimeInterval(Self.accessTokenLifetime))
            return try self.metadata(request) { HTTPHelpers.json(Self.tokenResponse(token), headers: $0) }
        }
        return router
    }

    /// Answers like the metadata server: 403 without `Metadata-Flavor: Google`, and the
    /// `Metadata-Flavor` header on every answer.
    private func metadata(_ request: Request, _ answer: (HTTPFields) throws -> Response) throws -> Response {
        let flavor = HTTPField.Name("Metadata-Flavor")!
        var headers = HTTPFields()
        headers[flavor] = "Google"
        guard request.headers[flavor] == "Google" else {
            return HTTPHelpers.text("Missing Metadata-Flavor:Google header.\n", status: .forbidden, headers: headers)
        }
        return try answer(headers)
    }

    private func token(_ request: Request) async throws -> Response {
        if case .failure(let refusal) = grants.check(try await FormEncoding.fields(of: request)) {
            return HTTPHelpers.json(refusal.body, status: refusal.status)
        }
        let token = await credentials.mintGoogleAccessToken(lifetime: TimeInterval(Self.accessTokenLifetime))
        return HTTPHelpers.json(Self.tokenResponse(token))
    }

    static func tokenResponse(_ token: String) -> [String: Any] {
        OAuthGrantVerifier.tokenResponse(token)
    }
}

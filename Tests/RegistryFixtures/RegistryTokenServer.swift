import Foundation
import GoogleAPIStandIn
import Hummingbird

/// The token server docker-registry's `auth: token` mode points its `realm` at.
///
/// - `GET /token` (or `/v2/token`) `?service=S&scope=T:N:A[&scope=…][&offline_token=true]` with optional HTTP Basic
///   credentials. Authenticated users get every action they ask for; anonymous callers get a
///   token with an empty `access` (so the registry answers `insufficient_scope`); a wrong
///   password is 401.
/// - `POST /token` (docker's OAuth2 flow, form encoded): `grant_type=password` with
///   `username`/`password`, or `grant_type=refresh_token` with a `refresh_token` issued here;
///   answers `{"access_token", "refresh_token", "expires_in", "issued_at", "scope"}`.
struct RegistryTokenServer {
    enum Style {
        /// Docker Hub / distribution: `{"token", "access_token", "expires_in", "issued_at"}`;
        /// `service` is required.
        case dockerHub
        /// Artifact Registry: `{"access_token", "expires_in", "issued_at"}`; `service` may be
        /// absent, in which case the audience is the configured default.
        case artifactRegistry
    }

    let style: Style
    let issuer: RegistryTokenIssuer
    let credentials: CredentialStore
    let defaultAudience: String

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: LogRequestsMiddleware(.info))
        // `/v2/token` is where Artifact Registry's realm points; both styles answer on both paths.
        for path in ["/token", "/v2/token"] {
            router.get(RouterPath(path)) { request, _ in try await self.get(request) }
            router.post(RouterPath(path)) { request, _ in try await self.post(request) }
        }
        return router
    }

    private func get(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        guard let audience = audience(query["service"].map(String.init)) else {
            return error(.badRequest, "INVALID_REQUEST", "service parameter is required")
        }
        var subject = ""
        if let (user, password) = HTTPHelpers.basicCredentials(request) {
            guard await credentials.authenticate(user: user, password: password) else {
                return error(.unauthorized, "UNAUTHORIZED", "wrong user name or password")
            }
            subject = user
        }
        let scopes = query[values: "scope"].flatMap { $0.split(separator: " ") }
        let access = subject.isEmpty ? [] : scopes.compactMap(ResourceAccess.init(scope:))
        let now = Date()
        let jwt = try issuer.token(subject: subject, audience: audience, access: access, now: now)
        var body: [String: Any] = [
            "access_token": jwt,
            "expires_in": RegistryTokenIssuer.lifetime,
            "issued_at": HTTPHelpers.rfc3339(now),
        ]
        if style == .dockerHub { body["token"] = jwt }
        if query["offline_token"] == "true", !subject.isEmpty {
            body["refresh_token"] = await credentials.issueRefreshToken(for: subject)
        }
        return HTTPHelpers.json(body)
    }

    private func post(_ request: Request) async throws -> Response {
        let form = try await FormEncoding.fields(of: request)
        guard let audience = audience(form["service"]) else {
            return oauthError(.badRequest, "invalid_request", "service is required")
        }
        let subject: String
        let refreshToken: String
        switch form["grant_type"] {
        case "password":
            guard let user = form["username"], let password = form["password"] else {
                return oauthError(.badRequest, "invalid_request", "username and password are required")
            }
            guard await credentials.authenticate(user: user, password: password) else {
                return oauthError(.unauthorized, "invalid_grant", "wrong user name or password")
            }
            subject = user
            refreshToken = await credentials.issueRefreshToken(for: user)
        case "refresh_token":
            guard let token = form["refresh_token"], let owner = await credentials.subject(forRefreshToken: token) else {
                return oauthError(.badRequest, "invalid_grant", "unknown refresh token")
            }
            subject = owner
            refreshToken = token
        default:
            return oauthError(.badRequest, "unsupported_grant_type", "grant_type must be password or refresh_token")
        }
        let scope = form["scope"] ?? ""
        let access = scope.split(separator: " ").compactMap(ResourceAccess.init(scope:))
        let now = Date()
        return HTTPHelpers.json([
            "access_token": try issuer.token(subject: subject, audience: audience, access: access, now: now),
            "refresh_token": refreshToken,
            "expires_in": RegistryTokenIssuer.lifetime,
            "issued_at": HTTPHelpers.rfc3339(now),
            "scope": scope,
        ])
    }

    /// The `aud` for a request's `service`: required for Docker Hub style.
    private func audience(_ service: String?) -> String? {
        if let service, !service.isEmpty { return service }
        return style == .artifactRegistry ? defaultAudience : nil
    }

    private func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        HTTPHelpers.json(["errors": [["code": code, "message": message]]], status: status)
    }

    private func oauthError(_ status: HTTPResponse.Status, _ code: String, _ description: String) -> Response {
        HTTPHelpers.json(["error": code, "error_description": description], status: status)
    }
}

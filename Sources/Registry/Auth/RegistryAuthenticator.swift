import Foundation
import GoogleAuth
import HTTPTransport
import NIOHTTP1

/// Answers registry challenges with the user's credentials, as docker does.
///
/// - `Basic`: sends `Basic base64(user:password)`, checked once against `/v2/` so a wrong
///   password fails with a clear message instead of a bare 401.
/// - `Bearer`: asks the challenge's realm for a token, `GET realm?service=…&scope=…`
///   (`service` only when the challenge has one, one `scope=` per scope) with Basic
///   credentials when known and anonymously otherwise; an identity token uses docker's
///   OAuth2 flow instead, `POST realm` with `grant_type=refresh_token`.
///   Tokens (`token` or `access_token`) are cached per registry and scope set until shortly
///   before `expires_in` (default 60 s) runs out; a cached token also serves narrower
///   requests (a push token answers pulls of the same repository).
///
/// Credentials come from a `CredentialResolver` (explicit, docker and podman files, helpers)
/// and, for Google's registries with nothing configured, from `GoogleCredentials`, sent as
/// `oauth2accesstoken:<access token>`. Credentials never appear in errors.
public actor RegistryAuthenticator: RegistryAuthenticating {
    public nonisolated let resolver: CredentialResolver
    public nonisolated let google: GoogleCredentials?
    /// Registries besides `*.pkg.dev`, `gcr.io` and `*.gcr.io` that take Google access tokens
    /// (env `SWIFTDOCK_GOOGLE_REGISTRIES`, comma-separated; used by tests and proxies).
    public nonisolated let googleRegistries: Set<String>
    private let now: @Sendable () -> Date

    private struct CachedToken {
        var grants: Set<String>
        var token: ExpiringToken
    }

    private var resolved: [String: ResolvedCredential?] = [:]
    private var resolving: [String: Task<ResolvedCredential?, Error>] = [:]
    private var basic: [String: String] = [:]
    private var tokens: [String: [CachedToken]] = [:]
    private var fetching: [String: Task<ExpiringToken, Error>] = [:]

    /// - Parameters:
    ///   - resolver: where credentials come from.
    ///   - useGoogle: fall back to Google credentials for Google registries.
    ///   - googleRegistries: more registries to treat as Google's.
    ///   - now: the clock, for tests of expiry.
    public init(resolver: CredentialResolver = CredentialResolver(), useGoogle: Bool = true,
                googleRegistries: Set<String>? = nil, now: @escaping @Sendable () -> Date = { Date() }) {
        self.resolver = resolver
        self.google = useGoogle ? GoogleCredentials(environment: resolver.environment, now: now) : nil
        self.googleRegistries = googleRegistries ?? Set((resolver.environment["SWIFTDOCK_GOOGLE_REGISTRIES"] ?? "")
            .split(separator: ",").map { RegistryHost.normalize(String($0)) }.filter { !$0.isEmpty })
        self.now = now
    }

    /// An authenticator reading credentials from `environment` and the files it names.
    public init(environment: [String: String]) {
        self.init(resolver: CredentialResolver(environment: environment))
    }

    // MARK: RegistryAuthenticating

    public func cachedAuthorization(registry: String, scopes: [AuthScope]) async -> String? {
        let registry = RegistryHost.normalize(registry)
        if let header = basic[registry] { return header }
        guard let token = cachedToken(registry: registry, grants: Self.grants(scopes)) else { return nil }
        return "Bearer " + token.value
    }

    public func authorize(registry: String, challenge: String, scopes: [AuthScope],
                          using client: RegistryClient) async throws -> String {
        try await authorize(registry: registry, challenge: challenge, scopes: scopes, http: client)
    }

    public func invalidate(registry: String, scopes: [AuthScope]) async {
        let registry = RegistryHost.normalize(registry)
        let grants = Self.grants(scopes)
        basic[registry] = nil
        tokens[registry]?.removeAll { grants.isSubset(of: $0.grants) }
        if isGoogle(registry), resolved[registry] == .some(nil) { await google?.invalidate() }
    }

    // MARK: answering challenges

    func authorize(registry name: String, challenge header: String, scopes: [AuthScope], http: AuthHTTP) async throws -> String {
        let registry = RegistryHost.normalize(name)
        let repository = scopes.first?.repository
        guard let challenge = AuthChallenge.preferred(header) else {
            throw RegistryError(.invalidResponse, registry: registry, repository: repository, status: 401,
                                "unreadable WWW-Authenticate challenge")
        }
        let found = try await credential(for: registry, http: http)
        if challenge.isBasic {
            guard let found, let header = found.credential.basicAuthorization else {
                throw RegistryError(.unauthorized, registry: registry, repository: repository, status: 401,
                                    found == nil ? Self.noCredentials(registry)
                                                 : "the registry asks for a password but \(found!.source) holds an identity token")
            }
            let reply = try await http.authFetch(url: http.authBaseURL(for: registry) + "/v2/", method: .GET,
                                                 headers: [("Authorization", header)], body: nil)
            if reply.status == 401 {
                throw RegistryError(.unauthorized, registry: registry, repository: repository, status: 401,
                                    Self.refused(found))
            }
            basic[registry] = header
            return header
        }
        guard challenge.isBearer else {
            throw RegistryError(.unsupported, registry: registry, repository: repository, status: 401,
                                "unsupported authentication scheme \(challenge.scheme)")
        }
        var scopeTexts = scopes.map(\.description)
        for extra in (challenge.scope ?? "").split(separator: " ").map(String.init) where !scopeTexts.contains(extra) {
            scopeTexts.append(extra)
        }
        let grants = Self.grants(scopes)
        let key = registry + " " + scopeTexts.sorted().joined(separator: " ")
        let token: ExpiringToken
        if let task = fetching[key] {
            token = try await task.value
        } else {
            let now = self.now
            let task = Task {
                try await Self.fetchToken(challenge: challenge, scopes: scopeTexts, credential: found, registry: registry,
                                          repository: repository, http: http, now: now)
            }
            fetching[key] = task
            defer { fetching[key] = nil }
            token = try await task.value
            tokens[registry, default: []].removeAll { $0.grants == grants || $0.token.refreshAfter <= now() }
            tokens[registry, default: []].append(CachedToken(grants: grants, token: token))
        }
        return "Bearer " + token.value
    }

    /// The credential for a registry: the resolver's (looked up once), else Google's.
    func credential(for registry: String, http: AuthHTTP) async throws -> ResolvedCredential? {
        let fromResolver: ResolvedCredential?
        if let known = resolved[registry] {
            fromResolver = known
        } else if let task = resolving[registry] {
            fromResolver = try await task.value
        } else {
            let resolver = self.resolver
            let task = Task { try await resolver.resolve(registry: registry) }
            resolving[registry] = task
            defer { resolving[registry] = nil }
            fromResolver = try await task.value
            resolved[registry] = .some(fromResolver)
        }
        if let fromResolver { return fromResolver }
        guard isGoogle(registry), let google,
              let (token, source) = try await Self.googleToken(google, http: http, registry: registry) else { return nil }
        return ResolvedCredential(.basic(username: RegistryCredential.googleAccessTokenUser, password: token), source: source)
    }

    /// Google's access token, its failures as `RegistryError`s of the same kind naming the registry.
    static func googleToken(_ google: GoogleCredentials, http: HTTPFetching,
                            registry: String) async throws -> (token: String, source: String)? {
        do {
            return try await google.accessToken(using: http)
        } catch let error as GoogleAuthError {
            throw RegistryError(error.kind == .transport ? .transport : .credentials, registry: registry, error.message,
                                underlying: error)
        }
    }

    private func isGoogle(_ registry: String) -> Bool {
        RegistryHost.isGoogle(registry) || googleRegistries.contains(registry)
    }

    private func cachedToken(registry: String, grants: Set<String>) -> ExpiringToken? {
        let date = now()
        let usable = (tokens[registry] ?? []).filter { $0.token.refreshAfter > date && grants.isSubset(of: $0.grants) }
        return (usable.first { $0.grants == grants } ?? usable.first)?.token
    }

    /// `repository:a/b:pull` and `repository:a/b:push` for each action of each scope.
    static func grants(_ scopes: [AuthScope]) -> Set<String> {
        Set(scopes.flatMap { scope in scope.actions.map { "repository:\(scope.repository):\($0)" } })
    }

    // MARK: token servers

    /// Asks a token server for a token: OAuth2 refresh grant with an identity token,
    /// otherwise a GET with Basic credentials (or none). `scopes` may be empty (login).
    static func fetchToken(challenge: AuthChallenge, scopes: [String], credential: ResolvedCredential?,
                           registry: String, repository: String?, http: AuthHTTP, now: @Sendable () -> Date,
                           offline: Bool = false) async throws -> ExpiringToken {
        guard let realm = challenge.realm, !realm.isEmpty, let realmURL = URL(string: realm), realmURL.host != nil else {
            throw RegistryError(.invalidResponse, registry: registry, repository: repository, status: 401,
                                "the Bearer challenge has no usable realm")
        }
        let realmHost = realmURL.host! + (realmURL.port.map { ":\($0)" } ?? "")
        // Credentials meant for an HTTPS registry never travel in clear text to a token server
        // its challenge names (a downgrade the registry's own TLS would not allow).
        if credential != nil, realmURL.scheme?.lowercased() != "https", http.authBaseURL(for: registry).hasPrefix("https://") {
            throw RegistryError(.invalidResponse, registry: registry, repository: repository, status: 401,
                                "the token server \(realmHost) is not HTTPS; not sending credentials there")
        }
        var service: [(String, String)] = []
        if let name = challenge.service, !name.isEmpty { service.append(("service", name)) }
        let reply: AuthHTTPReply
        do {
            switch credential?.credential {
            case .identityToken(let refreshToken)?:
                var form = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)] + service
                if !scopes.isEmpty { form.append(("scope", scopes.joined(separator: " "))) }
                form.append(("client_id", "swiftdock"))
                if offline { form.append(("access_type", "offline")) }
                reply = try await http.authFetch(url: realm, method: .POST,
                                                 headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                 body: Array(FormEncoding.encode(form).utf8))
            case .basic(let username, _)?:
                var query = service + scopes.map { ("scope", $0) } + [("account", username)]
                if offline { query += [("client_id", "swiftdock"), ("offline_token", "true")] }
                reply = try await http.authFetch(url: FormEncoding.url(realm, adding: query), method: .GET,
                                                 headers: [("Authorization", credential!.credential.basicAuthorization!)], body: nil)
            case nil:
                reply = try await http.authFetch(url: FormEncoding.url(realm, adding: service + scopes.map { ("scope", $0) }),
                                                 method: .GET, headers: [], body: nil)
            }
        } catch let error as RegistryError {
            throw RegistryError(.transport, registry: registry, repository: repository,
                                "token server \(realmHost): \(error.message)")
        }
        switch reply.status {
        case 200:
            guard let token = ExpiringToken.decode(reply.body, now: now()) else {
                throw RegistryError(.invalidResponse, registry: registry, repository: repository,
                                    "token server \(realmHost) answered without a token")
            }
            return token
        case 401:
            throw RegistryError(.unauthorized, registry: registry, repository: repository, status: 401,
                                credential.map(refused) ?? noCredentials(registry))
        case 403 where credential != nil:
            throw RegistryError(.unauthorized, registry: registry, repository: repository, status: 403, refused(credential!))
        default:
            let reason = ExpiringToken.errorText(reply.body).map { ": " + $0 } ?? ""
            throw RegistryError(reply.status == 403 ? .denied : .invalidResponse, registry: registry, repository: repository,
                                status: reply.status, "token server \(realmHost) refused the token request\(reason)")
        }
    }

    static func noCredentials(_ registry: String) -> String {
        "authentication required and no credentials are configured (run `swiftdock login \(registry)`)"
    }

    static func refused(_ credential: ResolvedCredential) -> String {
        switch credential.credential {
        case .identityToken:
            return "authentication failed: the identity token from \(credential.source) was refused (run `swiftdock login` again)"
        case .basic(let username, _) where username == RegistryCredential.googleAccessTokenUser:
            return "authentication failed: the Google access token from \(credential.source) was refused"
        case .basic:
            return "authentication failed: incorrect username or password (\(credential.credential) from \(credential.source))"
        }
    }
}

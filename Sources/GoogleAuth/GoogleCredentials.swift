import Foundation
import HTTPTransport

/// Google OAuth2 access tokens without gcloud: for Artifact Registry and Container Registry
/// when nothing else is configured, and for the Google APIs `swiftdock vertex` calls. Sources, in Application Default Credentials order:
///
/// 1. `GOOGLE_APPLICATION_CREDENTIALS` (a key file: `authorized_user` or `service_account`);
/// 2. the well-known ADC file, `$CLOUDSDK_CONFIG/application_default_credentials.json` or
///    `~/.config/gcloud/application_default_credentials.json`;
/// 3. the metadata server (`http://$GCE_METADATA_HOST`, default `metadata.google.internal`),
///    asked once with a short timeout; unreachable means "no credentials";
/// 4. `gcloud auth print-access-token` when `gcloud` is on `PATH`.
///
/// `authorized_user` files use the refresh-token grant, service accounts an RS256
/// JWT-bearer assertion. `SWIFTDOCK_GOOGLE_TOKEN_URI` overrides the token endpoint (tests);
/// a service account's own `token_uri` is honoured otherwise, requested through
/// `SWIFTDOCK_GOOGLE_API_BASE` when that is set (`GoogleAPIBase`). Tokens are cached until
/// shortly before they expire.
public actor GoogleCredentials {
    public nonisolated let environment: [String: String]
    private let now: @Sendable () -> Date
    private var cached: (token: ExpiringToken, source: String)?
    /// Set once every source came up empty: the metadata server is not asked again.
    private var unavailable = false
    private var inflight: Task<(ExpiringToken, String)?, Error>?

    /// How long the metadata server gets to answer.
    public static let metadataTimeout: TimeInterval = 2

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.now = now
    }

    /// A cloud-platform access token and where it came from (`service account x@y`,
    /// `metadata server`), or nil when no Google credentials are available. Cached until
    /// shortly before it expires; concurrent callers share one grant.
    public func accessToken(using http: HTTPFetching) async throws -> (token: String, source: String)? {
        if let cached, cached.token.refreshAfter > now() { return (cached.token.value, cached.source) }
        if unavailable { return nil }
        if let inflight { return try await inflight.value.map { ($0.0.value, $0.1) } }
        let task = Task { try await self.mint(http: http) }
        inflight = task
        defer { inflight = nil }
        guard let (token, source) = try await task.value else {
            unavailable = true
            return nil
        }
        cached = (token, source)
        return (token.value, source)
    }

    /// Forgets the cached access token (a registry refused it).
    public func invalidate() {
        cached = nil
    }

    var home: String { environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() }

    /// The well-known ADC file gcloud writes with `gcloud auth application-default login`.
    public nonisolated var wellKnownFile: String {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let directory = environment["CLOUDSDK_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config/gcloud"
        return directory + "/application_default_credentials.json"
    }

    private func mint(http: HTTPFetching) async throws -> (ExpiringToken, String)? {
        if let path = environment["GOOGLE_APPLICATION_CREDENTIALS"], !path.isEmpty {
            guard FileManager.default.fileExists(atPath: path) else {
                throw GoogleAuthError(.credentials, "GOOGLE_APPLICATION_CREDENTIALS: \(path) does not exist")
            }
            return try await fromFile(path, http: http)
        }
        if FileManager.default.fileExists(atPath: wellKnownFile) {
            return try await fromFile(wellKnownFile, http: http)
        }
        if let token = await fromMetadataServer(http: http) { return (token, "metadata server") }
        return try await fromGcloud()
    }

    /// An ADC file: `authorized_user` or `service_account`.
    func fromFile(_ path: String, http: HTTPFetching) async throws -> (ExpiringToken, String) {
        guard let data = FileManager.default.contents(atPath: path),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw GoogleAuthError(.credentials, "Google credentials \(path): not a readable JSON file")
        }
        let override = environment["SWIFTDOCK_GOOGLE_TOKEN_URI"].flatMap { $0.isEmpty ? nil : $0 }
        switch object["type"] as? String {
        case "authorized_user":
            guard let clientID = object["client_id"] as? String, let secret = object["client_secret"] as? String,
                  let refresh = object["refresh_token"] as? String else {
                throw GoogleAuthError(.credentials, "Google credentials \(path): authorized_user needs client_id, client_secret and refresh_token")
            }
            let form = [("grant_type", "refresh_token"), ("client_id", clientID), ("client_secret", secret), ("refresh_token", refresh)]
            let uri = override ?? GoogleServiceAccountKey.defaultTokenURI
            let token = try await exchange(form, at: uri, http: http, what: "Google user credentials \(path)")
            return (token, "Google user credentials \(path)")
        case "service_account":
            guard let key = GoogleServiceAccountKey(json: object) else {
                throw GoogleAuthError(.credentials, "Google credentials \(path): service_account needs client_email and private_key")
            }
            let assertion = try key.assertion(now: now())
            let form = [("grant_type", GoogleServiceAccountKey.jwtBearerGrant), ("assertion", assertion)]
            let what = "service account \(key.clientEmail)"
            return (try await exchange(form, at: override ?? key.tokenURI, http: http, what: what), what)
        case let other:
            throw GoogleAuthError(.credentials, "Google credentials \(path): type \(other.map { "\"\($0)\"" } ?? "(none)") is not supported (use authorized_user or service_account)")
        }
    }

    /// POSTs a token grant; errors name the endpoint's host and Google's reason, never the form.
    private func exchange(_ form: [(String, String)], at uri: String, http: HTTPFetching, what: String) async throws -> ExpiringToken {
        let host = URL(string: uri)?.host ?? uri
        let reply: HTTPReply
        do {
            reply = try await http.fetchReply(url: GoogleAPIBase(environment: environment).transportURL(uri), method: .POST,
                                             headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                             body: Array(FormEncoding.encode(form).utf8))
        } catch let error as TransportError {
            throw GoogleAuthError(.transport, "\(what): Google token endpoint \(host): \(error)", underlying: error)
        }
        guard reply.status == 200, let token = ExpiringToken.decode(reply.body, now: now()) else {
            let reason = ExpiringToken.errorText(reply.body) ?? (reply.status == 200 ? "no access_token in the answer" : "")
            throw GoogleAuthError(.credentials, "\(what): Google token endpoint \(host) refused the grant (HTTP \(reply.status))\(reason.isEmpty ? "" : ": " + reason)")
        }
        return token
    }

    /// The metadata server's default service account token; nil when unreachable or refusing.
    func fromMetadataServer(http: HTTPFetching) async -> ExpiringToken? {
        let host = environment["GCE_METADATA_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "metadata.google.internal"
        let url = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
        guard let reply = try? await http.probeReply(url: url, headers: [("Metadata-Flavor", "Google")], timeout: Self.metadataTimeout),
              reply.status == 200 else { return nil }
        return ExpiringToken.decode(reply.body, now: now())
    }

    /// `gcloud auth print-access-token`, when gcloud is installed; its lifetime is unknown,
    /// so it is kept five minutes.
    func fromGcloud() async throws -> (ExpiringToken, String)? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard let gcloud = path.split(separator: ":").map({ "\($0)/gcloud" })
            .first(where: FileManager.default.isExecutableFile(atPath:)) else { return nil }
        let result: ProcessRunner.Result
        do {
            result = try await ProcessRunner.run(executable: gcloud, arguments: ["auth", "print-access-token"], input: Data(),
                                                 environment: environment)
        } catch let error as ProcessRunner.LaunchError {
            throw GoogleAuthError(.credentials, "gcloud: \(error)", underlying: error)
        }
        let token = String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !token.isEmpty, !token.contains(where: \.isWhitespace) else {
            let line = String(decoding: result.error, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            throw GoogleAuthError(.credentials, "gcloud auth print-access-token failed\(line.isEmpty ? "" : ": " + line.prefix(200))")
        }
        return (ExpiringToken(value: token, refreshAfter: now().addingTimeInterval(300)), "gcloud")
    }
}

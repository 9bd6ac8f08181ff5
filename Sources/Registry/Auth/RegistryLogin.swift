import Foundation
import HTTPTransport

/// What `swiftdock login` / `logout` do: check credentials against a registry, then keep
/// them where docker would (the configured credential helper, else `auths` in
/// `$DOCKER_CONFIG/config.json`, mode 0600), or remove them.
public enum RegistryLogin {
    /// Where credentials were stored or erased, for messages.
    public enum Place: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case helper(String)

        public var description: String {
            switch self {
            case .file(let path): return path
            case .helper(let program): return "credential helper \(program)"
            }
        }
    }

    /// Checks `credential` against `registry`: `GET /v2/`, then answers its challenge,
    /// Basic on `/v2/` itself, Bearer with a scope-less token request (docker's login).
    /// Throws a one-line `RegistryError`; `.unauthorized` for wrong credentials.
    public static func verify(registry: String, credential: RegistryCredential, using client: RegistryClient) async throws {
        try await verify(registry: registry, credential: credential, http: client)
    }

    static func verify(registry name: String, credential: RegistryCredential, http: AuthHTTP) async throws {
        let registry = RegistryHost.normalize(name)
        let url = http.authBaseURL(for: registry) + "/v2/"
        let resolved = ResolvedCredential(credential, source: "the given credentials")
        let ping: AuthHTTPReply
        do {
            ping = try await http.authFetch(url: url, method: .GET, headers: [], body: nil)
        } catch let error as RegistryError {
            throw RegistryError(error.kind, registry: registry, status: error.status, error.message)
        }
        if ping.status == 200 { return }
        guard ping.status == 401 else {
            throw RegistryError(.invalidResponse, registry: registry, status: ping.status,
                                "\(url) does not answer like a registry")
        }
        guard let challenge = ping.header("WWW-Authenticate").flatMap(AuthChallenge.preferred) else {
            throw RegistryError(.invalidResponse, registry: registry, status: 401, "\(url) answered 401 without a challenge")
        }
        if challenge.isBasic {
            guard let header = credential.basicAuthorization else {
                throw RegistryError(.unsupported, registry: registry, "the registry takes only a user name and password")
            }
            let reply = try await http.authFetch(url: url, method: .GET, headers: [("Authorization", header)], body: nil)
            if reply.status == 401 {
                throw RegistryError(.unauthorized, registry: registry, status: 401, RegistryAuthenticator.refused(resolved))
            }
            return
        }
        guard challenge.isBearer else {
            throw RegistryError(.unsupported, registry: registry, "unsupported authentication scheme \(challenge.scheme)")
        }
        _ = try await RegistryAuthenticator.fetchToken(challenge: challenge, scopes: [], credential: resolved, registry: registry,
                                                       repository: nil, http: http, now: { Date() })
    }

    /// Stores `credential` for `registry` through the helper `credHelpers`/`credsStore`
    /// names in docker's config, else in its `auths` (base64 `user:password`).
    public static func store(_ credential: RegistryCredential, for registry: String,
                             resolver: CredentialResolver) async throws -> Place {
        let host = RegistryHost.normalize(registry)
        if let helper = try resolver.storeHelper(for: host) {
            try await helper.store(credential, serverURL: RegistryHost.configKey(host), registry: host)
            // Like docker, leave an empty `auths` entry so the registry is listed.
            try DockerConfigFile.update(path: resolver.dockerConfigPath) { object in
                var auths = object["auths"] as? [String: Any] ?? [:]
                if RegistryHost.matchingKey(for: host, in: auths.keys) == nil { auths[RegistryHost.configKey(host)] = [String: Any]() }
                object["auths"] = auths
            }
            return .helper(helper.program)
        }
        try DockerConfigFile.store(credential, for: host, path: resolver.dockerConfigPath)
        return .file(resolver.dockerConfigPath)
    }

    /// Removes `registry`'s credentials from docker's config and its helper; false when
    /// there were none to remove.
    public static func erase(registry: String, resolver: CredentialResolver) async throws -> Bool {
        let host = RegistryHost.normalize(registry)
        let path = resolver.dockerConfigPath
        let file = try DockerConfigFile.load(path: path)
        let listed = file.map { RegistryHost.matchingKey(for: host, in: $0.auths.keys) != nil } ?? false
        var erased = false
        if let helper = try resolver.storeHelper(for: host) {
            if try await helper.get(serverURL: RegistryHost.configKey(host), registry: host) != nil {
                try await helper.erase(serverURL: RegistryHost.configKey(host), registry: host)
                erased = true
            }
        }
        if listed { erased = try DockerConfigFile.erase(registry: host, path: path) || erased }
        return erased
    }
}

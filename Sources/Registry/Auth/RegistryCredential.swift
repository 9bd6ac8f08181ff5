import Foundation
import ImageModel

/// A secret for one registry. `description` never shows the secret.
public enum RegistryCredential: Sendable, Equatable, CustomStringConvertible {
    /// A user name and password (or access token) sent as HTTP Basic.
    case basic(username: String, password: String)
    /// docker's identity token (a refresh token; the credential helper's `<token>` user name),
    /// exchanged through the token server's OAuth2 endpoint.
    case identityToken(String)

    /// The user name Google's registries take an OAuth2 access token with.
    public static let googleAccessTokenUser = "oauth2accesstoken"

    /// `Basic base64(user:password)`, or nil for an identity token.
    public var basicAuthorization: String? {
        guard case .basic(let username, let password) = self else { return nil }
        return "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public var username: String? {
        if case .basic(let username, _) = self { return username }
        return nil
    }

    public var description: String {
        switch self {
        case .basic(let username, _): return "user \(username)"
        case .identityToken: return "identity token"
        }
    }
}

/// A credential and where it came from (`docker config /home/u/.docker/config.json`,
/// `credential helper docker-credential-pass`), for messages.
public struct ResolvedCredential: Sendable, Equatable {
    public var credential: RegistryCredential
    public var source: String

    public init(_ credential: RegistryCredential, source: String) {
        self.credential = credential
        self.source = source
    }
}

/// Registry names as docker's config files spell them.
public enum RegistryHost {
    /// The key and helper server URL docker uses for Docker Hub.
    public static let dockerHubIndex = "https://index.docker.io/v1/"

    /// A registry as a reference names it: scheme, path and case dropped; Docker Hub's
    /// aliases (`index.docker.io`, `registry-1.docker.io`, `https://index.docker.io/v1/`)
    /// become `docker.io`.
    public static func normalize(_ name: String) -> String {
        var host = name.trimmingCharacters(in: .whitespaces)
        for prefix in ["https://", "http://"] where host.lowercased().hasPrefix(prefix) {
            host = String(host.dropFirst(prefix.count))
        }
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        host = host.lowercased()
        if ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(host) {
            host = Reference.defaultDomain
        }
        return host
    }

    /// The key `docker login` writes under `auths` and the server URL it gives helpers.
    public static func configKey(_ registry: String) -> String {
        let host = normalize(registry)
        return host == Reference.defaultDomain ? dockerHubIndex : host
    }

    /// The value in `keys` that names `registry`: an exact key first, then one that
    /// normalizes to the same host (with or without scheme, Docker Hub aliases).
    public static func matchingKey<S: Sequence>(for registry: String, in keys: S) -> String? where S.Element == String {
        let keys = Array(keys)
        let exact = [registry, configKey(registry)]
        if let key = exact.first(where: keys.contains) { return key }
        let host = normalize(registry)
        return keys.sorted().first { normalize($0) == host }
    }

    /// Artifact Registry and Container Registry hosts, whose credentials Google issues.
    public static func isGoogle(_ registry: String) -> Bool {
        var host = normalize(registry)
        if let colon = host.firstIndex(of: ":") { host = String(host[..<colon]) }
        return host.hasSuffix(".pkg.dev") || host == "gcr.io" || host.hasSuffix(".gcr.io")
    }
}

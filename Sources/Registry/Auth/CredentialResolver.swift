import Foundation

/// Finds the credential for a registry the way docker does, then podman's files:
///
/// 1. explicit credentials (command line, or `SWIFTDOCK_USERNAME` + `SWIFTDOCK_PASSWORD`,
///    limited to the registries in `SWIFTDOCK_REGISTRY` when set) win over files;
/// 2. `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`): `credHelpers[host]`,
///    then `credsStore`, then `auths[host]` (`auth`, `username`/`password`, `identitytoken`);
/// 3. `REGISTRY_AUTH_FILE`, `${XDG_RUNTIME_DIR}/containers/auth.json`,
///    `~/.config/containers/auth.json`, each read the same way.
///
/// Hosts match as docker matches them: keys with or without scheme, `docker.io` ↔
/// `https://index.docker.io/v1/`. Google credentials (no files needed) are
/// `GoogleCredentials`' business and come after all of these.
public struct CredentialResolver: Sendable {
    /// Where `HOME`, `DOCKER_CONFIG`, `PATH` (for helpers) and the rest are read from.
    public var environment: [String: String]
    /// Explicit credentials by normalized registry; the key `*` applies to every registry.
    public var explicit: [String: RegistryCredential]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                explicit: [String: RegistryCredential] = [:]) {
        self.environment = environment
        self.explicit = explicit
        if let user = environment["SWIFTDOCK_USERNAME"], !user.isEmpty,
           let password = environment["SWIFTDOCK_PASSWORD"], !password.isEmpty {
            let credential = RegistryCredential.basic(username: user, password: password)
            let registries = (environment["SWIFTDOCK_REGISTRY"] ?? "").split(separator: ",")
                .map { RegistryHost.normalize(String($0)) }.filter { !$0.isEmpty }
            for registry in registries.isEmpty ? ["*"] : registries where self.explicit[registry] == nil {
                self.explicit[registry] = credential
            }
        }
    }

    var home: String {
        if let home = environment["HOME"], !home.isEmpty { return home }
        return NSHomeDirectory()
    }

    /// `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`: where `login` writes.
    public var dockerConfigPath: String {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty { return directory + "/config.json" }
        return home + "/.docker/config.json"
    }

    /// Every file consulted, in order (some may not exist).
    public var configPaths: [String] {
        var paths = [dockerConfigPath]
        if let file = environment["REGISTRY_AUTH_FILE"], !file.isEmpty { paths.append(file) }
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { paths.append(runtime + "/containers/auth.json") }
        paths.append(home + "/.config/containers/auth.json")
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    /// The credential for `registry`, or nil when none is configured.
    /// Throws one-line `.credentials` errors (a failing helper, an unreadable file).
    public func resolve(registry: String) async throws -> ResolvedCredential? {
        let host = RegistryHost.normalize(registry)
        if let credential = explicit[host] ?? explicit["*"] {
            return ResolvedCredential(credential, source: "explicit credentials")
        }
        for path in configPaths {
            guard let file = try DockerConfigFile.load(path: path) else { continue }
            if let found = try await resolve(host, in: file) { return found }
        }
        return nil
    }

    /// One file's answer: its helper for the host, its `credsStore`, its `auths` entry.
    func resolve(_ registry: String, in file: DockerConfigFile) async throws -> ResolvedCredential? {
        let serverURL = RegistryHost.configKey(registry)
        let helpers = [file.helper(for: registry), file.credsStore].compactMap { $0 }
        for name in helpers {
            let helper = CredentialHelper(name: name, environment: environment)
            if let credential = try await helper.get(serverURL: serverURL, registry: registry) {
                return ResolvedCredential(credential, source: "credential helper \(helper.program)")
            }
        }
        if let credential = try file.credential(for: registry) {
            return ResolvedCredential(credential, source: file.path)
        }
        return nil
    }

    /// The helper `login`/`logout` should use for `registry` in docker's config, if any:
    /// `credHelpers[host]`, else `credsStore`.
    public func storeHelper(for registry: String) throws -> CredentialHelper? {
        guard let file = try DockerConfigFile.load(path: dockerConfigPath) else { return nil }
        return (file.helper(for: registry) ?? file.credsStore).map { CredentialHelper(name: $0, environment: environment) }
    }
}

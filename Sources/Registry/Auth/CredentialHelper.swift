import Foundation
import HTTPTransport
import GoogleAuth

/// A docker credential helper, `docker-credential-NAME`, found on `PATH` and spoken to as
/// docker does: `get` / `erase` take the server URL on stdin, `store` takes
/// `{"ServerURL","Username","Secret"}`; `get` answers `{"ServerURL","Username","Secret"}`.
/// A `Username` of `<token>` marks an identity token. Failures are one-line `.credentials`
/// errors naming the helper; the secret never appears in them.
public struct CredentialHelper: Sendable {
    /// The name after `docker-credential-` (`pass`, `gcloud`, `desktop`).
    public var name: String
    /// The environment the helper runs with; its `PATH` is searched.
    public var environment: [String: String]

    public init(name: String, environment: [String: String]) {
        self.name = name
        self.environment = environment
    }

    public var program: String { "docker-credential-" + name }

    /// The helper's credential for `serverURL`; nil when it has none ("credentials not found").
    public func get(serverURL: String, registry: String) async throws -> RegistryCredential? {
        let result = try await run("get", input: Data(serverURL.utf8), registry: registry)
        if result.status != 0 {
            if Self.isNotFound(result.output) || Self.isNotFound(result.error) { return nil }
            throw failure("get", result, registry: registry)
        }
        struct Answer: Decodable {
            var Username: String?
            var Secret: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: result.output) else {
            throw RegistryError(.credentials, registry: registry, "credential helper \(program) get: unreadable answer (expected JSON with Username and Secret)")
        }
        guard let secret = answer.Secret, !secret.isEmpty else { return nil }
        let username = answer.Username ?? ""
        if username == "<token>" { return .identityToken(secret) }
        return .basic(username: username, password: secret)
    }

    /// Stores `credential` for `serverURL`.
    public func store(_ credential: RegistryCredential, serverURL: String, registry: String) async throws {
        let (username, secret): (String, String)
        switch credential {
        case .basic(let user, let password): (username, secret) = (user, password)
        case .identityToken(let token): (username, secret) = ("<token>", token)
        }
        let payload = try JSONSerialization.data(withJSONObject: ["ServerURL": serverURL, "Username": username, "Secret": secret],
                                                 options: [.sortedKeys])
        let result = try await run("store", input: payload, registry: registry)
        if result.status != 0 { throw failure("store", result, registry: registry) }
    }

    /// Erases the helper's credential for `serverURL`; a missing one is not an error.
    public func erase(serverURL: String, registry: String) async throws {
        let result = try await run("erase", input: Data(serverURL.utf8), registry: registry)
        if result.status != 0, !Self.isNotFound(result.output), !Self.isNotFound(result.error) {
            throw failure("erase", result, registry: registry)
        }
    }

    // MARK: running

    typealias Result = ProcessRunner.Result

    static func isNotFound(_ data: Data) -> Bool {
        String(decoding: data, as: UTF8.self).lowercased().contains("credentials not found")
    }

    private func failure(_ verb: String, _ result: Result, registry: String) -> RegistryError {
        // Helpers print their reason on stdout (docker's protocol) or stderr; never echo
        // more than the first line, which is not the secret for the verbs above.
        let text = [result.output, result.error].map { String(decoding: $0, as: UTF8.self) }
            .map { $0.split(whereSeparator: \.isNewline).first.map(String.init) ?? "" }
            .first { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "exit status \(result.status)"
        let short = text.count > 200 ? String(text.prefix(200)) + "…" : text
        return RegistryError(.credentials, registry: registry, "credential helper \(program) \(verb) failed: \(short)")
    }

    /// The helper's absolute path, from `PATH` in `environment`.
    func executablePath() -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    func run(_ verb: String, input: Data, registry: String) async throws -> Result {
        guard let executable = executablePath() else {
            throw RegistryError(.credentials, registry: registry, "credential helper \(program) not found on PATH")
        }
        do {
            return try await ProcessRunner.run(executable: executable, arguments: [verb], input: input, environment: environment)
        } catch let error as ProcessRunner.LaunchError {
            throw RegistryError(.credentials, registry: registry, "credential helper \(program): \(error)", underlying: error)
        }
    }
}

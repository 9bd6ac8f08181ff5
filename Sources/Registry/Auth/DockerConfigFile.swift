import Foundation

/// The credential parts of docker's `config.json` (and podman's `auth.json`, same format):
/// `auths`, `credHelpers`, `credsStore`. Other keys are kept untouched when writing.
public struct DockerConfigFile: Sendable {
    /// One `auths` entry.
    public struct AuthEntry: Sendable, Equatable {
        /// base64 of `user:password`.
        public var auth: String?
        public var username: String?
        public var password: String?
        public var identityToken: String?
    }

    public var path: String
    public var auths: [String: AuthEntry]
    public var credHelpers: [String: String]
    public var credsStore: String?

    /// Reads `path`; nil when there is no such file. Throws a one-line `.credentials`
    /// error when it is not a JSON object.
    public static func load(path: String) throws -> DockerConfigFile? {
        guard let object = try readObject(path: path) else { return nil }
        var file = DockerConfigFile(path: path, auths: [:], credHelpers: [:], credsStore: nil)
        for (key, value) in object["auths"] as? [String: Any] ?? [:] {
            let entry = value as? [String: Any] ?? [:]
            func string(_ name: String) -> String? {
                guard let text = entry[name] as? String, !text.isEmpty else { return nil }
                return text
            }
            file.auths[key] = AuthEntry(auth: string("auth"), username: string("username"), password: string("password"),
                                        identityToken: string("identitytoken") ?? string("identityToken"))
        }
        for (key, value) in object["credHelpers"] as? [String: Any] ?? [:] {
            if let helper = value as? String, !helper.isEmpty { file.credHelpers[key] = helper }
        }
        if let store = object["credsStore"] as? String, !store.isEmpty { file.credsStore = store }
        return file
    }

    /// The `auths` credential for `registry`, if any: an identity token first, then `auth`,
    /// then `username`/`password`. Throws when `auth` is not base64 `user:password`.
    public func credential(for registry: String) throws -> RegistryCredential? {
        guard let key = RegistryHost.matchingKey(for: registry, in: auths.keys), let entry = auths[key] else { return nil }
        if let token = entry.identityToken { return .identityToken(token) }
        if let auth = entry.auth {
            guard let data = Data(base64Encoded: auth.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":") else {
                throw RegistryError(.credentials, registry: RegistryHost.normalize(registry),
                                    "\(path): auths[\"\(key)\"].auth is not base64 of user:password")
            }
            return .basic(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        if let username = entry.username, let password = entry.password { return .basic(username: username, password: password) }
        return nil
    }

    /// The helper named for `registry` in `credHelpers`.
    public func helper(for registry: String) -> String? {
        RegistryHost.matchingKey(for: registry, in: credHelpers.keys).flatMap { credHelpers[$0] }
    }

    // MARK: writing

    /// Reads the file as a JSON object (nil when absent), lets `change` edit it and writes it
    /// back atomically with mode 0600 (through a symlink to its target), keeping other keys.
    public static func update(path: String, _ change: (inout [String: Any]) throws -> Void) throws {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        var object = try readObject(path: target) ?? [:]
        try change(&object)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let temporary = directory + "/.config.json.\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max)).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data + Data("\n".utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw RegistryError(.credentials, registry: "local", "\(target): cannot write (directory not writable?)")
        }
        // createFile's mode goes through the umask; make it exactly 0600.
        chmod(temporary, 0o600)
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw RegistryError(.credentials, registry: "local", "\(target): cannot replace: \(reason)")
        }
    }

    /// Stores `credential` under `auths[configKey]` (base64 `auth`, or `identitytoken`).
    public static func store(_ credential: RegistryCredential, for registry: String, path: String) throws {
        try update(path: path) { object in
            var auths = object["auths"] as? [String: Any] ?? [:]
            let key = RegistryHost.matchingKey(for: registry, in: auths.keys) ?? RegistryHost.configKey(registry)
            var entry = auths[key] as? [String: Any] ?? [:]
            for name in ["auth", "username", "password", "identitytoken", "identityToken"] { entry[name] = nil }
            switch credential {
            case .basic(let username, let password):
                entry["auth"] = Data("\(username):\(password)".utf8).base64EncodedString()
            case .identityToken(let token):
                entry["identitytoken"] = token
            }
            auths[key] = entry
            object["auths"] = auths
        }
    }

    /// Removes every `auths` key naming `registry`; true when one was there.
    @discardableResult
    public static func erase(registry: String, path: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        var removed = false
        try update(path: path) { object in
            guard var auths = object["auths"] as? [String: Any] else { return }
            let host = RegistryHost.normalize(registry)
            for key in auths.keys where RegistryHost.normalize(key) == host {
                auths[key] = nil
                removed = true
            }
            object["auths"] = auths
        }
        return removed
    }

    static func readObject(path: String) throws -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw RegistryError(.credentials, registry: "local", "\(path): not a JSON object")
        }
        return object
    }
}

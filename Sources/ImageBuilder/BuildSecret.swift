import Foundation

/// One `--secret` flag, as docker buildx spells it: `id=ID[,src=FILE|source=FILE][,env=VAR]`
/// `[,type=file|env|google-token]`.
///
/// The value is read when the build starts (`read`), kept in memory only (`SecretValue`), and
/// reaches a RUN through the sandbox's spec pipe: never a layer, the store, a log or the cache
/// key.
public struct BuildSecret: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case file(String)
        case environment(String)
        /// A short-lived Google access token minted from the credentials swiftdock resolves for
        /// registries (ADC, service account, metadata server, gcloud); the CLI mints it.
        case googleToken
    }

    public var id: String
    public var source: Source

    /// BuildKit's limit on a secret's size (session/secrets/secretsprovider: 500KB).
    public static let maximumSize = 500 * 1024

    /// Parses the flag's value. Fields as in buildx (util/buildflags/secrets.go): every field is
    /// `key=value`, keys are case-insensitive, `type=env` moves a `src` to `env`. `--secret id=ID`
    /// alone is resolved as BuildKit's secrets provider resolves it (session/secrets/
    /// secretsprovider/store.go, NewStore): the environment variable named ID when it is set,
    /// else the file named ID.
    public static func parse(_ text: String, environment: [String: String]) throws -> BuildSecret {
        var id: String?, file: String?, variable: String?, type: String?
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw BuildSecretError("--secret \(text): invalid field '\(field)' must be a key=value pair") }
            switch pair[0].lowercased() {
            case "type":
                guard ["file", "env", "google-token"].contains(pair[1]) else {
                    throw BuildSecretError("--secret \(text): unsupported secret type \"\(pair[1])\" (file, env or google-token)")
                }
                type = pair[1]
            case "id": id = pair[1]
            case "source", "src": file = pair[1]
            case "env": variable = pair[1]
            default: throw BuildSecretError("--secret \(text): unexpected key '\(pair[0])' in '\(field)'")
            }
        }
        guard let id, !id.isEmpty else { throw BuildSecretError("--secret \(text): secret missing ID") }
        if type == "google-token" {
            guard file == nil, variable == nil else { throw BuildSecretError("--secret \(text): type=google-token takes no src or env") }
            return BuildSecret(id: id, source: .googleToken)
        }
        if type == "env" && (variable ?? "").isEmpty {
            variable = file
            file = nil
        }
        if let variable, !variable.isEmpty { return BuildSecret(id: id, source: .environment(variable)) }
        if let file, !file.isEmpty { return BuildSecret(id: id, source: .file(file)) }
        return BuildSecret(id: id, source: environment[id] != nil ? .environment(id) : .file(id))
    }

    /// The secret's bytes from its file or variable (not for `googleToken`). Errors name the flag,
    /// the file or the variable, never the value.
    public func read(environment: [String: String]) throws -> SecretValue {
        switch source {
        case .environment(let name):
            guard let value = environment[name] else {
                throw BuildSecretError("--secret id=\(id): environment variable \(name) is not set")
            }
            return try SecretValue(Array(value.utf8), id: id)
        case .file(let path):
            guard let handle = FileHandle(forReadingAtPath: path) else {
                let reason = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file or directory"
                throw BuildSecretError("--secret id=\(id): open \(path): \(reason)")
            }
            defer { try? handle.close() }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw BuildSecretError("--secret id=\(id): \(path) is a directory")
            }
            let data: Data
            do { data = try handle.read(upToCount: Self.maximumSize + 1) ?? Data() } catch {
                throw BuildSecretError("--secret id=\(id): read \(path): \(error.localizedDescription)")
            }
            return try SecretValue(Array(data), id: id)
        case .googleToken:
            throw BuildSecretError("--secret id=\(id): a google-token secret is minted, not read")
        }
    }
}

/// A secret's bytes. Printing it (description, debugDescription, a mirror) never shows them.
public struct SecretValue: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8], id: String) throws {
        guard bytes.count <= BuildSecret.maximumSize else {
            throw BuildSecretError("--secret id=\(id): secret too big (max size 500KB)")
        }
        self.bytes = bytes
    }

    public var description: String { "<secret, \(bytes.count) bytes>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// A bad `--secret` or `--ssh` flag: one line naming the flag, never a secret's value.
public struct BuildSecretError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

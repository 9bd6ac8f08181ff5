import Foundation

/// One `RUN --mount=…` request, in BuildKit's CSV form (`type=cache,target=/root/.cache,id=pip,ro`).
struct RunMount: Equatable {
    enum Kind: String { case bind, cache, tmpfs, secret, ssh }
    var kind: Kind
    /// Absolute path in the container. Secrets default to `/run/secrets/ID` (none when only
    /// `env` is given); ssh mounts to `/run/buildkit/ssh_agent.N`, N counting the RUN's ssh
    /// mounts (`""` here until the step numbers them).
    var target: String
    /// bind: the path in the context (or in `from`); cache: a sub path of the cache.
    var source: String?
    /// bind/cache: a stage name or index, or an image.
    var from: String?
    var readOnly: Bool
    /// cache: the cache's identity (default: the target); secret: the secret's id (default: the
    /// target's base name); ssh: the `--ssh` id (default `default`).
    var id: String?
    /// cache: how concurrent builds share it (BuildKit's `sharing=`).
    var sharing: CacheSharing = .shared
    /// secret: also (or, without `target`, only) in this environment variable of the RUN.
    var env: String? = nil
    /// secret/ssh: a missing secret or agent fails the step (default: the mount is left out).
    var required: Bool = false
    /// secret/ssh: the file's permission bits (BuildKit: 0400 for secrets, 0600 for ssh).
    var mode: UInt32? = nil
    var uid: UInt32? = nil
    var gid: UInt32? = nil

    /// BuildKit's sharing modes of a cache mount: `shared` by every user at once, `locked` by
    /// one RUN at a time (others wait), `private` to one RUN (a busy cache gives a fresh one).
    enum CacheSharing: String { case shared, `private`, locked }

    struct ParseError: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    /// Parses BuildKit's CSV form: `type=cache,target=/root/.cache,id=pip,ro`.
    static func parse(_ value: String) throws -> RunMount {
        var fields: [String: String] = [:]
        var flags = Set<String>()
        for part in value.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            if pair.count == 2 { fields[pair[0].lowercased()] = pair[1] } else { flags.insert(pair[0].lowercased()) }
        }
        let typeName = fields["type"] ?? "bind"
        guard let kind = Kind(rawValue: typeName) else {
            throw ParseError(text: "--mount \(value): unknown mount type \"\(typeName)\"")
        }
        let target = fields["target"] ?? fields["dst"] ?? fields["destination"]
        if kind == .secret || kind == .ssh { return try parseCredential(kind, fields: fields, flags: flags, target: target, value: value) }
        guard let target, !target.isEmpty else {
            throw ParseError(text: "--mount \(value): target is required")
        }
        let readOnly: Bool
        if flags.contains("ro") || flags.contains("readonly") || fields["ro"] == "true" || fields["readonly"] == "true" {
            readOnly = true
        } else if flags.contains("rw") || flags.contains("readwrite") || fields["rw"] == "true" || fields["readwrite"] == "true" {
            readOnly = false
        } else {
            readOnly = kind == .bind  // BuildKit: bind mounts are read-only unless rw
        }
        let sharingName = fields["sharing"] ?? "shared"
        guard let sharing = CacheSharing(rawValue: sharingName) else {
            throw ParseError(text: "--mount \(value): unrecognized sharing \"\(sharingName)\" (expected shared, private or locked)")
        }
        return RunMount(kind: kind, target: target, source: fields["source"] ?? fields["src"], from: fields["from"],
                        readOnly: readOnly, id: fields["id"], sharing: sharing)
    }

    /// `type=secret` and `type=ssh`, with BuildKit's defaults (dockerfile frontend,
    /// instructions/commands_runmount.go): a secret's id is `id`, else `source`, else the base name
    /// of `target`; its target `/run/secrets/ID` unless only `env` is asked for.
    private static func parseCredential(_ kind: Kind, fields: [String: String], flags: Set<String>,
                                        target: String?, value: String) throws -> RunMount {
        if fields["from"] != nil { throw ParseError(text: "--mount \(value): a \(kind.rawValue) mount has no from") }
        var required = flags.contains("required")
        if let text = fields["required"] {
            guard let flag = parseBool(text) else { throw ParseError(text: "--mount \(value): required=\(text) is not a boolean") }
            required = flag
        }
        func number(_ key: String, radix: Int) throws -> UInt32? {
            guard let text = fields[key] else { return nil }
            guard let n = UInt32(text, radix: radix), radix != 8 || n <= 0o7777 else {
                throw ParseError(text: "--mount \(value): invalid \(key) \"\(text)\"")
            }
            return n
        }
        let mode = try number("mode", radix: 8), uid = try number("uid", radix: 10), gid = try number("gid", radix: 10)
        if let target, !target.hasPrefix("/") { throw ParseError(text: "--mount \(value): target \(target) is not an absolute path") }
        switch kind {
        case .secret:
            if fields["id"] != nil && fields["source"] != nil { throw ParseError(text: "--mount \(value): both source and id are set") }
            let env = fields["env"].flatMap { $0.isEmpty ? nil : $0 }
            if let env, env.contains("=") || env.utf8.contains(0) { throw ParseError(text: "--mount \(value): env=\(env) is not a variable name") }
            guard let id = fields["id"] ?? fields["source"] ?? target.map({ ($0 as NSString).lastPathComponent }), !id.isEmpty else {
                throw ParseError(text: "--mount \(value): a secret mount needs id or target")
            }
            let file = target ?? (env == nil ? "/run/secrets/" + id : "")
            return RunMount(kind: .secret, target: file, source: nil, from: nil, readOnly: true, id: id, env: env,
                            required: required, mode: mode, uid: uid, gid: gid)
        default:
            let id = fields["id"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
            return RunMount(kind: .ssh, target: target ?? "", source: nil, from: nil, readOnly: true, id: id,
                            required: required, mode: mode, uid: uid, gid: gid)
        }
    }

    /// Go's strconv.ParseBool, which BuildKit uses for these flags.
    private static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": return true
        case "0", "f", "F", "false", "FALSE", "False": return false
        default: return nil
        }
    }
}

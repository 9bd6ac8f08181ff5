import Foundation
import DockerfileSyntax

/// How a RUN instruction becomes a process: argv, heredoc scripts, and `--mount` requests.
enum RunCommand {
    /// What to execute. A heredoc-only RUN (`RUN <<EOF`) runs its body as a script — through the
    /// shell, or directly when it starts with `#!` (`script` is then written to a file and run);
    /// otherwise the heredoc bodies are put back after the command line so the shell reads
    /// them natively, as BuildKit does.
    struct Plan: Equatable {
        var argv: [String]
        /// A script to place in the container and execute (shebang heredocs); argv names its path.
        var script: String?
    }

    static let scriptPath = "/.swiftdock-run-script"

    static func plan(_ run: RunInstruction, shell: [String]) -> Plan {
        switch run.command {
        case .exec(let args):
            return Plan(argv: args, script: nil)
        case .shell(let line):
            guard !run.heredocs.isEmpty else { return Plan(argv: shell + [line], script: nil) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if run.heredocs.count == 1, isBareHeredoc(trimmed) {
                let body = run.heredocs[0].content
                if body.hasPrefix("#!") { return Plan(argv: [scriptPath], script: body) }
                return Plan(argv: shell + [body], script: nil)
            }
            var script = line + "\n"
            for heredoc in run.heredocs {
                script += heredoc.content
                if !heredoc.content.isEmpty && !heredoc.content.hasSuffix("\n") { script += "\n" }
                script += heredoc.name + "\n"
            }
            return Plan(argv: shell + [script], script: nil)
        }
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` alone on the line.
    private static func isBareHeredoc(_ text: String) -> Bool {
        guard text.hasPrefix("<<") else { return false }
        var rest = text.dropFirst(2)
        if rest.hasPrefix("-") { rest = rest.dropFirst() }
        rest = Substring(rest.trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
        return !rest.isEmpty && rest.allSatisfy { !$0.isWhitespace && $0 != "<" && $0 != ">" && $0 != "|" && $0 != ";" && $0 != "&" }
    }
}

/// One `RUN --mount=…` request.
struct RunMount: Equatable {
    enum Kind: String { case bind, cache, tmpfs, secret, ssh }
    var kind: Kind
    var target: String
    /// bind: the path in the context (or in `from`); cache: a sub path of the cache.
    var source: String?
    /// bind/cache: a stage name or index, or an image.
    var from: String?
    var readOnly: Bool
    /// cache: the cache's identity (default: the target).
    var id: String?
    /// cache: how concurrent builds share it (BuildKit's `sharing=`).
    var sharing: CacheSharing = .shared

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
        guard let target = fields["target"] ?? fields["dst"] ?? fields["destination"], !target.isEmpty else {
            if kind == .secret || kind == .ssh { throw ParseError(text: "--mount type=\(typeName) is not supported") }
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
}

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

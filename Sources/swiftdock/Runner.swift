import ArgumentParser
import Foundation

extension CommandLine {
    /// Parses, runs, and turns any error into one line on stderr and docker's exit codes.
    static func runSwiftdock() async {
        StandardOutput.useLineBuffering()
        do {
            var command = try Swiftdock.parseAsRoot(ProvenanceSetting.rewritingValue(Array(arguments.dropFirst())))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            // The code by the error's kind (ExitCode32); the line by what the error is.
            let kind = ExitCode32.kind(of: error)
            switch kind {
            case .cleanExit:
                // --help and --version: the parser's text on stdout.
                print(Swiftdock.fullMessage(for: error))
                exit(0)
            case .silent(let code):
                exit(code)
            case .usage:
                if let unknown = unknownSubcommand() {
                    fail("'\(unknown.name)' is not a swiftdock\(unknown.parent) command. See 'swiftdock\(unknown.parent) --help'",
                         code: kind.code)
                }
                // Usage errors from the argument parser: its message, docker's exit code.
                fail(Swiftdock.message(for: error), code: kind.code)
            case .coded(let code):
                fail((error as? ValidationError)?.message ?? ErrorLine.text(for: error), code: code)
            case .failure:
                fail(ErrorLine.text(for: error), code: kind.code)
            }
        }
    }

    /// The first word that should have named a subcommand but names none, with the command
    /// path before it (`swiftdock biuld` → ("biuld", "")), as docker says "is not a docker command".
    static func unknownSubcommand() -> (name: String, parent: String)? {
        var command: ParsableCommand.Type = Swiftdock.self
        var parent = ""
        for word in arguments.dropFirst() {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, command.configuration.defaultSubcommand == nil else { return nil }
            if word.hasPrefix("-") { return nil }
            guard let next = subcommands.first(where: { $0._commandName == word }) else { return (word, parent) }
            command = next
            parent += " " + word
        }
        return nil
    }

    static func fail(_ message: String, code: Int32) -> Never {
        let oneLine = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message
        FileHandle.standardError.write(Data("Error: \(oneLine)\n".utf8))
        exit(code)
    }
}

/// Writes a line to stderr (progress, warnings): stdout is kept for results.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

import ArgumentParser
import Foundation

/// Docker's exit codes: 0 success, 1 a failure of the operation, 125 a bad invocation.
enum ExitCode32 {
    static let failure: Int32 = 1
    static let usage: Int32 = 125
}

/// A failure a command reports with its own exit code (`run`: 125 before the container
/// starts, 126/127 when its command cannot be executed or found).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    init(_ message: String, code: Int32) {
        self.message = message
        self.code = code
    }
    var description: String { message }
}

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
        } catch let error as ExitCode {
            exit(error.rawValue)
        } catch let error as CommandFailure {
            fail(error.message, code: error.code)
        } catch let error as ValidationError {
            fail(error.message, code: ExitCode32.usage)
        } catch {
            let code = Swiftdock.exitCode(for: error)
            if code.isSuccess {
                // --help and --version: the parser's text on stdout.
                print(Swiftdock.fullMessage(for: error))
                exit(0)
            }
            if code.rawValue != ExitCode.failure.rawValue {
                if let unknown = unknownSubcommand() {
                    fail("'\(unknown.name)' is not a swiftdock\(unknown.parent) command. See 'swiftdock\(unknown.parent) --help'",
                         code: ExitCode32.usage)
                }
                // Usage errors from the argument parser: its message, docker's exit code.
                fail(Swiftdock.message(for: error), code: ExitCode32.usage)
            }
            fail(ErrorLine.text(for: error), code: ExitCode32.failure)
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

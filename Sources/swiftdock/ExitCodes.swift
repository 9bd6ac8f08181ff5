import ArgumentParser
import Foundation
import Sandbox

/// Docker's exit codes, and which error kind gets which: chosen here and nowhere else.
///
/// | kind | code |
/// |---|---|
/// | success, `--help`, `--version` | 0 |
/// | a failed operation (build, pull, push, auth, not found, …) | 1 |
/// | a bad invocation: the parser's usage errors, `ValidationError` | 125 |
/// | `run`: anything that fails before the command starts | 125 |
/// | `run`: the command cannot be executed / is not found | 126 / 127 |
/// | `run`: the command's own status; `ExitCode(n)`; `CommandFailure`'s own code | n |
///
/// docker itself exits 1 for an unauthorized pull as for a missing image, so authentication
/// and "not found" both stay 1 here; the one line says which (`ErrorLine`).
enum ExitCode32 {
    static let failure: Int32 = 1
    static let usage: Int32 = 125
    static let cannotExecute: Int32 = 126
    static let notFound: Int32 = 127

    /// What kind of failure an error is, for its code and for how its line is written.
    enum Kind: Equatable {
        /// `--help`, `--version`: the parser's text on stdout, exit 0.
        case cleanExit
        /// The command already said what it had to; exit with this code, print nothing.
        case silent(Int32)
        /// The parser's usage errors: its message, 125.
        case usage
        /// An error with a code of its own (its message as it is).
        case coded(Int32)
        /// Any other error: the operation failed, 1.
        case failure

        var code: Int32 {
            switch self {
            case .cleanExit: return 0
            case .silent(let code), .coded(let code): return code
            case .usage: return ExitCode32.usage
            case .failure: return ExitCode32.failure
            }
        }
    }

    static func kind(of error: any Error) -> Kind {
        switch error {
        case let exit as ExitCode:
            return .silent(exit.rawValue)
        case let failure as CommandFailure:
            return .coded(failure.code)
        case is ValidationError:
            return .coded(usage)
        case let start as ContainerStartFailure:
            // docker's: 126 when the command cannot be executed, 127 when it is not found
            // (the sandbox's helper tells which), 125 for everything else before it starts.
            if let status = start.cause(as: SandboxError.self)?.status, status == cannotExecute || status == notFound {
                return .coded(status)
            }
            return .coded(usage)
        default:
            let parsed = Swiftdock.exitCode(for: error)
            if parsed.isSuccess { return .cleanExit }
            // The parser's own errors get a code other than EXIT_FAILURE; everything else is a
            // failed operation.
            return parsed.rawValue == ExitCode.failure.rawValue ? .failure : .usage
        }
    }

    /// The exit code for `error`.
    static func code(for error: any Error) -> Int32 { kind(of: error).code }
}

/// A failure a command reports with its own exit code and message.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    init(_ message: String, code: Int32) {
        self.message = message
        self.code = code
    }
    var description: String { message }
}

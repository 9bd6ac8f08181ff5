import ArgumentParser
import ImageBuilder
import ImageModel
import Registry
import Sandbox
import XCTest
@testable import swiftdock

/// Exit codes by error kind, chosen in one place (ExitCode32.kind), against docker's.
final class ExitCodesTests: XCTestCase {
    func parserError(_ arguments: [String]) -> any Error {
        do {
            _ = try Swiftdock.parseAsRoot(arguments)
            return CommandFailure("parsed without an error: \(arguments)", code: -1)
        } catch {
            return error
        }
    }

    func testKinds() {
        let unauthorized = RegistryError(.unauthorized, registry: "r.example", "authentication required")
        let missing = RegistryError(.notFound, registry: "r.example", "manifest unknown")
        let cases: [(String, any Error, ExitCode32.Kind, Int32)] = [
            ("--help", CleanExit.helpRequest(Swiftdock.self), .cleanExit, 0),
            ("--version", parserError(["--version"]), .cleanExit, 0),
            ("unknown flag", parserError(["build", "--no-such-flag"]), .usage, 125),
            ("missing argument", parserError(["tag"]), .usage, 125),
            ("ValidationError", ValidationError("--network must be host or none"), .coded(125), 125),
            ("the command's status", ExitCode(3), .silent(3), 3),
            ("a command's own code", CommandFailure("template parsing error", code: 1), .coded(1), 1),
            // docker exits 1 for both; the line says which.
            ("unauthorized", unauthorized, .failure, 1),
            ("not found", missing, .failure, 1),
            ("a build error over a registry error", BuildError("FROM failed", underlying: unauthorized), .failure, 1),
            // A usage error deep under a failed operation does not make the operation a usage error.
            ("a build error over a ValidationError", BuildError("x", underlying: ValidationError("y")), .failure, 1),
            // run: docker's 125 before the command starts, 126/127 when it cannot be executed / found.
            ("run: not found", ContainerStartFailure(cause: SandboxError("sandbox: exec nosuchcmd: not found", status: 127)), .coded(127), 127),
            ("run: not executable", ContainerStartFailure(cause: SandboxError("sandbox: exec /etc/passwd: Permission denied", status: 126)), .coded(126), 126),
            ("run: sandbox setup", ContainerStartFailure(cause: SandboxError("sandbox: mount proc", status: 125)), .coded(125), 125),
            ("run: helper not started", ContainerStartFailure(cause: SandboxError("sandbox: spawn")), .coded(125), 125),
            ("run: unknown user", ContainerStartFailure(cause: UserLookupError.unknownUser("ghost")), .coded(125), 125),
            ("run: no command", ContainerStartFailure(cause: ProcessModelError.noCommand), .coded(125), 125),
            ("run: image not found", ContainerStartFailure(cause: missing), .coded(125), 125),
            ("run: exec failure under a wrapper", ContainerStartFailure(cause: BuildError("x", underlying: SandboxError("e", status: 127))), .coded(127), 127),
        ]
        for (name, error, kind, code) in cases {
            XCTAssertEqual(ExitCode32.kind(of: error), kind, name)
            XCTAssertEqual(ExitCode32.code(for: error), code, name)
        }
    }

    /// `run`'s failures print the sandbox's own line, or the cause's, once.
    func testContainerStartFailureLine() {
        let cases: [(any Error, String)] = [
            (SandboxError("sandbox: exec nosuchcmd: executable file not found in $PATH", status: 127),
             "sandbox: exec nosuchcmd: executable file not found in $PATH"),
            (UserLookupError.unknownUser("ghost"), "unable to find user ghost: no matching entries in passwd file"),
        ]
        for (cause, line) in cases {
            XCTAssertEqual(ErrorLine.text(for: ContainerStartFailure(cause: cause)), line)
        }
    }
}

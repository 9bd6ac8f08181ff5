import Dispatch
import Foundation
import ProcessWaiting

/// Runs a short-lived program with stdin, collecting stdout and stderr, without blocking
/// the calling task's thread.
public enum ProcessRunner {
    /// A program that exits without reading stdin must not kill us with SIGPIPE.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// What the program did: its exit status and everything it wrote.
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var error: Data
    }

    /// The program could not be started at all.
    public struct LaunchError: Error, CustomStringConvertible, Sendable {
        public var executable: String
        public var reason: String
        public var description: String { "cannot run \(executable): \(reason)" }
    }

    public static func run(executable: String, arguments: [String], input: Data,
                           environment: [String: String]) async throws -> Result {
        _ = ignoreSIGPIPE
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.environment = environment
                let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                process.standardInput = stdin
                process.standardOutput = stdout
                process.standardError = stderr
                let exit: ProcessExit
                do {
                    exit = try ProcessExit.start(process)
                } catch {
                    continuation.resume(throwing: LaunchError(executable: executable, reason: error.localizedDescription))
                    return
                }
                // Read both pipes concurrently so a chatty program cannot block on a full pipe.
                // `@unchecked Sendable` is safe: the reader thread writes `data` once before
                // `group.leave()`, and this thread reads it only after `group.wait()`.
                final class Box: @unchecked Sendable { var data = Data() }
                let errorData = Box()
                let group = DispatchGroup()
                group.enter()
                DispatchQueue.global().async {
                    errorData.data = stderr.fileHandleForReading.readDataToEndOfFile()
                    group.leave()
                }
                if !input.isEmpty { try? stdin.fileHandleForWriting.write(contentsOf: input) }
                try? stdin.fileHandleForWriting.close()
                let output = stdout.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                exit.wait()
                continuation.resume(returning: .init(status: process.terminationStatus, output: output, error: errorData.data))
            }
        }
    }
}

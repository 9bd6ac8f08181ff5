import Foundation
import ProcessWaiting

/// What a child process printed and how it ended.
public struct ChildProcessResult: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program (an absolute path, or a name looked up in PATH through /usr/bin/env) and
/// collects both pipes, read concurrently so a chatty child cannot block on a full pipe.
/// `input`, when given, is written to the child's standard input (then closed); SIGPIPE is ignored
/// from then on, so a child that exits without reading it cannot kill the caller.
/// Shared by every test target that drives real tools (tar, skopeo, umoci, swiftdock, python3).
public func runChildProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                            currentDirectory: String? = nil, input: Data? = nil) throws -> ChildProcessResult {
    let process = Process()
    if executable.hasPrefix("/") {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
    }
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = input.map { _ in Pipe() }
    if let stdin {
        signal(SIGPIPE, SIG_IGN)
        process.standardInput = stdin
    }
    let exit = try ProcessExit.start(process)
    let errBox = DataBox()
    let group = DispatchGroup()
    if let stdin, let input {
        group.enter()
        DispatchQueue.global().async {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
            group.leave()
        }
    }
    group.enter()
    DispatchQueue.global().async {
        errBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    exit.wait()
    return ChildProcessResult(status: process.terminationStatus, stdout: outData, stderr: errBox.data)
}

/// Holds what the reader thread collected; read only after the thread is joined. That join
/// (the dispatch group's leave/wait) orders the write before the read, so `@unchecked Sendable` is safe.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

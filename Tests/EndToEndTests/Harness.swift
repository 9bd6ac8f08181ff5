import Foundation
import TemporaryDirectories
import TestSupport
import XCTest

/// The result of running a command.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `swiftdock` binary and other tools for end-to-end tests.
enum Harness {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$SWIFTDOCK_BIN`, else the debug build in `.build`.
    static var binary: String {
        if let bin = ProcessInfo.processInfo.environment["SWIFTDOCK_BIN"], !bin.isEmpty { return bin }
        return packageRoot.appendingPathComponent(".build/debug/swiftdock").path
    }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    currentDirectory: String? = nil) throws -> CommandResult {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SOURCE_DATE_EPOCH")
        for (k, v) in environment { env[k] = v }
        let r = try runChildProcess(executable, arguments, environment: env, currentDirectory: currentDirectory)
        return CommandResult(status: r.status, stdout: r.stdoutText, stderr: r.stderrText)
    }

    /// Runs a shell snippet; fails the test on a non-zero exit.
    @discardableResult
    static func sh(_ script: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try run("/bin/bash", ["-c", script])
        XCTAssertEqual(result.status, 0, "\(script)\n\(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// A new directory `$TMPDIR/swiftdock-<name>-XXXXXXXX`, removed when the test ends
    /// (`TemporaryDirectories.makeTemporaryDirectory`).
    static func makeTemporaryDirectory(_ name: String = "e2e") throws -> String {
        try TemporaryDirectories.makeTemporaryDirectory("swiftdock-\(name)")
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

/// A private store and a way to call swiftdock against it.
struct Swiftdock {
    let home: String

    init() throws {
        home = try Harness.makeTemporaryDirectory("home")
    }

    @discardableResult
    func callAsFunction(_ arguments: String..., environment: [String: String] = [:]) throws -> CommandResult {
        try Harness.run(Harness.binary, arguments, environment: ["SWIFTDOCK_HOME": home].merging(environment) { $1 })
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try Harness.run(Harness.binary, arguments, environment: ["SWIFTDOCK_HOME": home].merging(environment) { $1 })
    }

    /// Runs and fails the test unless it exits 0.
    @discardableResult
    func ok(_ arguments: String..., environment: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        let result = try run(arguments, environment: environment)
        XCTAssertEqual(result.status, 0, "swiftdock \(arguments.joined(separator: " ")) failed: \(result.stderr)", file: file, line: line)
        return result
    }

    /// A fingerprint of the store's content (every blob's path and size, and index.json's bytes),
    /// to prove a failed command left it unchanged.
    func fingerprint() throws -> String {
        // tmp/ holds work in progress, cache/ unpacked root filesystems, journals/ and blobs.lock
        // crash-recovery bookkeeping: none of them is image content.
        try Harness.sh("cd '\(home)' && find . \\( -path ./tmp -o -path ./cache -o -path ./journals -o -path ./blobs.lock \\) -prune -o -type f -printf '%p %s\\n' | sort; cat index.json 2>/dev/null || true")
    }

    /// The store's index.json as it is on disk.
    func indexJSON() throws -> String {
        try String(contentsOfFile: home + "/index.json", encoding: .utf8)
    }

    /// Builds the busybox base image from Debian's busybox-static and tags it as the tutorial's base.
    func buildBase(environment: [String: String] = [:]) throws {
        let rootfs = Harness.packageRoot.appendingPathComponent("Fixtures/base/rootfs").path
        if !FileManager.default.fileExists(atPath: rootfs + "/bin/busybox") {
            try Harness.sh("bash '\(Harness.packageRoot.path)/Fixtures/base/make-rootfs.sh' >/dev/null")
        }
        try ok("build", "-q", "-t", "swiftdock.local/busybox-base", Harness.packageRoot.appendingPathComponent("Fixtures/base").path,
               environment: environment)
        try ok("tag", "swiftdock.local/busybox-base", "gcr.io/deeplearning-platform-release/base-cpu:latest")
    }
}

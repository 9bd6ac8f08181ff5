import Foundation
import TemporaryDirectories
import TestSupport
import ImageModel
@testable import ImageStore
import XCTest

/// Output of a finished command.
struct CommandResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a program (looked up in PATH via /usr/bin/env) and collects its output.
@discardableResult
func run(_ arguments: [String], environment: [String: String]? = nil, currentDirectory: String? = nil) throws -> CommandResult {
    let env = environment.map { ProcessInfo.processInfo.environment.merging($0) { $1 } }
    let r = try runChildProcess(arguments[0], Array(arguments.dropFirst()), environment: env, currentDirectory: currentDirectory)
    return CommandResult(status: r.status, output: r.stdoutText, error: r.stderrText)
}

/// Runs a program and fails the test (by throwing) unless it exits 0.
@discardableResult
func runChecked(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let result = try run(arguments)
    guard result.status == 0 else {
        throw TestFailure("\(arguments.joined(separator: " ")) exited \(result.status): \(result.error)\(result.output)")
    }
    return result.output
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The SHA-256 of a file as `sha256sum` computes it (an oracle independent of the store's hasher).
func sha256sum(_ path: String) throws -> Digest {
    let output = try runChecked(["sha256sum", path])
    return try Digest(sha256Hex: String(output.prefix(64)))
}

/// A fresh, empty scratch directory removed when the test ends (`TemporaryDirectories.makeTemporaryDirectory`).
func makeScratchDirectory(_ test: XCTestCase) throws -> String {
    try makeTemporaryDirectory("swiftdock-store-tests")
}

/// A layer built with the system tar: gzip blob digest and diff ID of the uncompressed tar.
struct TestLayer {
    var descriptor: Descriptor
    var diffID: Digest
}

/// Writes `files` (path → content) into a directory, tars and gzips it with `tar czf`, and
/// ingests the result into the store.
func makeLayer(_ store: ImageStore, files: [String: String], scratch: String, format: ImageFormat = .oci) throws -> TestLayer {
    let directory = scratch + "/layer-" + UUID().uuidString
    for (path, content) in files {
        let full = directory + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: full, atomically: false, encoding: .utf8)
    }
    let tarball = directory + ".tar.gz"
    try runChecked(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                    "-C", directory, "-czf", tarball, "."])
    let plain = directory + ".tar"
    try runChecked(["sh", "-c", "gzip -dc '\(tarball)' > '\(plain)'"])
    let diffID = try sha256sum(plain)
    let digest = try sha256sum(tarball)
    let size = (try FileManager.default.attributesOfItem(atPath: tarball)[.size] as? NSNumber)?.int64Value ?? 0
    let temporary = try store.makeTemporaryFile()
    try FileManager.default.removeItem(atPath: temporary)
    try FileManager.default.copyItem(atPath: tarball, toPath: temporary)
    try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
    return TestLayer(descriptor: Descriptor(mediaType: format.gzipLayerMediaType, digest: digest, size: size), diffID: diffID)
}

/// Stores config and manifest for `layers`; returns the manifest descriptor (untagged).
func makeImage(_ store: ImageStore, layers: [TestLayer], cmd: [String] = ["/bin/sh"], created: String = "2026-01-02T03:04:05Z",
               format: ImageFormat = .oci) throws -> Descriptor {
    var config = ImageConfiguration(created: created, platform: .host)
    config.config.cmd = cmd
    config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
    config.history = layers.map { _ in History(created: created, createdBy: "test") }
    let configDescriptor = try store.writeJSON(config, mediaType: format.configMediaType)
    let manifest = ImageManifest(mediaType: format.manifestMediaType, config: configDescriptor, layers: layers.map(\.descriptor))
    return try store.writeJSON(manifest, mediaType: format.manifestMediaType)
}

func ref(_ text: String) -> Reference {
    try! Reference(parsing: text)
}

/// Asserts that `body` throws a `StoreError` for which `matches` holds.
func assertStoreError<T>(_ body: @autoclosure () throws -> T, _ matches: (StoreError) -> Bool,
                         file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a StoreError, got success", file: file, line: line)
    } catch let error as StoreError {
        XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "error message is not one line: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a StoreError, got \(error)", file: file, line: line)
    }
}

/// Whether a command-line tool is installed (interop tests skip without it).
func hasTool(_ name: String) -> Bool {
    (try? run(["sh", "-c", "command -v \(name)"]).status) == 0
}

/// A fresh store with one base layer, for the tag and lookup tests.
class StoreTestCase: XCTestCase {
    var scratch = ""
    var store: ImageStore!
    var base: TestLayer!

    override func setUpWithError() throws {
        scratch = try makeScratchDirectory(self)
        store = try ImageStore(root: scratch + "/store")
        base = try makeLayer(store, files: ["etc/os-release": "ID=test\n"], scratch: scratch)
    }
}

import Foundation
import TemporaryDirectories
import TestSupport
import ImageModel
import ImageStore
import ProcessWaiting
@testable import Registry
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Output of a finished command.
struct ToolResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a program found in PATH and collects its output (both pipes read concurrently).
@discardableResult
func tool(_ arguments: [String]) throws -> ToolResult {
    let r = try runChildProcess(arguments[0], Array(arguments.dropFirst()))
    return ToolResult(status: r.status, output: r.stdoutText, error: r.stderrText)
}

/// Runs a program and throws unless it exits 0; returns stdout.
@discardableResult
func toolChecked(_ arguments: [String]) throws -> String {
    let result = try tool(arguments)
    guard result.status == 0 else {
        throw DistributionTestFailure("\(arguments.joined(separator: " ")) exited \(result.status): \(result.error)\(result.output)")
    }
    return result.output
}

struct DistributionTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh scratch directory, removed when the test ends (`TemporaryDirectories.makeTemporaryDirectory`).
func scratchDirectory(_ test: XCTestCase) throws -> String {
    try makeTemporaryDirectory("swiftdock-distribution")
}

/// A `docker-registry` (distribution 2.x) on a free loopback port, with its storage in a
/// scratch directory the test can inspect or damage. Killed by `stop()` (and in teardown).
/// `@unchecked Sendable` only for `Process`, which Foundation does not mark `Sendable`: every
/// stored property is a `let`, and `isRunning`/`terminate`/`waitUntilExit` are thread-safe.
final class TestRegistry: @unchecked Sendable {
    let host: String
    let storage: String
    private let process: Process?
    private let exit: ProcessExit?

    /// Starts a private registry.
    init(_ test: XCTestCase) throws {
        let directory = try scratchDirectory(test)
        storage = directory + "/storage"
        let port = try Self.freePort()
        host = "127.0.0.1:\(port)"
        let config = directory + "/config.yml"
        try """
        version: 0.1
        log:
          level: error
          accesslog:
            disabled: true
        storage:
          filesystem:
            rootdirectory: \(storage)
          delete:
            enabled: true
        http:
          addr: \(host)
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/docker-registry")
        process.arguments = ["serve", config]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        self.exit = try ProcessExit.start(process)
        self.process = process
        test.addTeardownBlock { [self] in stop() }
        try waitUntilReady()
    }

    /// Uses the open registry of `scripts/registries.sh` when `SWIFTDOCK_TEST_REGISTRY_OPEN`
    /// is set (its storage is not reachable then), else starts a private one.
    static func shared(_ test: XCTestCase) throws -> TestRegistry {
        if let open = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !open.isEmpty {
            return TestRegistry(existing: open)
        }
        return try TestRegistry(test)
    }

    private init(existing host: String) {
        self.host = host
        self.storage = ""
        self.process = nil
        self.exit = nil
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        exit?.wait()
    }

    /// The file the registry stores a blob's bytes in.
    func blobDataPath(_ digest: Digest) -> String {
        "\(storage)/docker/registry/v2/blobs/sha256/\(digest.encoded.prefix(2))/\(digest.encoded)/data"
    }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let result = try? tool(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(host)/v2/"]),
               result.output == "200" {
                return
            }
            if let process, !process.isRunning { throw DistributionTestFailure("docker-registry exited at start") }
            usleep(50_000)
        }
        throw DistributionTestFailure("docker-registry on \(host) did not answer GET /v2/ within 15 s")
    }

    /// A port nothing listens on right now (bound to port 0, read back, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DistributionTestFailure("socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw DistributionTestFailure("bind failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw DistributionTestFailure("getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A layer made with the system `tar` and `gzip`, already ingested.
struct BuiltLayer {
    var descriptor: Descriptor
    var diffID: Digest
}

/// Test images: layers via system tar+gzip, config and manifest written to a store.
enum TestImages {
    static func sha256(_ path: String) throws -> Digest {
        try Digest(sha256Hex: String(try toolChecked(["sha256sum", path]).prefix(64)))
    }

    /// Tars and gzips `files` (path → content), ingests the blob and describes it.
    static func layer(_ store: ImageStore, files: [String: String], scratch: String) throws -> BuiltLayer {
        let directory = scratch + "/layer-" + UUID().uuidString
        for (path, content) in files {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: false, encoding: .utf8)
        }
        let tarball = directory + ".tar.gz", plain = directory + ".tar"
        try toolChecked(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                         "-C", directory, "-cf", plain, "."])
        try toolChecked(["sh", "-c", "gzip -nc '\(plain)' > '\(tarball)'"])
        let digest = try sha256(tarball)
        let size = (try FileManager.default.attributesOfItem(atPath: tarball)[.size] as? NSNumber)?.int64Value ?? 0
        let temporary = try store.makeTemporaryFile()
        try FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: tarball, toPath: temporary)
        try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
        return BuiltLayer(descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: digest, size: size),
                          diffID: try sha256(plain))
    }

    /// Stores config and manifest for `layers` (untagged) and returns the manifest descriptor.
    static func image(_ store: ImageStore, layers: [BuiltLayer], platform: Platform = .host,
                      cmd: [String] = ["/bin/sh"], format: ImageFormat = .oci) throws -> Descriptor {
        var config = ImageConfiguration(created: "2026-01-02T03:04:05Z", platform: platform)
        config.config.cmd = cmd
        config.rootfs = RootFS(diffIDs: layers.map(\.diffID))
        config.history = layers.map { _ in History(created: "2026-01-02T03:04:05Z", createdBy: "test") }
        let configDescriptor = try store.writeJSON(config, mediaType: format.configMediaType)
        let manifest = ImageManifest(mediaType: format.manifestMediaType, config: configDescriptor,
                                     layers: layers.map {
                                         var d = $0.descriptor
                                         d.mediaType = format.layerMediaType(converting: d.mediaType)
                                         return d
                                     })
        return try store.writeJSON(manifest, mediaType: format.manifestMediaType)
    }

    /// A tagged two-layer image with unique content (so runs never share blobs by accident).
    static func tagged(_ store: ImageStore, as reference: Reference, scratch: String,
                       platform: Platform = .host) throws -> Descriptor {
        let salt = UUID().uuidString
        let base = try layer(store, files: ["etc/base.txt": "base \(salt)\n"], scratch: scratch)
        let app = try layer(store, files: ["app/run.sh": "echo \(salt)\n", "app/data.txt": String(repeating: salt, count: 2000)],
                            scratch: scratch)
        let descriptor = try image(store, layers: [base, app], platform: platform)
        try store.tag(reference, manifest: descriptor)
        return descriptor
    }
}

/// Collects transfer events from concurrent tasks. `@unchecked Sendable` is safe: `events` is
/// reached only while `lock` is held.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [TransferEvent] = []

    var observer: TransferObserver { { [self] event in lock.lock(); events.append(event); lock.unlock() } }

    /// The last state reported for each digest (layers and configs).
    var finalStates: [Digest: TransferState] {
        lock.lock()
        defer { lock.unlock() }
        var result: [Digest: TransferState] = [:]
        for event in events { result[event.digest] = event.state }
        return result
    }
}

/// A client for tests: anonymous, quick retries.
func makeTestClient(maxAttempts: Int = 3) -> RegistryClient {
    RegistryClient(options: RegistryOptions(maxAttempts: maxAttempts, initialBackoff: 0.05, maxBackoff: 0.2),
                   authenticator: AnonymousAuthenticator())
}

func reference(_ text: String) -> Reference {
    try! Reference(parsing: text)
}

/// The JSON of `skopeo inspect [--raw] docker://REF`.
func skopeoInspect(_ ref: String, raw: Bool = false) throws -> [String: Any] {
    let output = try toolChecked(["skopeo", "inspect", "--tls-verify=false"] + (raw ? ["--raw"] : []) + ["docker://\(ref)"])
    return try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
}

extension ImagePusher {
    /// Pushes the image `store` names `source` to `destination` (default: `source`), as
    /// `swiftdock push SOURCE [DESTINATION]` does.
    func push(_ source: Reference, to destination: Reference? = nil, from store: ImageStore,
              client: RegistryClient) async throws -> PushResult {
        let image = try XCTUnwrap(try store.resolve(source), "\(source) is not in the store")
        return try await push(image, from: store, to: destination ?? source, client: client)
    }
}

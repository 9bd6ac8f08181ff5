import Foundation
import ImageModel
import Layers
@testable import Registry
import XCTest

/// `RegistryClient.uploadStreamed` against the loopback registries of scripts/registries.sh:
/// the CNCF registry, the Artifact-Registry-style one (token auth, no `service=`), and a
/// front that refuses chunked bodies.
final class StreamedUploadTests: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment

    func fixture(_ name: String) throws -> String {
        guard let value = Self.environment[name], !value.isEmpty else { throw XCTSkip("\(name) is not set (scripts/registries.sh start)") }
        return RegistryHost.normalize(value)
    }

    func client(for registry: String, basic: Bool) throws -> RegistryClient {
        let home = NSTemporaryDirectory() + "streamed-upload-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: home) }
        let explicit: [String: RegistryCredential] = basic
            ? [registry: .basic(username: Self.environment["SWIFTDOCK_TEST_USER"] ?? "tester",
                                password: Self.environment["SWIFTDOCK_TEST_PASSWORD"] ?? "s3cret")] : [:]
        let resolver = CredentialResolver(environment: ["HOME": home, "PATH": "/usr/bin:/bin", "GCE_METADATA_HOST": "127.0.0.1:9"],
                                          explicit: explicit)
        return RegistryClient(options: RegistryOptions(maxAttempts: 2), authenticator: RegistryAuthenticator(resolver: resolver))
    }

    /// Writes `bytes` into `sink` in 64 KiB pieces on a thread of its own, as the layer
    /// writer does (a sink may block); fails with `failAt` after that many bytes.
    func produce(_ bytes: [UInt8], into sink: any BlobSink, failAt: Int? = nil) async throws -> (digest: Digest, size: Int64) {
        struct ProducerFailed: Error {}
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    var offset = 0
                    while offset < bytes.count {
                        if let failAt, offset >= failAt { throw ProducerFailed() }
                        let end = min(bytes.count, offset + 65536)
                        try bytes[offset..<end].withUnsafeBytes { try sink.write($0) }
                        offset = end
                    }
                    try sink.close()
                    return (SHA256Stream.digest(of: bytes), Int64(bytes.count))
                })
            }.start()
        }
    }

    static func payload(_ count: Int, seed: UInt8) -> [UInt8] {
        var state = UInt32(seed) | 1
        return (0..<count).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(truncatingIfNeeded: state >> 24) }
    }

    /// A file the blob is kept in too (`build --push -t`), in a scratch directory.
    func keptFile() throws -> (sink: any BlobSink, path: String) {
        let path = NSTemporaryDirectory() + "streamed-upload-kept-" + UUID().uuidString
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return (try FileBlobSink(path: path), path)
    }

    /// The blob arrives whole under its digest, on the CNCF registry and the AR-style one,
    /// sent from memory or read back from the file it is kept in.
    func testStreamedUploadReachesTheRegistry() async throws {
        let cases = [("SWIFTDOCK_TEST_REGISTRY_OPEN", false), ("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR", true)]
            .flatMap { registry in [false, true].map { (registry.0, registry.1, $0) } }
        for (name, basic, keeping) in cases {
            let registry = try fixture(name)
            let client = try client(for: registry, basic: basic)
            let repository = RegistryRepository(registry: registry, name: "swiftdock/streamed-\(UUID().uuidString.prefix(8).lowercased())")
            let bytes = Self.payload(9 * 1024 * 1024 + 4321, seed: keeping ? 4 : 3)
            let label = "\(name)\(keeping ? ", file kept" : "")"
            do {
                let kept = keeping ? try keptFile() : nil
                let result = try await client.uploadStreamed(to: repository, keeping: kept,
                                                             producing: { try await produce(bytes, into: $0) }, digest: { $0 })
                if let kept { XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: kept.path))), bytes, label) }
                XCTAssertEqual(result.digest, SHA256Stream.digest(of: bytes), label)
                let size = try await client.blobSize(result.digest, in: repository)
                XCTAssertEqual(size, Int64(bytes.count), label)
                let (response, _) = try await client.openBlob(result.digest, in: repository)
                let body = try await response.body.collect(upTo: 64 << 20)
                XCTAssertEqual(Array(buffer: body), bytes, label)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

    /// A front that refuses chunked bodies: a `RegistryError` (411), not a producer stuck on a
    /// full channel, and nothing stored.
    func testRefusedStreamIsARegistryErrorAndUnblocksTheProducer() async throws {
        let registry = try fixture("SWIFTDOCK_TEST_REGISTRY_NO_CHUNKED")
        let client = try client(for: registry, basic: false)
        defer { Task { await client.shutdown() } }
        let repository = RegistryRepository(registry: registry, name: "swiftdock/streamed-refused")
        let bytes = Self.payload(12 * 1024 * 1024, seed: 5)
        do {
            _ = try await client.uploadStreamed(to: repository, producing: { try await produce(bytes, into: $0) }, digest: { $0 })
            XCTFail("expected the registry to refuse the streamed body")
        } catch let error as RegistryError {
            XCTAssertEqual(error.status, 411, "\(error)")
        }
        // Kept in a file: the refusal does not stop the writer; the file is complete for the
        // one-request upload that follows.
        let kept = try keptFile()
        do {
            _ = try await client.uploadStreamed(to: repository, keeping: kept, producing: { try await produce(bytes, into: $0) },
                                                digest: { $0 })
            XCTFail("expected the registry to refuse the streamed body")
        } catch let error as RegistryError {
            XCTAssertEqual(error.status, 411, "\(error)")
        }
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: kept.path))), bytes)
        let size = try await client.blobSize(SHA256Stream.digest(of: bytes), in: repository)
        XCTAssertNil(size)
    }

    /// The producer's own failure comes out as it is, and the upload is never completed.
    func testProducerErrorIsRethrownAndNothingIsCommitted() async throws {
        let registry = try fixture("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let client = try client(for: registry, basic: false)
        defer { Task { await client.shutdown() } }
        let repository = RegistryRepository(registry: registry, name: "swiftdock/streamed-abandoned")
        let bytes = Self.payload(6 * 1024 * 1024, seed: 9)
        for keeping in [false, true] {
            let kept = keeping ? try keptFile() : nil
            do {
                _ = try await client.uploadStreamed(to: repository, keeping: kept,
                                                    producing: { try await produce(bytes, into: $0, failAt: 2 << 20) }, digest: { $0 })
                XCTFail("expected the producer's error")
            } catch is RegistryError {
                XCTFail("the producer's error was replaced by the upload's")
            } catch {}
            if let kept {
                // The producer failed: the sink is abandoned, and the partial file goes with it.
                XCTAssertFalse(FileManager.default.fileExists(atPath: kept.path), "partial file left")
            }
        }
        let size = try await client.blobSize(SHA256Stream.digest(of: bytes), in: repository)
        XCTAssertNil(size)
    }
}

import Foundation
import DockerfileSyntax
import ImageModel
import ImageStore
import Registry
import XCTest
@testable import ImageBuilder

/// Errors keep their cause (issue 12): a build whose FROM fails says where (Dockerfile:1,
/// FROM) and still lets the caller tell the registry's "unauthorized" from "not found" by
/// type, against the real registries `scripts/registries.sh` starts.
final class BuildErrorCauseTests: XCTestCase {
    func testWrapKeepsTheCause() {
        let location = SourceLocation(file: "Dockerfile", line: 3)
        let registry = RegistryError(.unauthorized, registry: "r.example", repository: "a", status: 401, "authentication failed")
        let wrapped = BuildError.wrap(registry, at: location, instruction: "FROM")
        XCTAssertEqual((wrapped as? BuildError)?.description, "Dockerfile:3: FROM: r.example/a: authentication failed (HTTP 401)")
        XCTAssertEqual(wrapped.cause(as: RegistryError.self)?.kind, .unauthorized)
        XCTAssertEqual(wrapped.causeChain.count, 2)
        XCTAssertTrue(wrapped.innermostCause is RegistryError)
        // A BuildError that already has a place is passed on as it is, its own cause kept.
        let inner = BuildError("no such stage", underlying: StoreError.blobNotFound(try! Digest(sha256Hex: String(repeating: "0", count: 64))))
        let rewrapped = BuildError.wrap(inner, at: location, instruction: "COPY")
        XCTAssertEqual((rewrapped as? BuildError)?.location?.line, 3)
        XCTAssertNotNil(rewrapped.cause(as: StoreError.self))
    }

    func testUnauthorizedAndNotFoundUnderFROMAreTellable() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let open = environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !open.isEmpty,
              let guarded = environment["SWIFTDOCK_TEST_REGISTRY_HTPASSWD"], !guarded.isEmpty else {
            throw XCTSkip("the test registries are not running (scripts/registries.sh start)")
        }
        let home = NSTemporaryDirectory() + "swiftdock-cause-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/context", withIntermediateDirectories: true)
        let store = try ImageStore(root: home + "/store")
        // No credentials anywhere: an empty HOME, no docker config, no Google fallback.
        let client = RegistryClient(options: RegistryOptions(maxAttempts: 1, environment: ["HOME": home]),
                                    authenticator: RegistryAuthenticator(resolver: CredentialResolver(environment: ["HOME": home]),
                                                                         useGoogle: false))
        defer { Task { await client.shutdown() } }
        let builder = ImageBuilder(store: store, source: PullOnlySource(client: client, store: store))
        let cases: [(base: String, kind: RegistryError.Kind)] = [
            ("\(open)/swiftdock-tests/never-pushed:latest", .notFound),
            ("\(guarded)/swiftdock-tests/never-pushed:latest", .unauthorized),
        ]
        for c in cases {
            try "FROM \(c.base)\nRUN true\n".write(toFile: home + "/context/Dockerfile", atomically: true, encoding: .utf8)
            do {
                _ = try await builder.build(BuildOptions(contextDirectory: home + "/context"))
                XCTFail("FROM \(c.base) built")
            } catch let error as BuildError {
                XCTAssertEqual(error.location?.line, 1, "\(error)")
                XCTAssertEqual(error.instruction, "FROM", "\(error)")
                XCTAssertEqual(error.cause(as: RegistryError.self)?.kind, c.kind, "\(error)")
                XCTAssertFalse(error.description.contains("\n"))
            }
        }
    }
}

/// Pulls bases through the registry client, as the CLI's source does; the other operations
/// are not reached by a build whose FROM fails, and say so if they ever are.
private struct PullOnlySource: ImageSource {
    let client: RegistryClient
    let store: ImageStore

    func pull(_ reference: Reference, platform: Platform?) async throws -> Descriptor {
        try await ImagePuller(client: client, store: store, platform: platform).pull(reference).manifest
    }

    func ensureLocal(_ digests: [Digest]) async throws {
        throw BuildError("this test's source only pulls manifests (asked for \(digests.count) blobs)")
    }

    func openBlob(_ digest: Digest) async throws -> ContentChunks {
        throw BuildError("this test's source only pulls manifests (asked for \(digest))")
    }

    func download(_ url: String, to path: String) async throws -> Date? {
        throw BuildError("this test's source does not download (asked for \(url))")
    }
}

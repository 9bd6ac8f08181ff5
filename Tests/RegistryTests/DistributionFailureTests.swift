import Foundation
import ImageModel
import ImageStore
@testable import Registry
import XCTest

/// What goes wrong: missing images, a registry that is down, blobs with wrong bytes.
final class DistributionFailureTests: XCTestCase {
    var client: RegistryClient!

    override func setUp() async throws {
        client = makeTestClient()
    }

    override func tearDown() async throws {
        await client.shutdown()
    }

    /// Asserts a one-line `RegistryError` of `kind` whose text contains every fragment.
    func assertRegistryError(_ error: Error, _ kind: RegistryError.Kind, contains fragments: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? RegistryError else {
            return XCTFail("expected a RegistryError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), error.description, file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "\(error.description) lacks \(fragment)", file: file, line: line)
        }
    }

    func testPullOfUnknownRepositoryOrTagNamesRegistryRepositoryAndTag() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/s")
        let existing = reference("\(registry.host)/known/app-\(UUID().uuidString.prefix(8).lowercased()):v1")
        _ = try TestImages.tagged(store, as: existing, scratch: scratch)
        _ = try await ImagePusher().push(existing, from: store, client: client)

        let cases = [
            ("\(registry.host)/nobody/here:v1", "nobody/here", "v1"),
            ("\(existing.repository):nosuchtag", existing.path, "nosuchtag"),
        ]
        for (text, repo, tag) in cases {
            do {
                _ = try await ImagePuller(client: client, store: store).pull(reference(text))
                XCTFail("\(text): expected an error")
            } catch {
                assertRegistryError(error, .notFound, contains: [registry.host, repo, tag, "HTTP 404"])
            }
        }
    }

    func testRegistryDownFailsAfterBoundedRetries() async throws {
        let port = try TestRegistry.freePort()
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/s")
        let started = Date()
        do {
            _ = try await ImagePuller(client: client, store: store).pull(reference("127.0.0.1:\(port)/down/app:v1"))
            XCTFail("expected an error")
        } catch {
            assertRegistryError(error, .transport, contains: ["127.0.0.1:\(port)", "connection refused"])
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// Pushes a test image to `ref`, damages its second layer in the registry's storage, and
    /// pulls it lazily (manifest and config only) into a fresh store.
    private func pullLazilyAfterDamagingALayer(_ ref: Reference, in registry: TestRegistry) async throws
        -> (store: ImageStore, layer: Descriptor) {
        let scratch = try scratchDirectory(self)
        let storeA = try ImageStore(root: scratch + "/a")
        let manifest = try TestImages.tagged(storeA, as: ref, scratch: scratch)
        _ = try await ImagePusher().push(ref, from: storeA, client: client)
        let layer = try storeA.image(manifest).manifest.layers[1]
        try damage(registry.blobDataPath(layer.digest))
        let storeB = try ImageStore(root: scratch + "/b")
        _ = try await ImagePuller(client: client, store: storeB).pull(ref)
        return (storeB, layer)
    }

    func testCorruptBlobAtRegistryIsNeverStored() async throws {
        let registry = try TestRegistry(self)
        let ref = reference("\(registry.host)/corrupt/app:v1")
        let (storeB, layer) = try await pullLazilyAfterDamagingALayer(ref, in: registry)
        do {
            try await client.fetchBlob(layer.digest, size: layer.size, from: RegistryRepository(ref), into: storeB)
            XCTFail("expected a digest mismatch")
        } catch {
            assertRegistryError(error, .digestMismatch, contains: [registry.host, "corrupt/app", layer.digest.description, "hashes to"])
        }
        XCTAssertFalse(storeB.hasBlob(layer.digest))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storeB.root + "/tmp"), [])
    }

    func testCorruptSourceBlobIsNotAcceptedByTheDestination() async throws {
        let source = try TestRegistry(self)
        let destination = try TestRegistry(self)
        let ref = reference("\(source.host)/corrupt/base:v1")
        let (storeB, layer) = try await pullLazilyAfterDamagingALayer(ref, in: source)
        let target = reference("\(destination.host)/copy/app:v1")
        do {
            _ = try await ImagePusher(backoff: .zero).push(ref, to: target, from: storeB, client: client)
            XCTFail("expected a digest mismatch")
        } catch {
            assertWrongSourceBytes(error, layer)
        }
        let present = try await client.blobSize(layer.digest, in: RegistryRepository(target))
        XCTAssertNil(present, "the destination must not hold the wrong blob")
        let manifestThere = try? await client.fetchManifest("v1", in: RegistryRepository(target))
        XCTAssertNil(manifestThere)
    }

    /// The pusher names the blob whose source bytes hash to something else, on one line, and
    /// does not retry it.
    func assertWrongSourceBytes(_ error: Error, _ layer: Descriptor, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = error as? ContentError, case .digestMismatch(let digest, let actual) = error else {
            return XCTFail("expected ContentError.digestMismatch, got \(type(of: error)): \(error)", file: file, line: line)
        }
        XCTAssertEqual(digest, layer.digest, file: file, line: line)
        XCTAssertNotEqual(actual, layer.digest, file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), file: file, line: line)
        XCTAssertTrue(error.description.contains("hashes to"), error.description, file: file, line: line)
    }

    func testCorruptLocalBlobIsRejectedWithAClearMessage() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let ref = reference("\(registry.host)/local/corrupt-\(UUID().uuidString.prefix(8).lowercased()):v1")
        let manifest = try TestImages.tagged(store, as: ref, scratch: scratch)
        let layer = try store.image(manifest).manifest.layers[0]
        try damage(store.blobPath(layer.digest))
        do {
            _ = try await ImagePusher(backoff: .zero).push(ref, from: store, client: client)
            XCTFail("expected a digest mismatch")
        } catch {
            assertWrongSourceBytes(error, layer)
        }
        let present = try await client.blobSize(layer.digest, in: RegistryRepository(ref))
        XCTAssertNil(present)
    }

    func testPushOfAnImageWithALayerNeitherStoredNorRemoteFailsNamingIt() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let ref = reference("\(registry.host)/local/missing-\(UUID().uuidString.prefix(8).lowercased()):v1")
        let manifest = try TestImages.tagged(store, as: ref, scratch: scratch)
        let layer = try store.image(manifest).manifest.layers[1]
        try FileManager.default.removeItem(atPath: store.blobPath(layer.digest))
        do {
            _ = try await ImagePusher(backoff: .zero).push(ref, from: store, client: client)
            XCTFail("expected an error")
        } catch let error as StoreError {
            XCTAssertEqual(error, .blobNotFound(layer.digest))
        }
        let manifestThere = try? await client.fetchManifest("v1", in: RegistryRepository(ref))
        XCTAssertNil(manifestThere, "no manifest without its blobs")
    }

    /// Flips bytes in the middle of a file, keeping its length.
    func damage(_ path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for i in stride(from: bytes.count / 3, to: min(bytes.count, bytes.count / 3 + 16), by: 1) { bytes[i] ^= 0xff }
        try bytes.write(to: URL(fileURLWithPath: path))
    }
}

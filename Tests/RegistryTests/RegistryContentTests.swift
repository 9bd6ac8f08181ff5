import Foundation
import ImageModel
import ImageStore
@testable import Registry
import XCTest

/// A registry repository as content source and destination (issue 12), against the real
/// `docker-registry`: store → repository A (uploaded), A → repository B (mounted, no bytes),
/// B → an OCI layout (read back from the registry), every blob checked with sha256sum.
final class RegistryContentTests: XCTestCase {
    func testStoreToRegistryToRegistryToLayout() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let name = "content/app-\(UUID().uuidString.prefix(8).lowercased())"
        let image = try TestImages.tagged(store, as: reference("\(registry.host)/\(name):v1"), scratch: scratch)
        let stored = try store.image(image)
        let client = makeTestClient()
        defer { Task { await client.shutdown() } }
        let a = RegistryContent(client: client, repository: RegistryRepository(registry: registry.host, name: name))
        let b = RegistryContent(client: client, repository: RegistryRepository(registry: registry.host, name: name + "-copy"))
        let blobs = [stored.configDescriptor] + stored.manifest.layers

        let uploaded = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: a, tag: "v1").blobs
        for blob in blobs { XCTAssertEqual(uploaded[blob.digest], .pushed(attempts: 1), "\(blob.digest)") }
        let mounted = try await ImagePusher(backoff: .zero).push(image, from: a, to: b, tag: "v2").blobs
        for blob in blobs { XCTAssertEqual(mounted[blob.digest], .mounted(from: a.repository.name), "\(blob.digest)") }
        let again = try await ImagePusher(backoff: .zero).push(image, from: a, to: b, tag: "v2").blobs
        XCTAssertTrue(again.values.allSatisfy { $0 == .alreadyExists }, "\(again)")

        let layout = try OCILayoutDirectory(creatingAt: scratch + "/layout")
        _ = try await ImagePusher(backoff: .zero).push(image, from: b, to: layout, tag: "v2")
        XCTAssertEqual(try layout.manifest(named: "v2").digest, image.digest)
        for blob in blobs + [image] {
            XCTAssertEqual(try TestImages.sha256(layout.blobPath(blob.digest)), blob.digest)
        }
        let info = try skopeoInspect("\(registry.host)/\(name)-copy:v2")
        XCTAssertEqual(info["Digest"] as? String, image.digest.description)
    }
}

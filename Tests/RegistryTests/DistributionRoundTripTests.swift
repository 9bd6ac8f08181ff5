import Foundation
import ImageModel
import ImageStore
@testable import Registry
import XCTest

/// Push and pull against a real `docker-registry` on loopback, read back with skopeo.
final class DistributionRoundTripTests: XCTestCase {
    var client: RegistryClient!

    override func setUp() async throws {
        client = makeTestClient()
    }

    override func tearDown() async throws {
        await client.shutdown()
    }

    func testPushThenPullLazilyThenPushAgain() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let storeA = try ImageStore(root: scratch + "/a")
        let repo = "roundtrip/app-\(UUID().uuidString.prefix(8).lowercased())"
        let ref = reference("\(registry.host)/\(repo):v1")
        let manifest = try TestImages.tagged(storeA, as: ref, scratch: scratch)
        let stored = try storeA.image(manifest)

        // First push: every layer uploaded, the summary names the manifest.
        let log = EventLog()
        let pushed = try await ImagePusher(onEvent: log.observer).push(ref, from: storeA, client: client)
        XCTAssertEqual(pushed.digest, manifest.digest)
        XCTAssertEqual(pushed.size, manifest.size)
        XCTAssertEqual(pushed.summary, "v1: digest: \(manifest.digest) size: \(manifest.size)")
        for layer in stored.manifest.layers {
            XCTAssertEqual(pushed.blobs[layer.digest], .pushed(attempts: 1))
            XCTAssertEqual(log.finalStates[layer.digest], .pushed)
        }
        XCTAssertEqual(pushed.blobs[stored.configDescriptor.digest], .pushed(attempts: 1))

        // skopeo reads it back: same digest and layers; and copies it to an OCI layout.
        let inspected = try skopeoInspect(ref.description)
        XCTAssertEqual(inspected["Digest"] as? String, manifest.digest.description)
        XCTAssertEqual(inspected["Layers"] as? [String], stored.manifest.layers.map(\.digest.description))
        try toolChecked(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://\(ref)", "oci:\(scratch)/copy:v1"])
        let copiedIndex = try String(contentsOfFile: scratch + "/copy/index.json", encoding: .utf8)
        XCTAssertTrue(copiedIndex.contains(manifest.digest.encoded), copiedIndex)

        // Pull into a second store: manifest and config only, layers recorded as remote.
        let storeB = try ImageStore(root: scratch + "/b")
        let pull = try await ImagePuller(client: client, store: storeB).pull(ref)
        XCTAssertEqual(pull.digest, manifest.digest)
        XCTAssertEqual(pull.manifest.digest, manifest.digest)
        XCTAssertFalse(pull.isUpToDate)
        XCTAssertEqual(Set(pull.remoteLayers), Set(stored.manifest.layers.map(\.digest)))
        XCTAssertEqual(try storeB.resolve(ref)?.digest, manifest.digest)
        XCTAssertEqual(try storeB.image(XCTUnwrap(storeB.resolve(ref))).imageID, stored.imageID)
        for layer in stored.manifest.layers {
            XCTAssertFalse(storeB.hasBlob(layer.digest))
            XCTAssertEqual(try storeB.remoteSources(of: layer.digest), [RemoteSource(registry: registry.host, repository: repo)])
        }
        XCTAssertEqual(try storeB.listImages().count, 1)
        let again = try await ImagePuller(client: client, store: storeB).pull(ref)
        XCTAssertTrue(again.isUpToDate)

        // Layers on demand: downloaded, verified, identical.
        let fetched = try await ImagePuller(client: client, store: storeB).fetchLayers(of: stored.manifest)
        XCTAssertEqual(Set(fetched), Set(stored.manifest.layers.map(\.digest)))
        for layer in stored.manifest.layers {
            XCTAssertEqual(try TestImages.sha256(storeB.blobPath(layer.digest)), layer.digest)
        }

        // Push again: everything is already there.
        let second = EventLog()
        let repeated = try await ImagePusher(onEvent: second.observer).push(ref, from: storeA, client: client)
        XCTAssertEqual(repeated.digest, manifest.digest)
        XCTAssertTrue(repeated.blobs.values.allSatisfy { $0 == .alreadyExists }, "\(repeated.blobs)")
        for layer in stored.manifest.layers { XCTAssertEqual(second.finalStates[layer.digest], .alreadyExists) }
    }

    func testPullAllLayersDownloadsEverything() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let storeA = try ImageStore(root: scratch + "/a")
        let ref = reference("\(registry.host)/full/app-\(UUID().uuidString.prefix(8).lowercased()):latest")
        let manifest = try TestImages.tagged(storeA, as: ref, scratch: scratch)
        _ = try await ImagePusher().push(ref, from: storeA, client: client)

        let storeB = try ImageStore(root: scratch + "/b")
        let log = EventLog()
        let pull = try await ImagePuller(client: client, store: storeB, onEvent: log.observer).pull(ref, allLayers: true)
        XCTAssertTrue(pull.remoteLayers.isEmpty)
        for layer in try storeA.image(manifest).manifest.layers {
            XCTAssertTrue(storeB.hasBlob(layer.digest))
            XCTAssertEqual(log.finalStates[layer.digest], .downloaded)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: storeB.root + "/tmp"), [])
    }

    func testPushToAnotherReferenceDefaultsToLatest() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let source = reference("local/app:dev")
        let manifest = try TestImages.tagged(store, as: source, scratch: scratch)
        let destination = reference("\(registry.host)/dest/app-\(UUID().uuidString.prefix(8).lowercased())")
        XCTAssertEqual(destination.tag, "latest")
        let pushed = try await ImagePusher().push(source, to: destination, from: store, client: client)
        XCTAssertEqual(pushed.summary, "latest: digest: \(manifest.digest) size: \(manifest.size)")
        XCTAssertEqual(try skopeoInspect(destination.description)["Digest"] as? String, manifest.digest.description)
    }

    func testMountAcrossRepositoriesFromLazilyPulledImage() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let storeA = try ImageStore(root: scratch + "/a")
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let base = reference("\(registry.host)/mount/base-\(suffix):v1")
        let manifest = try TestImages.tagged(storeA, as: base, scratch: scratch)
        _ = try await ImagePusher().push(base, from: storeA, client: client)

        // A store holding only manifest + config: the layers must be mounted, not uploaded.
        let storeB = try ImageStore(root: scratch + "/b")
        _ = try await ImagePuller(client: client, store: storeB).pull(base)
        let target = reference("\(registry.host)/mount/other-\(suffix):v2")
        let log = EventLog()
        let pushed = try await ImagePusher(onEvent: log.observer).push(base, to: target, from: storeB, client: client)
        XCTAssertEqual(pushed.digest, manifest.digest)
        for layer in try storeA.image(manifest).manifest.layers {
            XCTAssertEqual(pushed.blobs[layer.digest], .mounted(from: base.path))
            XCTAssertEqual(log.finalStates[layer.digest], .mounted(from: base.path))
            XCTAssertFalse(storeB.hasBlob(layer.digest), "mounting must not download")
        }
        XCTAssertEqual(try skopeoInspect(target.description)["Digest"] as? String, manifest.digest.description)
    }

    func testCrossRegistryCopyStreamsWithoutTouchingDisk() async throws {
        let source = try TestRegistry(self)
        let destination = try TestRegistry(self)
        let scratch = try scratchDirectory(self)
        let storeA = try ImageStore(root: scratch + "/a")
        let ref = reference("\(source.host)/stream/app:v1")
        let manifest = try TestImages.tagged(storeA, as: ref, scratch: scratch)
        _ = try await ImagePusher().push(ref, from: storeA, client: client)

        let storeB = try ImageStore(root: scratch + "/b")
        _ = try await ImagePuller(client: client, store: storeB).pull(ref)
        let target = reference("\(destination.host)/copied/app:v1")
        let pushed = try await ImagePusher(jobs: 2).push(ref, to: target, from: storeB, client: client)
        for layer in try storeA.image(manifest).manifest.layers {
            XCTAssertEqual(pushed.blobs[layer.digest], .pushed(attempts: 1), "streamed from \(source.host)/stream/app")
            XCTAssertFalse(storeB.hasBlob(layer.digest))
        }
        XCTAssertEqual(try skopeoInspect(target.description)["Digest"] as? String, manifest.digest.description)
        try toolChecked(["skopeo", "copy", "--quiet", "--src-tls-verify=false", "docker://\(target)", "oci:\(scratch)/verify:v1"])
    }

    func testPushResumesAfterInterruption() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let ref = reference("\(registry.host)/resume/app-\(UUID().uuidString.prefix(8).lowercased()):v1")
        let manifest = try TestImages.tagged(store, as: ref, scratch: scratch)
        let layers = try store.image(manifest).manifest.layers
        // The "interrupted" run got the first layer across.
        let repository = RegistryRepository(ref)
        guard case .session(let session) = try await client.startUpload(to: repository) else { return XCTFail("no session") }
        try await client.finishUpload(session, digest: layers[0].digest,
                                      body: .file(path: store.blobPath(layers[0].digest), size: layers[0].size), to: repository)
        let pushed = try await ImagePusher().push(ref, from: store, client: client)
        XCTAssertEqual(pushed.blobs[layers[0].digest], .alreadyExists)
        XCTAssertEqual(pushed.blobs[layers[1].digest], .pushed(attempts: 1))
    }

    func testIndexWithTwoPlatformsChoosesByPlatform() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let amd64 = Platform(os: "linux", architecture: "amd64")
        let arm64 = Platform(os: "linux", architecture: "arm64", variant: "v8")
        var children: [Descriptor] = []
        for platform in [amd64, arm64] {
            let layer = try TestImages.layer(store, files: ["arch": platform.description], scratch: scratch)
            var child = try TestImages.image(store, layers: [layer], platform: platform)
            child.platform = platform
            children.append(child)
        }
        let index = try store.writeJSON(ImageIndex(mediaType: MediaType.ociIndex, manifests: children), mediaType: MediaType.ociIndex)
        let ref = reference("\(registry.host)/multi/app-\(UUID().uuidString.prefix(8).lowercased()):v1")
        try store.tag(ref, manifest: index)
        let pushed = try await ImagePusher().push(ref, from: store, client: client)
        XCTAssertEqual(pushed.digest, index.digest)
        XCTAssertEqual(try skopeoInspect(ref.description, raw: true)["mediaType"] as? String, MediaType.ociIndex)

        let cases: [(wanted: String, expected: Descriptor?)] = [
            ("linux/arm64", children[1]), ("linux/arm64/v8", children[1]), ("linux/aarch64", children[1]),
            ("linux/amd64", children[0]), ("linux/x86_64", children[0]), ("linux/s390x", nil),
        ]
        for (wanted, expected) in cases {
            let target = try ImageStore(root: scratch + "/pull-" + UUID().uuidString)
            let puller = ImagePuller(client: client, store: target, platform: try Platform(parsing: wanted))
            if let expected {
                let result = try await puller.pull(ref)
                XCTAssertEqual(result.digest, index.digest, wanted)
                XCTAssertEqual(result.manifest.digest, expected.digest, wanted)
                XCTAssertEqual(result.platform, expected.platform, wanted)
            } else {
                do {
                    _ = try await puller.pull(ref)
                    XCTFail("\(wanted): expected no match")
                } catch let error as RegistryError {
                    XCTAssertEqual(error.kind, .notFound)
                    XCTAssertTrue(error.description.contains("no matching manifest for linux/s390x"), error.description)
                    XCTAssertTrue(error.description.contains("linux/amd64, linux/arm64/v8"), error.description)
                    XCTAssertFalse(error.description.contains("\n"))
                }
            }
        }

        // Pulled by the index's digest: recorded under that digest, resolving to the chosen platform.
        let byDigest = reference("\(ref.repository)@\(index.digest)")
        let target = try ImageStore(root: scratch + "/by-digest")
        let pulled = try await ImagePuller(client: client, store: target, platform: arm64).pull(byDigest)
        XCTAssertEqual(pulled.manifest.digest, children[1].digest)
        XCTAssertEqual(try target.resolve(byDigest)?.digest, children[1].digest)
        XCTAssertNil(try target.resolve(ref), "no tag was made")
        let single = reference("\(ref.repository)@\(children[0].digest)")
        _ = try await ImagePuller(client: client, store: target).pull(single)
        XCTAssertEqual(try target.resolve(single)?.digest, children[0].digest)
    }

    func testDockerMediaTypesRoundTrip() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let layer = try TestImages.layer(store, files: ["hello": "docker\n"], scratch: scratch)
        let manifest = try TestImages.image(store, layers: [layer], format: .docker)
        let ref = reference("\(registry.host)/docker/app-\(UUID().uuidString.prefix(8).lowercased()):v1")
        try store.tag(ref, manifest: manifest)
        _ = try await ImagePusher().push(ref, from: store, client: client)
        let raw = try skopeoInspect(ref.description, raw: true)
        XCTAssertEqual(raw["mediaType"] as? String, MediaType.dockerManifest)
        let other = try ImageStore(root: scratch + "/b")
        let pull = try await ImagePuller(client: client, store: other).pull(ref)
        XCTAssertEqual(pull.manifest.mediaType, MediaType.dockerManifest)
        XCTAssertEqual(pull.manifest.digest, manifest.digest)
    }

    func testExplicitPlatformMustMatchASinglePlatformImage() async throws {
        let registry = try TestRegistry.shared(self)
        let scratch = try scratchDirectory(self)
        let store = try ImageStore(root: scratch + "/a")
        let ref = reference("\(registry.host)/single/app-\(UUID().uuidString.prefix(8).lowercased()):v1")
        _ = try TestImages.tagged(store, as: ref, scratch: scratch, platform: Platform(os: "linux", architecture: "arm64"))
        _ = try await ImagePusher().push(ref, from: store, client: client)
        let other = try ImageStore(root: scratch + "/b")
        // No --platform: taken as is. A matching one (with arm64 ≡ arm64/v8): fine. Another: refused.
        _ = try await ImagePuller(client: client, store: other).pull(ref)
        _ = try await ImagePuller(client: client, store: other, platform: try Platform(parsing: "linux/arm64/v8")).pull(ref)
        do {
            _ = try await ImagePuller(client: client, store: other, platform: try Platform(parsing: "linux/amd64")).pull(ref)
            XCTFail("expected a platform mismatch")
        } catch let error as RegistryError {
            XCTAssertTrue(error.description.contains("is for linux/arm64, which does not match the requested platform linux/amd64"),
                          error.description)
        }
    }
}

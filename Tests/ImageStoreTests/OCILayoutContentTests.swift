import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// The content protocols end to end on disk (issue 12): an image copied from the store into
/// an OCI image-layout directory is read back by skopeo and umoci, every descriptor checked
/// against the file it names, then copied from the layout into a fresh store.
final class OCILayoutContentTests: XCTestCase {
    func testStoreToLayoutToStoreWithEveryDescriptorValidated() async throws {
        for tool in ["skopeo", "umoci"] where !hasTool(tool) { throw XCTSkip("\(tool) is not installed") }
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let base = try makeLayer(store, files: ["etc/os-release": "ID=test\n"], scratch: scratch)
        let app = try makeLayer(store, files: ["app/main.py": "print('hi')\n"], scratch: scratch)
        let image = try makeImage(store, layers: [base, app], cmd: ["python3", "main.py"])
        let layoutPath = scratch + "/layout"
        let layout = try OCILayoutDirectory(creatingAt: layoutPath)

        let first = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: layout, tag: "v1").blobs
        XCTAssertEqual(first.count, 3, "config and two layers")
        XCTAssertTrue(first.values.allSatisfy { $0 == .pushed(attempts: 1) }, "\(first)")
        // Again, under a second name: nothing is copied twice, both names are listed.
        let second = try await ImagePusher(backoff: .zero).push(image, from: StoreContent(store: store), to: layout, tag: "latest").blobs
        XCTAssertTrue(second.values.allSatisfy { $0 == .alreadyExists }, "\(second)")
        XCTAssertEqual(try layout.index().manifests.compactMap { $0.annotations?[OCILayoutDirectory.refNameAnnotation] }.sorted(),
                       ["latest", "v1"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layoutPath).filter { $0.hasSuffix(".tmp") }, [])

        // Every descriptor matches the bytes it names (an oracle: sha256sum, stat).
        let manifestDescriptor = try layout.manifest(named: "v1")
        XCTAssertEqual(manifestDescriptor.digest, image.digest)
        let manifest = try CanonicalJSON.decode(ImageManifest.self, from: Data(try FileSystem.readFile(layout.blobPath(image.digest))))
        for descriptor in [manifestDescriptor, manifest.config] + manifest.layers {
            let path = layout.blobPath(descriptor.digest)
            XCTAssertEqual(try sha256sum(path), descriptor.digest, path)
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)
            XCTAssertEqual(size.int64Value, descriptor.size, path)
            XCTAssertFalse(descriptor.mediaType.isEmpty)
        }
        XCTAssertEqual(manifest.layers.map(\.mediaType), [base, app].map(\.descriptor.mediaType))

        // skopeo and umoci read it.
        let inspected = try runChecked(["skopeo", "inspect", "oci:\(layoutPath):v1"])
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(inspected.utf8)) as? [String: Any])
        XCTAssertEqual(info["Digest"] as? String, image.digest.description)
        XCTAssertEqual(info["Layers"] as? [String], [base, app].map(\.descriptor.digest.description))
        let bundle = scratch + "/bundle"
        try runChecked(["umoci", "unpack", "--rootless", "--image", "\(layoutPath):latest", bundle])
        XCTAssertEqual(try String(contentsOfFile: bundle + "/rootfs/app/main.py", encoding: .utf8), "print('hi')\n")

        // And back: the layout as a source, a fresh store as the destination.
        let other = try ImageStore(root: scratch + "/other")
        let back = try await ImagePusher(backoff: .zero).push(manifestDescriptor, from: layout,
                                                  to: StoreContent(store: other, repository: ref("example.com/team/app")),
                                                  tag: "v1").blobs
        XCTAssertEqual(back.count, 3)
        XCTAssertEqual(try other.resolve(ref("example.com/team/app:v1"))?.digest, image.digest)
        for descriptor in [manifest.config] + manifest.layers {
            XCTAssertEqual(try sha256sum(other.blobPath(descriptor.digest)), descriptor.digest)
        }
    }

    func testALayoutHoldingSomethingElseIsRefused() throws {
        let scratch = try makeScratchDirectory(self)
        try "not a layout".write(toFile: scratch + "/notes.txt", atomically: false, encoding: .utf8)
        assertStoreError(try OCILayoutDirectory(creatingAt: scratch)) {
            if case .io = $0 { return true }
            return false
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch), ["notes.txt"], "left as it was")
    }
}

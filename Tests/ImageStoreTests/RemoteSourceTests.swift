import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Lazy layers: `tag` accepts layers with a recorded remote source, nothing else missing.
final class RemoteSourceTests: XCTestCase {
    func testTagAcceptsMissingLayersOnlyWithARemoteSource() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layer = try makeLayer(store, files: ["a": "1"], scratch: scratch)
        let manifest = try makeImage(store, layers: [layer])
        try FileSystem.removeFile(store.blobPath(layer.descriptor.digest))

        assertStoreError(try store.tag(ref("x:1"), manifest: manifest)) { $0 == .blobNotFound(layer.descriptor.digest) }
        let source = RemoteSource(registry: "127.0.0.1:5000", repository: "base/x")
        try store.recordRemoteSource(source, for: [layer.descriptor.digest])
        XCTAssertNoThrow(try store.tag(ref("x:1"), manifest: manifest))
        XCTAssertEqual(try store.remoteSources(of: layer.descriptor.digest), [source])
        XCTAssertEqual(try store.listImages().map(\.reference), [ref("x:1")])

        // A newer source goes first; the old one stays as a fallback.
        let other = RemoteSource(registry: "docker.io", repository: "library/x")
        try store.recordRemoteSource(other, for: [layer.descriptor.digest])
        XCTAssertEqual(try store.remoteSources(of: layer.descriptor.digest), [other, source])

        // The layout stays readable by a fresh store instance (the extra file is allowed).
        XCTAssertNoThrow(try ImageStore(root: scratch + "/store"))
    }

    func testConfigMustBePresentEvenWithARemoteSource() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layer = try makeLayer(store, files: ["a": "2"], scratch: scratch)
        let manifest = try makeImage(store, layers: [layer])
        let configDigest = try store.image(manifest).configDescriptor.digest
        try FileSystem.removeFile(store.blobPath(configDigest))
        try store.recordRemoteSource(RemoteSource(registry: "r", repository: "x"), for: [configDigest])
        assertStoreError(try store.tag(ref("x:1"), manifest: manifest)) { $0 == .blobNotFound(configDigest) }
    }

    func testPruneForgetsSourcesOfUnreferencedBlobs() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layer = try makeLayer(store, files: ["a": "4"], scratch: scratch)
        let manifest = try makeImage(store, layers: [layer])
        try FileSystem.removeFile(store.blobPath(layer.descriptor.digest))
        let orphan = try Digest(sha256Hex: String(repeating: "b", count: 64))
        try store.recordRemoteSource(RemoteSource(registry: "r", repository: "x"), for: [layer.descriptor.digest, orphan])
        try store.tag(ref("x:1"), manifest: manifest)
        try store.prune(gracePeriod: 0)
        XCTAssertEqual(try store.remoteSources(of: orphan), [])
        XCTAssertEqual(try store.remoteSources(of: layer.descriptor.digest).count, 1)
    }
}

import Foundation
import ImageModel
@testable import ImageStore
import Layers
import XCTest

/// The store's cache of layer header indexes: built once per diff ID from verified bytes,
/// written whole, rebuilt when damaged, never built from a blob that does not match.
final class LayerIndexCacheTests: XCTestCase {
    private func setUp(_ files: [String: String]) throws -> (ImageStore, TestLayer) {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        return (store, try makeLayer(store, files: files, scratch: scratch))
    }

    private func corrupt(_ path: String) throws {
        _ = chmod(path, 0o644)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
        handle.seek(toFileOffset: 20)
        let byte = handle.readData(ofLength: 1)
        handle.seek(toFileOffset: 20)
        handle.write(Data([byte[0] ^ 0xff]))
        handle.closeFile()
    }

    func testIndexIsBuiltOnceAndServedFromTheCacheWithoutTheBlob() throws {
        let (store, layer) = try setUp(["etc/passwd": "root:x:0:0::/root:/bin/sh\n", "srv/app/a.txt": "a"])
        XCTAssertNil(store.cachedLayerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest))
        let built = try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest)
        XCTAssertEqual(Set(built.map(\.path)), ["", "etc", "etc/passwd", "srv", "srv/app", "srv/app/a.txt"])
        XCTAssertEqual(built.first { $0.path == "srv/app" }?.kind, .directory)
        // With the blob gone, the cache still answers: a second build reads no layer bytes.
        try FileManager.default.removeItem(atPath: store.blobPath(layer.descriptor.digest))
        XCTAssertEqual(try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest), built)
        // An index built from one blob does not serve another blob claiming the same diff ID.
        let other = try Digest(sha256Hex: String(repeating: "e", count: 64))
        XCTAssertNil(store.cachedLayerHeaders(diffID: layer.diffID, blob: other))
    }

    func testDamagedCacheEntriesAreRebuiltNotTrusted() throws {
        let (store, layer) = try setUp(["a.txt": "a"])
        let built = try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest)
        let entry = store.layerIndexDirectory + "/" + layer.diffID.encoded
        let original = try Data(contentsOf: URL(fileURLWithPath: entry))
        let damages: [(String, Data)] = [
            ("truncated", original.prefix(original.count - 5)),
            ("payload changed", original.replacingOccurrences(of: Data("a.txt".utf8), with: Data("b.txt".utf8))),
            ("empty", Data()),
            ("not an index", Data("hello\n[]".utf8)),
        ]
        for (name, bytes) in damages {
            try bytes.write(to: URL(fileURLWithPath: entry))
            XCTAssertNil(store.cachedLayerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest), name)
            XCTAssertEqual(try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest), built, name)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: entry)), original, "\(name): rewritten whole")
        }
    }

    func testACorruptBlobIsRefusedAndNothingIsCached() throws {
        let (store, layer) = try setUp(["a.txt": String(repeating: "abc", count: 1000)])
        try corrupt(store.blobPath(layer.descriptor.digest))
        XCTAssertThrowsError(try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest)) { error in
            guard case LayerError.digestMismatch(_, let expected, _)? = error as? LayerError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(expected, layer.descriptor.digest)
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.layerIndexDirectory + "/" + layer.diffID.encoded))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp"), [])
    }

    func testACorruptBlobFailsTheRootfsUnpackAndLeavesNoCacheEntry() throws {
        let (store, layer) = try setUp(["a.txt": String(repeating: "abc", count: 1000)])
        try corrupt(store.blobPath(layer.descriptor.digest))
        XCTAssertThrowsError(try store.rootfs(forLayers: [(layer.descriptor.digest, layer.diffID)])) { error in
            guard case LayerError.digestMismatch? = error as? LayerError else { return XCTFail("\(error)") }
        }
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: store.root + "/cache/rootfs")) ?? []
        XCTAssertTrue(cached.allSatisfy { $0.hasSuffix(".lock") }, "\(cached)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: store.root + "/tmp"), [])
    }

    /// `system prune` drops the header index of a layer no image keeps any more — also a lazy
    /// base layer whose blob was never fetched — and keeps the others.
    func testPruneDropsTheIndexOfLayersNoImageKeeps() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let kept = try makeLayer(store, files: ["kept.txt": "k"], scratch: scratch)
        let lazy = try makeLayer(store, files: ["lazy.txt": "l"], scratch: scratch)
        let gone = try makeLayer(store, files: ["gone.txt": "g"], scratch: scratch)
        for layer in [kept, lazy, gone] { _ = try store.layerHeaders(diffID: layer.diffID, blob: layer.descriptor.digest) }
        // The lazy layer's blob is remote: only its source is recorded.
        try FileSystem.removeFile(store.blobPath(lazy.descriptor.digest))
        try store.recordRemoteSource(RemoteSource(registry: "r", repository: "x"), for: [lazy.descriptor.digest])
        try store.tag(ref("x:kept"), manifest: try makeImage(store, layers: [kept, lazy]))
        try store.tag(ref("x:gone"), manifest: try makeImage(store, layers: [gone], cmd: ["gone"]))
        let junk = store.layerIndexDirectory + "/" + String(repeating: "d", count: 64)
        XCTAssertTrue(FileManager.default.createFile(atPath: junk, contents: Foundation.Data("not an index".utf8)))
        func indexed() throws -> Set<String> { Set(try FileManager.default.contentsOfDirectory(atPath: store.layerIndexDirectory)) }

        // Young entries survive a prune with a grace period (a build may not have tagged yet).
        _ = try store.pruneBlobs(gracePeriod: 3600)
        XCTAssertEqual(try indexed().count, 4)
        _ = try store.pruneBlobs(gracePeriod: 0)
        XCTAssertEqual(try indexed(), [kept.diffID.encoded, lazy.diffID.encoded, gone.diffID.encoded], "the junk entry goes")
        _ = try store.untag(ref("x:gone"))
        _ = try store.pruneBlobs(gracePeriod: 0)
        XCTAssertEqual(try indexed(), [kept.diffID.encoded, lazy.diffID.encoded])
        // What is left still serves the builds.
        XCTAssertNotNil(store.cachedLayerHeaders(diffID: lazy.diffID, blob: lazy.descriptor.digest))
    }
}

private extension Data {
    func replacingOccurrences(of old: Data, with new: Data) -> Data {
        guard let range = self.range(of: old) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: new)
        return copy
    }

}

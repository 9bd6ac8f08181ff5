import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageModel
@testable import ImageStore
import Layers
import XCTest

final class RootfsCacheTests: XCTestCase {
    private func inode(_ path: String) -> UInt64? {
        var st = stat()
        return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    private func pair(_ layer: TestLayer) -> (digest: Digest, diffID: Digest) {
        (layer.descriptor.digest, layer.diffID)
    }

    /// sha256 of text, by sha256sum (independent of the store's hasher).
    private func sha256(text: String) throws -> Digest {
        let out = try ImageStoreTests.run(["sh", "-c", "printf '%s' \"$0\" | sha256sum", text])
        return try Digest(sha256Hex: String(out.output.prefix(64)))
    }

    func testChainID() throws {
        let a = try Digest(sha256Hex: String(repeating: "a", count: 64))
        let b = try Digest(sha256Hex: String(repeating: "b", count: 64))
        let c = try Digest(sha256Hex: String(repeating: "c", count: 64))
        let ab = try sha256(text: "\(a) \(b)")
        let rows: [([Digest], Digest?)] = [
            ([], nil),
            ([a], a),
            ([a, b], ab),
            ([a, b, c], try sha256(text: "\(ab) \(c)")),
        ]
        for (diffIDs, expected) in rows {
            XCTAssertEqual(ImageStore.chainID(of: diffIDs), expected, "\(diffIDs)")
        }
    }

    func testBuildsOnceAppliesWhiteoutsAndHitsTheCache() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let l1 = try makeLayer(store, files: ["a.txt": "A", "dir/b.txt": "B", "keep.txt": "K", "gone/x": "X"], scratch: scratch)
        let l2 = try makeLayer(store, files: [".wh.a.txt": "", "dir/c.txt": "C", ".wh.gone": "", "dir/.wh.nothing": ""], scratch: scratch)
        let layers = [pair(l1), pair(l2)]

        let first = try store.rootfs(forLayers: layers)
        let chain = try sha256(text: "\(l1.diffID) \(l2.diffID)")
        XCTAssertEqual(first.chainID, chain)
        XCTAssertEqual(first.path, store.root + "/cache/rootfs/\(chain.encoded)/rootfs")
        let fm = FileManager.default
        XCTAssertEqual(try String(contentsOfFile: first.path + "/keep.txt", encoding: .utf8), "K")
        XCTAssertEqual(try String(contentsOfFile: first.path + "/dir/b.txt", encoding: .utf8), "B")
        XCTAssertEqual(try String(contentsOfFile: first.path + "/dir/c.txt", encoding: .utf8), "C")
        XCTAssertFalse(fm.fileExists(atPath: first.path + "/a.txt"))
        XCTAssertFalse(fm.fileExists(atPath: first.path + "/gone"))
        XCTAssertFalse(fm.fileExists(atPath: first.path + "/.wh.a.txt"))
        XCTAssertEqual(first.owners.owners["keep.txt"], Owner(uid: 0, gid: 0))
        XCTAssertEqual(first.owners.modes["dir/c.txt"], 0o644)
        XCTAssertNil(first.owners.owners["a.txt"])
        XCTAssertNil(first.owners.owners["gone/x"])
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [], "staging left behind")

        // Second call: same tree, not unpacked again — it even works with the blobs gone.
        let marker = inode(first.path + "/keep.txt")
        for layer in [l1, l2] { try FileSystem.removeFile(store.blobPath(layer.descriptor.digest)) }
        let again = try ImageStore(root: store.root).rootfs(forLayers: layers)
        XCTAssertEqual(again, first)
        XCTAssertEqual(inode(again.path + "/keep.txt"), marker)

        // The lower layer alone is its own entry, keyed by its diff ID; its blob is gone now.
        assertStoreError(try store.rootfs(forLayers: [pair(l1)]), { $0 == .blobNotFound(l1.descriptor.digest) })
    }

    /// An entry written before layers were read byte for byte (its `owners.json` has no
    /// `paths` list) may hold NFC-normalised names: it is unpacked again, not used.
    func testAnEntryFromBeforeByteExactNamesIsUnpackedAgain() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layer = try makeLayer(store, files: ["e\u{301}.txt": "NFD"], scratch: scratch)
        let entry = store.root + "/cache/rootfs/" + layer.diffID.encoded
        try FileManager.default.createDirectory(atPath: entry + "/rootfs", withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: URL(fileURLWithPath: entry + "/rootfs/\u{e9}.txt"))
        try Data(#"{"owners":{"\#u{e9}.txt":[0,0]},"modes":{},"skipped":[]}"#.utf8).write(to: URL(fileURLWithPath: entry + "/owners.json"))

        let rootfs = try store.rootfs(forLayers: [pair(layer)])
        XCTAssertEqual(rootfs.path, entry + "/rootfs")
        XCTAssertEqual(try FileSystem.list(rootfs.path).map { Array($0.utf8) }, [Array("e\u{301}.txt".utf8)])
        XCTAssertNotNil(rootfs.owners.owners["e\u{301}.txt"])
        XCTAssertNil(rootfs.owners.owners["\u{e9}.txt"])
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [], "the stale entry left behind")
        XCTAssertEqual(try store.rootfs(forLayers: [pair(layer)]), rootfs, "the new entry is used as it is")
    }

    func testEmptyLayerListGivesAnEmptyDirectory() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let empty = try store.rootfs(forLayers: [])
        XCTAssertNil(empty.chainID)
        XCTAssertEqual(empty.path, store.root + "/cache/rootfs/empty/rootfs")
        XCTAssertEqual(try FileSystem.list(empty.path), [])
        XCTAssertEqual(empty.owners, OwnershipTable())
        XCTAssertEqual(try store.rootfs(forLayers: []), empty)
    }

    func testConcurrentBuildersOfOneChainAgree() throws {
        let scratch = try makeScratchDirectory(self)
        let root = scratch + "/store"
        let store = try ImageStore(root: root)
        var files: [String: String] = [:]
        for i in 0..<200 { files["d\(i % 10)/f\(i)"] = String(repeating: "x", count: i) }
        let l1 = try makeLayer(store, files: files, scratch: scratch)
        let l2 = try makeLayer(store, files: ["d0/.wh..wh..opq": "", "d0/new": "n"], scratch: scratch)
        let layers = [pair(l1), pair(l2)]
        let count = 4
        // `nonisolated(unsafe)`: safe, each iteration writes only its own slot and
        // `concurrentPerform` returns after every iteration has finished.
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<Result<UnpackedRootfs, Error>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: count) { i in
            // Separate store instances, as separate processes would have.
            results[i] = Result { try ImageStore(root: root).rootfs(forLayers: layers) }
        }
        let values = try results.map { try XCTUnwrap($0).get() }
        XCTAssertEqual(Set(values).count, 1)
        let tree = values[0].path
        XCTAssertEqual(try FileSystem.list(tree + "/d0"), ["new"])
        XCTAssertEqual(try FileSystem.list(tree + "/d1").count, 20)
        XCTAssertNil(values[0].owners.owners["d0/f0"])
        XCTAssertEqual(try FileSystem.list(root + "/tmp"), [], "staging left behind")
        XCTAssertEqual(try FileSystem.list(root + "/cache/rootfs").filter { !$0.hasSuffix(".lock") },
                       [try XCTUnwrap(ImageStore.chainID(of: [l1.diffID, l2.diffID])).encoded])
    }

    func testFailuresNameChainAndLayer() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let good = try makeLayer(store, files: ["ok": "1"], scratch: scratch)
        let garbage = try store.writeBlob(Array("this is not a tar archive, not even close".utf8) + [UInt8](repeating: 7, count: 2000))
        let fakeDiffID = try Digest(sha256Hex: String(repeating: "e", count: 64))
        let layers = [pair(good), (digest: garbage, diffID: fakeDiffID)]
        let chain = try XCTUnwrap(ImageStore.chainID(of: [good.diffID, fakeDiffID]))
        XCTAssertThrowsError(try store.rootfs(forLayers: layers)) { error in
            let text = String(describing: error)
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertTrue(text.contains(chain.description), text)
            XCTAssertTrue(text.contains("layer 2 of 2 (\(garbage))"), text)
        }
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [], "staging left behind")
        XCTAssertFalse(FileSystem.exists(store.root + "/cache/rootfs/" + chain.encoded))

        let missing = try Digest(sha256Hex: String(repeating: "d", count: 64))
        assertStoreError(try store.rootfs(forLayers: [pair(good), (missing, fakeDiffID)]), { $0 == .blobNotFound(missing) })
    }

    func testRemoveRootfsCache() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let layer = try makeLayer(store, files: ["ro/file": "r"], scratch: scratch)
        let first = try store.rootfs(forLayers: [pair(layer)])
        XCTAssertEqual(chmod(first.path + "/ro", 0o555), 0)
        try store.removeRootfsCache()
        XCTAssertEqual(try FileSystem.list(store.root + "/cache/rootfs"), [])
        XCTAssertEqual(try FileSystem.list(store.root + "/tmp"), [])
        let rebuilt = try store.rootfs(forLayers: [pair(layer)])
        XCTAssertEqual(rebuilt.path, first.path)
        XCTAssertTrue(FileSystem.isRegularFile(rebuilt.path + "/ro/file"))
        try store.removeRootfsCache()
        try store.removeRootfsCache()
    }
}

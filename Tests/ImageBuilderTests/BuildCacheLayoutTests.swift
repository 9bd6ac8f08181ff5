import Foundation
import ImageModel
import ImageStore
import XCTest
@testable import ImageBuilder

/// `--cache-to type=local`: blobs go in by hard link on the store's file system and by copy
/// on another (here tmpfs against the store's), either way the layout reads back as the
/// cache exported and layers come back into a store verified; a second export adds only what
/// is new and leaves `oci-layout` as it was.
final class BuildCacheLayoutTests: XCTestCase {
    func testExportsByLinkOrCopyAndReadsBack() throws {
        let store = try ImageStore(root: NSTemporaryDirectory() + "cachelayout-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let layer = try store.writeBlob(Array("layer bytes".utf8))
        let record = StepCacheRecord(layer: .init(descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: layer, size: 11), diffID: layer),
                                     history: [History(created: "2026-01-01T00:00:00Z", createdBy: "COPY a /")])
        let key = String(repeating: "a", count: 64)
        try store.writeStepCacheRecord(record, key: key)
        let manifest = try BuildCacheExporter.writeManifest(steps: [.init(key: key, isFinalStage: true)], mode: .max, store: store)

        let sameFileSystem = NSTemporaryDirectory() + "cachelayout-dest-\(UUID().uuidString.prefix(8))"
        let otherFileSystem = "/dev/shm/cachelayout-dest-\(UUID().uuidString.prefix(8))"
        for (directory, linked) in [(sameFileSystem, true), (otherFileSystem, false)] {
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let layout = BuildCacheLayout(directory: directory)
            try layout.write(manifest: manifest, from: store)
            var inStore = stat(), inLayout = stat()
            XCTAssertEqual(stat(store.blobPath(layer), &inStore), 0)
            XCTAssertEqual(stat(layout.blobPath(layer), &inLayout), 0)
            XCTAssertEqual(inStore.st_ino == inLayout.st_ino && inStore.st_dev == inLayout.st_dev, linked, directory)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: layout.blobPath(layer))), Data("layer bytes".utf8))
            XCTAssertEqual(try layout.read().records[key], record)

            // Again: nothing new, oci-layout kept as it is, index.json rewritten whole; no temp file left.
            try Data("{\"imageLayoutVersion\":\"1.0.0\"} ".utf8).write(to: URL(fileURLWithPath: directory + "/oci-layout"))
            try layout.write(manifest: manifest, from: store)
            XCTAssertEqual(try String(contentsOfFile: directory + "/oci-layout", encoding: .utf8), "{\"imageLayoutVersion\":\"1.0.0\"} ")
            XCTAssertEqual(try layout.read().records[key], record)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory) + FileManager.default.contentsOfDirectory(atPath: directory + "/blobs/sha256")
            XCTAssertFalse(names.contains { $0.contains(".tmp-") }, "\(names)")

            // Back into a fresh store: copied (never linked), verified.
            let fresh = try ImageStore(root: NSTemporaryDirectory() + "cachelayout-fresh-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: fresh.root) }
            try layout.ingest(layer, into: fresh)
            XCTAssertEqual(try fresh.readBlob(layer), Array("layer bytes".utf8))
            var ingested = stat()
            XCTAssertEqual(stat(fresh.blobPath(layer), &ingested), 0)
            XCTAssertFalse(ingested.st_ino == inLayout.st_ino && ingested.st_dev == inLayout.st_dev, "a copy, not a link")
        }
    }

    /// A layout blob whose bytes changed is refused on the way back into a store.
    func testACorruptLayerIsRefusedOnIngest() throws {
        let store = try ImageStore(root: NSTemporaryDirectory() + "cachelayout-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(atPath: store.root) }
        let directory = NSTemporaryDirectory() + "cachelayout-bad-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let layout = BuildCacheLayout(directory: directory)
        let digest = SHA256Stream.digest(of: Array("good".utf8))
        try FileManager.default.createDirectory(atPath: directory + "/blobs/sha256", withIntermediateDirectories: true)
        try Data("evil".utf8).write(to: URL(fileURLWithPath: layout.blobPath(digest)))
        XCTAssertThrowsError(try layout.ingest(digest, into: store))
        XCTAssertFalse(store.hasBlob(digest))
    }
}

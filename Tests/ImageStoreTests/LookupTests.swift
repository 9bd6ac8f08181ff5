import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Images named as docker names them (`ImageStore.lookup`), and untagged (dangling) images.
final class LookupTests: StoreTestCase {
    func testLookupTakesEveryFormDockerTakes() throws {
        let tagged = try makeImage(store, layers: [base], cmd: ["tagged"])
        let untagged = try makeImage(store, layers: [base], cmd: ["untagged"])
        try store.tag(ref("app:1"), manifest: tagged)
        try store.keepUntagged(manifest: untagged)
        let taggedID = try store.image(tagged).imageID
        let untaggedID = try store.image(untagged).imageID

        let cases: [(String, Descriptor?, byName: Bool)] = [
            ("app:1", tagged, true),
            ("docker.io/library/app:1", tagged, true),
            ("app@\(tagged.digest)", tagged, true),
            (taggedID.description, tagged, false),
            (taggedID.encoded, tagged, false),
            (String(taggedID.encoded.prefix(12)), tagged, false),
            ("sha256:" + taggedID.encoded.prefix(12), tagged, false),
            (untaggedID.encoded, untagged, false),
            (untaggedID.shortID, untagged, false),
            ("app", nil, false),             // app:latest does not exist: a caller may pull it
            ("other:1", nil, false),
        ]
        for (text, expected, byName) in cases {
            let found = try store.lookup(text)
            XCTAssertEqual(found?.manifest.digest, expected?.digest, text)
            XCTAssertEqual(found?.reference != nil, byName, text)
        }
        XCTAssertThrowsError(try store.findImage("app")) { XCTAssertEqual("\($0)", "image not found in local store: app:latest") }
        let absent = String(repeating: "0", count: 64)
        assertStoreError(try store.lookup(absent)) { $0 == .imageNotFound(absent) }
        assertStoreError(try store.lookup("sha256:" + absent)) { $0 == .imageNotFound("sha256:" + absent) }
        XCTAssertThrowsError(try store.lookup("UPPER")) { XCTAssertTrue($0 is Reference.ParseError, "\($0)") }
    }

    func testAmbiguousShortIDNamesTheCount() throws {
        // Seventeen images: two IDs share a first hex digit.
        var byFirst: [Character: [Digest]] = [:]
        for i in 0..<17 {
            let manifest = try makeImage(store, layers: [base], cmd: ["image-\(i)"])
            try store.keepUntagged(manifest: manifest)
            let id = try store.image(manifest).imageID
            byFirst[id.encoded.first!, default: []].append(id)
        }
        let (first, ids) = try XCTUnwrap(byFirst.first { $0.value.count > 1 })
        assertStoreError(try store.lookup(String(first))) { $0 == .ambiguousImageID(prefix: String(first), count: ids.count) }
        XCTAssertEqual(try store.listImages(includeDangling: true).count, 17)
        XCTAssertEqual(try store.listImages().count, 0, "untagged images are not tags")
    }

    func testRetaggingLeavesTheOldImageDanglingUntilPruned() throws {
        let shared = try makeLayer(store, files: ["shared": "x"], scratch: scratch)
        let own = try makeLayer(store, files: ["own": "y"], scratch: scratch)
        let old = try makeImage(store, layers: [base, own], cmd: ["old"], created: "2025-01-01T00:00:00Z")
        let new = try makeImage(store, layers: [base, shared], cmd: ["new"], created: "2026-06-01T00:00:00Z")
        try store.tag(ref("app"), manifest: old)
        try store.tag(ref("app"), manifest: new)
        let listed = try store.listImages(includeDangling: true)
        XCTAssertEqual(listed.map(\.reference), [ref("app"), nil], "docker keeps the old image as <none>:<none>")
        XCTAssertEqual(listed.last?.manifestDescriptor.digest, old.digest)

        // Naming the dangling image again makes it a tagged image, not two entries.
        try store.tag(ref("app:old"), manifest: old)
        XCTAssertEqual(try store.readIndex().manifests.count, 2)
        try store.tag(ref("app"), manifest: old)  // `new` is now the dangling one
        XCTAssertEqual(try store.readIndex().manifests.count, 3)

        let newID = try store.image(new).imageID
        let results = try store.pruneDanglingImages()
        XCTAssertEqual(results.compactMap(\.deletedImageID), [newID])
        XCTAssertFalse(store.hasBlob(new.digest))
        XCTAssertFalse(store.hasBlob(shared.descriptor.digest), "the pruned image's own layer goes")
        XCTAssertTrue(store.hasBlob(base.descriptor.digest), "a layer the tagged image uses stays")
        XCTAssertGreaterThan(results[0].deletedBytes, 0)
        XCTAssertEqual(try store.listImages(includeDangling: true).map(\.reference), [ref("app"), ref("app:old")])
        XCTAssertEqual(try store.pruneDanglingImages().count, 0)
    }

    func testRemoveImageByIDRemovesEveryName() throws {
        let image = try makeImage(store, layers: [base], cmd: ["x"])
        try store.tag(ref("a:1"), manifest: image)
        try store.tag(ref("b:2"), manifest: image)
        let result = try store.removeImage(manifest: image.digest)
        XCTAssertEqual(Set(result.untagged), [ref("a:1"), ref("b:2")])
        XCTAssertNotNil(result.deletedImageID)
        XCTAssertEqual(try store.readIndex().manifests.count, 0)
        assertStoreError(try store.removeImage(manifest: image.digest)) { if case .imageNotFound = $0 { return true }; return false }
    }
}

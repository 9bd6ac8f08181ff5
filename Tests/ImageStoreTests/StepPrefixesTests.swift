import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Step-prefix markers: a missing marker means a certain miss only in a store whose markers
/// started before its first record; markers go only with every record (`prune --all`).
final class StepPrefixesTests: XCTestCase {
    private var root: String!
    private var store: ImageStore!
    private let prefix = String(repeating: "a", count: 64)
    private let key = String(repeating: "1", count: 64)

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "stepprefixes-\(UUID().uuidString.prefix(8))"
        store = try ImageStore(root: root)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func record() -> StepCacheRecord {
        StepCacheRecord(layer: nil, history: [History(created: "2026-01-01T00:00:00Z", createdBy: "ENV A=1")])
    }

    func testAStoreWithoutRecordsStartsTheMarkersAndKeepsTrustingThem() throws {
        XCTAssertTrue(store.stepPrefixesCoverRecords())
        XCTAssertFalse(store.hasStepPrefix(prefix))
        try store.markStepPrefix(prefix)
        try store.markStepPrefix(prefix)  // again: nothing to do
        XCTAssertTrue(store.hasStepPrefix(prefix))
        try store.writeStepCacheRecord(record(), key: key)
        XCTAssertTrue(store.stepPrefixesCoverRecords(), "records written after the markers started")
        // `prune --all` drops the records, then the markers; the store stays covered.
        try store.pruneStepCache(all: true)
        XCTAssertFalse(store.hasStepPrefix(prefix))
        XCTAssertNil(store.stepCacheRecord(key: key))
        XCTAssertTrue(store.stepPrefixesCoverRecords())
        // Anything else leaves the markers.
        try store.markStepPrefix(prefix)
        try store.pruneStepCache(all: false)
        XCTAssertTrue(store.hasStepPrefix(prefix))
    }

    /// Markers made without their fsync (several share one, `syncStepPrefixes`) are markers
    /// all the same; each says whether it is new.
    func testMarkersMadeTogetherShareOneSync() throws {
        XCTAssertTrue(store.stepPrefixesCoverRecords())
        let other = String(repeating: "c", count: 64)
        XCTAssertEqual(try [prefix, other, prefix].map { try store.markStepPrefix($0, durably: false) }, [true, true, false])
        store.syncStepPrefixes()
        XCTAssertTrue(store.hasStepPrefix(prefix))
        XCTAssertTrue(store.hasStepPrefix(other))
        XCTAssertFalse(try store.markStepPrefix(other), "already there")
        XCTAssertThrowsError(try store.markStepPrefix("../x", durably: false))
    }

    func testRecordsFromBeforeTheMarkersAreNeverCovered() throws {
        try store.writeStepCacheRecord(record(), key: key)
        XCTAssertFalse(store.stepPrefixesCoverRecords())
        try store.markStepPrefix(prefix)
        XCTAssertFalse(store.stepPrefixesCoverRecords(), "a marker does not cover the older records")
    }

    func testOnlyKeysNameMarkers() throws {
        for bad in ["../x", "", String(repeating: "A", count: 64), "complete"] {
            XCTAssertThrowsError(try store.markStepPrefix(bad), bad)
            XCTAssertFalse(store.hasStepPrefix(bad), bad)
        }
    }
}

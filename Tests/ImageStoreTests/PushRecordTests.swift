import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// `pushed.json`: one record per destination, most recent first, read back by a new instance.
final class PushRecordTests: XCTestCase {
    let first = try! Digest(sha256Hex: String(repeating: "a", count: 64))
    let second = try! Digest(sha256Hex: String(repeating: "b", count: 64))

    func testRecordsByDestinationAndByManifest() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        XCTAssertEqual(try store.pushRecords(), [])
        XCTAssertNil(try store.pushRecord(for: ref("r.example/team/app:v1")))

        let cases: [(String, Digest, String)] = [
            ("r.example/team/app:v1", first, "r.example/team/app:v1"),
            ("r.example/team/app", first, "r.example/team/app:latest"),
            ("r.example/team/app@\(second)", second, "r.example/team/app@\(second)"),
            ("alpine:3", second, "docker.io/library/alpine:3"),
        ]
        for (destination, digest, key) in cases {
            try store.recordPush(ref(destination), digest: digest, at: Date(timeIntervalSince1970: 1_700_000_000))
            XCTAssertEqual(try store.pushRecords().first?.reference, key, destination)
            XCTAssertEqual(try store.pushRecord(for: ref(destination))?.digest, digest, destination)
        }
        XCTAssertEqual(try store.pushRecords().first?.pushed, "2023-11-14T22:13:20Z")
        XCTAssertEqual(try store.pushRecord(for: ref("r.example/team/app:v1"))?.pinned, "r.example/team/app@\(first)")

        // A new push to the same tag replaces its record and moves it first.
        try store.recordPush(ref("r.example/team/app:v1"), digest: second)
        let records = try ImageStore(root: scratch + "/store").pushRecords()
        XCTAssertEqual(records.count, 4)
        XCTAssertEqual(records.first?.reference, "r.example/team/app:v1")
        XCTAssertEqual(records.first?.digest, second)
        XCTAssertEqual(try store.pushRecords(ofManifest: first).map(\.reference), ["r.example/team/app:latest"])
        XCTAssertEqual(try store.pushRecords(ofManifest: second).count, 3)
    }

    func testOldRecordsAreDroppedAndADamagedFileIsAnError() throws {
        let scratch = try makeScratchDirectory(self)
        let store = try ImageStore(root: scratch + "/store")
        let full = (0..<ImageStore.maxPushRecords).reversed().map {
            PushRecord(reference: "r.example/app:\($0)", digest: first, pushed: "2026-01-01T00:00:00Z")
        }
        try CanonicalJSON.encode(full).write(to: URL(fileURLWithPath: scratch + "/store/pushed.json"))
        try store.recordPush(ref("r.example/app:\(ImageStore.maxPushRecords)"), digest: first)
        let records = try store.pushRecords()
        XCTAssertEqual(records.count, ImageStore.maxPushRecords)
        XCTAssertEqual(records.first?.reference, "r.example/app:\(ImageStore.maxPushRecords)")
        XCTAssertNil(try store.pushRecord(for: ref("r.example/app:0")), "the oldest went")

        try Data("{not json".utf8).write(to: URL(fileURLWithPath: scratch + "/store/pushed.json"))
        XCTAssertThrowsError(try store.pushRecords()) { error in
            XCTAssertTrue("\(error)".contains("pushed.json"), "\(error)")
        }
    }
}

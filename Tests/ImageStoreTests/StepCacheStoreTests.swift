import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Step-cache records in the store: written whole, a bad or dangling record is a miss, prune
/// drops dead records (all with `all`) and keeps the layers live records name.
final class StepCacheStoreTests: XCTestCase {
    private var root: String!
    private var store: ImageStore!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "stepcache-\(UUID().uuidString.prefix(8))"
        store = try ImageStore(root: root)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private let key = String(repeating: "1", count: 64)
    private let other = String(repeating: "2", count: 64)

    private func layerRecord() throws -> StepCacheRecord {
        let blob = try store.writeJSON(["layer": "bytes"], mediaType: MediaType.ociLayer)
        return StepCacheRecord(layer: .init(descriptor: blob, diffID: blob.digest),
                               history: [History(created: "2026-01-01T00:00:00Z", createdBy: "COPY a /")])
    }

    func testRoundTripAndMisses() throws {
        let record = try layerRecord()
        try store.writeStepCacheRecord(record, key: key)
        XCTAssertEqual(store.stepCacheRecord(key: key), record)
        XCTAssertNil(store.stepCacheRecord(key: other), "no record")
        XCTAssertNil(store.stepCacheRecord(key: "../../index.json"), "not a key")
        XCTAssertThrowsError(try store.writeStepCacheRecord(record, key: "../x"))
        let cases: [(name: String, bytes: String)] = [
            ("malformed JSON", "{\"version\":1,"),
            ("wrong version", "{\"version\":99,\"history\":[]}"),
            ("empty", ""),
        ]
        for c in cases {
            try c.bytes.write(toFile: root + "/cache/steps/" + other, atomically: false, encoding: .utf8)
            XCTAssertNil(store.stepCacheRecord(key: other), c.name)
        }
        try FileManager.default.removeItem(atPath: store.blobPath(record.layer!.descriptor.digest))
        XCTAssertNil(store.stepCacheRecord(key: key), "a record whose layer is gone is a miss")
        XCTAssertEqual(try store.pruneStepCache(all: false), 2, "the dangling and the malformed record go")
        XCTAssertEqual(try FileSystem.list(root + "/cache/steps"), [])
    }

    /// Records are written without fsync: whatever a crash leaves of one — any prefix of its
    /// bytes, or that prefix padded with zeros up to its length — reads as a miss, never as
    /// a record (while the whole record reads back).
    func testEveryTornRecordIsAMiss() throws {
        let record = try layerRecord()
        try store.writeStepCacheRecord(record, key: key)
        let path = root + "/cache/steps/" + key
        let whole = try FileSystem.readFile(path)
        XCTAssertEqual(store.stepCacheRecord(key: key), record)
        for length in 0..<whole.count {
            for padded in [false, true] {
                let torn = Array(whole[..<length]) + (padded ? [UInt8](repeating: 0, count: whole.count - length) : [])
                try Data(torn).write(to: URL(fileURLWithPath: path))
                XCTAssertNil(store.stepCacheRecord(key: key), "\(length) bytes\(padded ? " and zeros" : "")")
            }
        }
    }

    /// The file-digest index (written without fsync: it carries its own checksum) replaces
    /// the previous one whole and leaves no temp file; a bad name is refused.
    func testFileDigestIndexIsReplacedWhole() throws {
        XCTAssertNil(store.fileDigestIndex(name: key))
        for bytes in [Array("first".utf8), Array(repeating: 7, count: 100_000), []] {
            try store.writeFileDigestIndex(bytes, name: key)
            XCTAssertEqual(store.fileDigestIndex(name: key), bytes)
        }
        XCTAssertEqual(try FileSystem.list(root + "/tmp"), [], "no temp file left")
        XCTAssertThrowsError(try store.writeFileDigestIndex([1], name: "../x"))
        XCTAssertNil(store.fileDigestIndex(name: "../x"))
    }

    /// A write that fails half-way (here: past the file-size limit, EFBIG) throws and leaves
    /// neither the record nor its temporary file.
    func testAFailedWriteLeavesNoTemporaryFile() throws {
        var old = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old), 0)
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var small = old
        small.rlim_cur = 4096
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &small), 0)
        defer {
            setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &old)
            signal(SIGXFSZ, oldHandler)
        }
        XCTAssertThrowsError(try store.writeFileDigestIndex(Array(repeating: 7, count: 100_000), name: key))
        XCTAssertNil(store.fileDigestIndex(name: key))
        XCTAssertEqual(try FileSystem.list(root + "/tmp"), [], "no temp file left")
    }

    func testPruneKeepsLayersOfLiveRecordsUnlessAll() throws {
        let record = try layerRecord()
        try store.writeStepCacheRecord(record, key: key)
        try store.writeStepCacheRecord(StepCacheRecord(layer: nil, history: []), key: other)
        let digest = record.layer!.descriptor.digest
        XCTAssertEqual(try store.pruneBlobs(gracePeriod: 0).map(\.digest), [], "the cache's layer stays")
        XCTAssertEqual(try store.pruneStepCache(all: false), 0)
        XCTAssertTrue(store.hasBlob(digest))
        XCTAssertEqual(try store.pruneStepCache(all: true), 2)
        XCTAssertEqual(try store.pruneBlobs(gracePeriod: 0).map(\.digest), [digest])
    }
}

import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// The context's file-digest index: unchanged files are not read again (across builds, through
/// the encoded form); any stat change, racy timestamps or files outside the context are read.
final class FileDigestIndexTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "digestindex-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes `text` and sets mtime (and so, on write, a ctime of now) — `old` makes the mtime 2001.
    private func write(_ name: String, _ text: String, old: Bool = true) throws -> String {
        let path = root + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if old { try setOldMtime(path) }
        return path
    }

    func testUnchangedFilesAreReadOnceAcrossBuilds() throws {
        let path = try write("a", "hello")
        let first = FileDigestIndex(root: root, encoded: nil)
        XCTAssertEqual(try first.digest(ofFile: path), SHA256Stream.digest(of: Array("hello".utf8)))
        XCTAssertEqual(first.hashedFiles, 1)
        // ctime is now and cannot be set back: craft the entry as hashed in the tick of its
        // last change (racy, read again), then as hashed long after it (trusted).
        var entries = try XCTUnwrap(FileDigestIndex.decode(first.encoded()))
        entries[path]!.hashedAt = entries[path]!.ctime
        let racy = FileDigestIndex(root: root, encoded: FileDigestIndex.encode(entries))
        _ = try racy.digest(ofFile: path)
        XCTAssertEqual(racy.hashedFiles, 1, "a file changed in the tick it was hashed in is read again")

        entries[path]!.hashedAt = entries[path]!.ctime + 10_000_000_000
        let encoded = FileDigestIndex.encode(entries)
        let settled = FileDigestIndex(root: root, encoded: encoded)
        XCTAssertEqual(try settled.digest(ofFile: path), SHA256Stream.digest(of: Array("hello".utf8)))
        XCTAssertEqual(settled.hashedFiles, 0, "unchanged stat: not read")
        XCTAssertFalse(settled.changed, "every entry used, none read: nothing to write back")

        let cases: [(name: String, change: () throws -> Void, digest: String)] = [
            ("touched, same bytes", { utimes(path, nil) }, "hello"),
            ("same size, other bytes, old mtime", { _ = try self.write("a", "HELLO") }, "HELLO"),
            ("replaced by another inode", { try FileManager.default.removeItem(atPath: path); _ = try self.write("a", "bye") }, "bye"),
        ]
        for c in cases {
            try c.change()
            let index = FileDigestIndex(root: root, encoded: encoded)
            XCTAssertEqual(try index.digest(ofFile: path), SHA256Stream.digest(of: Array(c.digest.utf8)), c.name)
            XCTAssertEqual(index.hashedFiles, 1, c.name)
        }
    }

    /// The racily-clean rule, exact: an entry is trusted only when its ctime and mtime are a
    /// whole timestamp granule (read off the ctime's trailing zeros; 2 s when it has no
    /// nanoseconds) before the coarse-clock moment it was hashed at.
    func testRacyEntriesAreThoseChangedWithinTheirTimestampGranule() {
        let t: Int64 = 1_765_000_000_123_456_789  // a ctime with nanoseconds: 1 ns granule
        let cases: [(name: String, ctime: Int64, mtime: Int64, hashedAt: Int64, settled: Bool)] = [
            ("changed in the tick it was hashed in", t, t - 5_000_000_000, t, false),
            ("changed a tick before", t, t - 5_000_000_000, t + 1, true),
            ("long settled", t, t - 5_000_000_000, t + 60_000_000_000, true),
            ("mtime set into the future", t, t + 60_000_000_000, t + 1_000_000, false),
            ("whole-second ctime, hashed 1.5 s later (FAT/1 s file system)", 1_765_000_000_000_000_000, 0,
             1_765_000_001_500_000_000, false),
            ("whole-second ctime, hashed 2 s later", 1_765_000_000_000_000_000, 0, 1_765_000_002_000_000_000, true),
            ("millisecond ctime, hashed within its millisecond", 1_765_000_000_123_000_000, 0, 1_765_000_000_123_999_999, false),
            ("millisecond ctime, hashed in the next millisecond", 1_765_000_000_123_000_000, 0, 1_765_000_000_124_000_000, true),
            ("hostile hashedAt", t, t, Int64.min, false),
            ("hostile ctime", Int64.max, 0, Int64.max, false),
            ("negative ctime (before 1970)", -1_500_000_000, -1_500_000_000, t, true),
        ]
        for c in cases {
            let entry = FileDigestIndex.Entry(size: 1, mtime: c.mtime, ctime: c.ctime, inode: 1, device: 1, hashedAt: c.hashedAt,
                                              digest: SHA256Stream.digest(of: []))
            XCTAssertEqual(FileDigestIndex.isSettled(entry), c.settled, c.name)
        }
    }

    /// A trusted entry is used without reading the file (a crafted wrong digest comes back);
    /// the same entry made racy is not (the file's real digest comes back). The caller's stamp
    /// (the walk's `lstat`) stands in for the index's own stat and must match the same way.
    func testStampFromTheWalkIsUsedAndRacyEntriesAreRead() throws {
        let path = try write("f", "real")
        var st = stat()
        XCTAssertEqual(lstat(path, &st), 0)
        let stamp = FileDigestIndex.Stamp(st)
        let crafted = SHA256Stream.digest(of: Array("crafted".utf8))
        let real = SHA256Stream.digest(of: Array("real".utf8))
        let cases: [(name: String, hashedAt: Int64, stamp: FileDigestIndex.Stamp?, expected: Digest, read: Int)] = [
            ("settled, own stat", stamp.ctime + 10_000_000_000, nil, crafted, 0),
            ("settled, the walk's stamp", stamp.ctime + 10_000_000_000, stamp, crafted, 0),
            ("racy, the walk's stamp", stamp.ctime, stamp, real, 1),
            ("settled, a stale stamp (other inode)", stamp.ctime + 10_000_000_000,
             FileDigestIndex.Stamp(size: stamp.size, mtime: stamp.mtime, ctime: stamp.ctime, inode: stamp.inode + 1, device: stamp.device),
             real, 1),
        ]
        for c in cases {
            let encoded = FileDigestIndex.encode([path: .init(stamp: stamp, hashedAt: c.hashedAt, digest: crafted)])
            let index = FileDigestIndex(root: root, encoded: encoded)
            XCTAssertEqual(try index.digest(ofFile: path, stamp: c.stamp), c.expected, c.name)
            XCTAssertEqual(index.hashedFiles, c.read, c.name)
        }
    }

    /// The index is written in the order of use and read back by a cursor; any other order,
    /// a dropped or added file still finds every entry, and is written anew.
    func testOrderOfUseIsKeptAndAnyOtherOrderStillHits() throws {
        let paths = try ["a", "b", "c", "d"].map { try write($0, "content of " + $0) }
        let (a, b, c, d) = (paths[0], paths[1], paths[2], paths[3])
        usleep(30_000)  // past the files' timestamp tick: the first build's entries are trusted
        let first = FileDigestIndex(root: root, encoded: nil)
        for path in [a, b, c] { _ = try first.digest(ofFile: path) }
        let stored = first.encoded()
        let cases: [(name: String, lookups: [String], read: Int, changed: Bool, kept: [String])] = [
            ("same order", [a, b, c], 0, false, [a, b, c]),
            ("reversed", [c, b, a], 0, true, [c, b, a]),
            ("one dropped", [a, c], 0, true, [a, c]),
            ("one asked twice", [a, b, a, c], 0, true, [a, b, c]),
            ("one added", [a, b, c, d], 1, true, [a, b, c, d]),
        ]
        for k in cases {
            let index = FileDigestIndex(root: root, encoded: stored)
            for path in k.lookups {
                XCTAssertEqual(try index.digest(ofFile: path), try SHA256Stream.digest(ofFile: path), k.name)
            }
            XCTAssertEqual(index.hashedFiles, k.read, k.name)
            XCTAssertEqual(index.changed, k.changed, k.name)
            let records = try XCTUnwrap(FileDigestIndex.parse(index.encoded()), k.name)
            XCTAssertEqual(records.map { FileDigestIndex.path(of: $0, in: index.encoded()) }, k.kept, k.name)
            // The next build asking in this build's order finds everything at the cursor.
            usleep(30_000)
            let next = FileDigestIndex(root: root, encoded: index.encoded())
            for path in k.kept { _ = try next.digest(ofFile: path) }
            XCTAssertEqual(next.hashedFiles, 0, k.name)
            XCTAssertFalse(next.changed, k.name)
        }
    }

    func testFilesOutsideTheContextAreNotIndexedAndGarbageIsIgnored() throws {
        let outside = NSTemporaryDirectory() + "digestindex-outside-\(UUID().uuidString.prefix(8))"
        try "x".write(toFile: outside, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        let index = FileDigestIndex(root: root, encoded: Array("{not an index".utf8))
        XCTAssertEqual(try index.digest(ofFile: outside), SHA256Stream.digest(of: Array("x".utf8)))
        XCTAssertEqual(FileDigestIndex.decode(index.encoded()), [:])
        XCTAssertThrowsError(try index.digest(ofFile: root + "/missing"))
    }

    /// The stored form round-trips every field and any name (a non-UTF-8 name arrives as its
    /// PathBytes escape); a truncated or altered file is no index at all.
    func testEncodingRoundTripsAndRejectsDamage() throws {
        let digest = SHA256Stream.digest(of: Array("x".utf8))
        let entries: [String: FileDigestIndex.Entry] = [
            root + "/a": .init(size: 1, mtime: -5, ctime: Int64.max, inode: UInt64.max, device: 7, hashedAt: 9, digest: digest),
            root + "/n\u{10FFE9}\nline": .init(size: 0, mtime: 0, ctime: 0, inode: 0, device: 0, hashedAt: 0, digest: digest),
        ]
        let encoded = FileDigestIndex.encode(entries)
        XCTAssertEqual(FileDigestIndex.decode(encoded), entries)
        let damages: [(String, [UInt8])] = [
            ("truncated", Array(encoded.dropLast())),
            ("one byte flipped", { var e = encoded; e[40] ^= 1; return e }()),
            ("empty", []),
            ("old JSON form", Array("{}".utf8)),
            ("version 1 (fine-clock hashedAt), checksum intact", {
                var body = Array(encoded.dropLast(32))
                body[Array("swiftdock-file-digests ".utf8).count] = UInt8(ascii: "1")
                let hex = Array(SHA256Stream.digest(of: body).encoded.utf8)
                func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
                return body + stride(from: 0, to: 64, by: 2).map { nibble(hex[$0]) << 4 | nibble(hex[$0 + 1]) }
            }()),
        ]
        for (name, bytes) in damages { XCTAssertNil(FileDigestIndex.decode(bytes), name) }
    }
}

/// Sets atime and mtime to 2001-01-01.
private func setOldMtime(_ path: String) throws {
    var times = [timespec(tv_sec: 978_307_200, tv_nsec: 0), timespec(tv_sec: 978_307_200, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(.EIO) }
}

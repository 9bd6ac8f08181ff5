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
        // ctime is now and cannot be set back: the first index holds a racy entry, read again.
        let first = FileDigestIndex(root: root, encoded: nil)
        XCTAssertEqual(try first.digest(ofFile: path), SHA256Stream.digest(of: Array("hello".utf8)))
        XCTAssertEqual(first.hashedFiles, 1)
        var encoded = first.encoded()
        let racy = FileDigestIndex(root: root, encoded: encoded)
        _ = try racy.digest(ofFile: path)
        XCTAssertEqual(racy.hashedFiles, 1, "a file changed within the racy window is read again")

        // An entry hashed long after its last change is trusted: craft one as an old build left it.
        var entries = try XCTUnwrap(FileDigestIndex.decode(racy.encoded()))
        entries[path]!.hashedAt += 10 * FileDigestIndex.racyWindow
        encoded = FileDigestIndex.encode(entries)
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
        ]
        for (name, bytes) in damages { XCTAssertNil(FileDigestIndex.decode(bytes), name) }
    }
}

/// Sets atime and mtime to 2001-01-01.
private func setOldMtime(_ path: String) throws {
    var times = [timespec(tv_sec: 978_307_200, tv_nsec: 0), timespec(tv_sec: 978_307_200, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw POSIXError(.EIO) }
}

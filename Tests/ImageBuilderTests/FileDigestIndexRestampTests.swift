import Foundation
import ImageModel
import XCTest
@testable import ImageBuilder
@testable import Layers

/// `FileDigestIndex.restamp`: entries whose files only went through our own journaled link and
/// unlink keep their digest under the new ctime, so the next build reads none of them; a
/// file edited while linked (same size, mtime put back) or linked twice is read again.
final class FileDigestIndexRestampTests: XCTestCase {
    /// A fresh context root and a directory beside it for the links (the caller removes both).
    private func makeDirectories(_ name: String) throws -> (root: String, lower: String) {
        let root = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        for path in [root, root + "-lower"] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        return (root, root + "-lower")
    }

    func testOnlyFilesOurLinksAloneTouchedAreCarriedOver() throws {
        let (root, lower) = try makeDirectories("restamp")
        defer { for path in [root, lower] { try? FileManager.default.removeItem(atPath: path) } }
        let names = ["kept", "edited", "twice"]
        for name in names { try "bytes of \(name)\n".write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        // Past the tick the files were written in, so the first index trusts its entries.
        usleep(30_000)
        let first = FileDigestIndex(root: root, encoded: nil)
        for name in names { _ = try first.digest(ofFile: root + "/" + name) }
        XCTAssertEqual(first.hashedFiles, 3)

        let journal = LinkJournal()
        for (name, link) in [("kept", "kept"), ("edited", "edited"), ("twice", "twice-1"), ("twice", "twice-2")] {
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: root + "/" + name))
            XCTAssertNotNil(journal.link(root + "/" + name, to: lower + "/" + link, before: before))
        }
        let edited = root + "/edited"
        // Same size, other bytes, mtime put back to the nanosecond (`touch -r`): only ctime shows it.
        var old = stat()
        XCTAssertEqual(lstat(edited, &old), 0)
        try "BYTES OF EDITED\n".write(toFile: edited, atomically: false, encoding: .utf8)
        var times = [old.st_atim, old.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, edited, &times, AT_SYMLINK_NOFOLLOW), 0)
        XCTAssertEqual(first.restamp(after: journal.unlinkAll()), 1, "only the file nothing but our link and unlink touched")

        let next = FileDigestIndex(root: root, encoded: first.encoded())
        XCTAssertEqual(try next.digest(ofFile: root + "/kept"), SHA256Stream.digest(of: Array("bytes of kept\n".utf8)))
        XCTAssertEqual(next.hashedFiles, 0, "carried over: not read")
        XCTAssertEqual(try next.digest(ofFile: edited), SHA256Stream.digest(of: Array("BYTES OF EDITED\n".utf8)))
        XCTAssertEqual(next.hashedFiles, 1, "edited while linked, mtime put back: read again")
        _ = try next.digest(ofFile: root + "/twice")
        XCTAssertEqual(next.hashedFiles, 2, "linked twice: read again")
    }

    /// The layer writer was reading a file when we linked it: its entry carries the stat from
    /// before the read (`beforeLink`), and the chain shows nothing but our link and unlink, so
    /// the digest is carried over; a file written while linked is not.
    func testAReadAcrossOurOwnLinkIsKept() throws {
        let (root, lower) = try makeDirectories("restamp-across")
        defer { for path in [root, lower] { try? FileManager.default.removeItem(atPath: path) } }
        for name in ["across", "changed"] { try "bytes of \(name)\n".write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        usleep(30_000)
        let hashedAt = FileDigestIndex.now()
        let index = FileDigestIndex(root: root, encoded: nil)
        let journal = LinkJournal()
        var reads: [SourceFileDigests.Read] = []
        for name in ["across", "changed"] {
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: root + "/" + name))
            XCTAssertNotNil(journal.link(root + "/" + name, to: lower + "/" + name, before: before))
            reads.append(SourceFileDigests.Read(path: root + "/" + name, digest: SHA256Stream.digest(of: Array("bytes of \(name)\n".utf8)),
                                                before: before.stamp))
        }
        // Written while the read and our link were under way: same size, mtime put back.
        try rewriteKeepingMtime(root + "/changed", "BYTES OF CHANGED\n")
        index.record(reads, hashedAt: hashedAt)
        XCTAssertEqual(index.restamp(after: journal.unlinkAll()), 1)

        let next = FileDigestIndex(root: root, encoded: index.encoded())
        XCTAssertEqual(try next.digest(ofFile: root + "/across"), SHA256Stream.digest(of: Array("bytes of across\n".utf8)))
        XCTAssertEqual(next.hashedFiles, 0, "read across our link only: kept")
        XCTAssertEqual(try next.digest(ofFile: root + "/changed"), SHA256Stream.digest(of: Array("BYTES OF CHANGED\n".utf8)))
        XCTAssertEqual(next.hashedFiles, 1, "changed otherwise while read: read again")
    }

    /// A read carried over across our link keeps its place in the order of use: the next build,
    /// asking in the step's order, finds every entry at the cursor and writes nothing back (it
    /// used to go last, so the first rebuild after a cold build rewrote the whole index). A file
    /// that changed while read keeps its place too, under a stamp it can never match again.
    func testACarriedReadKeepsItsPlaceInTheOrderOfUse() throws {
        let (root, lower) = try makeDirectories("restamp-place")
        defer { for path in [root, lower] { try? FileManager.default.removeItem(atPath: path) } }
        let names = ["a-first", "b-across", "c-changed", "d-last"]
        for name in names { try "bytes of \(name)\n".write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        usleep(30_000)
        let hashedAt = FileDigestIndex.now()
        let index = FileDigestIndex(root: root, encoded: nil)
        let journal = LinkJournal()
        var reads: [SourceFileDigests.Read] = []
        for name in names {
            let path = root + "/" + name
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: path))
            if name != "c-changed" { XCTAssertNotNil(journal.link(path, to: lower + "/" + name, before: before)) }
            reads.append(SourceFileDigests.Read(path: path, digest: SHA256Stream.digest(of: Array("bytes of \(name)\n".utf8)),
                                                before: before.stamp))
        }
        try rewriteKeepingMtime(root + "/c-changed", "BYTES OF C-CHANGED\n")
        index.record(reads, hashedAt: hashedAt)
        XCTAssertEqual(index.restamp(after: journal.unlinkAll()), 3, "a-first, b-across, d-last restamped")
        let stored = index.encoded()
        let records = try XCTUnwrap(FileDigestIndex.parse(stored))
        XCTAssertEqual(records.map { FileDigestIndex.path(of: $0, in: stored) }, names.map { root + "/" + $0 }, "every read in its place")

        usleep(30_000)
        let next = FileDigestIndex(root: root, encoded: stored)
        for name in names { _ = try next.digest(ofFile: root + "/" + name) }
        XCTAssertEqual(next.hashedFiles, 1, "only the file changed while read is read again")
        XCTAssertEqual(try next.digest(ofFile: root + "/c-changed"), SHA256Stream.digest(of: Array("BYTES OF C-CHANGED\n".utf8)))
    }

    /// Same size, other bytes, mtime put back to the nanosecond (`touch -r`): only ctime shows it.
    private func rewriteKeepingMtime(_ path: String, _ text: String) throws {
        var old = stat()
        XCTAssertEqual(lstat(path, &old), 0)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        var times = [old.st_atim, old.st_mtim]
        XCTAssertEqual(utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW), 0)
    }

    /// A file read after our link (its stamp is the link's) is carried over only when its mtime
    /// is a tick older than the read: one written in the read's own tick could be written
    /// again in that tick, after the read, without any stamp field changing.
    func testAReadAfterOurLinkOfAFileFromTheSameTickIsNotCarriedOver() throws {
        let (root, lower) = try makeDirectories("restamp-racy")
        defer { for path in [root, lower] { try? FileManager.default.removeItem(atPath: path) } }
        let table: [(name: String, readAfterMtime: Int64, carried: Bool)] = [
            ("same-tick", 0, false),
            ("tick-later", 1_000_000_000, true),
        ]
        let index = FileDigestIndex(root: root, encoded: nil)
        let journal = LinkJournal()
        for row in table {
            let path = root + "/" + row.name
            try "bytes of \(row.name)\n".write(toFile: path, atomically: false, encoding: .utf8)
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: path))
            let after = try XCTUnwrap(journal.link(path, to: lower + "/" + row.name, before: before))
            let read = SourceFileDigests.Read(path: path, digest: SHA256Stream.digest(of: Array("bytes of \(row.name)\n".utf8)),
                                              before: after.stamp)
            index.record([read], hashedAt: after.stamp.mtime + row.readAfterMtime)
        }
        XCTAssertEqual(index.restamp(after: journal.unlinkAll()), 1)
        let next = FileDigestIndex(root: root, encoded: index.encoded())
        for row in table {
            let hashedBefore = next.hashedFiles
            _ = try next.digest(ofFile: root + "/" + row.name)
            XCTAssertEqual(next.hashedFiles - hashedBefore, row.carried ? 0 : 1, row.name)
        }
    }
}

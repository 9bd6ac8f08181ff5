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

    /// The layer writer was reading a file when we linked it: its stat before and after the
    /// read differ by exactly our link, so the digest is carried over; a read whose stat
    /// changed otherwise is not.
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
            var after = try XCTUnwrap(journal.link(root + "/" + name, to: lower + "/" + name, before: before))
            if name == "changed" { after.stamp.mtime += 1 }
            reads.append(SourceFileDigests.Read(path: root + "/" + name, digest: SHA256Stream.digest(of: Array("bytes of \(name)\n".utf8)),
                                                before: before.stamp, after: after.stamp))
        }
        index.record(reads, hashedAt: hashedAt)
        XCTAssertEqual(index.restamp(after: journal.unlinkAll()), 1)

        let next = FileDigestIndex(root: root, encoded: index.encoded())
        XCTAssertEqual(try next.digest(ofFile: root + "/across"), SHA256Stream.digest(of: Array("bytes of across\n".utf8)))
        XCTAssertEqual(next.hashedFiles, 0, "read across our link only: kept")
        _ = try next.digest(ofFile: root + "/changed")
        XCTAssertEqual(next.hashedFiles, 1, "changed otherwise while read: read again")
    }

    /// A read carried over across our link keeps its place in the order of use: the next build,
    /// asking in the step's order, finds every entry at the cursor and writes nothing back (it
    /// used to go last, so the first rebuild after a cold build rewrote the whole index).
    func testACarriedReadKeepsItsPlaceInTheOrderOfUse() throws {
        let (root, lower) = try makeDirectories("restamp-place")
        defer { for path in [root, lower] { try? FileManager.default.removeItem(atPath: path) } }
        let names = ["a-first", "b-across", "c-unlinked", "d-last"]
        for name in names { try "bytes of \(name)\n".write(toFile: root + "/" + name, atomically: false, encoding: .utf8) }
        usleep(30_000)
        let hashedAt = FileDigestIndex.now()
        let index = FileDigestIndex(root: root, encoded: nil)
        let journal = LinkJournal()
        var reads: [SourceFileDigests.Read] = []
        for name in names {
            let path = root + "/" + name
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: path))
            var after = before
            if name != "c-unlinked" { after = try XCTUnwrap(journal.link(path, to: lower + "/" + name, before: before)) }
            // Only "b-across" was being read while we linked it; "c-unlinked" changed otherwise.
            let readAfter = name == "b-across" ? after.stamp : name == "c-unlinked" ? { var s = before.stamp; s.mtime += 1; return s }() : before.stamp
            reads.append(SourceFileDigests.Read(path: path, digest: SHA256Stream.digest(of: Array("bytes of \(name)\n".utf8)),
                                                before: before.stamp, after: readAfter))
        }
        index.record(reads, hashedAt: hashedAt)
        XCTAssertEqual(index.restamp(after: journal.unlinkAll()), 3, "a-first, d-last restamped; b-across carried")
        let stored = index.encoded()
        let records = try XCTUnwrap(FileDigestIndex.parse(stored))
        XCTAssertEqual(records.map { FileDigestIndex.path(of: $0, in: stored) }, ["a-first", "b-across", "d-last"].map { root + "/" + $0 },
                       "the carried read in its place; the one that changed otherwise holds none")

        usleep(30_000)
        let next = FileDigestIndex(root: root, encoded: stored)
        for name in ["a-first", "b-across", "d-last"] { _ = try next.digest(ofFile: root + "/" + name) }
        XCTAssertEqual(next.hashedFiles, 0)
        XCTAssertFalse(next.changed, "asked in the stored order: nothing to write back")
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
                                              before: after.stamp, after: after.stamp)
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

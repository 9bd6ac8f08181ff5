import Foundation
import ProcessWaiting
import ImageModel
@testable import ImageStore
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The store heals itself: `tmp/` entries of owners that are gone are removed whatever their
/// age or depth, and blobs a dead owner wrote that nothing references are deleted.
final class ReclaimTests: XCTestCase {
    /// A PID that ran and exited (no process has it now, barring a quick reuse).
    private func exitedPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.runToExit()
        return process.processIdentifier
    }

    func testEntriesOfOwnersThatAreGoneAreRemovedWhateverTheirAge() throws {
        let scratch = try makeScratchDirectory(self)
        let root = scratch + "/store"
        _ = try ImageStore(root: root)
        let me = TemporaryOwner.current
        let dead = try exitedPID()
        let cases: [(name: String, kept: Bool)] = [
            ("\(me)-aaaa", true),                         // this process: alive
            ("\(me.pid)-\(me.start + 1)-bbbb", false),    // same PID, another start: a reused PID
            ("\(dead)-12345-cccc.index.json", false),     // an exited process
            ("\(dead)-12345-dddd", false),                // a directory of one
            ("\(dead)-oldstyle", true),                   // no owner in the name, and fresh
            ("unrelated-name", true),
        ]
        for (name, _) in cases {
            let path = root + "/tmp/" + name
            if name.hasSuffix("dddd") {
                try FileManager.default.createDirectory(atPath: path + "/a/b", withIntermediateDirectories: true)
                try "x".write(toFile: path + "/a/b/f", atomically: false, encoding: .utf8)
            } else {
                try "x".write(toFile: path, atomically: false, encoding: .utf8)
            }
        }
        _ = try ImageStore(root: root)
        for (name, kept) in cases {
            XCTAssertEqual(FileManager.default.fileExists(atPath: root + "/tmp/" + name), kept, name)
        }
        XCTAssertNotNil(TemporaryOwner.startTime(of: getpid()))
        XCTAssertTrue(me.isAlive)
        XCTAssertNil(TemporaryOwner(entryName: "12-notanumber-x"))
        XCTAssertEqual(TemporaryOwner(entryName: "12-34-abcd"), TemporaryOwner(pid: 12, start: 34))
        XCTAssertEqual(TemporaryOwner(journalName: "12-34"), TemporaryOwner(pid: 12, start: 34))
        XCTAssertNil(TemporaryOwner(journalName: "12-34-x"))
    }

    /// A tree deeper than PATH_MAX has no path to its bottom; it is removed by descriptor.
    /// A symlink in it pointing out of the store is removed, never followed.
    func testTreeDeeperThanPathMaxIsReclaimed() throws {
        let scratch = try makeScratchDirectory(self)
        let root = scratch + "/store"
        _ = try ImageStore(root: root)
        try "keep me".write(toFile: scratch + "/victim", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: scratch + "/victim-dir", withIntermediateDirectories: true)
        try "keep me too".write(toFile: scratch + "/victim-dir/file", atomically: false, encoding: .utf8)
        let name = "\(try exitedPID())-1-deep"
        var fd = open(root + "/tmp", O_RDONLY | O_DIRECTORY)
        XCTAssertEqual(mkdirat(fd, name, 0o755), 0)
        var next = openat(fd, name, O_RDONLY | O_DIRECTORY)
        close(fd)
        fd = next
        let depth = 2600  // "dd/" × 2600 = 7800 bytes, well past PATH_MAX (4096)
        for level in 0..<depth {
            XCTAssertEqual(mkdirat(fd, "dd", 0o755), 0)
            if level % 500 == 0 {
                XCTAssertEqual(symlinkat(scratch + "/victim-dir", fd, "link"), 0)
                let file = openat(fd, "file", O_WRONLY | O_CREAT, 0o644)
                close(file)
            }
            next = openat(fd, "dd", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        // A directory without any permission at the bottom.
        XCTAssertEqual(mkdirat(fd, "locked", 0o000), 0)
        close(fd)
        _ = try ImageStore(root: root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/tmp/" + name))
        XCTAssertEqual(try String(contentsOfFile: scratch + "/victim", encoding: .utf8), "keep me")
        XCTAssertEqual(try String(contentsOfFile: scratch + "/victim-dir/file", encoding: .utf8), "keep me too")
    }

    /// Blobs in a dead owner's journal that no tag reaches go; tagged ones and ones a live
    /// process claimed stay.
    func testUnreferencedBlobsOfDeadOwnersAreDeleted() throws {
        let scratch = try makeScratchDirectory(self)
        let root = scratch + "/store"
        let store = try ImageStore(root: root)
        let layer = try makeLayer(store, files: ["a": "tagged"], scratch: scratch)
        let manifest = try makeImage(store, layers: [layer])
        _ = try store.tag(ref("kept:latest"), manifest: manifest)
        let tagged = try store.reachableBlobs(from: manifest)
        let orphan = try store.writeBlob(Array("written, never tagged".utf8))
        let claimed = try store.writeBlob(Array("claimed by a live process".utf8))
        // Only the dead owner's journal speaks for these blobs now.
        try FileManager.default.removeItem(atPath: store.journalPath)
        let deadJournal = root + "/journals/\(try exitedPID())-77"
        try (tagged + [orphan, claimed]).map { "\($0)\n" }.joined().write(toFile: deadJournal, atomically: false, encoding: .utf8)
        XCTAssertTrue(try store.claimBlob(claimed))

        let reopened = try ImageStore(root: root)
        XCTAssertFalse(reopened.hasBlob(orphan), "unreferenced blob of a dead owner")
        XCTAssertTrue(reopened.hasBlob(claimed), "claimed by a live process")
        for digest in tagged { XCTAssertTrue(reopened.hasBlob(digest), "\(digest) is tagged") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: deadJournal))
        XCTAssertNotNil(try reopened.resolve(ref("kept:latest")))
    }
}

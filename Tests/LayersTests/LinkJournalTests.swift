import Foundation
import XCTest
@testable import Layers

/// The chain rule that lets a file index carry an entry over our own link and unlink
/// (`LinkJournal.Outcome.stampAfterUnlink`): every stat field that may not change refuses it,
/// wherever in the chain it changes; and the journal's link and unlink on real files.
final class LinkJournalTests: XCTestCase {
    enum Field: CaseIterable { case size, mtime, ctime, inode, device, mode, uid, gid, linkCount }

    private static func changed(_ status: LinkJournal.Status, _ field: Field) -> LinkJournal.Status {
        var s = status
        switch field {
        case .size: s.stamp.size += 1
        case .mtime: s.stamp.mtime += 1
        case .ctime: s.stamp.ctime += 1
        case .inode: s.stamp.inode += 1
        case .device: s.stamp.device += 1
        case .mode: s.mode ^= 0o100
        case .uid: s.uid += 1
        case .gid: s.gid += 1
        case .linkCount: s.linkCount += 1
        }
        return s
    }

    /// A link and unlink that changed nothing but ctime and the link count.
    private static let beforeLink = LinkJournal.Status(
        stamp: .init(size: 10, mtime: 1_600_000_000_123_456_789, ctime: 1_700_000_000_000_000_001, inode: 7, device: 3),
        mode: 0o100644, uid: 0, gid: 0, linkCount: 1)
    private static var afterLink: LinkJournal.Status {
        var s = beforeLink
        s.stamp.ctime = 1_800_000_000_000_000_002
        s.linkCount = 2
        return s
    }
    private static var afterUnlink: LinkJournal.Status {
        var s = afterLink
        s.stamp.ctime = 1_800_000_000_000_000_003
        s.linkCount = 1
        return s
    }
    private static func outcome(beforeLink: LinkJournal.Status = beforeLink, afterLink: LinkJournal.Status = afterLink,
                                beforeUnlink: LinkJournal.Status = afterLink, afterUnlink: LinkJournal.Status = afterUnlink)
        -> LinkJournal.Outcome {
        LinkJournal.Outcome(source: "/c/f", beforeLink: beforeLink, afterLink: afterLink, beforeUnlink: beforeUnlink, afterUnlink: afterUnlink)
    }

    func testAnIntactChainGivesTheStampAfterTheUnlink() {
        let intact = Self.outcome()
        XCTAssertEqual(intact.stampAfterUnlink(ifRecorded: Self.beforeLink.stamp, settled: true, mtimeSettled: true), Self.afterUnlink.stamp)
        XCTAssertNil(intact.stampAfterUnlink(ifRecorded: Self.beforeLink.stamp, settled: false, mtimeSettled: true),
                     "an entry the index does not trust is not carried over")
        XCTAssertEqual(intact.stampAfterUnlink(ifRecorded: Self.afterLink.stamp, settled: false, mtimeSettled: true), Self.afterUnlink.stamp,
                       "the layer writer read the file after the link: its stamp is the link's")
        XCTAssertEqual(intact.stampAfterUnlink(ifRecorded: Self.afterUnlink.stamp, settled: false, mtimeSettled: true), Self.afterUnlink.stamp,
                       "the layer writer read the file after our unlink: the stamp stays, re-dated")
        XCTAssertNil(intact.stampAfterUnlink(ifRecorded: Self.afterLink.stamp, settled: false, mtimeSettled: false),
                     "read after the link, but the file's mtime is from that tick: a write in the same tick would not show")
        XCTAssertNil(intact.stampAfterUnlink(ifRecorded: Self.afterUnlink.stamp, settled: false, mtimeSettled: false),
                     "read after the unlink, mtime from that tick: likewise")
        XCTAssertEqual(intact.stampAfterUnlink(ifRecorded: Self.beforeLink.stamp, settled: true, mtimeSettled: false), Self.afterUnlink.stamp,
                       "a settled entry from before the link needs nothing more")
        var unlinkedByOthers = Self.afterUnlink
        unlinkedByOthers.uid += 1
        XCTAssertNil(Self.outcome(afterUnlink: unlinkedByOthers).stampAfterUnlink(ifRecorded: unlinkedByOthers.stamp, settled: false, mtimeSettled: true),
                     "a chain broken elsewhere refuses even the current stamp")
    }

    /// Each field changed at each point of the chain: only ctime and the link count may
    /// differ across our own link and unlink; between the link and the unlink nothing may.
    func testEveryFieldChangeBreaksTheChainWhereItMatters() {
        for field in Field.allCases {
            let recordedField = field == .mode || field == .uid || field == .gid || field == .linkCount ? nil : field
            let table: [(String, LinkJournal.Outcome, LinkJournal.Status, Bool)] = [
                // The entry's stamp is not what the file had before the link.
                ("recorded", Self.outcome(), Self.changed(Self.beforeLink, recordedField ?? .size), false),
                // What the link changed (the pre-link stat differs from the link's).
                ("before link", Self.outcome(beforeLink: Self.changed(Self.beforeLink, field)), Self.changed(Self.beforeLink, field),
                 field == .ctime || field == .linkCount),
                // Anything while the link existed.
                ("after link", Self.outcome(afterLink: Self.changed(Self.afterLink, field)), Self.beforeLink, false),
                ("before unlink", Self.outcome(beforeUnlink: Self.changed(Self.afterLink, field)), Self.beforeLink, false),
                // What the unlink changed.
                ("after unlink", Self.outcome(afterUnlink: Self.changed(Self.afterUnlink, field)), Self.beforeLink,
                 field == .ctime || field == .linkCount),
            ]
            for (point, outcome, recorded, accepted) in table {
                let result = outcome.stampAfterUnlink(ifRecorded: recorded.stamp, settled: true, mtimeSettled: true)
                XCTAssertEqual(result != nil, accepted, "\(field) changed at \(point)")
                if accepted { XCTAssertEqual(result, outcome.afterUnlink, "\(field) at \(point)") }
            }
        }
    }

    /// Real files: an untouched link and unlink give an outcome whose chain holds; a same-size
    /// write with the mtime put back while the link exists breaks it.
    func testJournaledLinksOnRealFiles() throws {
        let scratch = Scratch()
        let directory = scratch.file("d")
        try FileManager.default.createDirectory(atPath: directory + "/lower", withIntermediateDirectories: true)
        for name in ["kept", "edited"] {
            FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("same size \(name)".utf8))
        }
        let journal = LinkJournal()
        var recorded: [String: SourceFileDigests.FileStatus] = [:]
        for name in ["kept", "edited"] {
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: directory + "/" + name))
            recorded[name] = before.stamp
            XCTAssertNotNil(journal.link(directory + "/" + name, to: directory + "/lower/" + name, before: before))
        }
        XCTAssertEqual(journal.count, 2)
        XCTAssertEqual(try shell("cp -p \"$0/edited\" \"$0/ref\" && printf 'SAME SIZE EDITED' > \"$0/edited\" && touch -r \"$0/ref\" \"$0/edited\"", directory).status, 0)
        let outcomes = journal.unlinkAll()
        XCTAssertEqual(journal.count, 0)
        XCTAssertEqual(outcomes.map(\.source), ["kept", "edited"].map { directory + "/" + $0 })
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/lower/kept"))
        let kept = try XCTUnwrap(outcomes.first)
        XCTAssertEqual(kept.stampAfterUnlink(ifRecorded: recorded["kept"]!, settled: true, mtimeSettled: true),
                       try XCTUnwrap(ParentDirectoryCursor().status(of: directory + "/kept")).stamp)
        XCTAssertNil(outcomes[1].stampAfterUnlink(ifRecorded: recorded["edited"]!, settled: true, mtimeSettled: true))
    }

    /// Enough links for `unlinkAll` to split them over two threads: every link is removed,
    /// every outcome comes back, in the order the links were made, each chain intact.
    func testManyLinksAreUnlinkedOnTwoThreadsInTheOrderMade() throws {
        let scratch = Scratch()
        let directory = scratch.file("many")
        let names = (0..<2_100).map { String(format: "d%02d/f%04d", $0 / 100, $0) }
        for name in names {
            let path = directory + "/src/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: path, contents: Data(name.utf8))
            try FileManager.default.createDirectory(atPath: ((directory + "/lower/" + name) as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
        let journal = LinkJournal()
        var recorded: [SourceFileDigests.FileStatus] = []
        for name in names {
            let before = try XCTUnwrap(ParentDirectoryCursor().status(of: directory + "/src/" + name))
            recorded.append(before.stamp)
            XCTAssertNotNil(journal.link(directory + "/src/" + name, to: directory + "/lower/" + name, before: before))
        }
        let outcomes = journal.unlinkAll()
        XCTAssertEqual(outcomes.map(\.source), names.map { directory + "/src/" + $0 })
        for (outcome, stamp) in zip(outcomes, recorded) {
            XCTAssertNotNil(outcome.stampAfterUnlink(ifRecorded: stamp, settled: true, mtimeSettled: true), outcome.source)
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: directory + "/lower").filter { $0.contains("/") }
        XCTAssertEqual(left, [], "every link removed")
    }
}

import Foundation
import XCTest
@testable import Layers

/// A layer materialised from its items is the tree unpacking that layer's tarball gives —
/// types, content, modes, mtimes, symlink targets, hard links, implicit parents — and items
/// that need a tar extractor's replacing rules are refused, leaving nothing behind.
final class LayerMaterialiserTests: XCTestCase {
    /// `find`'s view of a tree: path, type, mode, link count, mtime (directories' and files'),
    /// size, symlink target, and each file's SHA-256.
    private func listing(_ root: String) throws -> String {
        try shell("cd \"$0\" && find . -mindepth 1 -printf '%p %y %m %n %T@ %s %l\\n' | sort && find . -type f -exec sha256sum {} + | sort", root).stdoutText
    }

    func testMaterialisedTreeIsTheUnpackedLayer() throws {
        let scratch = Scratch()
        let source = scratch.file("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        let big = pseudoRandom(count: 300_000, seed: 7)
        FileManager.default.createFile(atPath: source + "/big", contents: Data(big))
        FileManager.default.createFile(atPath: source + "/empty", contents: Data())
        func entry(_ path: String, _ kind: LayerEntry.Kind, _ mode: UInt32, mtime: Int64 = 1_600_000_000) -> LayerItem {
            .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: 0, gid: 0, mtimeSeconds: mtime, mtimeNanoseconds: 5000))
        }
        let items: [LayerItem] = [
            entry("opt", .directory, 0o755),
            entry("opt/sp", .directory, 0o2750),
            entry("opt/sp/big", .regularFile(.file(path: source + "/big", size: Int64(big.count))), 0o4755),
            entry("opt/sp/empty", .regularFile(.file(path: source + "/empty", size: 0)), 0o600),
            entry("opt/sp/heredoc", .regularFile(.bytes(Array("hi\n".utf8))), 0o644),
            entry("opt/sp/link", .symlink(target: "../../etc/passwd"), 0o777),
            entry("opt/sp/hard", .hardlink(target: "opt/sp/big"), 0o4755),
            // A parent the layer does not list (the lower layers have it).
            entry("usr/local/bin/tool", .regularFile(.bytes(Array("#!/bin/sh\n".utf8))), 0o755),
            entry("opt/sp", .directory, 0o2750),  // again, as a COPY of several sources lists it
        ]
        let materialised = scratch.file("materialised")
        XCTAssertTrue(try LayerMaterialiser.materialise(items, into: materialised))
        let layer = scratch.file("layer.tar.gz")
        _ = try LayerWriter().writeBlocking(items, to: layer)
        let unpacked = scratch.file("unpacked")
        _ = try LayerUnpacker.unpack(layers: [layer], into: unpacked)
        // Implicit parents get an extractor's mode and the time they were made: compare the rest.
        let strip = { (text: String) in
            text.split(separator: "\n").filter { !$0.hasPrefix("./usr ") && !$0.hasPrefix("./usr/local ") && !$0.hasPrefix("./usr/local/bin ") }
                .joined(separator: "\n")
        }
        XCTAssertEqual(strip(try listing(materialised)), strip(try listing(unpacked)))
        XCTAssertTrue(try listing(materialised).contains("./usr/local/bin d 755"))
    }

    /// A source file that already is what its entry says is linked, not copied; any
    /// difference (mode, mtime, size) gets a copy with the entry's metadata, and the source is
    /// never changed.
    func testSourcesWithTheEntrysMetadataAreLinkedOthersCopied() throws {
        let scratch = Scratch()
        let source = scratch.file("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: source + "/f", contents: Data("content".utf8))
        XCTAssertEqual(chmod(source + "/f", 0o640), 0)
        var st = stat()
        XCTAssertEqual(lstat(source + "/f", &st), 0)
        let mtime = Int64(st.st_mtim.tv_sec)
        let cases: [(name: String, mode: UInt32, mtime: Int64, size: Int64, linked: Bool)] = [
            ("as the entry says", 0o640, mtime, 7, true),
            ("other mode", 0o644, mtime, 7, false),
            ("other mtime", 0o640, mtime - 1, 7, false),
            ("other size", 0o640, mtime, 6, false),
        ]
        for (index, c) in cases.enumerated() {
            let directory = scratch.file("case\(index)")
            let item = LayerItem.entry(LayerEntry(path: "f", kind: .regularFile(.file(path: source + "/f", size: c.size)), mode: c.mode,
                                                  uid: Int(geteuid()), gid: Int(getegid()), mtimeSeconds: c.mtime))
            XCTAssertTrue(try LayerMaterialiser.materialise([item], into: directory), c.name)
            var made = stat()
            XCTAssertEqual(lstat(directory + "/f", &made), 0, c.name)
            XCTAssertEqual(made.st_ino == st.st_ino, c.linked, c.name)
            XCTAssertEqual(made.st_mode & 0o7777, mode_t(c.mode), c.name)
            XCTAssertEqual(Int64(made.st_mtim.tv_sec), c.mtime, c.name)
            var after = stat()
            XCTAssertEqual(lstat(source + "/f", &after), 0)
            XCTAssertEqual(after.st_mode & 0o7777, 0o640, "\(c.name): the source keeps its mode")
            XCTAssertEqual(after.st_mtim.tv_sec, st.st_mtim.tv_sec, "\(c.name): the source keeps its mtime")
        }
    }

    /// Items that leave a directory and come back to it, and files whose parents the layer
    /// does not list, land where unpacking puts them (parents found once per directory run).
    func testDirectoriesLeftAndReturnedToAreTheUnpackedLayer() throws {
        let scratch = Scratch()
        func file(_ path: String) -> LayerItem {
            .entry(LayerEntry(path: path, kind: .regularFile(.bytes(Array(path.utf8))), mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1_600_000_000))
        }
        let cases: [(name: String, paths: [String])] = [
            ("back to a directory", ["a/x", "b/y", "a/z"]),
            ("deeper, then up", ["a/b/c/x", "a/b/y", "a/z", "a/b/c/w"]),
            ("same name in two parents", ["p/q/n", "r/q/n", "p/q/m"]),
            ("top level between", ["a/x", "t", "a/y"]),
        ]
        for (index, c) in cases.enumerated() {
            let items = c.paths.map(file)
            let materialised = scratch.file("m\(index)")
            XCTAssertTrue(try LayerMaterialiser.materialise(items, into: materialised), c.name)
            let layer = scratch.file("l\(index).tar.gz")
            _ = try LayerWriter().writeBlocking(items, to: layer)
            let unpacked = scratch.file("u\(index)")
            _ = try LayerUnpacker.unpack(layers: [layer], into: unpacked)
            let files = { (root: String) in try shell("cd \"$0\" && find . -type f -exec sha256sum {} + | sort && find . -type d | sort", root).stdoutText }
            XCTAssertEqual(try files(materialised), try files(unpacked), c.name)
        }
    }

    /// A source file with an extended attribute is copied, not linked: the layer carries
    /// none, so the RUN must not see it through a link either.
    func testSourceWithAnExtendedAttributeIsCopied() throws {
        let scratch = Scratch()
        let source = scratch.file("src")
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        var inodes: [String: ino_t] = [:]
        for name in ["plain", "tagged"] {
            FileManager.default.createFile(atPath: source + "/" + name, contents: Data(name.utf8))
            var st = stat()
            XCTAssertEqual(lstat(source + "/" + name, &st), 0)
            inodes[name] = st.st_ino
        }
        XCTAssertEqual(Xattr.set(source + "/tagged", "user.swiftdock.test", Array("v".utf8)), 0)
        var st = stat()
        XCTAssertEqual(lstat(source + "/plain", &st), 0)
        let items = ["plain", "tagged"].map { name in
            LayerItem.entry(LayerEntry(path: "d/" + name, kind: .regularFile(.file(path: source + "/" + name, size: Int64(name.utf8.count))),
                                       mode: UInt32(st.st_mode & 0o7777), uid: Int(geteuid()), gid: Int(getegid()),
                                       mtimeSeconds: Int64(st.st_mtim.tv_sec)))
        }
        // Both sources were made in the same second, so "tagged" differs only by its attribute.
        var tagged = stat()
        XCTAssertEqual(lstat(source + "/tagged", &tagged), 0)
        try XCTSkipIf(tagged.st_mtim.tv_sec != st.st_mtim.tv_sec, "the two sources straddle a second")
        let directory = scratch.file("m")
        let journal = LinkJournal()
        XCTAssertTrue(try LayerMaterialiser.materialise(items, into: directory, journal: journal))
        for (name, linked) in [("plain", true), ("tagged", false)] {
            var made = stat()
            XCTAssertEqual(lstat(directory + "/d/" + name, &made), 0, name)
            XCTAssertEqual(made.st_ino == inodes[name], linked, name)
        }
        XCTAssertEqual(Xattr.list(directory + "/d/tagged", nil, 0), 0, "the copy has no attribute")
        XCTAssertEqual(journal.count, 1, "only the plain file's link is journaled")
    }

    func testItemsNeedingReplacementAreRefusedAndLeaveNothing() throws {
        let scratch = Scratch()
        func entry(_ path: String, _ kind: LayerEntry.Kind) -> LayerItem {
            .entry(LayerEntry(path: path, kind: kind, mode: 0o755, mtimeSeconds: 0))
        }
        let cases: [(name: String, items: [LayerItem])] = [
            ("under a symlink", [entry("a", .symlink(target: "/etc")), entry("a/passwd", .regularFile(.bytes([1])))]),
            ("under a file", [entry("a", .regularFile(.bytes([1]))), entry("a/b", .directory)]),
            ("file then directory", [entry("a", .regularFile(.bytes([1]))), entry("a", .directory)]),
            ("directory then file", [entry("a", .directory), entry("a", .regularFile(.bytes([1])))]),
            ("hard link to a symlink", [entry("a", .symlink(target: "x")), entry("b", .hardlink(target: "a"))]),
            ("hard link to nothing", [entry("b", .hardlink(target: "missing"))]),
            ("an archive", [.archive(archivePath: "/nonexistent.tar", destination: "", owner: nil)]),
            // After files in another directory (whose parents are then known): still refused.
            ("under a symlink after other files", [entry("a/b/x", .regularFile(.bytes([1]))), entry("a/b/y", .regularFile(.bytes([2]))),
                                                   entry("a/d", .symlink(target: "/etc")), entry("a/d/passwd", .regularFile(.bytes([1])))]),
            ("a parent replaced after its files", [entry("a/x", .regularFile(.bytes([1]))), entry("a", .regularFile(.bytes([1]))),
                                                   entry("a/y", .regularFile(.bytes([1])))]),
        ]
        for (index, c) in cases.enumerated() {
            let directory = scratch.file("case\(index)")
            XCTAssertFalse(try LayerMaterialiser.materialise(c.items, into: directory), c.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory), "\(c.name): removed again")
        }
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PathEncoding
import XCTest
@testable import Layers

/// Copy-and-compare: a base layer (mtimes 1000) copied by `TreeCopy`, changed by a shell
/// command, diffed by `TreeDiff` with SOURCE_DATE_EPOCH 5000 (so whatever the command touched
/// reads 5000 and what it did not reads 1000).
final class TreeDiffTests: XCTestCase {
    struct Case: Sendable {
        var name: String
        var base: @Sendable (UpperTree) throws -> Void
        /// Run with `/bin/sh -c` in the copied root.
        var change: String
        var rootOnly = false
        var excluding: Set<PathKey> = []
        var expected: [String]
    }

    static let base: @Sendable (UpperTree) throws -> Void = { t in
        try t.dir("a")
        try t.file("a/f", "one")
        try t.file("a/g", "keep")
        try t.symlink("a/l", to: "f")
        try t.dir("d")
        try t.dir("d/sub")
        try t.file("d/sub/x", "x")
        try t.file("d/y", "y")
        try t.file("top", "t", mode: 0o755)
    }

    static let cases: [Case] = [
        Case(name: "nothing changed", base: base, change: "cat a/f d/y >/dev/null; ls -R >/dev/null", expected: []),
        Case(name: "create a file, a directory, a symlink", base: base,
             change: "mkdir -p n/m && echo hi > n/m/f && ln -s ../a n/link && echo new > a/new", expected: [
            "a dir 755 0:0 5000",
            "a/new file(4) 644 0:0 5000",
            "n dir 755 0:0 5000",
            "n/link symlink(../a) 777 0:0 5000",
            "n/m dir 755 0:0 5000",
            "n/m/f file(3) 644 0:0 5000",
        ]),
        Case(name: "append changes size", base: base, change: "echo two >> a/f", expected: [
            "a dir 755 0:0 1000",
            "a/f file(7) 644 0:0 5000",
        ]),
        Case(name: "same size rewritten in place, mtime set back: bytes compared", base: base,
             change: "printf TWO | dd of=a/f conv=notrunc 2>/dev/null && touch -d @1000.987654321 a/f", expected: [
            "a dir 755 0:0 1000",
            "a/f file(3) 644 0:0 1000",
        ]),
        Case(name: "same bytes rewritten, mtime set back: unchanged", base: base,
             change: "cat a/f > ../saved && cat ../saved > a/f && touch -d @1000.987654321 a/f", expected: []),
        Case(name: "delete a file and a directory tree", base: base, change: "rm a/f && rm -r d", expected: [
            ".wh.d bytes(0) 0 0:0 5000",
            "a dir 755 0:0 5000",
            "a/.wh.f bytes(0) 0 0:0 5000",
        ]),
        Case(name: "chmod only", base: base, change: "chmod 600 a/g && chmod 700 d/sub", expected: [
            "a dir 755 0:0 1000",
            "a/g file(4) 600 0:0 1000",
            "d dir 755 0:0 1000",
            "d/sub dir 700 0:0 1000",
        ]),
        Case(name: "chown only (root)", base: base, change: "chown 1000:100 a/g && chown -h 7:7 a/l", rootOnly: true, expected: [
            "a dir 755 0:0 1000",
            "a/g file(4) 644 1000:100 1000",
            "a/l symlink(f) 777 7:7 1000",
        ]),
        Case(name: "symlink retargeted", base: base, change: "ln -sfn g a/l && touch -h -d @1000.987654321 a/l", expected: [
            "a dir 755 0:0 5000",
            "a/l symlink(g) 777 0:0 1000",
        ]),
        Case(name: "directory replaced wholesale: opaque, everything in it new", base: base,
             change: "rm -r d && mkdir d && echo z > d/z", expected: [
            "d dir 755 0:0 5000",
            "d/.wh..wh..opq bytes(0) 0 0:0 5000",
            "d/z file(2) 644 0:0 5000",
        ]),
        Case(name: "directory emptied and refilled in place: opaque too", base: base,
             change: "rm -r d/sub d/y && echo n > d/n", expected: [
            "d dir 755 0:0 5000",
            "d/.wh..wh..opq bytes(0) 0 0:0 5000",
            "d/n file(2) 644 0:0 5000",
        ]),
        Case(name: "file becomes a directory, directory becomes a file", base: base,
             change: "rm a/f && mkdir a/f && echo in > a/f/in && rm -r d/sub && echo s > d/sub", expected: [
            "a dir 755 0:0 5000",
            "a/f dir 755 0:0 5000",
            "a/f/in file(3) 644 0:0 5000",
            "d dir 755 0:0 5000",
            "d/sub file(2) 644 0:0 5000",
        ]),
        Case(name: "excluded mount targets: neither added nor whited out", base: base,
             change: "mkdir -p mnt/cache && echo c > mnt/cache/c && rm d/y && echo k > mnt/keep", excluding: ["/mnt/cache", "d/y"], expected: [
            "d dir 755 0:0 5000",
            "mnt dir 755 0:0 5000",
            "mnt/keep file(2) 644 0:0 5000",
        ]),
        Case(name: "an excluded mount target leaves its NFD twin: names are bytes", base: base,
             change: "mkdir -p mnt/\u{E9} && echo k > mnt/e\u{301}", excluding: ["mnt/\u{E9}"], expected: [
            "mnt dir 755 0:0 5000",
            "mnt/e\u{301} file(2) 644 0:0 5000",
        ]),
        Case(name: "a directory holding only an excluded mount target is not emptied", base: { t in
            try t.dir("mnt")
            try t.file("mnt/input", "bound")
        }, change: "true", excluding: ["mnt/input"], expected: []),
        Case(name: "hard links: a new name of an unchanged file is its first path; changed links link", base: base,
             change: "ln a/g a/g2 && ln top top2 && echo more >> top", expected: [
            "a dir 755 0:0 5000",
            "a/g2 file(4) 644 0:0 1000",
            "top file(6) 755 0:0 5000",
            "top2 hardlink(top) 755 0:0 5000",
        ]),
    ]

    /// A new layer directory in `scratch`, built by `build`.
    static func makeLayer(in scratch: Scratch, _ build: (UpperTree) throws -> Void) throws -> String {
        let path = scratch.file("layer-" + UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let tree = UpperTree(path)
        try build(tree)
        try tree.finish()
        return path
    }

    /// Unprivileged runs: files belong to the current user; map it to 0:0 as a sandbox would.
    static var idMap: IDMap { geteuid() == 0 ? .identity : .rootless(hostUID: geteuid(), hostGID: getegid()) }

    func testCases() throws {
        for c in Self.cases {
            if c.rootOnly && geteuid() != 0 { print("skipping case \(c.name): needs root"); continue }
            let scratch = Scratch()
            let base = try Self.makeLayer(in: scratch, c.base)
            let root = scratch.file("root")
            let copied = try TreeCopy.materialise(layers: [base], into: root)
            let ran = try shell("cd '\(root)' && \(c.change)")
            XCTAssertEqual(ran.status, 0, c.name)
            let changes = try TreeDiff.changes(root: root, snapshot: copied.snapshot, idMap: Self.idMap,
                                               excluding: c.excluding, sourceDateEpoch: 5000)
            XCTAssertEqual(changes.items.map { describe($0, upper: root) }, c.expected, c.name)
        }
    }

    /// The copy is faithful: what `find` and `stat` see in the root equals the base.
    func testCopyKeepsModesTimesLinksAndContent() throws {
        let scratch = Scratch()
        let base = try Self.makeLayer(in: scratch) { tree in
            try Self.base(tree)
            try tree.dir("ro", mode: 0o555)
            try tree.file("ro/inside", "i", mode: 0o400)
            try tree.hardlink("a/hard", to: "a/g")
            try tree.fifo("pipe")
            try tree.file("suid", "s", mode: 0o4755)
        }
        let root = scratch.file("root")
        _ = try TreeCopy.materialise(layers: [base], into: root)
        let listing = "find . -printf '%p %y %m %U:%G %T@ %s %l\\n' | grep -v '^\\. ' | sort"
        let expected = try shell("cd '\(base)' && \(listing)").text
        XCTAssertEqual(try shell("cd '\(root)' && \(listing)").text, expected)
        XCTAssertTrue(expected.contains("./ro/inside f 400") && expected.contains("./suid f 4755"), expected)
        XCTAssertEqual(try shell("cd '\(root)' && cat a/f ro/inside && stat -c %i a/hard a/g | uniq | wc -l").text, "onei1\n")
        XCTAssertNotEqual(try shell("stat -c %i '\(base)/a/f' '\(root)/a/f' | uniq | wc -l").text, "1\n", "a real copy, not a hard link")
        TreeCopy.remove(root)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    }

    /// Layers stack as overlayfs shows them: OCI whiteout files and opaque markers (and overlay
    /// whiteout devices, where mknod is permitted) hide what is below; mount points are made
    /// and are no change.
    func testStackedLayersMergeAndMountPointsAreNoChange() throws {
        let scratch = Scratch()
        let base = try Self.makeLayer(in: scratch, Self.base)
        let upper = try Self.makeLayer(in: scratch) { top in
            try top.dir("a")
            try top.file("a/.wh.f")
            try top.file("a/g", "over")
            try top.dir("d")
            try top.file("d/.wh..wh..opq")
            try top.file("d/fresh", "f")
            try top.file("top", "file over nothing")
        }
        let root = scratch.file("root")
        let copied = try TreeCopy.materialise(layers: [upper, base], into: root, mountPoints: [
            MountPoint(path: "/proc", isDirectory: true), MountPoint(path: "etc/hosts", isDirectory: false),
            MountPoint(path: "a/l/x", isDirectory: true),  // through a symlink: left to the sandbox
        ])
        XCTAssertEqual(try shell("cd '\(root)' && find . | sort").text,
                       [".", "./a", "./a/g", "./a/l", "./d", "./d/fresh", "./etc", "./etc/hosts", "./proc", "./top"].joined(separator: "\n") + "\n")
        XCTAssertEqual(try String(contentsOfFile: root + "/a/g", encoding: .utf8), "over")
        let changes = try TreeDiff.changes(root: root, snapshot: copied.snapshot, idMap: Self.idMap)
        XCTAssertEqual(changes.items.count, 0, "\(changes.items)")
        // Even when every file counts as touched since the copy (ctime in the copy's last clock
        // tick), equal bytes are no change, and an empty mount point has nothing to compare.
        var everythingTouched = copied.snapshot
        everythingTouched.copiedAt = timespec()
        XCTAssertEqual(try TreeDiff.changes(root: root, snapshot: everythingTouched, idMap: Self.idMap).items.count, 0)
    }

    /// The layer directory `moveEntries` leaves, stacked on the base, is the changed root again;
    /// the items read their content from it.
    func testMovedLayerDirectoryStacksToTheChangedRoot() throws {
        let scratch = Scratch()
        let base = try Self.makeLayer(in: scratch, Self.base)
        let root = scratch.file("root")
        let copied = try TreeCopy.materialise(layers: [base], into: root)
        let change = "echo 2 >> a/f && rm a/g && rm -r d && mkdir -p d/new && echo n > d/new/n && mkdir -p fresh/deep && echo f > fresh/deep/f && ln fresh/deep/f fresh/link"
        XCTAssertEqual(try shell("cd '\(root)' && \(change)").status, 0)
        let listing = "find . -printf '%p %y %m %l\\n' | sort && cat a/f d/new/n fresh/link"
        let expected = try shell("cd '\(root)' && \(listing)").text
        let changes = try TreeDiff.changes(root: root, snapshot: copied.snapshot, idMap: Self.idMap)
        XCTAssertTrue(changes.wholeDirectories.contains("fresh") && changes.wholeDirectories.contains("d"), "\(changes.wholeDirectories)")
        let layer = scratch.file("layer")
        try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: false)
        let items = try changes.moveEntries(from: root, into: layer)
        TreeCopy.remove(root)
        XCTAssertEqual(items.map { describe($0, upper: layer) }, changes.items.map { describe($0, upper: root) })
        XCTAssertTrue(FileManager.default.fileExists(atPath: layer + "/a/.wh.g"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: layer + "/d/.wh..wh..opq"))
        let again = scratch.file("again")
        _ = try TreeCopy.materialise(layers: [layer, base], into: again)
        XCTAssertEqual(try shell("cd '\(again)' && \(listing)").text, expected)
    }

    func testRejectsFilesNamedLikeWhiteouts() throws {
        let scratch = Scratch()
        let base = try Self.makeLayer(in: scratch) { _ in }
        let root = scratch.file("root")
        let copied = try TreeCopy.materialise(layers: [base], into: root)
        XCTAssertEqual(try shell("touch '\(root)/.wh.sneaky'").status, 0)
        XCTAssertThrowsError(try TreeDiff.changes(root: root, snapshot: copied.snapshot)) { error in
            XCTAssertTrue("\(error)".contains(".wh.sneaky"), "\(error)")
        }
    }
}

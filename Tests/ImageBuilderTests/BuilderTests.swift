import BuildContext
import DockerfileSyntax
import Foundation
import Layers
import Sandbox
import TemporaryDirectories
import XCTest
@testable import ImageBuilder

final class FileModeChangeTests: XCTestCase {
    func testOctalAndSymbolic() throws {
        let cases: [(spec: String, mode: UInt32, isDirectory: Bool, expected: UInt32)] = [
            ("755", 0o644, false, 0o755),
            ("0600", 0o755, true, 0o600),
            ("4755", 0o644, false, 0o4755),
            ("u=rwX,go=rX", 0o600, true, 0o755),
            ("u=rwX,go=rX", 0o600, false, 0o644),
            ("u=rwX,go=rX", 0o700, false, 0o755),
            ("+x", 0o644, false, 0o755),
            ("a-w", 0o666, false, 0o444),
            ("g+w", 0o644, false, 0o664),
            ("o=", 0o777, false, 0o770),
            ("u+s", 0o755, false, 0o4755),
            ("+t", 0o777, true, 0o1777),
        ]
        for c in cases {
            XCTAssertEqual(try FileModeChange(parsing: c.spec).apply(to: c.mode, isDirectory: c.isDirectory), c.expected,
                           "\(c.spec) on \(String(c.mode, radix: 8))")
        }
        for bad in ["", "999", "77777", "u=q", "z+x", "u", "rwx"] {
            XCTAssertThrowsError(try FileModeChange(parsing: bad), bad)
        }
    }
}

final class UserDatabaseTests: XCTestCase {
    let db = UserDatabase(passwd: Array("root:x:0:0:root:/root:/bin/sh\njupyter:x:1000:100::/home/jupyter:/bin/sh\n".utf8),
                          group: Array("root:x:0:\nusers:x:100:\nstaff:x:50:\n".utf8))

    func testChownResolution() throws {
        let cases: [(String, Int, Int)] = [
            // A name alone takes the user's primary group from passwd (BuildKit), a number alone
            // is also the group.
            ("0", 0, 0), ("1000", 1000, 1000), ("10:11", 10, 11), ("jupyter", 1000, 100),
            ("jupyter:staff", 1000, 50), ("1000:users", 1000, 100), ("root:0", 0, 0),
        ]
        for (spec, uid, gid) in cases {
            let owner = try db.resolveOwner(spec)
            XCTAssertEqual(owner.uid, uid, spec)
            XCTAssertEqual(owner.gid, gid, spec)
        }
        XCTAssertThrowsError(try db.resolveOwner("nobody")) { XCTAssertTrue("\($0)".contains("nobody")) }
        XCTAssertThrowsError(try db.resolveOwner("jupyter:wheel")) { XCTAssertTrue("\($0)".contains("wheel")) }
    }

    func testUserResolutionForWorkdir() throws {
        XCTAssertEqual(try db.processUserIfKnown("jupyter").map { [$0.uid, $0.gid] }, [1000, 100])
        XCTAssertEqual(try db.processUserIfKnown("4242").map { [$0.uid, $0.gid] }, [4242, 0])
        XCTAssertNil(try db.processUserIfKnown("ghost"))
        XCTAssertNil(try db.processUserIfKnown("jupyter:wheel"))
    }
}

final class StageExecutorRulesTests: XCTestCase {
    func testPorts() throws {
        let cases: [(String, [String])] = [
            ("80", ["80/tcp"]), ("53/udp", ["53/udp"]), ("8000-8002", ["8000/tcp", "8001/tcp", "8002/tcp"]),
            ("9/SCTP", ["9/sctp"]),
        ]
        for (word, expected) in cases { XCTAssertEqual(try StageExecutor.parsePorts(word), expected, word) }
        for bad in ["", "x", "80/foo", "90-80", "70000"] { XCTAssertThrowsError(try StageExecutor.parsePorts(bad), bad) }
    }

    func testSignals() {
        for good in ["SIGTERM", "TERM", "9", "SIGRTMIN+3", "sigint"] { XCTAssertTrue(StageExecutor.isValidSignal(good), good) }
        for bad in ["SIGFOO", "0", "100", ""] { XCTAssertFalse(StageExecutor.isValidSignal(bad), bad) }
    }

    func testGoQuoting() {
        XCTAssertEqual(goQuotedList(["/bin/sh", "-c", "echo \"hi\"\n"]), #"["/bin/sh" "-c" "echo \"hi\"\n"]"#)
        // BuildKit's history of a CMD whose arguments hold a vertical tab and a no-break space.
        XCTAssertEqual(goQuotedList(["printf", "a\u{0b}b", "c\u{a0}d"]), #"["printf" "a\vb" "c\u00a0d"]"#)
    }

    func testPathHelpers() {
        XCTAssertEqual(cleanLayerPath("/a/./b//c/"), "a/b/c")
        XCTAssertEqual(cleanLayerPath("/../x"), "x")
        XCTAssertEqual(ancestors(of: "a/b/c"), ["a", "a/b"])
        XCTAssertTrue(CopyPlanner.componentsPrecede("a", "a/b"))
        XCTAssertTrue(CopyPlanner.componentsPrecede("a/z", "a-b"), "component order, not string order")
        XCTAssertFalse(CopyPlanner.componentsPrecede("b", "a/z"))
    }
}

final class CopyPlannerTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = try makeTemporaryDirectory("copyplanner")
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/dir/sub", withIntermediateDirectories: true)
        try "a".write(toFile: root + "/a.txt", atomically: true, encoding: .utf8)
        try "b".write(toFile: root + "/b.txt", atomically: true, encoding: .utf8)
        try "c".write(toFile: root + "/dir/sub/c.py", atomically: true, encoding: .utf8)
        try "d".write(toFile: root + "/dir/d.txt", atomically: true, encoding: .utf8)
    }

    private func plan(_ sources: [String], _ dest: String, workdir: String = "/", view: FilesystemView = FilesystemView(),
                      excludes: [String] = [], parents: Bool = false, heredocs: [Heredoc] = []) throws -> [String] {
        let instruction = CopyInstruction(sources: sources, destination: dest, heredocs: heredocs, parents: parents, excludes: excludes)
        var planner = CopyPlanner(instruction: instruction, isAdd: false,
                                  source: .init(directory: try ContextDirectory(root: root), owners: nil),
                                  workdir: workdir, view: view, owner: nil, chmod: nil, now: 0)
        return try planner.plan().map { item in
            guard case .entry(let e) = item else { return "archive" }
            switch e.kind {
            case .directory: return e.path + "/"
            default: return e.path
            }
        }
    }

    func testDestinationRules() throws {
        let cases: [(sources: [String], dest: String, workdir: String, expected: [String])] = [
            (["a.txt"], "/x", "/", ["x"]),
            (["a.txt"], "/x/", "/", ["x/", "x/a.txt"]),
            (["a.txt"], "x", "/app", ["app/", "app/x"]),
            (["a.txt"], ".", "/app", ["app/", "app/a.txt"]),
            (["a.txt", "b.txt"], "/x/", "/", ["x/", "x/a.txt", "x/b.txt"]),
            (["*.txt"], "/x/", "/", ["x/", "x/a.txt", "x/b.txt"]),
            (["dir"], "/x", "/", ["x/", "x/d.txt", "x/sub/", "x/sub/c.py"]),
            (["/dir/"], "/", "/", ["d.txt", "sub/", "sub/c.py"]),
            (["dir/sub/c.py"], "/deep/er/", "/", ["deep/", "deep/er/", "deep/er/c.py"]),
        ]
        for c in cases {
            XCTAssertEqual(try plan(c.sources, c.dest, workdir: c.workdir), c.expected, "\(c.sources) → \(c.dest)")
        }
    }

    /// Missing parents are created once each, whichever items of a directory ask for them
    /// (the climb is skipped for files sharing the previous one's parent), and never where
    /// the view or the step already has the directory.
    func testMissingParentsAreCreatedOnceAndOnlyWhereMissing() throws {
        let fm = FileManager.default
        for dir in ["dir/sub/deep", "dir/other"] { try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        for file in ["dir/sub/deep/1", "dir/sub/deep/2", "dir/sub/3", "dir/other/4", "dir/5"] {
            try "x".write(toFile: root + "/" + file, atomically: false, encoding: .utf8)
        }
        var view = FilesystemView()
        view.apply([LayerHeaders.Header(path: "a", kind: .directory, mode: 0o700, uid: 0, gid: 0, mtimeSeconds: 0)], layer: 0)
        let cases: [(sources: [String], dest: String, view: FilesystemView, expected: [String])] = [
            (["dir/sub/deep/1", "dir/sub/deep/2", "dir/sub/3"], "/a/b/c/", view, ["a/b/", "a/b/c/", "a/b/c/1", "a/b/c/2", "a/b/c/3"]),
            (["dir/sub/deep/1", "dir/sub/deep/2"], "/n/m/", FilesystemView(), ["n/", "n/m/", "n/m/1", "n/m/2"]),
            (["dir"], "/a/b/", view, ["a/b/", "a/b/5", "a/b/d.txt", "a/b/other/", "a/b/other/4", "a/b/sub/", "a/b/sub/3",
                                      "a/b/sub/c.py", "a/b/sub/deep/", "a/b/sub/deep/1", "a/b/sub/deep/2"]),
        ]
        for c in cases {
            XCTAssertEqual(try plan(c.sources, c.dest, view: c.view), c.expected, "\(c.sources) → \(c.dest)")
        }
    }

    /// A path planned twice (two sources landing on the same target) is one item.
    func testAPathPlannedTwiceIsOneItem() throws {
        XCTAssertEqual(try plan(["dir", "dir"], "/x/"), try plan(["dir"], "/x/"))
        try "longer".write(toFile: root + "/dir/sub/c.py2", atomically: false, encoding: .utf8)
        XCTAssertEqual(try plan(["dir/sub/c.py", "dir/d.txt", "dir/sub/"], "/x/"), ["x/", "x/c.py", "x/c.py2", "x/d.txt"])
    }

    func testExistingDirectoriesAreNeitherRecreatedNorReplaced() throws {
        var view = FilesystemView()
        view.apply([LayerHeaders.Header(path: "tmp", kind: .directory, mode: 0o1777, uid: 0, gid: 0, mtimeSeconds: 0)], layer: 0)
        XCTAssertEqual(try plan(["a.txt"], "/tmp", view: view), ["tmp/a.txt"], "a file copied onto an existing directory goes inside")
        XCTAssertEqual(try plan(["a.txt"], "/tmp/new/", view: view), ["tmp/new/", "tmp/new/a.txt"])
        XCTAssertEqual(try plan(["dir"], "/tmp", view: view), ["tmp/d.txt", "tmp/sub/", "tmp/sub/c.py"])
    }

    func testDestinationSymlinksAreFollowedInsideTheImageRoot() throws {
        var view = FilesystemView()
        view.apply([
            LayerHeaders.Header(path: "real", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 0),
            LayerHeaders.Header(path: "todir", kind: .symlink, mode: 0o777, uid: 0, gid: 0, mtimeSeconds: 0, linkTarget: "/real"),
            LayerHeaders.Header(path: "dangling", kind: .symlink, mode: 0o777, uid: 0, gid: 0, mtimeSeconds: 0, linkTarget: "/nowhere/x"),
            LayerHeaders.Header(path: "up", kind: .symlink, mode: 0o777, uid: 0, gid: 0, mtimeSeconds: 0, linkTarget: "../../../real"),
        ], layer: 0)
        XCTAssertEqual(try plan(["a.txt"], "/todir", view: view), ["real/a.txt"])
        XCTAssertEqual(try plan(["a.txt"], "/todir/sub/", view: view), ["real/sub/", "real/sub/a.txt"])
        XCTAssertEqual(try plan(["a.txt"], "/dangling", view: view), ["nowhere/", "nowhere/x"], "created where the link points")
        XCTAssertEqual(try plan(["a.txt"], "/up/", view: view), ["real/a.txt"], "`..` stops at the image root")
    }

    func testExcludeParentsAndHeredoc() throws {
        XCTAssertEqual(try plan(["dir"], "/x/", excludes: ["*.txt"]), ["x/", "x/sub/", "x/sub/c.py"])
        XCTAssertEqual(try plan(["dir/sub/c.py"], "/x/", parents: true), ["x/", "x/dir/", "x/dir/sub/", "x/dir/sub/c.py"])
        XCTAssertEqual(try plan(["<<EOF"], "/etc/motd", heredocs: [Heredoc(name: "EOF", content: "hi\n", expand: true)]),
                       ["etc/", "etc/motd"])
    }

    func testSeveralSourcesNeedADirectoryDestination() {
        XCTAssertThrowsError(try plan(["a.txt", "b.txt"], "/x")) {
            XCTAssertTrue("\($0)".contains("must be a directory and end with a /"), "\($0)")
        }
    }
}

final class FilesystemViewTests: XCTestCase {
    private func header(_ path: String, _ kind: LayerHeaders.Header.Kind = .file, link: String? = nil) -> LayerHeaders.Header {
        LayerHeaders.Header(path: path, kind: kind, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 0, linkTarget: link)
    }

    func testWhiteoutsOpaqueMarkersAndReplacementsAcrossLayers() {
        var view = FilesystemView()
        view.apply([header("a", .directory), header("a/x"), header("a/y"), header("b", .directory), header("b/z"),
                    header("c", .directory), header("c/w"), header("d")], layer: 0)
        view.apply([header("a/.wh.x"), header("b/.wh..wh..opq"), header("b/new"), header("c")], layer: 1)
        XCTAssertFalse(view.exists("a/x"), "whited out")
        XCTAssertTrue(view.exists("a/y"))
        XCTAssertFalse(view.exists("b/z"), "hidden by the opaque marker")
        XCTAssertTrue(view.exists("b/new"), "an opaque marker never hides its own layer")
        XCTAssertEqual(view.entry("c")?.kind, .file)
        XCTAssertFalse(view.exists("c/w"), "a directory replaced by a file loses its subtree")
        XCTAssertEqual(view.entry("a/y")?.layer, 0)
        XCTAssertEqual(view.entry("b/new")?.layer, 1)
        XCTAssertFalse(view.exists(".wh.x") || view.exists("a/.wh.x"))
    }

    /// Only a last component starting with the four bytes `.wh.` is a whiteout: shorter or
    /// different names are entries, at the top level as below it.
    func testWhiteoutNamesAreMatchedOnTheLastComponentsBytes() {
        var view = FilesystemView()
        view.apply([header("t"), header("d", .directory), header("d/t"), header("d/u")], layer: 0)
        view.apply([header(".wh"), header(".whx"), header("d/.wh"), header(".w"), header("d/.wh.t"), header(".wh.t"),
                    header("d/x.wh.u"), header("d/.WH.u")], layer: 1)
        for kept in [".wh", ".whx", "d/.wh", ".w", "d/u", "d/x.wh.u", "d/.WH.u"] { XCTAssertTrue(view.exists(kept), kept) }
        for gone in ["t", "d/t", ".wh.t", "d/.wh.t"] { XCTAssertFalse(view.exists(gone), gone) }
    }

    func testSymlinksResolveInsideTheRoot() {
        var view = FilesystemView()
        view.apply([header("etc", .directory), header("etc/passwd"), header("var", .directory),
                    header("link", .symlink, link: "/etc"), header("rel", .symlink, link: "etc/../var"),
                    header("loop", .symlink, link: "/loop"), header("esc", .symlink, link: "../../../../etc")], layer: 0)
        let cases: [(String, String?)] = [
            ("link/passwd", "etc/passwd"), ("rel", "var"), ("esc/passwd", "etc/passwd"), ("link/missing/x", "etc/missing/x"),
            ("loop", nil), ("", ""),
        ]
        for (path, expected) in cases { XCTAssertEqual(view.resolve(path), expected, path) }
        XCTAssertEqual(view.resolve("link", followLast: false), "link")
    }
}

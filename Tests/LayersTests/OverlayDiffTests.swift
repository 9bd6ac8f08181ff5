import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PathEncoding
import XCTest
@testable import Layers

/// Builds a synthetic overlay upper dir. Mtimes are applied by `finish()`, after every child
/// exists (creating a child changes its parent's mtime).
final class UpperTree {
    let root: String
    private var times: [(String, Int64)] = []

    init(_ root: String) { self.root = root }

    private func path(_ rel: String) -> String { root + "/" + rel }

    func dir(_ rel: String, mode: mode_t = 0o755, mtime: Int64 = 1000, owner: (uid_t, gid_t)? = nil) throws {
        try FileManager.default.createDirectory(atPath: path(rel), withIntermediateDirectories: true)
        try attributes(rel, mode: mode, mtime: mtime, owner: owner)
    }

    func file(_ rel: String, _ content: String = "", mode: mode_t = 0o644, mtime: Int64 = 1000, owner: (uid_t, gid_t)? = nil) throws {
        guard FileManager.default.createFile(atPath: path(rel), contents: Data(content.utf8)) else {
            throw TestError("cannot create \(rel)")
        }
        try attributes(rel, mode: mode, mtime: mtime, owner: owner)
    }

    func symlink(_ rel: String, to target: String, mtime: Int64 = 1000, owner: (uid_t, gid_t)? = nil) throws {
        guard Glibc.symlink(target, path(rel)) == 0 else { throw TestError("symlink \(rel)") }
        if let owner, lchown(path(rel), owner.0, owner.1) != 0 { throw XCTSkip("chown not permitted: \(errnoText())") }
        times.append((rel, mtime))
    }

    func hardlink(_ rel: String, to existing: String) throws {
        guard link(path(existing), path(rel)) == 0 else { throw TestError("link \(rel)") }
    }

    /// An overlay whiteout (char device 0/0); skips the test where mknod is not permitted.
    func whiteout(_ rel: String, mtime: Int64 = 1000) throws {
        guard mknod(path(rel), S_IFCHR | 0o000, 0) == 0 else { throw XCTSkip("mknod of a 0/0 char device not permitted: \(errnoText())") }
        times.append((rel, mtime))
    }

    func device(_ rel: String, major: UInt32, minor: UInt32) throws {
        guard mknod(path(rel), S_IFCHR | 0o666, dev_t((major << 8) | minor)  /* glibc encoding for small numbers */) == 0 else { throw XCTSkip("mknod not permitted: \(errnoText())") }
    }

    func fifo(_ rel: String) throws {
        guard mkfifo(path(rel), 0o644) == 0 else { throw TestError("mkfifo \(rel)") }
    }

    /// Sets an xattr (e.g. `trusted.overlay.opaque`); skips where the file system refuses.
    func xattr(_ rel: String, _ name: String, _ value: String) throws {
        let bytes = Array(value.utf8)
        guard setXattr(path(rel), name, bytes, bytes.count, 0) == 0 else {
            throw XCTSkip("cannot set \(name) on \(rel): \(errnoText())")
        }
    }

    /// Without `owner` the file keeps the creating user (root in CI; tests map it to 0:0 otherwise).
    private func attributes(_ rel: String, mode: mode_t, mtime: Int64, owner: (uid_t, gid_t)?) throws {
        if let owner, lchown(path(rel), owner.0, owner.1) != 0 { throw XCTSkip("chown not permitted: \(errnoText())") }
        guard chmod(path(rel), mode) == 0 else { throw TestError("chmod \(rel)") }  // after chown, which clears setuid
        times.append((rel, mtime))
    }

    func finish() throws {
        for (rel, mtime) in times {
            var spec = [timespec(tv_sec: time_t(mtime), tv_nsec: 123_456_789), timespec(tv_sec: time_t(mtime), tv_nsec: 987_654_321)]
            guard utimensat(AT_FDCWD, path(rel), &spec, AT_SYMLINK_NOFOLLOW) == 0 else { throw TestError("utimensat \(rel)") }
        }
    }
}

/// `lsetxattr(2)`, which Swift's Glibc module does not declare. `nonisolated(unsafe)` because a C
/// function pointer is not `Sendable`; safe: it is looked up once and only ever called.
private typealias SetXattr = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeRawPointer?, Int, Int32) -> Int32
nonisolated(unsafe) private let setXattr: SetXattr = unsafeBitCast(dlsym(nil, "lsetxattr")!, to: SetXattr.self)

private struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// `path kind mode uid:gid mtime`; file content is checked to point into the upper dir.
func describe(_ item: LayerItem, upper: String) -> String {
    guard case .entry(let e) = item else { return "archive item" }
    let kind: String
    switch e.kind {
    case .directory: kind = "dir"
    case .regularFile(.bytes(let b)): kind = "bytes(\(b.count))"
    case .regularFile(.file(let p, let size)):
        kind = p == upper + "/" + e.path ? "file(\(size))" : "file(\(size)) from \(p)"
    case .symlink(let t): kind = "symlink(\(t))"
    case .hardlink(let t): kind = "hardlink(\(t))"
    }
    return "\(e.path) \(kind) \(String(e.mode, radix: 8)) \(e.uid):\(e.gid) \(e.mtimeSeconds)\(e.mtimeNanoseconds == 0 ? "" : ".\(e.mtimeNanoseconds)")"
}

final class OverlayDiffTests: XCTestCase {
    struct Case: Sendable {
        var name: String
        var build: @Sendable (UpperTree) throws -> Void
        var idMap: IDMap = .identity
        var excluding: Set<PathKey> = []
        var epoch: Int64? = nil
        var expected: [String]
    }

    static let cases: [Case] = [
        Case(name: "kinds, order, whiteouts, opaque, hard links", build: { t in
            try t.dir("a", mtime: 100)
            try t.file("a/b.txt", "hello", mtime: 101)
            try t.hardlink("a/hard", to: "a/b.txt")
            try t.symlink("a/link", to: "b.txt", mtime: 102)
            try t.file("a/Z", "z", mode: 0o4755)
            try t.file("a/-x", "")
            try t.whiteout("a/zgone", mtime: 103)
            try t.whiteout("a/gone", mtime: 104)
            try t.dir("a/zz", mode: 0o1777, mtime: 105)
            try t.xattr("a/zz", "trusted.overlay.opaque", "y")
            try t.file("a/zz/new", "x")
            try t.whiteout("a/zz/alsogone")  // harmless in an opaque dir; kept
            try t.file("a.b", "ab")
            try t.dir("a/empty", mode: 0o700)
            try t.fifo("a/pipe")
            try t.device("a/null", major: 1, minor: 3)
            try t.whiteout("top")
        }, expected: [
            ".wh.top bytes(0) 0 0:0 1000",
            "a dir 755 0:0 100",
            "a/.wh.gone bytes(0) 0 0:0 104",
            "a/.wh.zgone bytes(0) 0 0:0 103",
            "a/-x file(0) 644 0:0 1000",
            "a/Z file(1) 4755 0:0 1000",
            "a/b.txt file(5) 644 0:0 101",
            "a/empty dir 700 0:0 1000",
            "a/hard hardlink(a/b.txt) 644 0:0 101",
            "a/link symlink(b.txt) 777 0:0 102",
            "a/zz dir 1777 0:0 105",
            "a/zz/.wh..wh..opq bytes(0) 0 0:0 105",
            "a/zz/.wh.alsogone bytes(0) 0 0:0 1000",
            "a/zz/new file(1) 644 0:0 1000",
            "a.b file(2) 644 0:0 1000",
        ]),
        Case(name: "opaque via user.overlay (userxattr); other values are not opaque", build: { t in
            try t.dir("u")
            try t.xattr("u", "user.overlay.opaque", "y")
            try t.dir("x")
            try t.xattr("x", "trusted.overlay.opaque", "x")
            try t.dir("n")
            try t.xattr("n", "user.overlay.origin", "")
        }, expected: [
            "n dir 755 0:0 1000",
            "u dir 755 0:0 1000",
            "u/.wh..wh..opq bytes(0) 0 0:0 1000",
            "x dir 755 0:0 1000",
        ]),
        Case(name: "exclusions drop subtrees, whiteouts included", build: { t in
            try t.dir("etc")
            try t.file("etc/hosts", "127.0.0.1 x")
            try t.whiteout("etc/resolv.conf")
            try t.file("etc/passwd", "root")
            try t.file("etc/hostname", "h")
            try t.dir("dev/pts")
            try t.file("dev/shm", "")
            try t.dir("run")
            try t.dir("run/secrets/deep")
            try t.file("run/secrets/deep/key", "k")
            try t.file("run/keep", "")
            try t.dir("proc")
        }, excluding: ["etc/hosts", "/etc/resolv.conf", "dev/", "run/secrets", "proc"], expected: [
            "etc dir 755 0:0 1000",
            "etc/hostname file(1) 644 0:0 1000",
            "etc/passwd file(4) 644 0:0 1000",
            "run dir 755 0:0 1000",
            "run/keep file(0) 644 0:0 1000",
        ]),
        Case(name: "host ids map back to container ids; unmapped ids become 65534", build: { t in
            try t.dir("home", owner: (1234, 1234))
            try t.file("home/mine", "", owner: (1234, 4321))
            try t.file("home/range", "", owner: (5003, 6000))
            try t.symlink("home/ln", to: "mine", owner: (7, 7))
            try t.whiteout("home/gone")
        }, idMap: IDMap(hostToContainerUID: [(host: 1234, container: 0, count: 1), (host: 5000, container: 1000, count: 10)],
                        hostToContainerGID: [(host: 1234, container: 0, count: 1), (host: 4321, container: 50, count: 1)]),
        expected: [
            "home dir 755 0:0 1000",
            "home/.wh.gone bytes(0) 0 0:0 1000",
            "home/ln symlink(mine) 777 65534:65534 1000",
            "home/mine file(0) 644 0:50 1000",
            "home/range file(0) 644 1003:65534 1000",
        ]),
        Case(name: "mtimes clamped to SOURCE_DATE_EPOCH, markers too", build: { t in
            try t.dir("d", mtime: 300)
            try t.xattr("d", "trusted.overlay.opaque", "y")
            try t.file("d/old", "", mtime: 100)
            try t.file("d/new", "", mtime: 200)
            try t.whiteout("gone", mtime: 400)
        }, epoch: 150, expected: [
            ".wh.gone bytes(0) 0 0:0 150",
            "d dir 755 0:0 150",
            "d/.wh..wh..opq bytes(0) 0 0:0 150",
            "d/new file(0) 644 0:0 150",
            "d/old file(0) 644 0:0 100",
        ]),
        Case(name: "overlay shares one whiteout inode: hard-linked whiteouts stay whiteouts", build: { t in
            try t.dir("d")
            try t.whiteout("d/one")
            try t.hardlink("d/two", to: "d/one")
            try t.file("f", "1")
            try t.hardlink("g", to: "f")
            try t.hardlink("d/three", to: "f")
        }, expected: [
            "d dir 755 0:0 1000",
            "d/.wh.one bytes(0) 0 0:0 1000",
            "d/.wh.two bytes(0) 0 0:0 1000",
            "d/three file(1) 644 0:0 1000",
            "f hardlink(d/three) 644 0:0 1000",
            "g hardlink(d/three) 644 0:0 1000",
        ]),
        Case(name: "first path of a hard link excluded: the next one carries the content", build: { t in
            try t.dir("etc")
            try t.file("etc/hosts", "h")
            try t.hardlink("etc/z", to: "etc/hosts")
        }, excluding: ["etc/hosts"], expected: [
            "etc dir 755 0:0 1000",
            "etc/z file(1) 644 0:0 1000",
        ]),
        Case(name: "an excluded mount target leaves its NFD twin: names are bytes", build: { t in
            try t.dir("m")
            try t.dir("m/\u{E9}")
            try t.file("m/e\u{301}", "kept")
        }, excluding: ["m/\u{E9}"], expected: [
            "m dir 755 0:0 1000",
            "m/e\u{301} file(4) 644 0:0 1000",
        ]),
        Case(name: "empty upper dir", build: { _ in }, expected: []),
    ]

    func testCases() throws {
        for c in Self.cases {
            let scratch = Scratch()
            let tree = UpperTree(scratch.path)
            do {
                try c.build(tree)
            } catch let skip as XCTSkip {
                print("skipping case \(c.name): \(skip.message ?? "")")
                continue
            }
            try tree.finish()
            // Unprivileged runs: files belong to the current user; map it to 0:0 as a sandbox would.
            let idMap = c.idMap == .identity && geteuid() != 0 ? IDMap.rootless(hostUID: geteuid(), hostGID: getegid()) : c.idMap
            let items = try OverlayDiff.items(upperDir: scratch.path + "/", idMap: idMap, excluding: c.excluding, sourceDateEpoch: c.epoch)
            XCTAssertEqual(items.map { describe($0, upper: scratch.path) }, c.expected, c.name)
        }
    }

    /// The item list written by LayerWriter reads back with tar in the same order, with
    /// whiteouts as empty mode-0 files and hard links as links.
    func testWrittenLayerListsWithTar() throws {
        let scratch = Scratch()
        let upper = scratch.path + "/upper"
        try FileManager.default.createDirectory(atPath: upper, withIntermediateDirectories: true)
        let tree = UpperTree(upper)
        try Self.cases[0].build(tree)
        try tree.finish()
        let items = try OverlayDiff.items(upperDir: upper, sourceDateEpoch: 2000)
        let layer = scratch.path + "/layer.tar.gz"
        _ = try LayerWriter().writeBlocking(items, to: layer)
        let names = try shell("tar -tzf '\(layer)'").text.split(separator: "\n").map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) }
        XCTAssertEqual(names, items.map { describe($0, upper: upper).split(separator: " ")[0] }.map(String.init))
        let verbose = try shell("tar --numeric-owner -tvzf '\(layer)'").text.split(separator: "\n").map(String.init)
        let whiteout = try XCTUnwrap(verbose.first { $0.hasSuffix(" a/.wh.gone") })
        XCTAssertTrue(whiteout.hasPrefix("---------- 0/0 "), whiteout)
        let opaque = try XCTUnwrap(verbose.first { $0.hasSuffix(" a/zz/.wh..wh..opq") })
        XCTAssertTrue(opaque.hasPrefix("---------- 0/0 "), opaque)
        XCTAssertTrue(verbose.contains { $0.hasPrefix("h") && $0.hasSuffix(" a/hard link to a/b.txt") }, verbose.joined(separator: "\n"))
        XCTAssertTrue(verbose.contains { $0.hasPrefix("lrwxrwxrwx") && $0.hasSuffix(" a/link -> b.txt") })
        XCTAssertFalse(verbose.contains { $0.contains("pipe") || $0.contains("null") })
        XCTAssertEqual(try shell("tar -xzOf '\(layer)' a/b.txt").text, "hello")
    }

    func testRejectsWhatCannotBeDiffed() throws {
        let rows: [(String, (UpperTree) throws -> Void, String)] = [
            ("redirected directory", { t in try t.dir("moved"); try t.xattr("moved", "trusted.overlay.redirect", "/orig") }, "redirect_dir=off"),
            ("metacopy file", { t in try t.file("f", ""); try t.xattr("f", "user.overlay.metacopy", "") }, "metacopy=off"),
            ("file named like a whiteout", { t in try t.file(".wh.sneaky", "") }, ".wh.sneaky"),
            ("not a directory", { t in try t.file("plain", "") }, "not a directory"),
        ]
        for (name, build, mention) in rows {
            let scratch = Scratch()
            try build(UpperTree(scratch.path))
            let dir = name == "not a directory" ? scratch.path + "/plain" : scratch.path
            XCTAssertThrowsError(try OverlayDiff.items(upperDir: dir), name) { error in
                self.assertOneLine(error, mentions: mention)
            }
        }
        XCTAssertThrowsError(try OverlayDiff.items(upperDir: "/nonexistent/upper")) { self.assertOneLine($0, mentions: "/nonexistent/upper") }
    }

    func testIDMap() throws {
        XCTAssertEqual(IDMap.identity.containerUID(123456), 123456)
        let rootless = IDMap.rootless(hostUID: 1000, hostGID: 100)
        XCTAssertEqual(rootless.containerUID(1000), 0)
        XCTAssertEqual(rootless.containerGID(100), 0)
        XCTAssertEqual(rootless.containerUID(0), 65534)
        let proc = try XCTUnwrap(IDMap(procUIDMap: "         0       1000          1\n         1     100000      65536\n",
                                       procGIDMap: "0 1000 1\n"))
        XCTAssertEqual(proc.containerUID(1000), 0)
        XCTAssertEqual(proc.containerUID(100000), 1)
        XCTAssertEqual(proc.containerUID(165535), 65536)
        XCTAssertEqual(proc.containerUID(165536), 65534)
        XCTAssertEqual(proc.containerGID(100000), 65534)
        XCTAssertNil(IDMap(procUIDMap: "0 x 1", procGIDMap: ""))
    }

    /// A real overlay mount in a user namespace (`userxattr`): delete a lower file, replace a
    /// lower directory, append to a lower file, hard-link it, make a FIFO.
    func testRealOverlayUpperDir() throws {
        guard hasTool("unshare") else { throw XCTSkip("unshare not installed") }
        let scratch = Scratch()
        let s = scratch.path
        try shell("mkdir -p '\(s)'/L/d/sub '\(s)'/L/e '\(s)'/U '\(s)'/W '\(s)'/M && echo a > '\(s)'/L/d/f && echo b > '\(s)'/L/e/g && echo c > '\(s)'/L/top")
        let script = """
            mount -t overlay overlay -o lowerdir='\(s)/L',upperdir='\(s)/U',workdir='\(s)/W',userxattr '\(s)/M' || exit 99
            cd '\(s)/M' && rm d/f && rm -r e && mkdir e && echo new > e/n && echo x >> top && ln top top2 && mkfifo ff \
              && mkdir -p etc && touch etc/hosts && ln -s ../top d/sub/l
            """
        let result = try shell("unshare -Urm sh -c \"$0\" 2>/dev/null; echo $?", script)
        guard result.text.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
            throw XCTSkip("overlay in a user namespace unavailable (exit \(result.text.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        let items = try OverlayDiff.items(upperDir: s + "/U", idMap: .rootless(hostUID: geteuid(), hostGID: getegid()), excluding: ["etc/hosts"])
        let summary = items.map { item -> String in
            let parts = describe(item, upper: s + "/U").split(separator: " ")
            return "\(parts[0]) \(parts[1]) \(parts[3])"
        }
        XCTAssertEqual(summary, [
            "d dir 0:0",
            "d/.wh.f bytes(0) 0:0",
            "d/sub dir 0:0",
            "d/sub/l symlink(../top) 0:0",
            "e dir 0:0",
            "e/.wh..wh..opq bytes(0) 0:0",
            "e/n file(4) 0:0",
            "etc dir 0:0",
            "top file(4) 0:0",
            "top2 hardlink(top) 0:0",
        ])
    }
}

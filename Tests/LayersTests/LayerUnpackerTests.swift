import Foundation
import XCTest
@testable import Layers

final class LayerUnpackerTests: XCTestCase {
    func e(_ path: String, _ kind: LayerEntry.Kind, _ mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0) -> LayerItem {
        .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: uid, gid: gid, mtimeSeconds: 1_600_000_000))
    }
    func file(_ path: String, _ text: String, _ mode: UInt32 = 0o644, uid: Int = 0) -> LayerItem {
        e(path, .regularFile(.bytes(Array(text.utf8))), mode, uid: uid, gid: uid)
    }

    /// Bottom layer, upper layer with whiteouts, and a gzip/none mix.
    func makeLayers(_ scratch: Scratch) async throws -> [String] {
        let lower: [LayerItem] = [
            e("a", .directory, 0o755), e("a/b", .directory, 0o555),
            file("a/keep", "old keep"), file("a/gone", "gone"), file("a/b/x", "x", 0o4755, uid: 1000),
            e("etc", .directory), file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
            e("o", .directory), file("o/old1", "old1"), e("o/olddir", .directory), file("o/olddir/f", "f"),
            file("h1", "linked"), e("h2", .hardlink(target: "h1")),
            e("s", .symlink(target: "/etc")), e("rel", .symlink(target: "a/keep")),
            e("dir2file", .directory), file("dir2file/inner", "inner"),
        ]
        let upper: [LayerItem] = [
            e("a", .directory, 0o755), file("a/.wh.gone", ""), file("a/keep", "new keep", uid: 100000),
            e("o", .directory, 0o700), file("o/new", "new"), file("o/.wh..wh..opq", ""),
            file("dir2file", "now a file"), file("etc/.wh.nothing", ""),
        ]
        let l1 = scratch.file("l1.tgz"), l2 = scratch.file("l2.tar")
        _ = try await LayerWriter().write(lower, to: l1)
        _ = try await LayerWriter(compression: .none).write(upper, to: l2)
        return [l1, l2]
    }

    func testUnpackAppliesWhiteoutsAndKeepsLinks() async throws {
        let scratch = Scratch()
        let layers = try await makeLayers(scratch)
        let root = scratch.file("root")
        let table = try LayerUnpacker.unpack(layers: layers, into: root)
        let fm = FileManager.default
        let present: [(String, String?)] = [
            ("a/keep", "new keep"), ("a/b/x", "x"), ("o/new", "new"), ("h1", "linked"), ("h2", "linked"),
            ("dir2file", "now a file"), ("etc/passwd", nil),
        ]
        for (path, content) in present {
            XCTAssertTrue(fm.fileExists(atPath: root + "/" + path), path)
            if let content { XCTAssertEqual(try String(contentsOfFile: root + "/" + path, encoding: .utf8), content, path) }
        }
        for path in ["a/gone", "a/.wh.gone", "o/old1", "o/olddir", "o/.wh..wh..opq", "dir2file/inner"] {
            XCTAssertFalse(fm.fileExists(atPath: root + "/" + path), path)
        }
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: root + "/s"), "/etc")
        XCTAssertEqual(try shell("stat -c %i '\(root)/h1' '\(root)/h2' | uniq | wc -l").text, "1\n")
        XCTAssertEqual(table.owners["a/keep"], Owner(uid: 100000, gid: 100000))
        XCTAssertEqual(table.owners["a/b/x"], Owner(uid: 1000, gid: 1000))
        XCTAssertEqual(table.modes["a/b/x"], 0o4755)
        XCTAssertEqual(table.modes["a/b"], 0o555)
        XCTAssertEqual(table.modes["o"], 0o700)
        XCTAssertNil(table.owners["a/gone"])
        XCTAssertNil(table.owners["o/old1"])
        XCTAssertNil(table.owners["dir2file/inner"])
    }

    func testReadFileThroughWhiteouts() async throws {
        let scratch = Scratch()
        let layers = try await makeLayers(scratch)
        let cases: [(String, String?)] = [
            ("/etc/passwd", "root:x:0:0::/root:/bin/sh\n"), ("a/keep", "new keep"), ("a/gone", nil),
            ("o/old1", nil), ("o/olddir/f", nil), ("o/new", "new"), ("/h2", "linked"), ("rel", "new keep"),
            ("s/passwd", nil), ("dir2file", "now a file"), ("dir2file/inner", nil), ("missing", nil), ("a", nil),
        ]
        for (path, expected) in cases {
            XCTAssertEqual(try LayerUnpacker.readFile(path, fromLayers: layers).map { String(decoding: $0, as: UTF8.self) },
                           expected, path)
        }
    }

    func testDeviceNodesAreSkippedAndEscapesRefused() throws {
        let scratch = Scratch()
        try shell("""
            cd '\(scratch.path)' && python3 -c "
            import tarfile, io
            with tarfile.open('dev.tar', 'w') as t:
                d = tarfile.TarInfo('dev'); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
                n = tarfile.TarInfo('dev/null'); n.type = tarfile.CHRTYPE; n.devmajor = 1; n.devminor = 3; t.addfile(n)
                f = tarfile.TarInfo('dev/ok'); f.size = 2; t.addfile(f, io.BytesIO(b'ok'))
            with tarfile.open('evil.tar', 'w') as t:
                s = tarfile.TarInfo('s'); s.type = tarfile.SYMTYPE; s.linkname = '/tmp'; t.addfile(s)
                f = tarfile.TarInfo('s/escaped-\(UUID().uuidString)'); f.size = 1; t.addfile(f, io.BytesIO(b'x'))"
            """)
        let root = scratch.file("root")
        let table = try LayerUnpacker.unpack(layers: [scratch.file("dev.tar")], into: root)
        XCTAssertEqual(table.skipped, ["dev/null"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/dev/ok"))
        XCTAssertThrowsError(try LayerUnpacker.unpack(layers: [scratch.file("evil.tar")], into: scratch.file("root2"))) {
            self.assertOneLine($0, mentions: self.scratchName(scratch, "evil.tar"))
        }
    }

    func scratchName(_ scratch: Scratch, _ name: String) -> String { scratch.file(name) }

    func testCorruptLayerGivesOneLineError() throws {
        let scratch = Scratch()
        let bad = scratch.file("bad.tgz")
        try Data([0x1f, 0x8b, 8, 0] + [UInt8](repeating: 7, count: 600)).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try LayerUnpacker.unpack(layers: [bad], into: scratch.file("r"))) { assertOneLine($0, mentions: bad) }
        XCTAssertThrowsError(try LayerUnpacker.readFile("x", fromLayers: [bad])) { assertOneLine($0, mentions: bad) }
    }
}

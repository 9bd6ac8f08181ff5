import Foundation
import XCTest

/// Every read of a stored blob is verified: a base layer whose bytes no longer match its
/// digest fails RUN's unpack, COPY --from and the header index with one line naming the image
/// and the layer, and leaves the store as it was. ADD refuses hostile archives at its own line.
final class BlobVerificationTests: XCTestCase {
    let base = "swiftdock.local/verify-base:v1"

    private func flipByte(in path: String) throws {
        _ = chmod(path, 0o644)
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x5a
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func testACorruptBaseLayerFailsEveryReadPathNamingImageAndLayer() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.ok("build", "-q", "-t", base, try LazyBaseTests.makeBaseContext())
        let layer = try XCTUnwrap(try LazyBaseTests.layerDigests(base, in: swiftdock).first)
        let context = try Harness.makeTemporaryDirectory("verify")
        try Harness.write("a", to: context + "/a.txt")
        // First a good build, so the header index is cached and RUN reaches the unpack.
        try Harness.write("FROM \(base)\nCOPY a.txt /tmp\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", context)
        try flipByte(in: swiftdock.home + "/blobs/sha256/" + layer.dropFirst(7))

        let cases: [(name: String, dockerfile: String, line: Int, clearIndex: Bool)] = [
            ("RUN unpacks the base", "FROM \(base)\nRUN [\"/nothing\"]\n", 2, false),
            ("COPY --from a stage", "FROM \(base) AS b\nFROM scratch\nCOPY --from=b /etc/passwd /p\n", 3, false),
            ("COPY --from an image", "FROM scratch\nCOPY --from=\(base) /etc/passwd /p\n", 2, false),
            ("the header index", "FROM \(base)\nCOPY a.txt /tmp\n", 2, true),
        ]
        for c in cases {
            if c.clearIndex { try? FileManager.default.removeItem(atPath: swiftdock.home + "/cache/layer-index") }
            try Harness.write(c.dockerfile, to: context + "/Dockerfile")
            let before = try swiftdock.fingerprint()
            let result = try swiftdock("build", "-q", context)
            XCTAssertEqual(result.status, 1, "\(c.name): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            XCTAssertEqual(lines.count, 1, "\(c.name): \(result.stderr)")
            let line = String(lines.first ?? "")
            XCTAssertTrue(line.contains("Dockerfile:\(c.line)"), "\(c.name): \(line)")
            XCTAssertTrue(line.contains(base.replacingOccurrences(of: ":v1", with: "")) && line.contains(String(layer)), "\(c.name): \(line)")
            XCTAssertTrue(line.contains("corrupt"), "\(c.name): \(line)")
            XCTAssertEqual(try swiftdock.fingerprint(), before, "\(c.name): the store is left as it was")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: swiftdock.home + "/cache/layer-index/" + layer.dropFirst(7)))
    }

    func testAddRefusesHostileArchivesAtItsOwnLine() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.ok("images")  // creates the store, so the fingerprints compare like with like
        let context = try Harness.makeTemporaryDirectory("hostile-add")
        try Harness.sh("""
            cd '\(context)' && python3 -c "
            import io, tarfile
            def f(t, name):
                i = tarfile.TarInfo(name); i.size = 1; t.addfile(i, io.BytesIO(b'x'))
            def l(t, name, target, kind=tarfile.SYMTYPE):
                i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; t.addfile(i)
            with tarfile.open('beneath.tar', 'w') as t: l(t, 'l', '/host/x'); f(t, 'l/file')
            with tarfile.open('whiteout.tar', 'w') as t: l(t, 'l', '/etc'); f(t, 'l/.wh.passwd')
            with tarfile.open('hardlink.tar', 'w') as t: l(t, 'h', 'etc/shadow', tarfile.LNKTYPE)
            with tarfile.open('dotdot.tar', 'w') as t: f(t, '../../escape')
            "
            """)
        let cases: [(String, String)] = [
            ("beneath.tar", "beneath \"l\""), ("whiteout.tar", "whiteout"), ("hardlink.tar", "hard link"), ("dotdot.tar", "climbs out"),
        ]
        for (archive, reason) in cases {
            try Harness.write("FROM scratch\nADD \(archive) /t/\n", to: context + "/Dockerfile")
            let before = try swiftdock.fingerprint()
            let result = try swiftdock("build", "-q", "-t", "swiftdock.local/hostile", context)
            XCTAssertEqual(result.status, 1, "\(archive): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("Dockerfile:2: ADD: \(archive): archive refused: "), "\(archive): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(reason), "\(archive): \(result.stderr)")
            XCTAssertEqual(try swiftdock.fingerprint(), before, archive)
        }
    }
}

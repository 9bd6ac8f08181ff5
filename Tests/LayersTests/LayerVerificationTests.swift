import Foundation
import ImageModel
import XCTest
@testable import Layers

/// Reading a layer blob with its digest verifies the bytes on the way, for every read path
/// (header index, unpack, single-file lookup); ADD's archive checks refuse hostile entries.
final class LayerVerificationTests: XCTestCase {
    /// A gzipped layer with a directory, a file, a symlink and a hard link, and its digest.
    private func makeLayer(_ scratch: Scratch) throws -> (path: String, digest: Digest) {
        let result = try shell("""
            set -e; cd "$0"; mkdir -p tree/etc tree/srv; printf 'root:x:0:0::/root:/bin/sh\\n' > tree/etc/passwd
            ln -s /srv tree/data; ln tree/etc/passwd tree/etc/passwd-; chmod 0750 tree/srv
            tar --sort=name --numeric-owner --owner=7 --group=8 --mtime=@0 -C tree -czf layer.tgz .
            """, scratch.path)
        XCTAssertEqual(result.status, 0, result.stderrText)
        let path = scratch.file("layer.tgz")
        return (path, try SHA256Stream.digest(ofFile: path))
    }

    private func corruptCopy(_ path: String, _ scratch: Scratch, at offset: Int) throws -> String {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] ^= 0x5a
        let bad = scratch.file("bad-\(offset).tgz")
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        return bad
    }

    func testHeadersCarryTypesOwnersModesAndLinkTargets() throws {
        let scratch = Scratch()
        let layer = try makeLayer(scratch)
        let headers = try LayerHeaders.read(blobPath: layer.path, digest: layer.digest)
        let byPath = Dictionary(headers.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
        XCTAssertEqual(byPath["srv"]?.kind, .directory)
        XCTAssertEqual(byPath["srv"]?.mode, 0o750)
        XCTAssertEqual(byPath["srv"].map { [$0.uid, $0.gid] }, [7, 8])
        XCTAssertEqual(byPath["data"]?.kind, .symlink)
        XCTAssertEqual(byPath["data"]?.linkTarget, "/srv")
        let links = headers.filter { $0.kind == .hardlink }
        XCTAssertEqual(links.count, 1)
        XCTAssertTrue(["etc/passwd", "etc/passwd-"].contains(links.first?.linkTarget ?? ""), "\(links)")
    }

    func testEveryReadPathRefusesBytesThatDoNotMatchTheDigest() throws {
        let scratch = Scratch()
        let layer = try makeLayer(scratch)
        let size = try Array(Data(contentsOf: URL(fileURLWithPath: layer.path))).count
        // Damage in the compressed data, and in the gzip trailer (after the tar's end).
        for offset in [size / 2, size - 2] {
            let bad = LayerBlob(path: try corruptCopy(layer.path, scratch, at: offset), digest: layer.digest)
            let reads: [(String, () throws -> Void)] = [
                ("headers", { _ = try LayerHeaders.read(blobPath: bad.path, digest: layer.digest) }),
                ("unpack", { _ = try LayerUnpacker.unpack(blobs: [bad], into: scratch.file("root-\(offset)")) }),
                ("readFile", { _ = try LayerUnpacker.readFile("etc/passwd", fromBlobs: [bad]) }),
            ]
            for (name, read) in reads {
                XCTAssertThrowsError(try read(), "\(name) at \(offset)") { error in
                    guard case LayerError.digestMismatch(let path, let expected, _)? = error as? LayerError else {
                        return XCTFail("\(name) at \(offset): \(error)")
                    }
                    XCTAssertEqual(path, bad.path)
                    XCTAssertEqual(expected, layer.digest)
                    XCTAssertFalse("\(error)".contains("\n"))
                }
            }
        }
        // The intact blob passes every path.
        let good = LayerBlob(path: layer.path, digest: layer.digest)
        XCTAssertEqual(try LayerUnpacker.readFile("etc/passwd-", fromBlobs: [good]).map { String(decoding: $0, as: UTF8.self) },
                       "root:x:0:0::/root:/bin/sh\n")
        XCTAssertNoThrow(try LayerUnpacker.unpack(blobs: [good], into: scratch.file("root-good")))
    }

    func testArchiveChecksRefuseWhatDockerRefuses() throws {
        let scratch = Scratch()
        let result = try shell("""
            cd "$0" && python3 -c "
            import io, tarfile
            def f(t, name, data=b'x'):
                i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
            def l(t, name, target, kind=tarfile.SYMTYPE):
                i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; t.addfile(i)
            def d(t, name):
                i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
            with tarfile.open('beneath-symlink.tar', 'w') as t: l(t, 'l', '/host/x'); f(t, 'l/file')
            with tarfile.open('whiteout-beneath-symlink.tar', 'w') as t: l(t, 'l', '/etc'); f(t, 'l/.wh.passwd', b'')
            with tarfile.open('whiteout.tar', 'w') as t: d(t, 'a'); f(t, 'a/.wh.b', b'')
            with tarfile.open('opaque.tar', 'w') as t: d(t, 'a'); f(t, 'a/.wh..wh..opq', b'')
            with tarfile.open('dotdot.tar', 'w') as t: f(t, '../escape')
            with tarfile.open('deep-dotdot.tar', 'w') as t: f(t, 'a/../../escape')
            with tarfile.open('outside-hardlink.tar', 'w') as t: l(t, 'h', 'etc/shadow', tarfile.LNKTYPE)
            with tarfile.open('later-hardlink.tar', 'w') as t: l(t, 'h', 'f', tarfile.LNKTYPE); f(t, 'f')
            with tarfile.open('combining-whiteout.tar', 'w') as t: d(t, 'a'); f(t, 'a/.wh.\\u0301b', b'')
            with tarfile.open('nfd-hardlink.tar', 'w') as t: f(t, '\\u00e9'); l(t, 'h', 'e\\u0301', tarfile.LNKTYPE)
            with tarfile.open('nfc-nfd.tar', 'w') as t: l(t, 'e\\u0301', '/etc'); d(t, '\\u00e9'); f(t, '\\u00e9/x')
            with tarfile.open('fine.tar', 'w') as t:
                d(t, 'a'); f(t, 'a/f'); l(t, 'a/h', 'a/f', tarfile.LNKTYPE); l(t, 'a/s', '/etc'); f(t, '/abs/f')
                l(t, 'r', 'a'); d(t, 'r'); f(t, 'r/x')
            "
            """, scratch.path)
        XCTAssertEqual(result.status, 0, result.stderrText)
        let cases: [(String, String?)] = [
            ("beneath-symlink.tar", "lies beneath \"l\""),
            ("whiteout-beneath-symlink.tar", "whiteout"),
            ("whiteout.tar", "whiteout"),
            ("opaque.tar", "whiteout"),
            ("dotdot.tar", "climbs out"),
            ("deep-dotdot.tar", "climbs out"),
            ("outside-hardlink.tar", "hard link to \"etc/shadow\""),
            ("later-hardlink.tar", "hard link to \"f\""),
            // Bytes, not canonical equivalence: `.wh.` then a combining mark is a whiteout; a
            // hard link to `e` + U+0301 has no target when only `é` (U+00E9) came before; a
            // directory `é` is not beneath a symlink `e` + U+0301.
            ("combining-whiteout.tar", "whiteout"),
            ("nfd-hardlink.tar", "hard link to"),
            ("nfc-nfd.tar", nil),
            ("fine.tar", nil),
        ]
        for (name, expected) in cases {
            if let expected {
                XCTAssertThrowsError(try ArchiveSafety.check(path: scratch.file(name)), name) { error in
                    XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
                    XCTAssertFalse("\(error)".contains("\n"))
                }
            } else {
                XCTAssertNoThrow(try ArchiveSafety.check(path: scratch.file(name)), name)
            }
        }
    }
}

import Foundation
import XCTest
@testable import Layers

/// ADD auto-extraction: `.archive` items and `ArchiveDetector`.
final class ArchiveItemTests: XCTestCase {
    /// (file name, tar flag, tool needed)
    let formats: [(String, String, String)] = [
        ("a.tar", "", "tar"), ("a.tar.gz", "-z", "gzip"), ("a.tar.bz2", "-j", "bzip2"),
        ("a.tar.xz", "-J", "xz"), ("a.tar.zst", "--zstd", "zstd"),
    ]

    /// A source tree with a file, a nested dir, a symlink and a hard link, tarred relative to ".".
    func makeFixtures(_ scratch: Scratch) throws -> [(String, String)] {
        let src = scratch.file("src")
        try shell("""
            set -e; mkdir -p '\(src)/sub/deep'; printf 'hello\\n' > '\(src)/hello.txt'
            head -c 300000 /dev/urandom > '\(src)/sub/deep/random.bin'
            ln -s hello.txt '\(src)/link'; ln '\(src)/hello.txt' '\(src)/sub/hard'
            chmod 4750 '\(src)/sub/deep/random.bin'
            """)
        var made: [(String, String)] = []
        for (name, flag, tool) in formats {
            guard hasTool(tool) else { print("skipping \(name): \(tool) not installed"); continue }
            let path = scratch.file(name)
            let r = try shell("tar \(flag) -cf '\(path)' --owner=5 --group=6 --numeric-owner -C '\(src)' .")
            XCTAssertEqual(r.status, 0, name)
            made.append((name, path))
        }
        return made
    }

    func testArchivesAreReRootedUnderTheirDestination() async throws {
        let scratch = Scratch()
        for (name, archive) in try makeFixtures(scratch) {
            for owner in [nil, Owner(uid: 7, gid: 8)] {
                let out = scratch.file("layer-\(name)")
                let items: [LayerItem] = [
                    .entry(LayerEntry(path: "opt", kind: .directory, mode: 0o755, mtimeSeconds: 1)),
                    .archive(archivePath: archive, destination: "/opt/x/", owner: owner),
                ]
                _ = try await LayerWriter().write(items, to: out)
                let entries = try readArchive(out)
                let byPath = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { $1 })
                XCTAssertEqual(Set(entries.map(\.path)), [
                    "opt/", "opt/x/hello.txt", "opt/x/link", "opt/x/sub/", "opt/x/sub/hard",
                    "opt/x/sub/deep/", "opt/x/sub/deep/random.bin",
                ], name)
                XCTAssertEqual(byPath["opt/x/hello.txt"]?.content, Array("hello\n".utf8), name)
                XCTAssertEqual(byPath["opt/x/sub/deep/random.bin"]?.content.count, 300000, name)
                XCTAssertEqual(byPath["opt/x/sub/deep/random.bin"]?.perm, 0o4750, name)
                XCTAssertEqual(byPath["opt/x/link"]?.symlink, "hello.txt", name)
                let hard = ["opt/x/hello.txt", "opt/x/sub/hard"]
                XCTAssertTrue(hard.contains(byPath["opt/x/sub/hard"]?.hardlink ?? byPath["opt/x/hello.txt"]?.hardlink ?? ""), name)
                XCTAssertEqual(byPath["opt/x/hello.txt"]?.uid, owner?.uid ?? 5, name)
                XCTAssertEqual(byPath["opt/x/hello.txt"]?.gid, owner?.gid ?? 6, name)
                XCTAssertEqual(byPath["opt/x/hello.txt"]?.uname ?? "", "", name)
                XCTAssertEqual(try shell("gzip -t '\(out)'").status, 0, name)
            }
        }
    }

    func testArchiveAtRootAndEpochClamp() async throws {
        let scratch = Scratch()
        guard let (_, archive) = try makeFixtures(scratch).first else { return }
        let out = scratch.file("l")
        _ = try await LayerWriter(sourceDateEpoch: 10).write([.archive(archivePath: archive, destination: "", owner: nil)], to: out)
        let entries = try readArchive(out)
        XCTAssertTrue(entries.contains { $0.path == "hello.txt" })
        XCTAssertTrue(entries.allSatisfy { $0.mtime == 10 })
    }

    func testUnsafeArchiveEntriesAreRejected() async throws {
        let scratch = Scratch()
        let archive = scratch.file("evil.tar")
        try shell("""
            cd '\(scratch.path)' && python3 -c "
            import tarfile, io
            with tarfile.open('evil.tar', 'w') as t:
                i = tarfile.TarInfo('../escape'); i.size = 1; t.addfile(i, io.BytesIO(b'x'))"
            """)
        do {
            _ = try await LayerWriter().write([.archive(archivePath: archive, destination: "d", owner: nil)], to: scratch.file("o"))
            XCTFail("no error")
        } catch {
            assertOneLine(error, mentions: archive)
        }
    }

    func testDetectorRecognisesOnlyTarFamily() throws {
        let scratch = Scratch()
        var cases: [(String, Bool)] = try makeFixtures(scratch).map { ($0.1, true) }
        try shell("""
            cd '\(scratch.path)' && printf 'just text\\n' > text.txt && gzip -k text.txt && : > empty
            head -c 5000 /dev/urandom > random.bin
            cp a.tar tar-named.zip 2>/dev/null || true
            python3 -c "
            import zipfile
            with zipfile.ZipFile('a.zip', 'w') as z: z.writestr('x.txt', 'hi')"
            """)
        cases += [
            (scratch.file("text.txt"), false), (scratch.file("text.txt.gz"), false), (scratch.file("empty"), false),
            (scratch.file("random.bin"), false), (scratch.file("a.zip"), false), (scratch.file("missing"), false),
            (scratch.file("tar-named.zip"), true),  // content decides, not the name
        ]
        for (path, expected) in cases {
            XCTAssertEqual(ArchiveDetector.isExtractableArchive(path: path), expected, path)
        }
    }
}

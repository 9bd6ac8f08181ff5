import Foundation
import XCTest
import PathEncoding
@testable import Layers

/// Names that are not UTF-8 go into a layer with their exact bytes, in Go's `archive/tar` form
/// (a pax `path` record with the raw bytes and no `hdrcharset`), whether they come from the
/// context or from an archive ADD extracts; GNU tar lists and extracts them, libarchive and the
/// unpacker read them back.
final class BinaryNameHeaderTests: XCTestCase {
    static let ff: [UInt8] = [0xFF, 0xFE]
    static let latin1: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)

    static func name(_ parts: [UInt8]...) -> String { PathBytes.string(parts.joined()) }

    /// The uncompressed tar of a layer.
    func tarBytes(_ layer: String) throws -> [UInt8] {
        let r = try shell("gzip -dc \"$0\"", layer)
        XCTAssertEqual(r.status, 0)
        return Array(r.stdout)
    }

    func occurrences(_ haystack: [UInt8], _ needle: [UInt8]) -> Int {
        guard needle.count <= haystack.count else { return 0 }
        return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }.count
    }

    func testContextNamesAreWrittenByteExactInGoForm() async throws {
        let scratch = Scratch()
        // A host file whose own name is not UTF-8 (the layer reads it through that name).
        let hostFile = Self.name(Array((scratch.path + "/host-").utf8), Self.ff)
        let fd = PathBytes.withCString(hostFile) { open($0, O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(write(fd, "from disk\n", 10), 10)
        close(fd)

        let t: Int64 = 1_700_000_000
        // (layer path, kind, expected content)
        let table: [(String, LayerEntry.Kind, String?)] = [
            (Self.name(Array("d".utf8)), .directory, nil),
            (Self.name(Array("d/".utf8), Self.ff), .regularFile(.bytes(Array("bytes\n".utf8))), "bytes\n"),
            (Self.name(Array("d/".utf8), Self.latin1), .regularFile(.file(path: hostFile, size: 10)), "from disk\n"),
            (Self.name(Array("d/sub-".utf8), Self.ff), .directory, nil),
            (Self.name(Array("d/sub-".utf8), Self.ff, Array("/deep".utf8)), .regularFile(.bytes([])), ""),
            (Self.name(Array("d/link".utf8)), .symlink(target: Self.name(Self.ff)), nil),
            (Self.name(Array("d/hard-".utf8), Self.ff), .hardlink(target: Self.name(Array("d/".utf8), Self.ff)), nil),
            (Self.name(Array("d/".utf8), [UInt8](repeating: 0xE9, count: 120)), .regularFile(.bytes(Array("long\n".utf8))), "long\n"),
            (Self.name(Array("d/after.txt".utf8)), .regularFile(.bytes(Array("plain\n".utf8))), "plain\n"),
            (Self.name(Array("d/longlink".utf8)), .symlink(target: Self.name([UInt8](repeating: 0xFF, count: 120))), nil),
        ]
        let items = table.map { LayerItem.entry(LayerEntry(path: $0.0, kind: $0.1, mode: 0o644, uid: 3_000_000, gid: 7, mtimeSeconds: t)) }
        let layer = scratch.file("layer.tgz")
        _ = try await LayerWriter().write(items, to: layer)

        // libarchive reads each name and target back as the same bytes.
        let entries = try readArchive(layer)
        XCTAssertEqual(entries.map { PathBytes.bytes($0.path) },
                       table.map { PathBytes.bytes($0.0) + ($0.1 == .directory ? [UInt8(ascii: "/")] : []) })
        for (entry, row) in zip(entries, table) {
            if let content = row.2 { XCTAssertEqual(entry.content, Array(content.utf8), PathBytes.display(row.0)) }
            XCTAssertEqual(entry.uid, 3_000_000)  // beyond ustar's octal field: a pax `uid` record
            XCTAssertEqual(entry.mtime, t)
        }
        XCTAssertEqual(entries[5].symlink.map(PathBytes.bytes), Self.ff)
        XCTAssertEqual(entries[6].hardlink.map(PathBytes.bytes), Array("d/".utf8) + Self.ff)
        XCTAssertEqual(entries[9].symlink.map(PathBytes.bytes), [UInt8](repeating: 0xFF, count: 120))

        // Go's form: the raw bytes in a `path` record, no `hdrcharset` record — except for the
        // long symlink target libarchive could not read back otherwise.
        let tar = try tarBytes(layer)
        XCTAssertEqual(occurrences(tar, Array("hdrcharset=BINARY".utf8)), 1)
        XCTAssertEqual(1, occurrences(tar, Array("13 path=d/".utf8) + Self.ff + [0x0A]))
        XCTAssertEqual(occurrences(tar, Array("linkpath=".utf8)), 2)  // the hard link's and the long target's

        // GNU tar lists every entry, and extracts the exact names; its one remark is about the
        // long target's `hdrcharset`, a keyword GNU tar 1.34 does not know.
        let listed = try shell("LC_ALL=C tar --list -v --quoting-style=escape -zf \"$0\"", layer)
        XCTAssertEqual(listed.status, 0, listed.stderrText)
        XCTAssertEqual(listed.stderrText, "tar: Ignoring unknown extended header keyword 'hdrcharset'\n")
        XCTAssertTrue(listed.text.contains("d/longlink -> " + String(repeating: "\\377", count: 120) + "\n"), listed.text)
        XCTAssertTrue(listed.text.contains("d/\\377\\376\n"), listed.text)
        XCTAssertTrue(listed.text.contains("d/link -> \\377\\376\n"), listed.text)
        XCTAssertTrue(listed.text.contains("d/hard-\\377\\376 link to d/\\377\\376\n"), listed.text)
        let tree = scratch.file("gnu")
        let extracted = try shell("mkdir \"$1\" && LC_ALL=C tar -xzf \"$0\" -C \"$1\"", layer, tree)
        XCTAssertEqual(extracted.status, 0, extracted.stderrText)
        // The unpacker (base layers for RUN) writes them to disk too.
        let root = scratch.file("root")
        _ = try LayerUnpacker.unpack(layers: [layer], into: root)
        for dir in [tree, root] {
            for row in table where row.2 != nil {
                let path = Self.name(Array((dir + "/").utf8), PathBytes.bytes(row.0))
                let text = PathBytes.withCString(path) { p -> String? in
                    guard let f = fopen(p, "r") else { return nil }
                    defer { fclose(f) }
                    var buffer = [CChar](repeating: 0, count: 64)
                    return fgets(&buffer, 64, f).map { String(cString: $0) } ?? ""
                }
                XCTAssertEqual(text, row.2, "\(dir): \(PathBytes.display(row.0))")
            }
        }
    }

    /// ADD of a local archive whose entries are not UTF-8: written with their bytes, not U+FFFD.
    func testArchiveEntriesKeepTheirBytes() async throws {
        let scratch = Scratch()
        let archive = scratch.file("names.tar")
        let made = try shell("""
            set -e; mkdir -p "$0/src/dir" && cd "$0/src" && printf 'ff\\n' > "$(printf 'dir/\\377\\376')" && \
            ln -s "$(printf '\\377\\376')" dir/link && ln "$(printf 'dir/\\377\\376')" "$(printf 'dir/hard\\351')" && \
            LC_ALL=C tar --format=pax --owner=1 --group=2 --numeric-owner -cf "$1" dir
            """, scratch.path, archive)
        XCTAssertEqual(made.status, 0, made.stderrText)
        let layer = scratch.file("layer.tgz")
        _ = try await LayerWriter().write([.archive(archivePath: archive, destination: "opt", owner: Owner(uid: 9, gid: 8))], to: layer)
        let entries = try readArchive(layer)
        let byName = Dictionary(entries.map { (PathBytes.bytes($0.path), $0) }, uniquingKeysWith: { a, _ in a })
        // GNU tar stores the file under its first name in the walk (`hard\351`), then `\377\376` as its link.
        let file = try XCTUnwrap(byName[Array("opt/dir/hard".utf8) + [0xE9]], "\(entries.map { PathBytes.display($0.path) })")
        XCTAssertEqual(file.content, Array("ff\n".utf8))
        XCTAssertEqual([file.uid, file.gid], [9, 8])
        XCTAssertEqual(byName[Array("opt/dir/link".utf8)]?.symlink.map(PathBytes.bytes), Self.ff)
        let hard = try XCTUnwrap(byName[Array("opt/dir/".utf8) + Self.ff])
        XCTAssertEqual(hard.hardlink.map(PathBytes.bytes), Array("opt/dir/hard".utf8) + [0xE9])
        XCTAssertFalse(entries.contains { $0.path.contains("\u{FFFD}") })
        XCTAssertEqual(occurrences(try tarBytes(layer), Array("hdrcharset".utf8)), 0)
        let listed = try shell("LC_ALL=C tar --list --quoting-style=escape -zf \"$0\"", layer)
        XCTAssertEqual(listed.stderrText, "")
        XCTAssertTrue(listed.text.contains("opt/dir/\\377\\376\n"), listed.text)
        XCTAssertTrue(listed.text.contains("opt/dir/hard\\351\n"), listed.text)
    }

    /// The ustar block is Go's: checksum as six octal digits, NUL, space; names ASCII only.
    func testHeaderBlockTable() {
        let cases: [(BinaryNameHeader, recordSubstring: String)] = [
            (BinaryNameHeader(path: [0x61, 0xFF], type: .regular, mode: 0o644, uid: 0, gid: 0, size: 5, mtime: 0), "11 path=a"),
            (BinaryNameHeader(path: [0x64, 0xFF], type: .directory, mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0), "12 path=d"),
        ]
        for (header, record) in cases {
            let bytes = header.bytes
            XCTAssertEqual(bytes.count % 512, 0)
            let ustar = Array(bytes.suffix(512))
            XCTAssertEqual(Array(ustar[257..<265]), Array("ustar\0".utf8) + Array("00".utf8))
            var sum = 0
            for (i, b) in ustar.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
            XCTAssertEqual(String(decoding: ustar[148..<154], as: UTF8.self), String(format: "%06o", sum))
            XCTAssertEqual(Array(ustar[154..<156]), [0, 0x20])
            XCTAssertFalse(ustar[0..<100].contains { $0 >= 0x80 })
            XCTAssertTrue(String(decoding: bytes.prefix(1024), as: UTF8.self).contains(record))
        }
        XCTAssertEqual(BinaryNameHeader.record(Array("path".utf8), Array(String(repeating: "x", count: 91).utf8)).count, 101)
        XCTAssertEqual(Array(BinaryNameHeader.record(Array("path".utf8), Array(String(repeating: "x", count: 91).utf8)).prefix(4)), Array("101 ".utf8))
    }
}

import CArchive
import Foundation
import XCTest
@testable import Layers

/// Names libarchive's header writer crashed on under the C locale (issue 10), and the shapes
/// tar formats struggle with, written as pax headers and read back byte for byte by libarchive,
/// GNU tar and the layer unpacker. The test process runs under whatever locale CI gives it;
/// `ArchiveLocale` must make that irrelevant, so the names are also written under `LC_ALL=C`.
final class FileNameTests: XCTestCase {
    static let names = [
        "Übersicht.ipynb", "日本語.txt", "emoji-😀.txt", "with space.txt", "new\nline.txt",
        String(repeating: "n", count: 251) + ".txt",
        (0..<8).map { "ordner-\($0)-" + String(repeating: "ä", count: 20) }.joined(separator: "/") + "/tief.txt",
    ]

    func items() -> [LayerItem] {
        var items: [LayerItem] = []
        var directories = Set<String>()
        for (i, name) in Self.names.enumerated() {
            var parent = ""
            for part in name.split(separator: "/").dropLast() {
                parent = parent.isEmpty ? String(part) : parent + "/" + part
                if directories.insert(parent).inserted {
                    items.append(.entry(LayerEntry(path: "data/" + parent, kind: .directory, mode: 0o755, mtimeSeconds: 1_700_000_000)))
                }
            }
            items.append(.entry(LayerEntry(path: "data/" + name, kind: .regularFile(.bytes(Array("file \(i)\n".utf8))),
                                           mode: 0o644, mtimeSeconds: 1_700_000_000)))
        }
        items.append(.entry(LayerEntry(path: "data/link-😀", kind: .symlink(target: "Übersicht.ipynb"), mode: 0o777, mtimeSeconds: 1_700_000_000)))
        items.append(.entry(LayerEntry(path: "data/hard-日本", kind: .hardlink(target: "data/日本語.txt"), mode: 0o644, mtimeSeconds: 1_700_000_000)))
        return items
    }

    func testNonASCIINamesRoundTripUnderAnyLocale() async throws {
        let scratch = Scratch()
        let layerPath = scratch.file("layer.tgz")
        let previous = setlocale(LC_ALL, nil).map { String(cString: $0) } ?? "C"
        setlocale(LC_ALL, "C")  // the locale that crashed libarchive
        defer { setlocale(LC_ALL, previous) }
        _ = try await LayerWriter().write(items(), to: layerPath)

        let entries = try readArchive(layerPath)
        let files = Self.names.map { "data/" + $0 }
        for name in files + ["data/link-😀", "data/hard-日本"] {
            XCTAssertTrue(entries.contains { $0.path == name }, "missing \(name.debugDescription)")
        }
        XCTAssertEqual(entries.first { $0.path == "data/link-😀" }?.symlink, "Übersicht.ipynb")
        XCTAssertEqual(entries.first { $0.path == "data/hard-日本" }?.hardlink, "data/日本語.txt")

        // GNU tar extracts the exact names, in either locale, and warns about nothing (no
        // `hdrcharset` record for UTF-8 names).
        for locale in ["C", "C.UTF-8"] {
            let tree = scratch.file("gnu-" + locale)
            let extracted = try shell("mkdir \"$1\" && LC_ALL=\(locale) tar -xzf \"$0\" -C \"$1\"", layerPath, tree)
            XCTAssertEqual(extracted.status, 0, extracted.stderrText)
            XCTAssertEqual(extracted.stderrText, "", locale)
            for (i, name) in Self.names.enumerated() {
                XCTAssertEqual(try? String(contentsOfFile: tree + "/data/" + name, encoding: .utf8), "file \(i)\n",
                               "\(locale): GNU tar lost \(name.debugDescription)")
            }
        }

        // The unpacker (base layers for RUN) writes the same names to disk.
        let root = scratch.file("root")
        _ = try LayerUnpacker.unpack(layers: [layerPath], into: root)
        for (i, name) in Self.names.enumerated() {
            XCTAssertEqual(try? String(contentsOfFile: root + "/data/" + name, encoding: .utf8), "file \(i)\n", name.debugDescription)
        }
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/data/link-😀"), "Übersicht.ipynb")
    }

    /// A name that is not UTF-8 (from a base layer written by another tool) is kept as bytes by
    /// the reader and the unpacker: libarchive marks it `hdrcharset=BINARY`.
    func testNonUTF8NameInABaseLayerUnpacksWithItsBytes() throws {
        let scratch = Scratch()
        let tree = scratch.file("tree")
        let layerPath = scratch.file("base.tar")
        // GNU tar writes the raw bytes; the name is Latin-1 "Übersicht" (0xDC).
        let made = try shell("""
            mkdir -p "$0/d" && cd "$0" && printf x > "$(printf 'd/\\334bersicht')" && \
            LC_ALL=C tar --format=pax -cf "$1" d
            """, tree, layerPath)
        XCTAssertEqual(made.status, 0, made.stderrText)
        let root = scratch.file("root")
        _ = try LayerUnpacker.unpack(layers: [layerPath], into: root)
        let listed = try shell("ls \"$0/d\" | od -An -c | tr -d ' \\n'", root)
        XCTAssertEqual(listed.text, "334bersicht\\n")
    }

    /// Whiteouts of names that are not UTF-8 remove exactly those files when layers are
    /// stacked for RUN (a plain whiteout, and an opaque directory's children).
    func testWhiteoutsOfNonUTF8NamesRemoveThem() throws {
        let scratch = Scratch()
        let made = try shell("""
            set -e; cd "$0" && mkdir -p l1/d l1/o l2/o && printf a > "l1/$(printf '\\377')" && printf b > "l1/o/$(printf '\\376')" && \
            printf c > "l1/$(printf 'keep\\351')" && touch "l2/$(printf '.wh.\\377')" l2/o/.wh..wh..opq && \
            LC_ALL=C tar --format=pax -C l1 -cf l1.tar . && LC_ALL=C tar --format=pax -C l2 -cf l2.tar .
            """, scratch.path)
        XCTAssertEqual(made.status, 0, made.stderrText)
        let root = scratch.file("root")
        _ = try LayerUnpacker.unpack(layers: [scratch.file("l1.tar"), scratch.file("l2.tar")], into: root)
        let listed = try shell("cd \"$0\" && find . -mindepth 1 | LC_ALL=C sort | od -An -c | tr -s ' \\n' ' '", root)
        XCTAssertEqual(listed.text, " . / d \\n . / k e e p 351 \\n . / o \\n ")
    }
}

import Foundation
import ImageModel
import XCTest
@testable import Layers

/// The layer writer opens each source file by name in its open parent directory
/// (`TarEmitter`'s `ParentDirectoryCursor`): the layer is what opening each full path gives,
/// whatever order the directories come in, and a source changed between planning and reading
/// is refused as before.
final class TarEmitterSourceOpeningTests: XCTestCase {
    private func file(_ layerPath: String, _ source: String, size: Int) -> LayerItem {
        .entry(LayerEntry(path: layerPath, kind: .regularFile(.file(path: source, size: Int64(size))), mode: 0o644, mtimeSeconds: 1))
    }

    /// Directories left and returned to, a file at the top, a name that is not UTF-8: each file's
    /// own bytes, in item order, and the digests recorded for the paths the items name.
    func testFilesFromDirectoriesInAnyOrderAreTheirOwnBytes() throws {
        let scratch = Scratch()
        let names = ["a/1", "b/1", "a/2", "top", "a/sub/1", "b/2", "c/\u{00E9}", "c/e\u{0301}"]
        var items: [LayerItem] = []
        var expected: [String: [UInt8]] = [:]
        for (index, name) in names.enumerated() {
            let path = scratch.file(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let bytes = Array("content of \(name) #\(index)\n".utf8)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            items.append(file("l\(index)", path, size: bytes.count))
            expected["l\(index)"] = bytes
        }
        let recording = SourceFileDigests()
        let layer = scratch.file("layer.tar.gz")
        _ = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: layer), recording: recording)
        for (path, bytes) in expected {
            XCTAssertEqual(try LayerUnpacker.readFile(path, fromLayers: [layer]), bytes, path)
        }
        XCTAssertEqual(recording.reads.map(\.path), names.map { scratch.file($0) })
        // By index: `é` and `e` + U+0301 are equal Strings but two files.
        for (index, read) in recording.reads.enumerated() {
            XCTAssertEqual(read.digest, SHA256Stream.digest(of: expected["l\(index)"]!), names[index])
        }
    }

    /// What happens to a planned source before it is read, each refused as a full-path open
    /// refused it: swapped for a symlink (never followed), removed, grown, its parent gone.
    func testASourceChangedAfterPlanningIsRefused() throws {
        let cases: [(name: String, change: String, reason: String)] = [
            ("swapped for a symlink", "rm d/f && ln -s ../elsewhere d/f", "Too many levels of symbolic links"),
            ("removed", "rm d/f", "No such file or directory"),
            ("grown", "echo more >> d/f", "size"),
            ("parent removed", "rm -r d", "No such file or directory"),
            ("parent swapped for a file", "rm -r d && echo x > d", "Not a directory"),
        ]
        for c in cases {
            let scratch = Scratch()
            try FileManager.default.createDirectory(atPath: scratch.file("d"), withIntermediateDirectories: true)
            try Data("planned\n".utf8).write(to: URL(fileURLWithPath: scratch.file("d/f")))
            try Data("planned\n".utf8).write(to: URL(fileURLWithPath: scratch.file("elsewhere")))
            // Another file of the same directory first, so the directory is open when `f` is read
            // in the cases that change `f` only.
            try Data("first\n".utf8).write(to: URL(fileURLWithPath: scratch.file("d/e")))
            let items = [file("e", scratch.file("d/e"), size: 6), file("f", scratch.file("d/f"), size: 8)]
            let parentCase = c.name.hasPrefix("parent")
            XCTAssertEqual(try shell("cd \"$0\" && \(c.change)", scratch.path).status, 0, c.name)
            let written = parentCase ? [items[1]] : items
            XCTAssertThrowsError(try LayerWriter().writeBlocking(written, to: scratch.file("layer.tar.gz")), c.name) { error in
                XCTAssertTrue("\(error)".contains(c.reason), "\(c.name): \(error)")
            }
        }
    }
}

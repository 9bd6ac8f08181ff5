import Foundation
import ImageModel
import XCTest
@testable import Layers

/// A layer written from items still being planned (`LayerItemStream`, issue 12's streamed
/// COPY): the writer starts on the first chunk, and the layer is the one the whole list
/// gives; a plan that fails, or a source that vanished before its turn, fails the write with
/// the error the list would give and leaves no file.
final class LayerItemStreamTests: XCTestCase {
    private func items(in scratch: Scratch, count: Int) throws -> [LayerItem] {
        var items: [LayerItem] = [.entry(LayerEntry(path: "d", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 1))]
        for n in 0..<count {
            let bytes = pseudoRandom(count: 1000 * n, seed: UInt64(n + 1))
            try Data(bytes).write(to: URL(fileURLWithPath: scratch.file("f\(n)")))
            items.append(.entry(LayerEntry(path: "d/f\(n)", kind: .regularFile(.file(path: scratch.file("f\(n)"), size: Int64(bytes.count))),
                                           mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1)))
        }
        return items
    }

    /// Appended a chunk at a time while the writer runs: the same layer as the list.
    func testAStreamAppendedWhileWritingGivesTheListsLayer() async throws {
        let scratch = Scratch()
        let items = try items(in: scratch, count: 40)
        let expected = try LayerWriter().writeBlocking(items, to: scratch.file("list"))
        let stream = LayerItemStream()
        let sink = try FileBlobSink(path: scratch.file("stream"))
        async let written = LayerWriter().write(stream, to: sink)
        for start in stride(from: 0, to: items.count, by: 7) {
            stream.append(Array(items[start..<min(start + 7, items.count)]))
            usleep(1000)
        }
        stream.finish()
        let layer = try await written
        XCTAssertEqual(layer, expected)
        XCTAssertEqual(try SHA256Stream.digest(ofFile: scratch.file("stream")), expected.digest)
        // Read again after the end (a refused upload's fallback writes it once more).
        XCTAssertEqual(try LayerWriter().writeBlocking(stream, to: try FileBlobSink(path: scratch.file("again"))), expected)
    }

    /// A plan that throws after some chunks: the writer throws that error, the file is gone;
    /// a source removed before the writer reached it: the error the list gives, the file gone.
    func testAFailedStreamOrAVanishedSourceFailsTheWriteAndLeavesNoFile() async throws {
        struct PlanFailed: Error, Equatable {}
        let scratch = Scratch()
        let items = try items(in: scratch, count: 12)
        let failing = LayerItemStream()
        let failingSink = try FileBlobSink(path: scratch.file("failed"))
        async let failed = LayerWriter().write(failing, to: failingSink)
        failing.append(Array(items.prefix(6)))
        failing.fail(PlanFailed())
        failing.append(Array(items.dropFirst(6)))  // ignored: the stream has ended
        do {
            _ = try await failed
            XCTFail("a failed stream made a layer")
        } catch {
            XCTAssertEqual(error as? PlanFailed, PlanFailed())
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("failed")))

        let vanishing = LayerItemStream()
        let vanishingSink = try FileBlobSink(path: scratch.file("vanished"))
        async let vanished = LayerWriter().write(vanishing, to: vanishingSink)
        vanishing.append(Array(items.prefix(6)))
        XCTAssertEqual(unlink(scratch.file("f8")), 0)
        vanishing.append(Array(items.dropFirst(6)))
        vanishing.finish()
        var streamed = "", listed = ""
        do { _ = try await vanished } catch { streamed = "\(error)" }
        do { _ = try LayerWriter().writeBlocking(items, to: scratch.file("list")) } catch { listed = "\(error)" }
        XCTAssertTrue(streamed.contains(scratch.file("f8")), streamed)
        XCTAssertEqual(streamed, listed)
        XCTAssertFalse(streamed.contains("\n"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("vanished")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.file("list")))
    }
}

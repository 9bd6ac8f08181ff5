import Foundation
import ImageModel
import XCTest
@testable import Layers

/// The layer writer hashing each source file in the read that copies it (issue 13: a cold
/// COPY reads its sources once): the digests are of the bytes written, in item order, with the
/// file's status around the read; the layer itself is the same as without recording.
final class SourceFileDigestsTests: XCTestCase {
    func testDigestsAreOfTheWrittenBytesInItemOrderAndTheLayerIsUnchanged() throws {
        let scratch = Scratch()
        let contents: [(name: String, bytes: [UInt8])] = [
            ("empty", []), ("small", Array("hello\n".utf8)), ("large", pseudoRandom(count: 3 << 20, seed: 7)), ("again", Array("x".utf8)),
        ]
        var items: [LayerItem] = [.entry(LayerEntry(path: "d", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 1))]
        for (name, bytes) in contents {
            try Data(bytes).write(to: URL(fileURLWithPath: scratch.file(name)))
            items.append(.entry(LayerEntry(path: "d/" + name, kind: .regularFile(.file(path: scratch.file(name), size: Int64(bytes.count))),
                                           mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1)))
        }
        // The same source twice, and bytes given inline (not a file: not recorded).
        items.append(.entry(LayerEntry(path: "d/small-again", kind: .regularFile(.file(path: scratch.file("small"), size: 6)),
                                       mode: 0o600, uid: 0, gid: 0, mtimeSeconds: 1)))
        items.append(.entry(LayerEntry(path: "d/inline", kind: .regularFile(.bytes([1, 2, 3])), mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1)))

        let recording = SourceFileDigests()
        let recorded = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("recorded.tar.gz")), recording: recording)
        let plain = try LayerWriter().writeBlocking(items, to: scratch.file("plain.tar.gz"))
        XCTAssertEqual(recorded, plain, "recording changes nothing in the layer")

        let reads = recording.reads
        XCTAssertEqual(reads.map(\.path), contents.map { scratch.file($0.name) } + [scratch.file("small")])
        for (read, bytes) in zip(reads, contents.map(\.bytes) + [Array("hello\n".utf8)]) {
            XCTAssertEqual(read.digest, SHA256Stream.digest(of: bytes), read.path)
            XCTAssertEqual(read.before.size, Int64(bytes.count))
            var st = stat()
            XCTAssertEqual(stat(read.path, &st), 0)
            XCTAssertEqual(read.before, SourceFileDigests.FileStatus(st))
        }
        XCTAssertGreaterThan(recording.startedAt, 0)
    }

    func testAFileThatGrewIsRefusedAsWithoutRecording() throws {
        let scratch = Scratch()
        try Data("longer than said".utf8).write(to: URL(fileURLWithPath: scratch.file("f")))
        let items: [LayerItem] = [.entry(LayerEntry(path: "f", kind: .regularFile(.file(path: scratch.file("f"), size: 4)),
                                                    mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1))]
        let recording = SourceFileDigests()
        XCTAssertThrowsError(try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("l")), recording: recording))
        XCTAssertTrue(recording.reads.isEmpty)
    }

    /// The length comes from one `fstat` after open (no read past the end): a file longer or
    /// shorter than planned is refused with the size it has, recording or not.
    func testAFileOfAnotherSizeThanPlannedIsRefusedWithItsSize() throws {
        let scratch = Scratch()
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: scratch.file("f")))
        for (planned, recording) in [(4, true), (4, false), (16, true), (16, false)] {
            let items: [LayerItem] = [.entry(LayerEntry(path: "f", kind: .regularFile(.file(path: scratch.file("f"), size: Int64(planned))),
                                                        mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1))]
            let digests = recording ? SourceFileDigests() : nil
            XCTAssertThrowsError(try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("l-\(planned)-\(recording)")),
                                                                 recording: digests)) { error in
                XCTAssertEqual("\(error)", "\(LayerError.sizeChanged(path: scratch.file("f"), expected: Int64(planned), actual: 10))")
            }
            XCTAssertEqual(digests?.reads.isEmpty ?? true, true)
        }
    }

    /// A file that grows or shrinks while it is read: the write either fails naming the change
    /// or holds exactly the planned bytes as read, and then the recorded digest is theirs and
    /// the recorded status the one from before the read (which the change made stale).
    func testAFileChangingSizeWhileReadGivesAnErrorOrTheBytesWritten() throws {
        let scratch = Scratch()
        let size = 48 << 20
        let original = pseudoRandom(count: size, seed: 11)
        for grow in [true, false] {
            let path = scratch.file(grow ? "growing" : "shrinking")
            try Data(original).write(to: URL(fileURLWithPath: path))
            let items: [LayerItem] = [.entry(LayerEntry(path: "f", kind: .regularFile(.file(path: path, size: Int64(size))),
                                                        mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1))]
            let recording = SourceFileDigests()
            let changer = Thread {
                usleep(2_000)
                if grow {
                    if let handle = FileHandle(forWritingAtPath: path) { handle.seekToEndOfFile(); handle.write(Data(count: 1 << 20)); handle.closeFile() }
                } else {
                    _ = truncate(path, off_t(size / 2))
                }
            }
            changer.start()
            let layer = scratch.file("layer-\(grow)")
            do {
                _ = try LayerWriter(compression: .none).writeBlocking(items, to: try FileBlobSink(path: layer), recording: recording)
                let read = try XCTUnwrap(recording.reads.first)
                XCTAssertEqual(read.digest, SHA256Stream.digest(of: original), "the planned bytes, as read")
                XCTAssertEqual(read.before.size, Int64(size))
                let tar = try Array(Data(contentsOf: URL(fileURLWithPath: layer)))
                let start = try XCTUnwrap(stride(from: 0, to: tar.count - size, by: 512).first { tar[$0..<($0 + 64)].elementsEqual(original[0..<64]) })
                XCTAssertTrue(tar[start..<(start + size)].elementsEqual(original), "the bytes written are the ones read")
            } catch let error as LayerError {
                guard case .sizeChanged(_, let expected, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(expected, Int64(size))
                XCTAssertTrue(recording.reads.isEmpty)
            }
            while changer.isExecuting || !changer.isFinished { usleep(1_000) }
        }
    }
}

/// A context file may carry any time: one dated past 2262 (beyond Int64 nanoseconds) was a
/// crash (arithmetic overflow) in the folded COPY's stamp; it is recorded like any other,
/// with the stamp the context walk computes (wrapping, the same for the same stat).
final class SourceFileDigestsFarTimeTests: XCTestCase {
    func testAFileDatedPast2262IsRecordedNotACrash() throws {
        let scratch = Scratch()
        let path = scratch.file("far")
        try Data("far\n".utf8).write(to: URL(fileURLWithPath: path))
        let year2400: Int = 13_569_465_600
        var times = [timespec(tv_sec: year2400, tv_nsec: 5), timespec(tv_sec: year2400, tv_nsec: 5)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw XCTSkip("this file system keeps no such time") }
        let items: [LayerItem] = [.entry(LayerEntry(path: "far", kind: .regularFile(.file(path: path, size: 4)),
                                                    mode: 0o644, uid: 0, gid: 0, mtimeSeconds: Int64(year2400)))]
        let recording = SourceFileDigests()
        _ = try LayerWriter().writeBlocking(items, to: try FileBlobSink(path: scratch.file("l")), recording: recording)
        XCTAssertEqual(recording.reads.count, 1)
        let stamp = try XCTUnwrap(recording.reads.first).before
        XCTAssertEqual(stamp.mtime, Int64(year2400) &* 1_000_000_000 &+ 5)
        XCTAssertEqual(recording.reads.first?.digest, SHA256Stream.digest(of: Array("far\n".utf8)))
    }
}

import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// An uploader that keeps what it is sent: streamed bytes, or the files of the fallback.
/// `refuseAfter` makes a streamed upload fail after that many bytes, as a registry that
/// refuses or drops the stream would.
final class FakeUploader: LayerUploader, @unchecked Sendable {
    private let lock = NSLock()
    let refuseAfter: Int?
    private var refused = false
    private(set) var streamed: [[UInt8]] = []
    private(set) var uploadedFiles: [(bytes: [UInt8], layer: WrittenLayer)] = []

    init(refuseAfter: Int? = nil, streams: Bool = true) {
        self.refuseAfter = refuseAfter
        refused = !streams
    }

    var streams: Bool { lock.withLock { !refused } }

    func uploadStreamed(_ write: (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        let sink = Collector(limit: refuseAfter)
        let written: WrittenLayer
        do {
            written = try await write(sink)
        } catch let error as Collector.Refused {
            lock.withLock { refused = true }
            throw LayerUploadFailed(underlying: error)
        }
        if sink.failed {  // a tee absorbed the refusal; the upload still failed
            lock.withLock { refused = true }
            throw LayerUploadFailed(underlying: Collector.Refused())
        }
        lock.withLock { streamed.append(sink.bytes) }
        return written
    }

    func upload(file: String, layer: WrittenLayer) async throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        lock.withLock { uploadedFiles.append((bytes, layer)) }
    }

    private(set) var baseLayers: [[Descriptor]] = []
    func sendBaseLayers(_ layers: [Descriptor]) { lock.withLock { baseLayers.append(layers) } }

    final class Collector: BlobSink, @unchecked Sendable {
        struct Refused: Error {}
        var bytes: [UInt8] = []
        var failed = false
        let limit: Int?
        init(limit: Int?) { self.limit = limit }
        var name: String { "fake upload" }
        func write(_ chunk: UnsafeRawBufferPointer) throws {
            if let limit, bytes.count + chunk.count > limit { failed = true; throw Refused() }
            bytes += chunk
        }
        func close() throws {}
        func abandon() { failed = true }
    }
}

final class LayerPushTests: XCTestCase {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "layer-push-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func items(in directory: String) throws -> [LayerItem] {
        var state: UInt64 = 88172645463325252
        let bytes = (0..<(3 << 20)).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/random.bin"))
        return [.entry(LayerEntry(path: "random.bin", kind: .regularFile(.file(path: directory + "/random.bin", size: Int64(bytes.count))),
                                  mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1_700_000_000))]
    }

    /// Streamed, refused, or not tried; with and without a file kept: the same layer every
    /// time, uploaded exactly once, and a file left only when asked for.
    func testEveryPathUploadsTheSameLayerOnce() async throws {
        let directory = try scratch()
        let layer = try items(in: directory)
        let writer = LayerWriter()
        let expected = try await writer.write(layer, to: directory + "/reference")
        let expectedBytes = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/reference")))
        let cases: [(name: String, uploader: FakeUploader, keepFile: Bool, streamed: Bool)] = [
            ("streamed, file kept", FakeUploader(), true, true),
            ("streamed only", FakeUploader(), false, true),
            ("refused mid-stream, file kept (tee)", FakeUploader(refuseAfter: 1 << 20), true, false),
            ("refused mid-stream, rewritten", FakeUploader(refuseAfter: 1 << 20), false, false),
            ("refused at once, rewritten", FakeUploader(refuseAfter: 0), false, false),
            ("refused before, file first", FakeUploader(streams: false), false, false),
        ]
        for (index, c) in cases.enumerated() {
            let file = directory + "/layer-\(index)"
            let push = LayerPush(uploader: c.uploader, keepInStore: c.keepFile)
            let written = try await push.write(layer, with: writer, file: file, keepFile: c.keepFile)
            XCTAssertEqual(written, expected, c.name)
            XCTAssertEqual(c.uploader.streamed.count + c.uploader.uploadedFiles.count, 1, c.name)
            if c.streamed {
                XCTAssertEqual(c.uploader.streamed.first, expectedBytes, c.name)
            } else {
                XCTAssertEqual(c.uploader.uploadedFiles.first?.bytes, expectedBytes, c.name)
                XCTAssertEqual(c.uploader.uploadedFiles.first?.layer, expected, c.name)
                XCTAssertFalse(c.uploader.streams, "\(c.name): later layers go file-first")
            }
            XCTAssertEqual(FileManager.default.fileExists(atPath: file), c.keepFile, c.name)
            if c.keepFile { XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: file))), expectedBytes, c.name) }
        }
    }

    /// The writer's own failure (a source file gone) is not mistaken for a refused upload.
    func testWriterErrorIsNotAFallback() async throws {
        let directory = try scratch()
        let missing = [LayerItem.entry(LayerEntry(path: "gone", kind: .regularFile(.file(path: directory + "/nope", size: 5)),
                                                  mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 0))]
        let uploader = FakeUploader()
        do {
            _ = try await LayerPush(uploader: uploader, keepInStore: false)
                .write(missing, with: LayerWriter(), file: directory + "/layer", keepFile: false)
            XCTFail("expected the writer's error")
        } catch is LayerUploadFailed {
            XCTFail("a writer error was taken for an upload failure")
        } catch {}
        XCTAssertTrue(uploader.streams)
        XCTAssertTrue(uploader.uploadedFiles.isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/layer"))
    }
}

import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// An uploader that keeps what it is sent: streamed bytes, or the files of the fallback.
/// `refuseAfter` makes a streamed upload fail after that many bytes, as a registry that
/// refuses or drops the stream would. Asked not to await the registry, it gives the layer
/// back once the writer has returned and settles the stream later, when `registryAnswers`
/// is opened (at once when there is none), as `RegistryLayerUploader` does.
final class FakeUploader: LayerUploader, @unchecked Sendable {
    private let lock = NSLock()
    let refuseAfter: Int?
    let registryAnswers: Gate?
    private var refused = false
    private var tails: [Task<Void, Never>] = []
    private(set) var streamed: [[UInt8]] = []
    private(set) var uploadedFiles: [(bytes: [UInt8], layer: WrittenLayer)] = []
    /// `awaitingRegistry` of each streamed upload, in order.
    private(set) var awaitingRegistry: [Bool] = []

    init(refuseAfter: Int? = nil, streams: Bool = true, registryAnswers: Gate? = nil) {
        self.refuseAfter = refuseAfter
        self.registryAnswers = registryAnswers
        refused = !streams
    }

    var streams: Bool { lock.withLock { !refused } }

    func uploadStreamed(awaitingRegistry: Bool, file: String?,
                        _ write: @escaping @Sendable (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        lock.withLock { self.awaitingRegistry.append(awaitingRegistry) }
        let sink = Collector(limit: refuseAfter, file: try file.map { try FileBlobSink(path: $0) })
        let written: WrittenLayer
        do {
            written = try await write(sink)
        } catch let error as Collector.Refused {
            lock.withLock { refused = true }
            throw LayerUploadFailed(underlying: error)
        }
        let answer: @Sendable () throws -> Void = { [self] in
            if sink.failed {  // the file went on past the refusal; the upload still failed
                lock.withLock { refused = true }
                throw LayerUploadFailed(underlying: Collector.Refused())
            }
            lock.withLock { streamed.append(sink.bytes) }
        }
        if awaitingRegistry {
            try answer()
        } else {
            let gate = registryAnswers
            let tail = Task {
                await gate?.wait()
                try? answer()
            }
            lock.withLock { tails.append(tail) }
        }
        return written
    }

    /// Waits for the streams left to finish later.
    func finishUploads() async {
        for tail in lock.withLock({ tails }) { await tail.value }
    }

    func upload(file: String, layer: WrittenLayer) async throws {
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        lock.withLock { uploadedFiles.append((bytes, layer)) }
    }

    private(set) var baseLayers: [[Descriptor]] = []
    func sendBaseLayers(_ layers: [Descriptor]) { lock.withLock { baseLayers.append(layers) } }

    /// Called with what `sendImage` is handed, when it is handed it (a test looks at the
    /// store at that moment); set before the build.
    var onImage: (@Sendable (ImageDocuments) -> Void)?
    private(set) var images: [ImageDocuments] = []
    func sendImage(_ image: ImageDocuments) {
        lock.withLock { images.append(image) }
        onImage?(image)
    }

    /// Held shut until `open`: what a registry's slow closing answer looks like.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var isOpen = false
        private var waiting: [CheckedContinuation<Void, Never>] = []
        func open() {
            let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
                isOpen = true
                defer { waiting = [] }
                return waiting
            }
            for continuation in woken { continuation.resume() }
        }
        func wait() async {
            await withCheckedContinuation { continuation in
                let now: Bool = lock.withLock {
                    if !isOpen { waiting.append(continuation) }
                    return isOpen
                }
                if now { continuation.resume() }
            }
        }
    }

    /// The upload's side; with `file`, the blob also goes there and a refusal does not stop
    /// the writer (as `RegistryClient.uploadStreamed` keeping a file behaves).
    final class Collector: BlobSink, @unchecked Sendable {
        struct Refused: Error {}
        var bytes: [UInt8] = []
        var failed = false
        let limit: Int?
        let file: FileBlobSink?
        init(limit: Int?, file: FileBlobSink?) {
            self.limit = limit
            self.file = file
        }
        var name: String { "fake upload" }
        func write(_ chunk: UnsafeRawBufferPointer) throws {
            try file?.write(chunk)
            if failed { return }
            if let limit, bytes.count + chunk.count > limit {
                failed = true
                if file == nil { throw Refused() }
                return
            }
            bytes += chunk
        }
        func close() throws { try file?.close() }
        func abandon() {
            file?.abandon()
            failed = true
        }
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

    /// A scratch directory with one 3 MiB file as a layer, and a writer.
    func scratchLayer() throws -> (directory: String, layer: [LayerItem], writer: LayerWriter) {
        let directory = try scratch()
        return (directory, try items(in: directory), LayerWriter())
    }

    /// The layer written straight to a file: what every path must upload, byte for byte.
    func reference(_ layer: [LayerItem], with writer: LayerWriter, in directory: String) async throws -> (WrittenLayer, [UInt8]) {
        let written = try await writer.write(layer, to: directory + "/reference")
        return (written, Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/reference"))))
    }

    /// Streamed, refused, or not tried; with and without a file kept: the same layer every
    /// time, uploaded exactly once, and a file left only when asked for.
    func testEveryPathUploadsTheSameLayerOnce() async throws {
        let (directory, layer, writer) = try scratchLayer()
        let (expected, expectedBytes) = try await reference(layer, with: writer, in: directory)
        // keepInStore: the build keeps a store entry (`build --push -t`); keepFile without it:
        // `--output type=registry` in a stage that reads its layers back.
        let cases: [(name: String, uploader: FakeUploader, keepInStore: Bool, keepFile: Bool, streamed: Bool)] = [
            ("streamed, kept in the store", FakeUploader(), true, true, true),
            ("streamed, temp file kept", FakeUploader(), false, true, true),
            ("streamed only", FakeUploader(), false, false, true),
            ("refused mid-stream, temp file kept", FakeUploader(refuseAfter: 1 << 20), false, true, false),
            ("refused mid-stream, rewritten", FakeUploader(refuseAfter: 1 << 20), false, false, false),
            ("refused at once, rewritten", FakeUploader(refuseAfter: 0), false, false, false),
            ("refused before, file first", FakeUploader(streams: false), false, false, false),
        ]
        for (index, c) in cases.enumerated() {
            let file = directory + "/layer-\(index)"
            let push = LayerPush(uploader: c.uploader, keepInStore: c.keepInStore)
            let written = try await push.write(LayerItemStream(layer), with: writer, file: file, keepFile: c.keepFile)
            await c.uploader.finishUploads()
            XCTAssertEqual(written, expected, c.name)
            if c.streamed { XCTAssertEqual(c.uploader.awaitingRegistry, [!c.keepInStore], c.name) }
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

    /// With a store copy, the layer is back once its file is complete, while the registry's
    /// answer is still to come; a stream refused there uploads nothing here (the push after
    /// the build sends the layer from the store) and turns later layers to files.
    func testStoreCopyDoesNotWaitForTheRegistry() async throws {
        let (directory, layer, writer) = try scratchLayer()
        let (expected, expectedBytes) = try await reference(layer, with: writer, in: directory)
        for refuse in [false, true] {
            let answers = FakeUploader.Gate()
            let uploader = FakeUploader(refuseAfter: refuse ? 1 << 20 : nil, registryAnswers: answers)
            let file = directory + "/layer-\(refuse)"
            let written = try await LayerPush(uploader: uploader, keepInStore: true)
                .write(LayerItemStream(layer), with: writer, file: file, keepFile: true)
            XCTAssertEqual(written, expected)
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: file))), expectedBytes, "the file is complete")
            XCTAssertTrue(uploader.streamed.isEmpty, "returned before the registry answered")
            answers.open()
            await uploader.finishUploads()
            XCTAssertEqual(uploader.streamed, refuse ? [] : [expectedBytes])
            XCTAssertTrue(uploader.uploadedFiles.isEmpty)
            XCTAssertEqual(uploader.streams, !refuse)
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
                .write(LayerItemStream(missing), with: LayerWriter(), file: directory + "/layer", keepFile: false)
            XCTFail("expected the writer's error")
        } catch is LayerUploadFailed {
            XCTFail("a writer error was taken for an upload failure")
        } catch {}
        XCTAssertTrue(uploader.streams)
        XCTAssertTrue(uploader.uploadedFiles.isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/layer"))
    }
}

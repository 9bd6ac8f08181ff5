import Foundation
import ImageModel
import XCTest
@testable import Layers

/// A sink that keeps the bytes in memory, optionally failing after `failAfter` bytes.
private final class MemorySink: BlobSink, @unchecked Sendable {
    var bytes: [UInt8] = []
    var writes = 0
    var closed = false
    var abandoned = false
    let failAfter: Int?
    let buffersWrites: Bool
    init(failAfter: Int? = nil, buffersWrites: Bool = false) {
        self.failAfter = failAfter
        self.buffersWrites = buffersWrites
    }
    var name: String { "memory" }
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if let failAfter, bytes.count + chunk.count > failAfter {
            throw LayerError.writeFailed(path: "memory", reason: "refused after \(failAfter) bytes")
        }
        bytes += chunk
        writes += 1
    }
    func close() throws { closed = true }
    func abandon() { abandoned = true }
}

final class BlobSinkTests: XCTestCase {
    func items(_ scratch: Scratch) throws -> [LayerItem] {
        let content = pseudoRandom(count: 3 * 1024 * 1024 + 777, seed: 7, textEvery: 3)
        let big = scratch.file("big.bin")
        try Data(content).write(to: URL(fileURLWithPath: big))
        return [
            .entry(LayerEntry(path: "data", kind: .directory, mode: 0o755, uid: 0, gid: 0, mtimeSeconds: 1_700_000_000)),
            .entry(LayerEntry(path: "data/big.bin", kind: .regularFile(.file(path: big, size: Int64(content.count))),
                              mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1_700_000_000)),
        ]
    }

    /// Every sink gets the same bytes as the file, and the digest is of those bytes.
    func testSinksGetTheFileBytes() async throws {
        let scratch = Scratch()
        let layer = try items(scratch)
        for compression in [LayerCompression.none, .gzip(level: 1), .defaultGzip, .gzip(level: 6)] {
            let writer = LayerWriter(compression: compression)
            let file = scratch.file("layer-\(compression)")
            let fromFile = try await writer.write(layer, to: file)
            let memory = MemorySink()
            let fromMemory = try await writer.write(layer, to: memory)
            XCTAssertEqual(fromMemory, fromFile, "\(compression)")
            XCTAssertEqual(memory.bytes, Array(try Data(contentsOf: URL(fileURLWithPath: file))), "\(compression)")
            XCTAssertEqual(SHA256Stream.digest(of: memory.bytes), fromMemory.digest, "\(compression)")
            XCTAssertTrue(memory.closed)
            XCTAssertFalse(memory.abandoned)
            // Buffered: whole chunks of up to 1 MiB, not one call per tar block.
            XCTAssertLessThan(memory.writes, memory.bytes.count / (256 * 1024) + 4, "\(compression)")
            // A sink that gathers parts itself gets the writes unbuffered: the same bytes.
            let gathering = MemorySink(buffersWrites: true)
            let fromGathering = try await writer.write(layer, to: gathering)
            XCTAssertEqual(fromGathering, fromFile, "\(compression)")
            XCTAssertEqual(gathering.bytes, memory.bytes, "\(compression)")
            XCTAssertGreaterThanOrEqual(gathering.writes, memory.writes, "\(compression)")
        }
    }

    /// A failing sink fails the write and is abandoned; a failing file leaves no partial file.
    func testFailingSinkIsAbandoned() async throws {
        let scratch = Scratch()
        let failing = MemorySink(failAfter: 100_000)
        do {
            _ = try await LayerWriter(compression: .none).write(try items(scratch), to: failing)
            XCTFail("expected the write to fail")
        } catch let error as LayerError {
            XCTAssertTrue("\(error)".contains("refused after 100000 bytes"), "\(error)")
        }
        XCTAssertTrue(failing.abandoned)
        XCTAssertFalse(failing.closed)
    }

    /// A write that fails part-way removes the partial file it was writing.
    func testFailedFileWriteRemovesThePartialFile() async throws {
        let scratch = Scratch()
        let path = scratch.file("partial")
        let missing = LayerItem.entry(LayerEntry(path: "gone", kind: .regularFile(.file(path: scratch.file("nope"), size: 10)),
                                                 mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 0))
        do {
            _ = try await LayerWriter().write(try items(scratch) + [missing], to: path)
            XCTFail("expected the write to fail")
        } catch {}
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}

import Foundation
import ImageModel
import XCTest
@testable import Layers

/// File data read straight into the compressor's input (`TarSink.writableRegion`) must give
/// the very bytes the copying path gives (layer digest, diff ID, recorded file digests), at
/// every position of a file against the compressor's block edges, and still notice a source
/// that grew or shrank (issue 13: one copy fewer of every layer byte).
final class CompressorInputReadTests: XCTestCase {
    /// Files of every awkward size against the block size: empty, one byte, just under, at and
    /// just over a block, several blocks, after headers that leave a block part-full.
    func sizes(block: Int) -> [Int] {
        [0, 1, 511, 512, 513, block - 1, block, block + 1, 3 * block + 7, 100, block / 2 + 3, 2 * block - 512]
    }

    func testSameBytesAsCopyingThroughTheReadBuffer() async throws {
        let scratch = Scratch()
        let cases: [(name: String, block: Int, compression: LayerCompression, recording: Bool)] = [
            ("smallest blocks, recording", 64 * 1024, .gzip(level: 1), true),
            ("smallest blocks, no recording", 64 * 1024, .gzip(level: 1), false),
            ("odd block size", 100_000, .gzip(level: 2), true),
            ("default blocks", 512 * 1024, .defaultGzip, true),
            ("uncompressed (no input offered)", 64 * 1024, .none, true),
        ]
        for c in cases {
            var items: [LayerItem] = []
            for (index, size) in sizes(block: c.block).enumerated() {
                let path = scratch.file("\(c.block)-\(index)")
                try Data(pseudoRandom(count: size, seed: UInt64(index + 7), textEvery: 3)).write(to: URL(fileURLWithPath: path))
                items.append(.entry(LayerEntry(path: "d/f\(index)", kind: .regularFile(.file(path: path, size: Int64(size))),
                                               mode: 0o644, mtimeSeconds: 1_700_000_000)))
                items.append(.entry(LayerEntry(path: "d/s\(index)", kind: .regularFile(.bytes(Array(repeating: UInt8(index), count: index * 37))),
                                               mode: 0o600, mtimeSeconds: 1_700_000_001)))
            }
            var written: [WrittenLayer] = [], bytes: [Data] = [], reads: [[SourceFileDigests.Read]] = []
            for direct in [true, false] {
                var writer = LayerWriter(compression: c.compression)
                writer.gzipBlockSize = c.block
                writer.readsIntoCompressorInput = direct
                let out = scratch.file("\(c.name)-\(direct)")
                let recording = c.recording ? SourceFileDigests() : nil
                written.append(try await writer.write(items, to: out, recording: recording))
                bytes.append(try Data(contentsOf: URL(fileURLWithPath: out)))
                reads.append(recording?.reads ?? [])
            }
            XCTAssertEqual(written[0], written[1], c.name)
            XCTAssertEqual(bytes[0], bytes[1], c.name)
            XCTAssertEqual(reads[0].map(\.digest), reads[1].map(\.digest), c.name)
            if c.recording {
                XCTAssertEqual(reads[0].count, sizes(block: c.block).count, c.name)
                for (read, size) in zip(reads[0], sizes(block: c.block)) {
                    let content = try Data(contentsOf: URL(fileURLWithPath: read.path))
                    XCTAssertEqual(read.digest, SHA256Stream.digest(of: Array(content)), "\(c.name): \(read.path)")
                    XCTAssertEqual(read.before.size, Int64(size), c.name)
                }
            }
            // The uncompressed stream is the plain layer's.
            if case .gzip = c.compression {
                let plain = try await LayerWriter(compression: .none).write(items, to: scratch.file("\(c.name)-plain"))
                XCTAssertEqual(written[0].diffID, plain.diffID, c.name)
            }
        }
    }

    /// A source that is longer or shorter than planned fails the write, recording or not, and
    /// whether its bytes go through the read buffer or straight into the compressor's input.
    func testChangedSizeIsRefused() async throws {
        let scratch = Scratch()
        let path = scratch.file("src")
        try Data(pseudoRandom(count: 70_000, seed: 3)).write(to: URL(fileURLWithPath: path))
        let cases: [(name: String, planned: Int64, recording: Bool, direct: Bool)] = [
            ("grown, recording, direct", 69_999, true, true),
            ("grown, recording, copied", 69_999, true, false),
            ("grown, not recording, direct", 1, false, true),
            ("grown by a block, recording", 70_000 - 65_536, true, true),
            ("shrunk, recording, direct", 70_001, true, true),
            ("shrunk, not recording, copied", 140_000, false, false),
        ]
        for c in cases {
            var writer = LayerWriter(compression: .gzip(level: 1))
            writer.gzipBlockSize = 64 * 1024
            writer.readsIntoCompressorInput = c.direct
            let item = LayerItem.entry(LayerEntry(path: "f", kind: .regularFile(.file(path: path, size: c.planned)), mode: 0o644, mtimeSeconds: 0))
            do {
                _ = try await writer.write([item], to: scratch.file("o"), recording: c.recording ? SourceFileDigests() : nil)
                XCTFail("\(c.name): no error")
            } catch LayerError.sizeChanged(let reported, let expected, _) {
                XCTAssertEqual(reported, path, c.name)
                XCTAssertEqual(expected, c.planned, c.name)
            } catch {
                XCTFail("\(c.name): \(error)")
            }
        }
    }
}

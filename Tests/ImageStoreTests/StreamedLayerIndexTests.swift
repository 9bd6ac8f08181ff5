import Foundation
import ImageModel
@testable import ImageStore
import Layers
import XCTest

/// A layer's header index built from a stream of its bytes (a registry read), in one pass with
/// nothing written but the index — cached only when the stream ended cleanly (the source's
/// digest check passed) and the headers were read whole.
final class StreamedLayerIndexTests: XCTestCase {
    struct Mismatch: Error, Equatable {}

    /// `bytes` in small chunks, then `ending` (nil: a clean end).
    static func chunks(_ bytes: [UInt8], size: Int = 777, ending: Error? = nil) -> ContentChunks {
        let next = Locked(0)  // the offset of the next chunk; the stream is read by one task at a time
        return ContentChunks(unfolding: {
            let offset = next.withLock { offset -> Int in
                defer { offset += size }
                return offset
            }
            guard offset < bytes.count else {
                if let ending { throw ending }
                return nil
            }
            return Array(bytes[offset..<min(offset + size, bytes.count)])
        })
    }

    func testStreamedIndexMatchesTheFileIndexAndIsCachedOnlyWhenTheStreamEndsCleanly() async throws {
        let scratch = try makeScratchDirectory(self)
        let files = Dictionary(uniqueKeysWithValues: (0..<300).map { ("dir\($0 % 7)/file-\($0).txt", String(repeating: "x", count: $0 * 37)) })
        let source = try ImageStore(root: scratch + "/source")
        let layer = try makeLayer(source, files: files, scratch: scratch)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: source.blobPath(layer.descriptor.digest))))
        let expected = try LayerHeaders.read(blobPath: source.blobPath(layer.descriptor.digest))
        let (diffID, blob) = (layer.diffID, layer.descriptor.digest)
        var garbage = bytes
        garbage[garbage.count / 3] ^= 0xFF

        // Failures first, each leaving no index entry: the source's error wins over what the
        // damaged bytes did to the reader.
        let failures: [(name: String, chunks: ContentChunks, expectsMismatch: Bool)] = [
            ("intact bytes, then the source finds a mismatch", Self.chunks(bytes, ending: Mismatch()), true),
            ("damaged bytes, then the source finds a mismatch", Self.chunks(garbage, ending: Mismatch()), true),
            ("no tar at all", Self.chunks(Array(repeating: 0x42, count: 100_000)), false),
            ("cut short", Self.chunks(Array(bytes.prefix(bytes.count / 2))), false),
        ]
        let store = try ImageStore(root: scratch + "/store")
        for failure in failures {
            do {
                _ = try await store.layerHeaders(diffID: diffID, blob: blob, chunks: failure.chunks)
                XCTFail("\(failure.name): no error")
            } catch {
                XCTAssertEqual(error is Mismatch, failure.expectsMismatch, "\(failure.name): \(error)")
                if !failure.expectsMismatch { XCTAssertTrue(error is LayerError, "\(failure.name): \(error)") }
            }
            XCTAssertNil(store.cachedLayerHeaders(diffID: diffID, blob: blob), failure.name)
        }
        XCTAssertFalse(store.hasBlob(blob))

        // Storing the blob from the same read: only once it verified, and nothing left behind otherwise.
        let storing = try ImageStore(root: scratch + "/storing")
        do {
            _ = try await storing.layerHeaders(diffID: diffID, blob: blob, chunks: Self.chunks(bytes, ending: Mismatch()), storingBlob: true)
            XCTFail("no error")
        } catch {
            XCTAssertTrue(error is Mismatch, "\(error)")
        }
        XCTAssertFalse(storing.hasBlob(blob))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch + "/storing/tmp").filter { !$0.hasPrefix(".") }, [])
        let stored = try await storing.layerHeaders(diffID: diffID, blob: blob, chunks: Self.chunks(bytes), storingBlob: true)
        XCTAssertEqual(stored, expected)
        XCTAssertTrue(storing.hasBlob(blob))
        XCTAssertEqual(try sha256sum(storing.blobPath(blob)), blob)

        for size in [1, 4096, 1 << 20] {
            let fresh = try ImageStore(root: scratch + "/store-\(size)")
            let streamed = try await fresh.layerHeaders(diffID: diffID, blob: blob, chunks: Self.chunks(bytes, size: size))
            XCTAssertEqual(streamed, expected, "chunks of \(size)")
            XCTAssertEqual(fresh.cachedLayerHeaders(diffID: diffID, blob: blob), expected)
            XCTAssertFalse(fresh.hasBlob(blob), "the blob itself is not stored")
        }
    }
}

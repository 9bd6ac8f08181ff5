import Foundation
import ImageModel
import Layers
import NIOCore
@testable import Registry
import XCTest

/// `FileFollowingUpload` in-process: the upload reads the file back behind the writer, the
/// writer never waits for it, and each side's failure ends what it should.
final class FileFollowingUploadTests: XCTestCase {
    /// Made once: generating it byte by byte is slow in a debug build.
    static let payload = StreamedUploadTests.payload(12 * 1024 * 1024, seed: 11)

    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "file-following-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func upload(at path: String) throws -> FileFollowingUpload {
        try FileFollowingUpload(file: try FileBlobSink(path: path), path: path, minimumPart: 256 << 10, maximumPart: 4 << 20)
    }

    /// Writes `bytes` in pieces of the given sizes (cycled) on a thread of its own, as the
    /// layer writer does; closes at the end unless `closing` is false.
    static func write(_ bytes: [UInt8], into sink: any BlobSink, pieces: [Int], closing: Bool = true) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread {
                continuation.resume(with: Result {
                    var offset = 0
                    var index = 0
                    while offset < bytes.count {
                        let end = min(bytes.count, offset + pieces[index % pieces.count])
                        try bytes[offset..<end].withUnsafeBytes { try sink.write($0) }
                        offset = end
                        index += 1
                    }
                    if closing { try sink.close() }
                })
            }.start()
        }
    }

    /// The parts the request body gets, until the end or the first error.
    static func read(_ body: AsyncThrowingStream<ByteBuffer, any Error>) async -> (parts: [[UInt8]], error: (any Error)?) {
        var parts: [[UInt8]] = []
        do {
            for try await part in body { parts.append(Array(buffer: part)) }
            return (parts, nil)
        } catch {
            return (parts, error)
        }
    }

    /// Read while written, whatever the writer's pieces: the body is the file, byte for byte,
    /// in parts no smaller than the minimum (but the last) and no larger than the maximum.
    func testBodyIsTheFileReadWhileItIsWritten() async throws {
        let directory = try scratch()
        let bytes = Array(Self.payload[..<(9 * 1024 * 1024 + 4321)])
        for (index, pieces) in [[65536], [1 << 20], [3, 700_000, 5_000_000, 1]].enumerated() {
            let path = directory + "/blob-\(index)"
            let upload = try upload(at: path)
            async let body = Self.read(upload.makeStream())
            try await Self.write(bytes, into: upload, pieces: pieces)
            let (parts, error) = await body
            XCTAssertNil(error, "\(pieces)")
            XCTAssertEqual(parts.reduce(into: [UInt8]()) { $0 += $1 }, bytes, "\(pieces)")
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), bytes, "\(pieces)")
            XCTAssertTrue(parts.allSatisfy { $0.count <= 4 << 20 }, "\(parts.map(\.count))")
            XCTAssertTrue(parts.dropLast().allSatisfy { $0.count >= 256 << 10 }, "\(parts.map(\.count))")
        }
    }

    /// Nobody reads while the writer writes 12 MiB: the writer is not held back (a memory
    /// channel would block it after 4 MiB); the upload then reads it all in the largest parts,
    /// from the same file even after it was renamed (the store moves a finished layer).
    func testWriterNeverWaitsForTheUpload() async throws {
        let directory = try scratch()
        let bytes = Self.payload
        let upload = try upload(at: directory + "/blob")
        try await Self.write(bytes, into: upload, pieces: [1 << 20])
        try FileManager.default.moveItem(atPath: directory + "/blob", toPath: directory + "/renamed")
        let (parts, error) = await Self.read(upload.makeStream())
        XCTAssertNil(error)
        XCTAssertEqual(parts.map(\.count), [4 << 20, 4 << 20, 4 << 20])
        XCTAssertEqual(parts.reduce(into: [UInt8]()) { $0 += $1 }, bytes)
    }

    /// The request fails half-way: its body ends with that error, and the writer goes on to
    /// complete the file without seeing it (the caller then uploads the file whole).
    func testFailedUploadLeavesTheFileToBeCompleted() async throws {
        struct Dropped: Error {}
        let directory = try scratch()
        let bytes = Array(Self.payload[..<(6 * 1024 * 1024)])
        let upload = try upload(at: directory + "/blob")
        try await Self.write(Array(bytes[..<(2 << 20)]), into: upload, pieces: [65536], closing: false)
        let first = try await upload.next()
        XCTAssertNotNil(first)
        upload.fail(Dropped())
        try await Self.write(Array(bytes[(2 << 20)...]), into: upload, pieces: [65536])
        XCTAssertNil(upload.failed, "the writer never sees the upload's error")
        let (_, error) = await Self.read(upload.makeStream())
        XCTAssertTrue(error is Dropped, "\(String(describing: error))")
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/blob"))), bytes)
    }

    /// The writer fails: the partial file is removed and the body ends with an error (never
    /// a short blob that looks complete); a waiting reader is woken, and a second abandon is
    /// harmless.
    func testAbandonRemovesTheFileAndFailsTheBody() async throws {
        let directory = try scratch()
        let upload = try upload(at: directory + "/blob")
        try await Self.write(Array(Self.payload[..<100_000]), into: upload, pieces: [4096], closing: false)
        async let body = Self.read(upload.makeStream())
        try await Task.sleep(for: .milliseconds(50))
        upload.abandon()
        upload.abandon()
        let (parts, error) = await body
        XCTAssertTrue(parts.isEmpty, "less than a part was written")
        XCTAssertTrue(error is CancellationError, "\(String(describing: error))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/blob"))
    }
}

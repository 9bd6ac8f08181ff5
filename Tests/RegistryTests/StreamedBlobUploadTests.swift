import Foundation
import NIOCore
@testable import Registry
import XCTest

/// `StreamedBlobUpload` in-process: writes of any size are gathered into whole 1 MiB parts
/// (the last may be shorter), byte for byte, while the body is read.
final class StreamedBlobUploadTests: XCTestCase {
    func testWritesAreGatheredIntoWholeParts() async throws {
        let bytes = Array(FileFollowingUploadTests.payload[..<(5 * 1024 * 1024 + 99)])
        for pieces in [[512], [3, 1 << 20, 70_000], [6 << 20]] {
            let upload = StreamedBlobUpload(name: "test")
            async let body = FileFollowingUploadTests.read(upload.makeStream())
            try await FileFollowingUploadTests.write(bytes, into: upload, pieces: pieces)
            let (parts, error) = await body
            XCTAssertNil(error, "\(pieces)")
            XCTAssertEqual(parts.map(\.count), [1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 99], "\(pieces)")
            XCTAssertEqual(parts.reduce(into: [UInt8]()) { $0 += $1 }, bytes, "\(pieces)")
        }
    }
}

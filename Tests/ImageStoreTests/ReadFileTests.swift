import Foundation
import XCTest
@testable import ImageStore

/// `FileSystem.readFile` reads into one buffer sized by `fstat`; every size around its edges,
/// and files whose `fstat` size is not their length (proc files), come back whole.
final class ReadFileTests: XCTestCase {
    func testEveryLengthIsReadWhole() throws {
        let directory = NSTemporaryDirectory() + "readfile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for length in [0, 1, 4095, 4096, 65_535, 65_536, 65_537, (1 << 20) + 3] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
            let path = directory + "/f\(length)"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            XCTAssertEqual(try FileSystem.readFile(path), bytes, "\(length) bytes")
        }
    }

    func testAFileLongerThanItsStatSizeIsReadToItsEnd() throws {
        // /proc files stat as empty and still have content.
        let read = try FileSystem.readFile("/proc/self/status")
        XCTAssertTrue(String(decoding: read, as: UTF8.self).contains("\nPid:\t"))
        XCTAssertEqual(read.last, UInt8(ascii: "\n"))
    }

    func testAMissingFileThrows() {
        XCTAssertThrowsError(try FileSystem.readFile("/nonexistent-\(UUID().uuidString)"))
    }
}

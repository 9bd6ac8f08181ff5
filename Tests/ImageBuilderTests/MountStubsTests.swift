import Foundation
import PathEncoding
import XCTest
@testable import ImageBuilder

/// Mount stubs keyed by bytes: `é` as U+00E9 (NFC) and as `e` + U+0301 (NFD) are two directories.
final class MountStubsTests: XCTestCase {
    let nfc = "\u{E9}", nfd = "e\u{301}"

    private func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "mount-stubs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Targets under an NFC and an NFD directory need a stub each, deepest first.
    func testNFCAndNFDParentsAreTwoStubs() throws {
        let lower = try scratch()
        let stubs = MountStubs(targets: ["/a/\(nfc)/x", "/a/\(nfd)/y", "/a/\(nfc)/z"], lowers: [lower])
        XCTAssertEqual(stubs.directories.count, 3, "\(stubs.directories)")
        XCTAssertEqual(Set(stubs.directories), [PathKey("a/\(nfc)"), PathKey("a/\(nfd)"), "a"])
        XCTAssertEqual(stubs.directories.last, "a")
        // Present in the lower: no stub, whatever its twin.
        try FileManager.default.createDirectory(atPath: lower + "/a/" + nfc, withIntermediateDirectories: true)
        let present = MountStubs(targets: ["/a/\(nfc)/x", "/a/\(nfd)/y"], lowers: [lower])
        XCTAssertEqual(present.directories, [PathKey("a/\(nfd)")])
    }

    /// A stub holding the NFC mount point and a file the RUN wrote under the NFD name is not
    /// empty: the file belongs in the layer.
    func testExcludedNFCTargetDoesNotHideAnNFDFile() throws {
        let lower = try scratch(), upper = try scratch()
        let cases: [(files: [String], empty: Set<PathKey>)] = [
            ([], ["m"]),
            (["m/\(nfd)"], []),
            (["m/\(nfc)/inside"], ["m"]),  // below the excluded mount point: not the stub's
        ]
        for c in cases {
            try? FileManager.default.removeItem(atPath: upper + "/m")
            try FileManager.default.createDirectory(atPath: upper + "/m/" + nfc, withIntermediateDirectories: true)
            for file in c.files { XCTAssertTrue(FileManager.default.createFile(atPath: upper + "/" + file, contents: Data("x".utf8))) }
            let stubs = MountStubs(targets: ["/m/\(nfc)"], lowers: [lower])
            XCTAssertEqual(stubs.emptyDirectories(in: upper, excluding: [PathKey("m/\(nfc)")]), c.empty, "\(c.files)")
        }
    }
}

import Foundation
import ImageModel
import PathEncoding
@testable import Layers
import TestSupport
import XCTest

/// `LayerUnpacker.readFiles`: several files out of one layer (made by GNU tar) in one pass,
/// each bounded by the limit, links and directories never read as files.
final class LayerFileSetTests: XCTestCase {
    func testReadsRequestedFilesWithinTheLimit() throws {
        let dir = NSTemporaryDirectory() + "swiftdock-fileset-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/root/var/lib/dpkg", withIntermediateDirectories: true)
        try Data("Package: a\n".utf8).write(to: URL(fileURLWithPath: dir + "/root/var/lib/dpkg/status"))
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: dir + "/root/big"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/root/link", withDestinationPath: "big")
        let tar = try runChildProcess("/usr/bin/tar", ["-czf", dir + "/layer.tar.gz", "-C", dir + "/root", "."])
        XCTAssertEqual(tar.status, 0, tar.stderrText)
        let blob = LayerBlob(path: dir + "/layer.tar.gz", digest: nil)

        let cases: [(name: String, paths: Set<PathKey>, limit: Int64, expected: [PathKey: LayerUnpacker.FileRead])] = [
            ("small file", ["var/lib/dpkg/status"], 1024, ["var/lib/dpkg/status": .content(Array("Package: a\n".utf8))]),
            ("over the limit", ["big"], 1024, ["big": .tooLarge(size: 4096)]),
            ("exactly the limit", ["big"], 4096, ["big": .content([UInt8](repeating: 0x41, count: 4096))]),
            ("absent, symlink and directory are not files", ["missing", "link", "var/lib"], 1 << 20, [:]),
            ("nothing asked", [], 1024, [:]),
        ]
        for c in cases {
            XCTAssertEqual(try LayerUnpacker.readFiles(c.paths, fromBlob: blob, limit: c.limit), c.expected, c.name)
        }
    }
}

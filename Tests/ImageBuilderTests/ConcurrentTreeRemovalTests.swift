import Foundation
import PathEncoding
import XCTest
@testable import ImageBuilder

/// `ConcurrentTreeRemoval`: trees of any shape go whole (files, symlinks — never followed —,
/// names that are not UTF-8, many directories per depth), several roots at once, and what it
/// was not asked to remove stays.
final class ConcurrentTreeRemovalTests: XCTestCase {
    func testTreesGoWholeAndSymlinksAreNotFollowed() throws {
        let base = NSTemporaryDirectory() + "tree-removal-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let outside = base + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/kept", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: outside + "/kept/file"))
        var roots: [String] = []
        for tree in 0..<2 {
            let root = base + "/tree\(tree)"
            roots.append(root)
            for a in 0..<5 {
                for b in 0..<7 {
                    let directory = "\(root)/a\(a)/b\(b)/c"
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    try Data("f".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
                }
            }
            try FileManager.default.createSymbolicLink(atPath: root + "/a0/to-outside", withDestinationPath: outside)
            try FileManager.default.createSymbolicLink(atPath: root + "/a1/dangling", withDestinationPath: "/nonexistent")
            // A name that is not UTF-8 (byte 0xff), as a context may hold.
            let odd = PathBytes.string(cString: Array(root.utf8CString.dropLast()) + [CChar(47), CChar(bitPattern: 0xff), 0])
            XCTAssertEqual(PathBytes.withCString(odd) { mkdir($0, 0o755) }, 0)
            let fd = PathBytes.withCString(odd + "/x") { open($0, O_CREAT | O_WRONLY, 0o644) }
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
        }
        ConcurrentTreeRemoval.remove(roots)
        for root in roots { XCTAssertFalse(FileManager.default.fileExists(atPath: root), root) }
        XCTAssertEqual(try String(contentsOfFile: outside + "/kept/file", encoding: .utf8), "keep", "a symlink's target stays")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: base), ["outside"])
    }

    /// A root (or any directory on the way) that is a symlink by the time it is walked is not
    /// followed: the directory it points at keeps its files.
    func testARootThatIsASymlinkIsNotFollowed() throws {
        let base = NSTemporaryDirectory() + "tree-removal-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base + "/target/sub", withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: base + "/target/file"))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: base + "/target/sub/file"))
        try FileManager.default.createSymbolicLink(atPath: base + "/root", withDestinationPath: base + "/target")
        ConcurrentTreeRemoval.remove([base + "/root"])
        XCTAssertEqual(try String(contentsOfFile: base + "/target/file", encoding: .utf8), "keep")
        XCTAssertEqual(try String(contentsOfFile: base + "/target/sub/file", encoding: .utf8), "keep")
    }

    func testMissingRootsAreNoError() {
        ConcurrentTreeRemoval.remove([NSTemporaryDirectory() + "no-such-tree-\(UUID().uuidString)"])
    }
}

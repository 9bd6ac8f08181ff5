import CLinux
import Foundation
import PathEncoding
import XCTest
@testable import Layers

/// The cursor names each path to the kernel as (open parent, name), with the same answer the
/// whole path gives — also for extended attributes, listed by name with `listxattrat` where
/// the kernel has it (issue 13), else through the whole path.
final class ParentDirectoryCursorTests: XCTestCase {
    func testExtendedAttributeListSizeIsWhatTheWholePathGives() throws {
        let scratch = Scratch()
        let dir = scratch.file("d")
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/plain", contents: Data("a".utf8))
        FileManager.default.createFile(atPath: dir + "/tagged", contents: Data("b".utf8))
        FileManager.default.createFile(atPath: dir + "/sub/tagged", contents: Data("c".utf8))
        // user.* xattrs on a regular file (every file system the store lives on supports them).
        XCTAssertEqual(Xattr.set(dir + "/tagged", "user.swiftdock.test", Array("v".utf8)), 0)
        XCTAssertEqual(Xattr.set(dir + "/sub/tagged", "user.swiftdock.test", Array("v".utf8)), 0)
        XCTAssertEqual(symlink(dir + "/tagged", dir + "/link"), 0)
        let cases: [(name: String, path: String, hasAttributes: Bool?)] = [
            ("plain file", dir + "/plain", false),
            ("file with an attribute", dir + "/tagged", true),
            ("same directory again", dir + "/plain", false),
            ("another directory", dir + "/sub/tagged", true),
            ("back to the first", dir + "/tagged", true),
            ("symlink to a file with one: not followed", dir + "/link", nil),
            ("missing", dir + "/missing", nil),
        ]
        let cursor = ParentDirectoryCursor()
        for c in cases {
            let byName = cursor.extendedAttributeListSize(of: c.path)
            XCTAssertEqual(byName, Xattr.list(c.path, nil, 0), c.name)
            if let has = c.hasAttributes { XCTAssertEqual(byName > 0, has, c.name) }
        }
        XCTAssertEqual(cursor.extendedAttributeListSize(of: dir + "/missing"), -1)
    }

    /// Two directories whose names differ only in Unicode normalisation are two directories:
    /// the cursor compares bytes, never `==` (which would call them equal and reuse the first
    /// one's descriptor for the second's files).
    func testDirectoriesEqualOnlyUnderNormalisationAreKeptApart() throws {
        let scratch = Scratch()
        let composed = scratch.file("\u{E9}"), decomposed = scratch.file("e\u{301}")
        XCTAssertEqual(composed, decomposed, "Swift's == calls them equal")
        var inodes: [ino_t] = []
        for dir in [composed, decomposed] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: dir + "/f", contents: Data(dir.utf8))
            var st = stat()
            XCTAssertEqual(lstat(dir + "/f", &st), 0)
            inodes.append(st.st_ino)
        }
        XCTAssertNotEqual(inodes[0], inodes[1])
        let cursor = ParentDirectoryCursor()
        XCTAssertEqual(cursor.lstatus(of: composed + "/f")?.st_ino, inodes[0])
        XCTAssertEqual(cursor.lstatus(of: decomposed + "/f")?.st_ino, inodes[1])
        XCTAssertEqual(cursor.lstatus(of: composed + "/f")?.st_ino, inodes[0])
    }

    /// Every form of path reaches the file the whole path names, whichever directory was open
    /// before: names whose bytes are not UTF-8 (escaped in the path string, decoded for the
    /// kernel), a parent that is a prefix of the previous one, a bare name, the root's files.
    func testEachPathNamesWhatTheWholePathNames() throws {
        let scratch = Scratch()
        let raw = scratch.file("d") + "/" + PathBytes.string([0x66, 0xFF, 0x2E])  // "f\xFF."
        let rawChild = raw + "/" + PathBytes.string([0xC3, 0x28])
        for dir in [scratch.file("d"), scratch.file("d/sub"), scratch.file("d/su"), raw] {
            XCTAssertEqual(PathBytes.withCString(dir) { mkdir($0, 0o755) } == 0 || errno == EEXIST, true, dir)
        }
        let files = [scratch.file("d/sub/f"), scratch.file("d/su/f"), scratch.file("d/f"), raw + "/f", rawChild]
        var inodes: [String: ino_t] = [:]
        for file in files {
            let fd = PathBytes.withCString(file) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
            XCTAssertGreaterThanOrEqual(fd, 0, file)
            var st = stat()
            fstat(fd, &st)
            close(fd)
            inodes[file] = st.st_ino
        }
        let order = files + files.reversed() + [files[0], files[1], files[0], raw + "/f", rawChild, files[2]]
        let cursor = ParentDirectoryCursor()
        for path in order {
            XCTAssertEqual(cursor.lstatus(of: path)?.st_ino, inodes[path], PathBytes.display(path))
        }
        XCTAssertNil(cursor.lstatus(of: scratch.file("d/missing/f")))
        XCTAssertEqual(cursor.lstatus(of: files[0])?.st_ino, inodes[files[0]], "after a parent that cannot be opened")
        // Relative to the working directory, and a file of `/` itself.
        XCTAssertEqual(cursor.at("/") { fd, name in fd == AT_FDCWD && String(cString: name) == "/" }, true)
        XCTAssertNotNil(cursor.lstatus(of: "/etc"))
    }

    func testSameBytes() {
        let cases: [(a: String, b: String, same: Bool)] = [
            ("", "", true),
            ("opt/sp", "opt/sp", true),
            ("opt/sp", "opt/sq", false),
            ("opt/sp", "opt/s", false),
            ("\u{E9}", "e\u{301}", false),
            ("pkg001/mod01/sub", "pkg001/mod01/sub", true),
        ]
        for c in cases {
            XCTAssertEqual(sameBytes(c.a.utf8[...], c.b.utf8[...]), c.same, "\(c.a) / \(c.b)")
            XCTAssertEqual(sameBytes(("x/" + c.a).utf8.dropFirst(2), c.b.utf8[...]), c.same, "substring \(c.a) / \(c.b)")
        }
    }
}

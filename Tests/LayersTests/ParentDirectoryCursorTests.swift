import CLinux
import Foundation
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
}

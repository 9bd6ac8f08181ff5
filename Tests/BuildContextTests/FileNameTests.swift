import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext

/// Names in a context: UTF-8 names are walked as they are; a name that is not UTF-8 is an error
/// naming the file (it was silently left out of the image), unless .dockerignore excludes it.
final class ContextFileNameTests: XCTestCase {
    func testUTF8NamesAreWalkedAndNonUTF8NamesAreNamedErrors() throws {
        let t = try TempTree()
        try t.make(["Übersicht.ipynb", "日本語.txt", "emoji-😀.txt", "with space.txt", "new\nline.txt"])
        let ctx = try ContextDirectory(root: t.root, matcher: nil)
        XCTAssertEqual(try ctx.walk(try ctx.stat(".")).map(\.relativePath).sorted(),
                       ["emoji-😀.txt", "new\nline.txt", "with space.txt", "Übersicht.ipynb", "日本語.txt"].sorted())

        // "café.txt" in Latin-1: byte 0xE9 is not UTF-8.
        var path = Array((t.root + "/caf").utf8) + [0xE9] + Array(".txt".utf8) + [0]
        let created = path.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(created, 0)
        close(created)
        XCTAssertThrowsError(try ctx.walk(try ctx.stat("."))) { error in
            XCTAssertTrue("\(error)".contains("not valid UTF-8"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        let ignoring = try ContextDirectory(root: t.root, matcher: try PatternMatcher(patterns: ["caf*"]))
        XCTAssertEqual(try ignoring.walk(try ignoring.stat(".")).count, 5)
    }
}

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext
import PathEncoding

/// Names in a context: any bytes the kernel allows are walked, resolved and matched by
/// `.dockerignore` as their exact bytes (BuildKit's context transfer copies them byte-exact).
final class ContextFileNameTests: XCTestCase {
    /// Creates a file whose name is `bytes` (relative to `dir`) with `open(2)`, bypassing String.
    func create(_ dir: String, _ bytes: [UInt8]) {
        var path = Array((dir + "/").utf8) + bytes + [0]
        let fd = path.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) }
        }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
    }

    static let latin1Cafe = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)
    static let binary: [UInt8] = [0xFF, 0xFE]

    func testAnyNameIsWalkedWithItsBytes() throws {
        let t = try TempTree()
        try t.make(["Übersicht.ipynb", "日本語.txt", "emoji-😀.txt", "with space.txt", "new\nline.txt", "sub/"])
        create(t.root, Self.latin1Cafe)
        create(t.root + "/sub", Self.binary)
        let ctx = try ContextDirectory(root: t.root, matcher: nil)
        let walked = try ctx.walk(try ctx.stat("."))
        XCTAssertEqual(walked.map { PathBytes.bytes($0.relativePath) },
                       [Array("Übersicht.ipynb".utf8), Self.latin1Cafe, Array("emoji-😀.txt".utf8), Array("new\nline.txt".utf8),
                        Array("sub".utf8), Array("sub/".utf8) + Self.binary, Array("with space.txt".utf8), Array("日本語.txt".utf8)]
                        .sorted { $0.lexicographicallyPrecedes($1) },
                       "every name, in byte order")
        let binary = try XCTUnwrap(walked.first { PathBytes.bytes($0.relativePath) == Array("sub/".utf8) + Self.binary })
        XCTAssertEqual(binary.type, .regular)
        XCTAssertEqual(PathBytes.bytes(binary.absolutePath), Array((t.root + "/sub/").utf8) + Self.binary)
        // A COPY source naming it (here by wildcard) resolves to the same file.
        XCTAssertEqual(try ctx.resolveSources("sub/*").map(\.absolutePath), [binary.absolutePath])
        XCTAssertEqual(try ctx.resolveSources("caf?.txt").map { PathBytes.bytes($0.relativePath) }, [Self.latin1Cafe])
    }

    /// `.dockerignore` rules match the bytes: a pattern holding the raw byte, or a wildcard
    /// (`?` takes one byte that is not UTF-8, as Go's matcher takes it as one rune).
    func testIgnoreRulesMatchRawBytes() throws {
        let cases: [(patterns: [UInt8], kept: [[UInt8]])] = [
            (Array("caf".utf8) + [0xE9] + Array(".txt".utf8), [Array("plain.txt".utf8), Self.binary]),
            (Array("caf?.txt".utf8), [Array("plain.txt".utf8), Self.binary]),
            ([0xFF, 0xFE], [Self.latin1Cafe, Array("plain.txt".utf8)]),
            (Array("??".utf8), [Self.latin1Cafe, Array("plain.txt".utf8)]),
            (Array("*\n!".utf8) + [0xFF] + Array("*".utf8), [Self.binary]),
        ]
        for (ignoreText, kept) in cases {
            let t = try TempTree()
            try t.make(["plain.txt"])
            create(t.root, Self.latin1Cafe)
            create(t.root, Self.binary)
            let ignore = t.root + "/.dockerignore"
            XCTAssertTrue(FileManager.default.createFile(atPath: ignore, contents: Data(ignoreText + Array("\n.dockerignore\n".utf8))))
            let ctx = try ContextDirectory.buildContext(root: t.root, dockerfilePath: t.root + "/Dockerfile")
            XCTAssertEqual(try ctx.walk(try ctx.stat(".")).map { PathBytes.bytes($0.relativePath) }, kept,
                           PathBytes.display(PathBytes.string(ignoreText)))
        }
    }

    /// A tree deeper than PATH_MAX: one line naming the path, as BuildKit's walker (Go's
    /// `lstat`, ENAMETOOLONG) fails — never a crash or a silently shorter tree.
    func testPathLongerThanPathMaxIsAOneLineError() throws {
        let t = try TempTree()
        var fd = open(t.root, O_RDONLY | O_DIRECTORY)
        let component = String(repeating: "d", count: 200)
        for _ in 0..<(Int(PATH_MAX) / 201 + 2) {
            XCTAssertEqual(mkdirat(fd, component, 0o755), 0)
            let next = openat(fd, component, O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        XCTAssertEqual(mkdirat(fd, "leaf", 0o755), 0)
        close(fd)
        let ctx = try ContextDirectory(root: t.root, matcher: nil)
        XCTAssertThrowsError(try ctx.walk(try ctx.stat("."))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("cannot read \"ddd"), text.prefix(80) + "")
            XCTAssertTrue(text.hasSuffix("File name too long"), String(text.suffix(80)))
            XCTAssertFalse(text.contains("\n"))
        }
        // Excluded by .dockerignore, the deep tree is never entered.
        let ignoring = try ContextDirectory(root: t.root, matcher: try PatternMatcher(patterns: [component]))
        XCTAssertEqual(try ignoring.walk(try ignoring.stat(".")).count, 0)
    }
}

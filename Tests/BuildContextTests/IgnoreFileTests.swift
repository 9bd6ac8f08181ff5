import XCTest
@testable import BuildContext

final class IgnoreFileTests: XCTestCase {
    func testParseTable() throws {
        let cases: [(String, String, [String])] = [
            ("ReadAll example", "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n",
             ["test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path"]),
            ("leading slash", "/test2", ["test2"]),
            ("leading slash deep", "/a/file/here", ["a/file/here"]),
            ("spaces after !", "! /inverted/abs/path", ["!inverted/abs/path"]),
            ("comment only in column 1", "# comment\n  # not a comment", ["# not a comment"]),
            ("indented # is a pattern", "\t#x", ["#x"]),
            ("comment not recognised after BOM? (BOM stripped first)", "\u{FEFF}# c\nx", ["x"]),
            ("BOM stripped", "\u{FEFF}x\ny", ["x", "y"]),
            ("trimmed lines", "  a  \n\tb\t\n", ["a", "b"]),
            ("blank lines skipped", "\n\n   \na\n\n", ["a"]),
            ("CRLF", "a\r\nb\r\n", ["a", "b"]),
            ("./x cleaned", "./x", ["x"]),
            ("x/../y cleaned", "x/../y", ["y"]),
            ("trailing slash", "node_modules/", ["node_modules"]),
            ("double slash", "a//b///c", ["a/b/c"]),
            ("only one leading slash dropped, after Clean", "//a", ["a"]),
            ("dot dot at root", "/../a", ["a"]),
            ("relative dot dot kept", "../a", ["../a"]),
            ("! with ./", "!./keep/", ["!keep"]),
            ("lone slash kept", "/", ["/"]),
            ("dot", ".", ["."]),
            ("wildcards untouched", "**/*.pyc\n!src/**", ["**/*.pyc", "!src/**"]),
            ("no trailing newline", "a\nb", ["a", "b"]),
            ("tutorial", "__pycache__\nSourcecode/temp\n", ["__pycache__", "Sourcecode/temp"]),
        ]
        for (name, text, expected) in cases {
            XCTAssertEqual(try IgnoreFile.parse(text), expected, name)
        }
    }

    func testLoneExclamationIsAnError() {
        for text in ["!", "! ", "a\n!\n", "a\n  !  \n"] {
            XCTAssertThrowsError(try IgnoreFile.parse(text), text.debugDescription) { error in
                guard case ContextError.badIgnoreFile(_, let line, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(line, text.hasPrefix("a") ? 2 : 1)
            }
        }
    }

    func testLocatePrefersDockerfileSpecificFile() throws {
        let t = try TempTree()
        try t.make(["Dockerfile", "sub/app.Dockerfile"])
        XCTAssertNil(IgnoreFile.locate(contextDirectory: t.root, dockerfilePath: t.root + "/Dockerfile"))
        try t.write(".dockerignore", "root-rule")
        XCTAssertEqual(IgnoreFile.locate(contextDirectory: t.root, dockerfilePath: t.root + "/Dockerfile"),
                       t.root + "/.dockerignore")
        XCTAssertEqual(IgnoreFile.locate(contextDirectory: t.root, dockerfilePath: t.root + "/sub/app.Dockerfile"),
                       t.root + "/.dockerignore")
        try t.write("sub/app.Dockerfile.dockerignore", "specific")
        XCTAssertEqual(IgnoreFile.locate(contextDirectory: t.root, dockerfilePath: t.root + "/sub/app.Dockerfile"),
                       t.root + "/sub/app.Dockerfile.dockerignore")
    }

    func testDockerfileSpecificIgnoreReplacesRootOne() throws {
        let t = try TempTree()
        try t.make(["Dockerfile", "a.txt", "b.txt"])
        try t.write(".dockerignore", "a.txt")
        try t.write("Dockerfile.dockerignore", "b.txt")
        let ctx = try ContextDirectory.buildContext(root: t.root, dockerfilePath: t.root + "/Dockerfile")
        XCTAssertEqual(ctx.matcher?.patternStrings, ["b.txt"])
        XCTAssertNoThrow(try ctx.resolveSources("a.txt")) // root file not merged in
        XCTAssertThrowsError(try ctx.resolveSources("b.txt"))
    }

    func testBadIgnoreFileNamesPathAndLine() throws {
        let t = try TempTree()
        try t.write(".dockerignore", "ok\n# c\nbad[\n")
        XCTAssertThrowsError(try ContextDirectory.buildContext(root: t.root, dockerfilePath: t.root + "/Dockerfile")) { error in
            XCTAssertEqual(error as? ContextError,
                           .badIgnoreFile(path: t.root + "/.dockerignore", line: 3,
                                          reason: "invalid pattern \"bad[\": syntax error in pattern"))
            XCTAssertTrue("\(error)".contains(".dockerignore"))
        }
    }
}

import XCTest
@testable import BuildContext

final class SourceResolutionTests: XCTestCase {
    private func tree() throws -> TempTree {
        let t = try TempTree()
        try t.make(["Sourcecode/input.csv", "Sourcecode/notes.txt", "Sourcecode/.env", "a.txt", "b.txt", "ab.md",
                    ".hidden", "src/x/one.go", "src/y/two.go", "src/y/skip.go", "real/inner.txt", "[x]"])
        try t.symlink("link", to: "real")
        try t.symlink("src/y/up", to: "../../real/inner.txt")
        try t.symlink("abs-inside", to: t.root + "/real")
        try t.symlink("escape", to: "../")
        try t.symlink("escape-abs", to: "/etc")
        try t.symlink("dangling", to: "nope")
        return t
    }

    private func ctx(_ t: TempTree, _ patterns: [String] = []) throws -> ContextDirectory {
        try ContextDirectory(root: t.root, matcher: patterns.isEmpty ? nil : try PatternMatcher(patterns: patterns))
    }

    func testTable() throws {
        let t = try tree()
        let c = try ctx(t, ["src/y/skip.go", "*.md"])
        let cases: [(String, [String])] = [
            (".", ["."]),
            ("/", ["."]),
            ("./", ["."]),
            ("Sourcecode", ["Sourcecode"]),
            ("/Sourcecode", ["Sourcecode"]),
            ("./Sourcecode/", ["Sourcecode"]),
            ("Sourcecode/../a.txt", ["a.txt"]),
            ("//Sourcecode//input.csv", ["Sourcecode/input.csv"]),
            ("*.txt", ["a.txt", "b.txt"]),
            ("?.txt", ["a.txt", "b.txt"]),
            ("[a].txt", ["a.txt"]),
            ("Sourcecode/*", ["Sourcecode/.env", "Sourcecode/input.csv", "Sourcecode/notes.txt"]),
            ("Sourcecode/.*", ["Sourcecode/.env"]),
            (".h*", [".hidden"]),
            ("src/*/*.go", ["src/x/one.go", "src/y/two.go"]),
            ("/src/*/t*.go", ["src/y/two.go"]),
            ("s*", ["src"]),
            ("[[]x]", ["[x]"]),
        ]
        for (source, expected) in cases {
            XCTAssertEqual(try c.resolveSources(source).map(\.relativePath), expected, source)
        }
        XCTAssertEqual(try c.resolveSources("/").first?.absolutePath, t.root)
        XCTAssertEqual(try c.resolveSources("/").first?.type, .directory)
    }

    func testNotFoundCases() throws {
        let t = try tree()
        let c = try ctx(t, ["src/y/skip.go", "*.md"])
        for source in ["missing", "*.none", "ab.md", "a*.md", "src/y/skip.go", "src/*/skip.go", "a.txt/x", "dangling", ""] {
            XCTAssertThrowsError(try c.resolveSources(source), source) { error in
                XCTAssertEqual(error as? ContextError, .notFound(source), source)
            }
        }
    }

    func testEscapes() throws {
        let t = try tree()
        let c = try ctx(t)
        for source in ["..", "../x", "a/../../x", "escape", "escape/x", "escape-abs", "escape-abs/passwd"] {
            XCTAssertThrowsError(try c.resolveSources(source), source) { error in
                XCTAssertEqual(error as? ContextError, .outsideContext(source), source)
                XCTAssertTrue("\(error)".contains(source))
            }
        }
        // A leading slash is the context root, so `/../x` is clamped, not an escape.
        XCTAssertThrowsError(try c.resolveSources("/../missing")) {
            XCTAssertEqual($0 as? ContextError, .notFound("/../missing"))
        }
    }

    func testSymlinkSourcesAreFollowedWithinTheRoot() throws {
        let t = try tree()
        let c = try ctx(t)
        let link = try c.resolveSources("link")
        XCTAssertEqual(link.map(\.relativePath), ["link"])
        XCTAssertEqual(link[0].type, .directory)
        XCTAssertEqual(link[0].absolutePath, t.root + "/real")
        XCTAssertEqual(try c.walk(link[0]).map(\.relativePath), ["link/inner.txt"])
        XCTAssertEqual(try c.resolveSources("link/inner.txt")[0].absolutePath, t.root + "/real/inner.txt")
        XCTAssertEqual(try c.resolveSources("abs-inside")[0].absolutePath, t.root + "/real")
        let up = try c.resolveSources("src/y/up")
        XCTAssertEqual(up[0].type, .regular)
        XCTAssertEqual(up[0].absolutePath, t.root + "/real/inner.txt")
        // A wildcard match that is a symlink is followed too.
        XCTAssertEqual(try c.resolveSources("l?nk")[0].type, .directory)
        // Ignore rules apply to the target: an excluded target is not found through the link.
        let ignored = try ctx(t, ["real"])
        XCTAssertThrowsError(try ignored.resolveSources("link"))
        // ... and to the link itself.
        let linkIgnored = try ctx(t, ["link"])
        XCTAssertThrowsError(try linkIgnored.resolveSources("link"))
        XCTAssertNoThrow(try linkIgnored.resolveSources("real"))
    }

    func testStat() throws {
        let t = try tree()
        let c = try ctx(t, ["a.txt"])
        XCTAssertEqual(try c.stat("a.txt").type, .regular) // stat ignores the rules
        XCTAssertEqual(try c.stat("link").type, .symlink(target: "real"))
        XCTAssertEqual(try c.stat(".").relativePath, ".")
        XCTAssertThrowsError(try c.stat("../x"))
        XCTAssertThrowsError(try c.stat("nope")) { XCTAssertEqual($0 as? ContextError, .notFound("nope")) }
    }

    func testBackslashLiteralSource() throws {
        let t = try TempTree()
        try t.make(["a\\b"])
        let c = try ctx(t)
        XCTAssertEqual(try c.resolveSources("a\\b").map(\.relativePath), ["a\\b"])
    }
}

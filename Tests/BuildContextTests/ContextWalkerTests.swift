import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext

final class ContextWalkerTests: XCTestCase {
    private func context(_ t: TempTree, _ patterns: [String]) throws -> ContextDirectory {
        try ContextDirectory(root: t.root, matcher: patterns.isEmpty ? nil : try PatternMatcher(patterns: patterns))
    }

    private func walkAll(_ ctx: ContextDirectory, excluding extra: [String] = []) throws -> [String] {
        try ctx.walk(try ctx.stat("."), excluding: extra).map(\.relativePath)
    }

    func testTutorialDockerignore() throws {
        let t = try TempTree()
        try t.make(["Sourcecode/dockerVertexai.ipynb", "Sourcecode/input.csv", "Sourcecode/temp/x",
                    "__pycache__/a.pyc", "Sourcecode/__pycache__/b.pyc", "Dockerfile"])
        try t.write(".dockerignore", "__pycache__\nSourcecode/temp\n")
        let ctx = try ContextDirectory.buildContext(root: t.root, dockerfilePath: t.root + "/Dockerfile")
        XCTAssertEqual(try walkAll(ctx), [
            ".dockerignore", "Dockerfile", "Sourcecode", "Sourcecode/__pycache__", "Sourcecode/__pycache__/b.pyc",
            "Sourcecode/dockerVertexai.ipynb", "Sourcecode/input.csv",
        ])
        let src = try ctx.resolveSources("/Sourcecode")
        XCTAssertEqual(src.map(\.relativePath), ["Sourcecode"])
        XCTAssertEqual(try ctx.walk(src[0]).map(\.relativePath), [
            "Sourcecode/__pycache__", "Sourcecode/__pycache__/b.pyc",
            "Sourcecode/dockerVertexai.ipynb", "Sourcecode/input.csv",
        ])
        XCTAssertThrowsError(try ctx.resolveSources("Sourcecode/temp")) { error in
            XCTAssertEqual(error as? ContextError, .notFound("Sourcecode/temp"))
            XCTAssertEqual("\(error)", "\"Sourcecode/temp\": not found in build context or excluded by .dockerignore")
        }
        XCTAssertThrowsError(try ctx.resolveSources("__pycache__/a.pyc"))
    }

    func testSortedDepthFirstParentsFirst() throws {
        let t = try TempTree()
        try t.make(["b", "a.txt", "a/z", "a/b/c", "A", "a-b", "_"])
        XCTAssertEqual(try walkAll(try context(t, [])), ["A", "_", "a", "a/b", "a/b/c", "a/z", "a-b", "a.txt", "b"])
    }

    func testEntryFields() throws {
        let t = try TempTree()
        try t.make(["d/f"], content: "hello")
        chmod(t.root + "/d/f", 0o640)
        try t.symlink("d/l", to: "f")
        mkfifo(t.root + "/d/p", 0o600)
        let entries = try context(t, []).walk(try context(t, []).stat("d"))
        XCTAssertEqual(entries.map(\.relativePath), ["d/f", "d/l", "d/p"])
        let f = entries[0]
        XCTAssertEqual(f.type, .regular)
        XCTAssertEqual(f.size, 5)
        XCTAssertEqual(f.mode, 0o640)
        XCTAssertEqual(f.absolutePath, t.root + "/d/f")
        XCTAssertEqual(f.linkCount, 1)
        XCTAssertEqual(f.uid, Int(getuid()))
        XCTAssertGreaterThan(f.inode, 0)
        XCTAssertGreaterThan(f.mtimeSeconds, 0)
        XCTAssertEqual(entries[1].type, .symlink(target: "f"))
        XCTAssertEqual(entries[2].type, .other)
    }

    func testSymlinksInsideDirectoriesAreNotFollowed() throws {
        let t = try TempTree()
        try t.make(["real/inner.txt", "d/file"])
        try t.symlink("d/link", to: "../real")
        try t.symlink("d/outside", to: "/etc")
        let ctx = try context(t, [])
        XCTAssertEqual(try ctx.walk(try ctx.stat("d")).map(\.relativePath), ["d/file", "d/link", "d/outside"])
    }

    func testExceptionReincludesInsideExcludedDirectory() throws {
        // fsutil TestWalkerExclude: `foo*` + `!foo/bar2` emits dir foo, then foo/bar2.
        let t = try TempTree()
        try t.make(["foo/bar1", "foo/bar2", "foo2", "other"])
        let ctx = try context(t, ["foo*", "!foo/bar2"])
        XCTAssertEqual(try walkAll(ctx), ["foo", "foo/bar2", "other"])
        XCTAssertEqual(try ctx.resolveSources("foo").map(\.relativePath), ["foo"])
        XCTAssertThrowsError(try ctx.resolveSources("foo/bar1"))
        XCTAssertThrowsError(try ctx.resolveSources("foo2"))
    }

    func testDeepExceptionEmitsEveryParent() throws {
        let t = try TempTree()
        try t.make(["dir/top.go", "dir/a/b/deep.go", "dir/a/x.txt", "dir/c/y.txt", "keep.txt"])
        let ctx = try context(t, ["dir", "!dir/**/*.go"])
        XCTAssertEqual(try walkAll(ctx), ["dir", "dir/a", "dir/a/b", "dir/a/b/deep.go", "dir/top.go", "keep.txt"])
        // dir/c holds nothing re-included: it is not emitted and not a source.
        XCTAssertThrowsError(try ctx.resolveSources("dir/c"))
    }

    func testStarWithLiteralException() throws {
        let t = try TempTree()
        try t.make(["src/a/b.go", "docs/x", "Dockerfile"])
        XCTAssertEqual(try walkAll(try context(t, ["*", "!src"])), ["src", "src/a", "src/a/b.go"])
    }

    func testPruningNoExceptions() throws {
        let t = try TempTree()
        try t.make(["keep/a", "big/1/x", "big/2/y", "big/3/z/w"])
        let ctx = try context(t, ["big"])
        var stats = WalkStatistics()
        let out = try ctx.walk(try ctx.stat("."), excluding: [], statistics: &stats).map(\.relativePath)
        XCTAssertEqual(out, ["keep", "keep/a"])
        XCTAssertEqual(stats.directoriesRead, 2) // root and keep: big is never listed
    }

    func testPruningWithLiteralExceptions() throws {
        let t = try TempTree()
        try t.make(["keep/a", "big/1/x", "big/2/y", "other/deep/z"])
        let ctx = try context(t, ["big", "other", "!big/2"])
        var stats = WalkStatistics()
        let out = try ctx.walk(try ctx.stat("."), excluding: [], statistics: &stats).map(\.relativePath)
        XCTAssertEqual(out, ["big", "big/2", "big/2/y", "keep", "keep/a"])
        // root, big (an exception starts with big/), big/2, keep; big/1 and other are pruned.
        XCTAssertEqual(stats.directoriesRead, 4)
    }

    func testNoPruningWithWildcardException() throws {
        let t = try TempTree()
        try t.make(["big/1/x", "big/2/keep", "other/deep/z"])
        let ctx = try context(t, ["big", "other", "!**/keep"])
        var stats = WalkStatistics()
        let out = try ctx.walk(try ctx.stat("."), excluding: [], statistics: &stats).map(\.relativePath)
        XCTAssertEqual(out, ["big", "big/2", "big/2/keep"])
        XCTAssertEqual(stats.directoriesRead, 6) // every directory is listed
    }

    func testUnreadableExcludedDirectoryIsNotEntered() throws {
        let t = try TempTree()
        try t.make(["secret/key", "app/main"])
        chmod(t.root + "/secret", 0o000)
        defer { chmod(t.root + "/secret", 0o755) }
        XCTAssertEqual(try walkAll(try context(t, ["secret"])), ["app", "app/main"])
        // Not pruned (wildcard exception) but excluded: permission errors are ignored, as fsutil does.
        XCTAssertEqual(try walkAll(try context(t, ["secret", "!app/*.x?"])), ["app", "app/main"])
        if getuid() != 0 {
            XCTAssertThrowsError(try walkAll(try context(t, []))) { error in
                guard case ContextError.unreadable(let path, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "secret")
            }
        }
    }

    func testUnreadableFileIsAnError() throws {
        try XCTSkipIf(getuid() == 0, "root can read mode-000 files")
        let t = try TempTree()
        try t.make(["a/locked"])
        chmod(t.root + "/a/locked", 0o000)
        XCTAssertThrowsError(try walkAll(try context(t, [])))
        XCTAssertEqual(try walkAll(try context(t, ["a/locked"])), ["a"])
    }

    func testCopyExcludePatterns() throws {
        let t = try TempTree()
        try t.make(["app/main.go", "app/main_test.go", "app/vendor/x.go", "app/docs/README.md", "app/docs/x.md"])
        let ctx = try context(t, [])
        let app = try ctx.resolveSources("app")[0]
        XCTAssertEqual(try ctx.walk(app, excluding: ["*_test.go", "vendor"]).map(\.relativePath),
                       ["app/docs", "app/docs/README.md", "app/docs/x.md", "app/main.go"])
        XCTAssertEqual(try ctx.walk(app, excluding: ["docs", "!docs/README.md"]).map(\.relativePath),
                       ["app/docs", "app/docs/README.md", "app/main.go", "app/main_test.go", "app/vendor", "app/vendor/x.go"])
        XCTAssertEqual(try ctx.walk(app, excluding: ["**/*.go"]).map(\.relativePath),
                       ["app/docs", "app/docs/README.md", "app/docs/x.md", "app/vendor"])
        XCTAssertThrowsError(try ctx.walk(app, excluding: ["["]))
    }

    func testIgnoreRulesApplyRelativeToRootWhenWalkingASubdirectory() throws {
        let t = try TempTree()
        try t.make(["a/b/c.txt", "a/b/d.log", "a/x.log"])
        let ctx = try context(t, ["a/b/*.log"])
        XCTAssertEqual(try ctx.walk(try ctx.resolveSources("a")[0]).map(\.relativePath),
                       ["a/b", "a/b/c.txt", "a/x.log"])
        XCTAssertEqual(try ctx.walk(try ctx.resolveSources("a/b")[0]).map(\.relativePath), ["a/b/c.txt"])
    }

    func testWalkerUsesFsutilParentResults() throws {
        // fsutil threads per-pattern parent results (MatchesUsingParentResults): `!b` was never
        // evaluated for `b`, so it cannot rescue `b/x`, while MatchesOrParentMatches says "kept".
        let t = try TempTree()
        try t.make(["b/x", "b/y"])
        let ctx = try context(t, ["b/x", "!b"])
        XCTAssertFalse(ctx.matcher!.isExcluded("b/x"))
        XCTAssertEqual(try walkAll(ctx), ["b", "b/y"])
        XCTAssertThrowsError(try ctx.resolveSources("b/x"))
    }

    func testWalkOfFileIsEmpty() throws {
        let t = try TempTree()
        try t.make(["f"])
        let ctx = try context(t, [])
        XCTAssertEqual(try ctx.walk(try ctx.stat("f")), [])
    }

    func testContextRootErrors() throws {
        let t = try TempTree()
        try t.make(["file"])
        XCTAssertThrowsError(try ContextDirectory(root: t.root + "/missing")) {
            XCTAssertEqual($0 as? ContextError, .missingContext(t.root + "/missing"))
        }
        XCTAssertThrowsError(try ContextDirectory(root: t.root + "/file")) {
            XCTAssertEqual($0 as? ContextError, .notADirectory(t.root + "/file"))
        }
    }

    /// A source directory replaced after COPY resolved it — by a symlink leading out of the
    /// context, or by another directory — is refused with one line naming it, never listed
    /// wherever the path now leads.
    func testADirectoryReplacedAfterResolutionIsRefused() throws {
        let outside = try TempTree()
        try outside.make(["secret.txt"])
        let replacements: [(String, (TempTree) throws -> Void)] = [
            ("symlink out of the context", { try $0.symlink("src", to: outside.root) }),
            ("another directory", { try $0.make(["src/other.txt"]) }),
        ]
        for (name, replace) in replacements {
            let t = try TempTree()
            try t.make(["src/a.txt"])
            let ctx = try context(t, [])
            let resolved = try ctx.resolveSources("src")[0]
            try FileManager.default.moveItem(atPath: t.root + "/src", toPath: t.root + "/old")
            try replace(t)
            XCTAssertThrowsError(try ctx.walk(resolved), name) { error in
                XCTAssertTrue("\(error)".hasPrefix("cannot read \"src\": "), "\(name): \(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}

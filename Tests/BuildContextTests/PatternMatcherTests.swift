import XCTest
@testable import BuildContext

/// Table-driven checks of moby/patternmatcher semantics (`MatchesOrParentMatches`).
final class PatternMatcherTests: XCTestCase {
    struct Case {
        let id: String
        let patterns: [String]
        let path: String
        let excluded: Bool
        init(_ id: String, _ patterns: [String], _ path: String, _ excluded: Bool) {
            self.id = id
            self.patterns = patterns
            self.path = path
            self.excluded = excluded
        }
    }

    /// Rows #1-#42 of builders.md §2 (from patternmatcher_test.go) plus extra cases.
    static let cases: [Case] = [
        Case("#1", ["**"], "file", true),
        Case("#2", ["**/"], "file", true),
        Case("#3", ["**"], "dir/file", true),
        Case("#4", ["**/**"], "dir/file", true),
        Case("#5", ["dir/**"], "dir/dir2/file", true),
        Case("#6", ["**/dir"], "dir", true),
        Case("#7", ["**/dir"], "dir/file", true),
        Case("#8", ["**/dir2/*"], "dir/dir2/file", true),
        Case("#9", ["**/dir2/**"], "dir/dir2/dir3/file", true),
        Case("#10", ["**file"], "dir/file", true),
        Case("#11", ["**/file*.txt"], "dir/dir/file.txt", true),
        Case("#12", ["**/**/*.txt2"], "dir/dir/file.txt", false),
        Case("#13", ["**/*.txt"], "file.txt", true),
        Case("#14", ["a**/*.txt"], "a/dir/dir/file.txt", true),
        Case("#15", ["a/*.txt"], "a/dir/file.txt", false),
        Case("#16", ["a/*.txt"], "a/file.txt", true),
        Case("#17a", ["a[b-d]e"], "ace", true),
        Case("#17b", ["a[b-d]e"], "aae", false),
        Case("#18", ["a[^b-d]e"], "aze", true),
        Case("#19a", [".*"], ".foo", true),
        Case("#19b", [".*"], "foo", false),
        Case("#20", ["abc.def"], "abcdef", false),
        Case("#21a", ["abc?def"], "abcZdef", true),
        Case("#21b", ["abc?def"], "abcdef", false),
        Case("#22", ["a\\\\"], "a\\", true),
        Case("#23", ["a\\*b"], "a*b", true),
        Case("#24", ["**/foo/bar"], "foo/bar", true),
        Case("#25", ["abc/**"], "abc", false),
        Case("#26", ["abc/**"], "abc/def/ghi", true),
        Case("#27", ["**/.foo"], "bar.foo", false),
        Case("#28", ["a(b)c/def"], "a(b)c/def", true),
        Case("#29", ["dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        Case("#30", ["**", "!util/docker/web"], "util/docker/web/foo", false),
        Case("#31", ["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", true),
        Case("#32", ["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", false),
        Case("#33", ["*.go", "!fileutils.go"], "fileutils.go", false),
        Case("#34", ["!fileutils.go", "*.go"], "fileutils.go", true),
        Case("#35a", ["docs", "!docs/README.md"], "docs/README.md", false),
        Case("#35b", ["docs/", "!docs/README.md"], "docs/README.md", false),
        Case("#35c", ["docs/*", "!docs/README.md"], "docs/README.md", false),
        Case("#36", ["*.go"], ".", false),
        Case("#39", ["a*"], "ab/c", true),
        Case("#40", ["a*/b"], "a/c/b", false),
        Case("#41a", ["a?b"], "a/b", false),
        Case("#41b", ["a*b"], "a/b", false),
        Case("#42", ["[\\-x]"], "-", true),
        // Root anchoring and `**`.
        Case("bare name is root-anchored", ["__pycache__"], "__pycache__", true),
        Case("bare name, root child", ["__pycache__"], "__pycache__/a.pyc", true),
        Case("bare name not nested", ["__pycache__"], "a/__pycache__", false),
        Case("bare name not nested child", ["__pycache__"], "Sourcecode/__pycache__/b.pyc", false),
        Case("**/ any depth", ["**/__pycache__"], "Sourcecode/__pycache__/b.pyc", true),
        Case("**/ at root", ["**/__pycache__"], "__pycache__", true),
        Case("*/ one level only", ["*/temp"], "a/b/temp", false),
        Case("*/ one level", ["*/temp"], "a/temp/x", true),
        Case("node_modules/ root only", ["node_modules/"], "web/node_modules/x", false),
        Case("**/node_modules/ nested", ["**/node_modules/"], "web/node_modules/x", true),
        // Exceptions, order, ancestors.
        Case("! re-includes", ["*.md", "!README.md"], "README.md", false),
        Case("last match wins", ["*.md", "!README.md", "README*"], "README.md", true),
        Case("exception then nothing", ["!README.md"], "README.md", false),
        Case("ancestor exclusion", ["build"], "build/a/b/c.o", true),
        Case("ancestor with glob", ["b*d"], "build/a/b/c.o", true),
        Case("* then !src keeps src tree", ["*", "!src"], "src/a/b.go", false),
        Case("* excludes others", ["*", "!src"], "docs/x", true),
        Case("dir + !dir/**/*.go deep", ["dir", "!dir/**/*.go"], "dir/a/b/deep.go", false),
        Case("dir + !dir/**/*.go top", ["dir", "!dir/**/*.go"], "dir/top.go", false),
        Case("dir + !dir/**/*.go other", ["dir", "!dir/**/*.go"], "dir/a/x.txt", true),
        // Cleaning inside the matcher.
        Case("./x cleaned", ["./x"], "x", true),
        Case("x/../y cleaned", ["x/../y"], "y", true),
        Case("x/../y cleaned, x kept", ["x/../y"], "x", false),
        Case("double slash", ["a//b"], "a/b", true),
        Case("pattern . has no effect", ["."], "a", false),
        // Literal regexp metacharacters and classes.
        Case("plus literal", ["a+b"], "a+b", true),
        Case("plus not a quantifier", ["a+b"], "aab", false),
        Case("braces literal", ["{a,b}"], "{a,b}", true),
        Case("braces not alternation", ["{a,b}"], "a", false),
        Case("pipe literal", ["a|b"], "a", false),
        Case("dollar literal", ["a$b"], "a$b", true),
        Case("star never crosses slash", ["*"], "a/b", true), // via ancestor `a`
        Case("? is one char", ["?.txt"], "ab.txt", false),
        Case("unicode ?", ["?.txt"], "é.txt", true),
        Case("class with escaped ]", ["[\\]a]"], "]", true),
        Case("suffix ** without slash", ["**.log"], "deep/dir/x.log", true),
        Case("prefix dir/** matches children only", ["dir/**"], "dir", false),
        Case("regexp ** in middle zero segments", ["a/**/b"], "a/b", true),
        Case("regexp ** in middle many", ["a/**/b"], "a/x/y/b", true),
        Case("regexp ** in middle wrong", ["a/**/b"], "ax/b", false),
        Case("trailing ** after wildcard", ["a*/**"], "ab/c", true),
        Case("trailing ** after wildcard parent", ["a*/**"], "ab", false),
    ]

    func testTable() throws {
        for c in Self.cases {
            let m = try PatternMatcher(patterns: c.patterns)
            XCTAssertEqual(m.isExcluded(c.path), c.excluded, "\(c.id): \(c.patterns) vs \(c.path)")
            // The walker variant (MatchesUsingParentResults threaded from the top) agrees on these.
            var info: PatternMatcher.MatchInfo? = nil
            var result = false
            var prefix = ""
            if c.path != "." {
                for part in GoPath.components(c.path) {
                    prefix = GoPath.join(prefix, part)
                    let r = m.match(prefix, parent: info)
                    info = r.info
                    result = r.excluded
                }
                XCTAssertEqual(result, c.excluded, "\(c.id) (walker variant): \(c.patterns) vs \(c.path)")
            }
        }
        XCTAssertGreaterThanOrEqual(Self.cases.count, 40)
    }

    func testBadPatterns() {
        // #37, #38 and friends.
        for bad in ["!", "[", "[]a]", "[-]", "[x-]", "\\", "a[", "[^", "[^bc", "a/b[", "[a-b-c]", "*[", "x\\"] {
            XCTAssertThrowsError(try PatternMatcher(patterns: [bad]), bad) { error in
                guard case ContextError.badPattern = error else {
                    return XCTFail("\(bad): unexpected \(error)")
                }
            }
        }
        XCTAssertThrowsError(try PatternMatcher(patterns: ["ok", "!"]))
        XCTAssertNoThrow(try PatternMatcher(patterns: ["", "   ", "ok"]))
    }

    func testRootIsNeverExcluded() throws {
        let m = try PatternMatcher(patterns: ["**", "*"])
        XCTAssertFalse(m.isExcluded("."))
        XCTAssertFalse(m.isExcluded(""))
        XCTAssertFalse(m.isExcluded("./"))
        XCTAssertTrue(m.isExcluded("./x"))
    }

    func testMatchKinds() throws {
        func kind(_ p: String) throws -> IgnorePattern.Kind { try IgnorePattern(raw: p)!.kind }
        XCTAssertEqual(try kind("abc.def"), .exact)
        XCTAssertEqual(try kind("dir/**"), .prefix)
        XCTAssertEqual(try kind("**/dir"), .suffix)
        XCTAssertEqual(try kind("**"), .suffix)
        XCTAssertEqual(try kind("**/*.txt"), .regexp)
        XCTAssertEqual(IgnorePattern.translate(Array("a*.b?c".unicodeScalars.map(\.value))).1, "^a[^/]*\\.b[^/]c$")
        XCTAssertEqual(IgnorePattern.translate(Array("a/**/b".unicodeScalars.map(\.value))).1, "^a/(.*/)?b$")
    }

    func testGoRegexpCornerCases() throws {
        // patternmatcher hands these to Go's regexp verbatim; we must interpret them the same way.
        // Without a wildcard the pattern is an exact string match, so `^` is literal ...
        let exact = try PatternMatcher(patterns: ["^foo"])
        XCTAssertTrue(exact.isExcluded("^foo"))
        XCTAssertFalse(exact.isExcluded("foo"))
        // ... but in a regexp-kind pattern `^` is an anchor (Go regexp `^^foo[^/]*$`).
        let caret = try PatternMatcher(patterns: ["^foo*"])
        XCTAssertTrue(caret.isExcluded("foobar"))
        XCTAssertFalse(caret.isExcluded("^foobar"))
        let starClass = try PatternMatcher(patterns: ["[*]"]) // becomes the Go regexp ^[[^/]*]$
        XCTAssertTrue(starClass.isExcluded("]"))
        XCTAssertTrue(starClass.isExcluded("[^]"))
        XCTAssertFalse(starClass.isExcluded("*"))
        let posix = try PatternMatcher(patterns: ["[[:digit:]]*.log"])
        XCTAssertTrue(posix.isExcluded("7days.log"))
        XCTAssertFalse(posix.isExcluded("days.log"))
        XCTAssertFalse(try PatternMatcher(patterns: ["[^a]"]).isExcluded("\n"))
    }

    func testPruningRules() throws {
        let none = try PatternMatcher(patterns: ["foo*"])
        XCTAssertTrue(none.canPrune(excludedDirectory: "foo"))
        let literal = try PatternMatcher(patterns: ["foo*", "!foo/bar2"])
        XCTAssertFalse(literal.canPrune(excludedDirectory: "foo"))
        XCTAssertTrue(literal.canPrune(excludedDirectory: "foobar"))
        let trailing = try PatternMatcher(patterns: ["*", "!keep/**"])
        XCTAssertFalse(trailing.canPrune(excludedDirectory: "keep"))
        XCTAssertTrue(trailing.canPrune(excludedDirectory: "other"))
        let wild = try PatternMatcher(patterns: ["*", "!**/keep"])
        XCTAssertFalse(wild.canPrune(excludedDirectory: "other"))
    }

    func testGlobTable() throws {
        // Go's filepath.Match table (match_test.go): nil = ErrBadPattern.
        let cases: [(String, String, Bool?)] = [
            ("abc", "abc", true), ("*", "abc", true), ("*c", "abc", true), ("a*", "a", true),
            ("a*", "abc", true), ("a*", "ab/c", false), ("a*/b", "abc/b", true), ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true), ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false), ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true), ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true), ("ab[b-d]", "abc", true), ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false), ("ab[^b-d]", "abc", false), ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true), ("a\\*b", "ab", false), ("a?b", "a☺b", true), ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false), ("a[^a][^a][^a]b", "a☺b", false), ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false), ("a?b", "a/b", false), ("a*b", "a/b", false),
            ("[\\]a]", "]", true), ("[\\-]", "-", true), ("[x\\-]", "x", true), ("[x\\-]", "-", true),
            ("[x\\-]", "z", false), ("[\\-x]", "x", true), ("[\\-x]", "-", true), ("[\\-x]", "a", false),
            ("[]a]", "]", nil), ("[-]", "-", nil), ("[x-]", "x", nil), ("[x-]", "-", nil), ("[x-]", "z", nil),
            ("[-x]", "x", nil), ("[-x]", "-", nil), ("[-x]", "a", nil), ("\\", "a", nil), ("[a-b-c]", "a", nil),
            ("[", "a", nil), ("[^", "a", nil), ("[^bc", "a", nil), ("a[", "a", nil), ("a[", "ab", nil),
            ("a[", "x", nil), ("a/b[", "x", nil), ("*x", "xxx", true), ("*", ".hidden", true),
        ]
        for (pattern, name, want) in cases {
            if let want {
                XCTAssertEqual(try matchGlob(pattern, name), want, "\(pattern) vs \(name)")
            } else {
                XCTAssertThrowsError(try matchGlob(pattern, name), "\(pattern) vs \(name)")
            }
        }
    }
}

import XCTest
@testable import DockerfileSyntax

final class ShellWordExpanderTests: XCTestCase {
    /// SET=plain, EMPTY="", UNSET not defined; a few extras for patterns.
    static let env: [String: String] = [
        "SET": "plain", "EMPTY": "", "X": "x", "FOO": "xxyy", "PATHV": "/tmp/tmp/bar.txt", "SP": "a b  c",
        "STARS": "a***yy*", "Q": "???y", "URL": "http://google.de", "KOREAN": "한국어", "BS": "\\",
    ]
    func lookup(_ name: String) -> String? { Self.env[name] }

    func testExpansionTable() throws {
        let cases: [(String, String)] = [
            ("plain", "plain"),
            ("$SET", "plain"), ("${SET}", "plain"), ("a${SET}b", "aplainb"), ("$SET-x", "plain-x"),
            ("$UNSET", ""), ("${UNSET}", ""), ("$EMPTY|", "|"),
            ("$", "$"), ("a$", "a$"), ("$ x", "$ x"), ("$/x", "$/x"),
            ("\\$SET", "$SET"), ("\\\\$SET", "\\plain"), ("a\\ b", "a b"), ("\\x", "x"), ("end\\", "end"),
            ("'$SET'", "$SET"), ("'a \\ b'", "a \\ b"), ("\"$SET\"", "plain"), ("\"\\$SET\"", "$SET"),
            ("\"a\\\"b\"", "a\"b"), ("\"a\\\\b\"", "a\\b"), ("\"a\\xb\"", "a\\xb"), ("\"'x'\"", "'x'"), ("'\"x\"'", "\"x\""),
            ("a\"b c\"d", "ab cd"), ("$KOREAN", "한국어"), ("${KOREAN}!", "한국어!"),
            // -  :-
            ("${SET:-w}", "plain"), ("${EMPTY:-w}", "w"), ("${UNSET:-w}", "w"),
            ("${SET-w}", "plain"), ("${EMPTY-w}", ""), ("${UNSET-w}", "w"), ("${UNSET:-$SET}", "plain"),
            ("${UNSET:-}", ""), ("${UNSET:-a b}", "a b"), ("${UNSET:-'q}'}", "q}"),
            // +  :+
            ("${SET:+w}", "w"), ("${EMPTY:+w}", ""), ("${UNSET:+w}", ""),
            ("${SET+w}", "w"), ("${EMPTY+w}", "w"), ("${UNSET+w}", ""),
            // ?  :? (success paths)
            ("${SET:?m}", "plain"), ("${SET?m}", "plain"), ("${EMPTY?m}", ""),
            // # ## % %%
            ("${FOO#x}", "xyy"), ("${FOO##*x}", "yy"), ("${FOO#*x*y}", "y"), ("${FOO#*}", "xxyy"), ("${FOO#}", "xxyy"),
            ("${FOO##}", "xxyy"), ("${FOO#z}", "xxyy"), ("${FOO#$X}", "xyy"), ("${FOO#$EMPTY}", "xxyy"),
            ("${FOO%y}", "xxy"), ("${FOO%%y*}", "xx"), ("${FOO%y*}", "xxy"), ("${FOO%}", "xxyy"), ("${FOO%%$EMPTY}", "xxyy"),
            ("${Q#?\\?}", "?y"), ("${STARS%%\\**\\*}", "a"), ("${UNSET#x}", ""), ("${EMPTY%x}", ""),
            ("${UNSET:-.}${FOO%x}${UNSET:-.}", ".xxyy."),
            // / //
            ("${PATHV/\\/tmp/}", "/tmp/bar.txt"), ("${PATHV//\\/tmp/}", "/bar.txt"),
            ("${URL/http:\\/\\//https:\\/\\/}", "https:\\/\\/google.de"), ("${FOO/x/z}", "zxyy"), ("${FOO//x/z}", "zzyy"),
            ("${FOO/?/-}", "-xyy"), ("${FOO//*/-}", "-"), ("${FOO/$EMPTY/ww}", "wwxxyy"), ("${FOO///}", "xxyy"),
            ("${UNSET///}", ""), ("${UNSET/a/b}", ""), ("${FOO//y/}", "xx"), ("${FOO/z/w}", "xxyy"),
        ]
        let expander = ShellWordExpander()
        for (input, expected) in cases {
            XCTAssertEqual(try expander.expand(input, lookup: lookup).value, expected, "input: \(input)")
        }
    }

    func testBacktickEscape() throws {
        let expander = ShellWordExpander(escape: "`")
        XCTAssertEqual(try expander.expand("`$SET", lookup: lookup).value, "$SET")
        XCTAssertEqual(try expander.expand("C:\\dir", lookup: lookup).value, "C:\\dir")
        XCTAssertEqual(try expander.expand("\"a`\"b\"", lookup: lookup).value, "a\"b")
    }

    func testWordSplitting() throws {
        let cases: [(String, [String])] = [
            ("a b  c", ["a", "b", "c"]), ("  lead trail  ", ["lead", "trail"]), ("\"a b\" c", ["a b", "c"]),
            ("'a  b'c d", ["a  bc", "d"]), ("$SP", ["a", "b", "c"]), ("\"$SP\"", ["a b  c"]), ("x$SP", ["xa", "b", "c"]),
            ("a\\ b", ["a b"]), ("\"\"", []), ("$UNSET", []), ("80/tcp ${UNSET:-443}", ["80/tcp", "443"]),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try ShellWordExpander().expandWords(input, lookup: lookup), expected, "input: \(input)")
        }
    }

    func testUsedNames() throws {
        let cases: [(String, Set<String>)] = [
            ("x", []), ("$SET", ["SET"]), ("${UNSET:-$SET} $EMPTY", ["UNSET", "SET", "EMPTY"]),
            ("${FOO#$X}", ["FOO", "X"]), ("\\$NOT '$NOT'", []), ("\"$IN\"", ["IN"]), ("${A/$B/$C}", ["A", "B", "C"]),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try ShellWordExpander().expand(input, lookup: lookup).usedNames, expected, "input: \(input)")
        }
    }

    func testErrors() {
        let cases: [(String, String)] = [
            ("${UNSET:?}", "UNSET: is not allowed to be unset"),
            ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
            ("${UNSET?}", "UNSET: is not allowed to be unset"),
            ("${UNSET:?need $SET}", "UNSET: need plain"),
            ("${EMPTY:?custom}", "EMPTY: custom"),
            ("${UNSET?msg}", "UNSET: msg"),
            ("${FOO:#x}", "unsupported modifier (:#) in substitution"),
            ("${FOO:%x}", "unsupported modifier (:%) in substitution"),
            ("${FOO:x}", "unsupported modifier (:x) in substitution"),
            ("${FOO=x}", "unsupported modifier (=) in substitution"),
            ("${FOO", "syntax error: missing '}'"),
            ("${", "syntax error: missing '}'"),
            ("${FOO:", "syntax error: missing '}'"),
            ("${FOO:-x", "syntax error: missing '}'"),
            ("${}", "syntax error: bad substitution"),
            ("${:x}", "syntax error: bad substitution"),
            ("${{x}", "syntax error: bad substitution"),
            ("${FOO//ww}", "syntax error: missing '/' in ${}"),
            ("${FOO//}", "syntax error: missing '/' in ${}"),
            ("${FOO/a/b", "syntax error: missing '}'"),
            ("${FOO#\\x}", "invalid pattern (\\x) in substitution: invalid escape '\\x'"),
            ("${FOO/\\x/y}", "invalid pattern (\\x) in substitution: invalid escape '\\x'"),
            ("${FOO#$BS}", "invalid pattern (\\) in substitution: invalid escape '\\'"),
            ("'open", "unexpected end of statement while looking for matching single-quote"),
            ("\"open", "unexpected end of statement while looking for matching double-quote"),
            ("${FOO:-'x}", "syntax error: missing '}'"),
            ("${FOO:-\"x\"", "syntax error: missing '}'"),
        ]
        for (input, message) in cases {
            XCTAssertThrowsError(try ShellWordExpander().expand(input, lookup: lookup), "input: \(input)") { error in
                XCTAssertEqual((error as? ExpansionError)?.message, message, "input: \(input)")
            }
        }
        XCTAssertThrowsError(try ShellWordExpander().expand("${UNSET:?}", lookup: lookup)) { error in
            XCTAssertEqual("\(error)", "failed to process \"${UNSET:?}\": UNSET: is not allowed to be unset")
        }
    }

    func testGoDuration() throws {
        let cases: [(String, Int64)] = [
            ("0", 0), ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("500ms", 500_000_000), ("1.5h", 5_400_000_000_000),
            ("10us", 10_000), ("10µs", 10_000), ("7ns", 7), ("-1s", -1_000_000_000), ("+2m", 120_000_000_000), (".5s", 500_000_000),
        ]
        for (input, expected) in cases { XCTAssertEqual(try GoDuration.parse(input), expected, input) }
        let errors: [(String, String)] = [
            ("", "time: invalid duration \"\""), ("abc", "time: invalid duration \"abc\""),
            ("10", "time: missing unit in duration \"10\""), ("3x", "time: unknown unit \"x\" in duration \"3x\""),
            ("-", "time: invalid duration \"-\""), ("9999999999h", "time: invalid duration \"9999999999h\""),
        ]
        for (input, message) in errors {
            XCTAssertThrowsError(try GoDuration.parse(input)) { XCTAssertEqual(($0 as? FlagError)?.message, message, input) }
        }
    }
}

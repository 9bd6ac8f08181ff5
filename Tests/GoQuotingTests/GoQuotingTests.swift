import GoQuoting
import XCTest

/// The two quotings share one loop and differ only where Go's `%q` and `encoding/json` do.
final class GoQuotingTests: XCTestCase {
    func testPercentQAndJSONAgreeOnTheCommonEscapesAndDifferOnTheRest() {
        let cases: [(input: String, percentQ: String, json: String)] = [
            ("plain", #""plain""#, #""plain""#),
            ("", #""""#, #""""#),
            ("say \"hi\"", #""say \"hi\"""#, #""say \"hi\"""#),
            (#"C:\dir"#, #""C:\\dir""#, #""C:\\dir""#),
            ("a\nb\rc\td", #""a\nb\rc\td""#, #""a\nb\rc\td""#),
            ("\u{01}", #""\x01""#, #""\u0001""#),
            ("\u{1f}", #""\x1f""#, #""\u001f""#),
            ("\u{7f}", #""\x7f""#, "\"\u{7f}\""),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\"", #""\u2028\u2029""#),
            ("<&> é 🐳", "\"<&> é 🐳\"", "\"<&> é 🐳\""),
        ]
        for c in cases {
            XCTAssertEqual(goQuoted(c.input), c.percentQ, "%q of \(c.input.debugDescription)")
            XCTAssertEqual(goJSONQuoted(c.input), c.json, "JSON of \(c.input.debugDescription)")
        }
    }
}

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
            ("\u{2028}\u{2029}", #""\u2028\u2029""#, #""\u2028\u2029""#),
            // strconv.Quote's named escapes; JSON writes them as \u00XX.
            ("\u{07}\u{08}\u{0c}\u{0b}", #""\a\b\f\v""#, #""\u0007\u0008\u000c\u000b""#),
            // Not unicode.IsPrint: a C1 control, no-break space, soft hyphen, zero-width space,
            // a BMP private-use scalar, a tag character beyond the BMP (\U, eight digits).
            ("\u{80}", #""\u0080""#, "\"\u{80}\""),
            ("\u{a0}x\u{ad}\u{200b}", #""\u00a0x\u00ad\u200b""#, "\"\u{a0}x\u{ad}\u{200b}\""),
            ("\u{e000}\u{e0001}", #""\ue000\U000e0001""#, "\"\u{e000}\u{e0001}\""),
            ("<&> é 🐳", "\"<&> é 🐳\"", "\"<&> é 🐳\""),
        ]
        for c in cases {
            XCTAssertEqual(goQuoted(c.input), c.percentQ, "%q of \(c.input.debugDescription)")
            XCTAssertEqual(goJSONQuoted(c.input), c.json, "JSON of \(c.input.debugDescription)")
        }
    }
}

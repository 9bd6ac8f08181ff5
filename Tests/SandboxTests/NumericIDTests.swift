import Sandbox
import XCTest

/// Numeric user and group IDs outside 0…2³²−2 are errors, not traps (issue 10).
final class NumericIDTests: XCTestCase {
    func testParse() throws {
        let cases: [(String, Int?)] = [
            ("0", 0), ("1000", 1000), ("4294967294", 4_294_967_294), ("007", 7),
            ("jupyter", nil), ("", nil), ("-", nil), ("+5", nil), ("1a", nil), ("x-1", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try NumericID.parse(text, role: "user"), expected, text)
        }
        for bad in ["-1", "-5", "4294967295", "4294967296", "99999999999999999999999", "-0"] {
            XCTAssertThrowsError(try NumericID.parse(bad, role: "group"), bad) { error in
                XCTAssertEqual("\(error)", "group ID \(bad) is out of range (0…4294967294)")
            }
        }
    }

    func testUserSpecs() throws {
        let db = UserDatabase(passwd: Array("root:x:0:0:root:/root:/bin/sh\nsvc:x:-7:-8::/:/bin/sh\n".utf8), group: nil)
        for spec in ["-1", "4294967296", "0:-5", "-1:-1"] {
            XCTAssertThrowsError(try NumericID.validate(userSpec: spec), spec)
            XCTAssertThrowsError(try db.processUser(spec), spec) { XCTAssertTrue($0 is NumericID.OutOfRange, "\($0)") }
        }
        XCTAssertNoThrow(try NumericID.validate(userSpec: "svc:users"))
        XCTAssertNoThrow(try NumericID.validate(userSpec: "0:0"))
        // A passwd line with negative IDs (a hostile base image) is not a user at all.
        XCTAssertThrowsError(try db.processUser("svc")) { XCTAssertEqual($0 as? UserLookupError, .unknownUser("svc")) }
    }
}

import PathEncoding
import XCTest

/// `PathKey` and the byte helpers: equal, hashed and ordered by the bytes a name stands for,
/// never by Unicode canonical equivalence (which Swift's `String` uses).
final class PathKeyTests: XCTestCase {
    let nfc = "caf\u{E9}", nfd = "cafe\u{301}"

    func testCanonicallyEquivalentNamesAreDistinctKeys() {
        XCTAssertEqual(nfc, nfd, "Swift's String == (why PathKey exists)")
        XCTAssertNotEqual(PathKey(nfc), PathKey(nfd))
        XCTAssertEqual(Set([PathKey(nfc), PathKey(nfd), PathKey(nfc)]).count, 2)
        var dictionary: [PathKey: Int] = [:]
        dictionary[PathKey(nfc)] = 1
        dictionary[PathKey(nfd)] = 2
        XCTAssertEqual(dictionary[PathKey(nfc)], 1)
        XCTAssertEqual(dictionary[PathKey(nfd)], 2)
        XCTAssertEqual(PathKey(String(nfc.unicodeScalars)), PathKey(nfc))
    }

    func testOrderIsByteOrder() {
        // 65 CC 81 < C3 A9; an escaped byte (not UTF-8) sorts by its own value: 0xE9 < 0xF0.
        let escaped = PathBytes.string([0x63, 0x61, 0x66, 0xE9])
        let cases: [(String, String, Bool)] = [
            (nfd, nfc, true), (nfc, nfd, false), (nfc, nfc, false), ("a", "b", true),
            (escaped, "caf\u{10000}", true), ("caf\u{10000}", escaped, false), (nfc, escaped, true),
        ]
        for (a, b, expected) in cases {
            XCTAssertEqual(PathKey(a) < PathKey(b), expected, "\(PathBytes.display(a)) < \(PathBytes.display(b))")
            XCTAssertEqual(PathBytes.less(a, b), expected)
        }
    }

    func testByteHelpers() {
        XCTAssertFalse(PathBytes.same(nfc, nfd))
        XCTAssertTrue(PathBytes.hasPrefix(nfd, "cafe"))
        XCTAssertFalse(nfd.hasPrefix("cafe"), "String.hasPrefix compares characters")
        XCTAssertFalse(PathBytes.hasPrefix(nfc, "cafe"))
        XCTAssertEqual(PathBytes.components("/a//\u{301}b/c/"), ["a", "\u{301}b", "c"])
        XCTAssertEqual(PathBytes.splitLast("a/\u{301}b").0, "a")
        XCTAssertEqual(PathBytes.splitLast("name").1, "name")
    }
}

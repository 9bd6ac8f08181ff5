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
        // Small (inline) and large (heap) strings, substrings made native, empty ones.
        let long = String(repeating: "dir/", count: 20)
        let sameCases: [(String, String, Bool)] = [
            ("", "", true), ("", "a", false), ("a", "ab", false), ("ab", "a", false), ("abc", "abc", true),
            (long + "f", long + "f", true), (long + "f", long + "g", false), (long, long + "x", false),
            (String(Substring(long + "f").dropFirst(4)), String(long.dropFirst(4)) + "f", true), (nfd, nfd, true),
        ]
        for (a, b, expected) in sameCases {
            XCTAssertEqual(PathBytes.same(a, b), expected, "\(a) == \(b)")
            XCTAssertEqual(PathKey(a) == PathKey(b), expected)
        }
        XCTAssertTrue(PathBytes.hasPrefix(nfd, "cafe"))
        XCTAssertFalse(nfd.hasPrefix("cafe"), "String.hasPrefix compares characters")
        XCTAssertFalse(PathBytes.hasPrefix(nfc, "cafe"))
        XCTAssertEqual(PathBytes.components("/a//\u{301}b/c/"), ["a", "\u{301}b", "c"])
        XCTAssertEqual(PathBytes.splitLast("a/\u{301}b").0, "a")
        XCTAssertEqual(PathBytes.splitLast("name").1, "name")
    }

    /// `hasPrefix` compares bytes (one memcmp for native strings): the table holds each edge.
    func testHasPrefixComparesBytes() {
        let escaped = PathBytes.string([0x61, 0xFF, 0x62])  // "a", a byte that is not UTF-8, "b"
        let cases: [(String, String, Bool)] = [
            ("/ctx/a", "/ctx/", true), ("/ctx/", "/ctx/", true), ("/ctx", "/ctx/", false), ("", "", true), ("a", "", true),
            ("", "a", false), ("/ctx/a", "/cty/", false), ("caf\u{E9}/x", "cafe", false), ("cafe\u{301}/x", "cafe", true),
            ("/tmp/long-prefix-beyond-fifteen-bytes/file", "/tmp/long-prefix-beyond-fifteen-bytes/", true),
            (escaped + "/c", escaped, true), (escaped, "a", true), ("a", escaped, false),
        ]
        for (name, prefix, expected) in cases {
            XCTAssertEqual(PathBytes.hasPrefix(name, prefix), expected, "\(name) has prefix \(prefix)")
            XCTAssertEqual(PathBytes.hasPrefix(name, prefix), PathBytes.bytes(name).starts(with: PathBytes.bytes(prefix)), name)
        }
    }
}

import XCTest
@testable import PathEncoding

/// Any byte string survives the trip through a `String`; UTF-8 names are their own encoding.
final class PathBytesTests: XCTestCase {
    func testRoundTripTable() {
        let cases: [(bytes: [UInt8], plain: Bool)] = [
            (Array("plain.txt".utf8), true),
            (Array("Übersicht.ipynb".utf8), true),
            (Array("emoji-😀/日本語.txt".utf8), true),
            ([0xFF, 0xFE], false),                                   // not UTF-8 at all
            (Array("caf".utf8) + [0xE9] + Array(".txt".utf8), false), // Latin-1 é
            ([0xC0, 0xAF], false),                                   // overlong "/"
            ([0xED, 0xA0, 0x80], false),                             // a UTF-16 surrogate
            ([0xF4, 0x90, 0x80, 0x80], false),                       // above U+10FFFF
            ([0xE2, 0x82], false),                                   // truncated sequence
            ([0xF4, 0x8F, 0xBE, 0x80], false),                       // U+10FF80, an escape scalar itself
            ([0xF4, 0x8F, 0xBF, 0xBF, 0x41], false),                 // U+10FFFF then "A"
            ([0xF4, 0x8F, 0xBD, 0x80], true),                        // U+10FF40: plane 16, not an escape
            (Array(0x01...0xFF).filter { $0 != 0x2F }, false),       // every byte a name may hold
        ]
        for (bytes, plain) in cases {
            let s = PathBytes.string(bytes)
            XCTAssertEqual(PathBytes.bytes(s), bytes, "\(bytes)")
            XCTAssertEqual(PathBytes.hasEscapes(s), !plain, "\(bytes)")
            if plain { XCTAssertEqual(Array(s.utf8), bytes, "a UTF-8 name must encode to itself") }
            XCTAssertEqual(PathBytes.withCString(s) { Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map { UInt8(bitPattern: $0) } },
                           bytes)
            XCTAssertEqual(PathBytes.string(cString: bytes.map { CChar(bitPattern: $0) } + [0]), s)
        }
    }

    func testDistinctBytesGiveDistinctStrings() {
        let names: [[UInt8]] = [[0xFF], [0xFE], [0xF4, 0x8F, 0xBF, 0xBF], Array("\u{10FFFF}".utf8), [0xC3], [0xC3, 0xA9], Array("é".utf8)]
        XCTAssertEqual(Set(names.map { PathBytes.string($0).unicodeScalars.map(\.value) }).count, Set(names).count)
    }

    func testDisplayTable() {
        let cases: [([UInt8], String)] = [
            ([0xFF, 0xFE], "\\xff\\xfe"),
            (Array("caf".utf8) + [0xE9], "caf\\xe9"),
            (Array("ok/日本".utf8), "ok/日本"),
        ]
        for (bytes, shown) in cases { XCTAssertEqual(PathBytes.display(PathBytes.string(bytes)), shown) }
    }
}

@testable import ImageBuilder
import XCTest

/// The tar order of COPY's entries: component by component, so a directory precedes its
/// children even when a sibling's name sorts between them byte-wise (`a/b` before `a-c`).
final class CopyPlannerOrderTests: XCTestCase {
    /// The definition: split into components, compare them in byte order, shorter prefix first.
    func reference(_ a: String, _ b: String) -> Bool {
        let ca = a.utf8.split(separator: UInt8(ascii: "/")), cb = b.utf8.split(separator: UInt8(ascii: "/"))
        for (x, y) in zip(ca, cb) where !x.elementsEqual(y) { return x.lexicographicallyPrecedes(y) }
        return ca.count < cb.count
    }

    func testOrderMatchesComponentWiseComparison() {
        let cases: [(String, String, Bool)] = [
            ("a", "a/b", true), ("a/b", "a", false), ("a/b", "a-c", true), ("a-c", "a/b", false),
            ("a/b", "a/b", false), ("tree/x.txt", "tree.d", true), ("tree", "tree.d", true),
            ("z", "a/b/c", false), ("dir/é", "dir/z", false), ("dir/Z", "dir/a", true), ("a b/c", "a/c", false),
            // NFD (65 CC 81) before NFC (C3 A9): bytes, not canonical equivalence.
            ("e\u{301}", "\u{E9}", true), ("\u{E9}", "e\u{301}", false), ("d\u{E9}/a", "de\u{301}", false),
            ("de\u{301}/b", "d\u{E9}", true),
        ]
        for (a, b, expected) in cases {
            XCTAssertEqual(CopyPlanner.componentsPrecede(a, b), expected, "\(a) < \(b)")
            XCTAssertEqual(reference(a, b), expected, "reference: \(a) < \(b)")
        }
        // And on a generated set, the same sort as the definition.
        let names = ["a", "a-b", "a.b", "a/b", "a/b/c", "a/b-c", "a/b.c", "ab", "b", "b/a", "B", "a b", "\u{E9}", "a/\u{E9}",
                     "e\u{301}", "a/e\u{301}"]
        var paths: [String] = []
        for x in names { for y in ["", "/x", "/x-y", "/x/y"] { paths.append(x + y) } }
        paths.shuffle()
        XCTAssertEqual(paths.sorted(by: CopyPlanner.componentsPrecede), paths.sorted(by: reference))
    }

    /// `tarOrder`: a sorted walk with missing parents appended is merged in one pass, an
    /// unsorted head is sorted; either way the order is the full sort's.
    func testTarOrderMergesAppendedParentsAndSortsAnUnsortedHead() {
        let sorted = ["opt/sp", "opt/sp/a", "opt/sp/a/b", "opt/sp/a-c", "opt/sp/b", "z"]
        let cases: [(name: String, paths: [String], prefix: Int)] = [
            ("sorted walk, parents appended", sorted + ["opt"], sorted.count),
            ("sorted walk, several parents", ["a/b/c", "a/b/c/d", "x/y"] + ["x", "a/b", "a"], 3),
            ("unsorted head", ["b", "a", "a/x", "c"] + ["0"], 4),
            ("nothing appended", sorted, sorted.count),
            ("only appended", ["b", "a"], 0),
            ("empty", [], 0),
        ]
        for c in cases {
            let order = CopyPlanner.tarOrder(c.paths, sortedPrefix: c.prefix)
            XCTAssertEqual(order.map { c.paths[$0] }, c.paths.sorted(by: reference), c.name)
            XCTAssertEqual(Set(order).count, c.paths.count, c.name)
        }
    }

    /// `sameParent`: the bytes before the last `/` are the same (top-level names share the root).
    func testSameParentComparesTheBytesBeforeTheLastSlash() {
        let cases: [(String, String, Bool)] = [
            ("a/b", "a/c", true), ("a/b", "a/b", true), ("a/b/c", "a/b/d", true), ("a/b/c", "a/c", false),
            ("a", "b", true), ("a", "a/b", false), ("ab/c", "a/c", false), ("x/y", "z/y", false),
            ("a/b", "ab", false), ("", "a", true), ("d\u{E9}/x", "de\u{301}/x", false), ("d\u{E9}/x", "d\u{E9}/y", true),
        ]
        for (a, b, expected) in cases {
            XCTAssertEqual(CopyPlanner.sameParent(a, b), expected, "\(a) | \(b)")
            XCTAssertEqual(CopyPlanner.sameParent(b, a), expected, "\(b) | \(a)")
        }
    }
}

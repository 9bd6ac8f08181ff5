import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext
import TestSupport

/// `walk(_:excluding:delivering:)` (issue 12's streamed COPY): the chunks it hands over are,
/// put together, exactly what `walk` returns — whatever the ignore rules — and an error comes
/// after the entries before it, the same error `walk` throws.
final class DeliveredWalkTests: XCTestCase {
    func testChunksPutTogetherAreTheWalk() throws {
        let t = try TempTree()
        var paths: [String] = []
        for top in ["a", "a-b", "a.b", "skip", "keep"] {
            for sub in ["x", "node_modules"] {
                for file in 0..<60 { paths.append("\(top)/\(sub)/f\(file).\(file % 3 == 0 ? "log" : "txt")") }
            }
        }
        paths += ["root.txt", "z/one"]
        try t.make(paths)
        let cases: [(name: String, ignore: [String], extra: [String])] = [
            ("no rules", [], []),
            ("excluded subtrees, pruned", ["skip", "*/node_modules"], []),
            ("exception below an excluded directory", ["skip", "!skip/x/f1.txt", "**/*.log"], []),
            ("--exclude patterns with a re-include", [], ["**/*.txt", "!a/**/f2.txt"]),
        ]
        for c in cases {
            let ctx = try ContextDirectory(root: t.root, matcher: c.ignore.isEmpty ? nil : try PatternMatcher(patterns: c.ignore))
            let start = try ctx.stat(".")
            let whole = try ctx.walk(start, excluding: c.extra).map(\.relativePath)
            var chunks: [[String]] = []
            try ctx.walk(start, excluding: c.extra) { chunks.append($0.map(\.relativePath)) }
            XCTAssertEqual(chunks.flatMap { $0 }, whole, c.name)
            XCTAssertFalse(chunks.contains { $0.isEmpty }, c.name)
            if whole.count > 256 { XCTAssertGreaterThan(chunks.count, 1, c.name) }
        }
    }

    func testAnErrorComesAfterTheEntriesBeforeIt() throws {
        let t = try TempTree()
        try t.make((0..<600).map { "a/f\($0)" } + ["z/ok"])
        XCTAssertEqual(mkdir(t.root + "/m", 0o755), 0)
        try makeTreeDeeperThanPathMax(below: t.root + "/m")
        let ctx = try ContextDirectory(root: t.root)
        let start = try ctx.stat(".")
        var whole = ""
        XCTAssertThrowsError(try ctx.walk(start)) { whole = "\($0)" }
        var delivered: [String] = []
        XCTAssertThrowsError(try ctx.walk(start) { delivered += $0.map(\.relativePath) }) { error in
            XCTAssertEqual("\(error)", whole)
        }
        XCTAssertTrue(whole.hasSuffix("File name too long"), whole)
        XCTAssertGreaterThanOrEqual(delivered.count, 512, "the entries before the error were handed over")
        XCTAssertFalse(delivered.contains("z/ok"))
    }
}

import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext

/// The walk hands subtrees to several threads; what it returns, and which error it throws
/// first, must be exactly what the walk in order gives.
final class ParallelWalkTests: XCTestCase {
    private func walk(_ ctx: ContextDirectory, _ entry: ContextEntry, excluding extra: [String] = [],
                      inParallel: Bool) throws -> (paths: [String], directories: Int) {
        var statistics = WalkStatistics()
        let entries = try ctx.walk(entry, excluding: extra, statistics: &statistics, inParallel: inParallel)
        return (entries.map(\.relativePath), statistics.directoriesRead)
    }

    func testSameEntriesAsTheWalkInOrder() throws {
        let t = try TempTree()
        var paths: [String] = []
        for top in ["a", "b", "c", "skip", "keep"] {
            for sub in ["x", "y", "node_modules"] {
                for file in ["f.txt", "g.log", "h.md"] { paths.append("\(top)/\(sub)/\(file)") }
            }
            paths.append("\(top)/top.txt")
        }
        paths += ["only/one/deep/a", "only/one/deep/b", "only/one/other/c", "root.txt"]
        try t.make(paths)
        let cases: [(name: String, ignore: [String], extra: [String], walked: String)] = [
            ("no rules", [], [], "."),
            ("excluded subtrees, pruned", ["skip", "*/node_modules"], [], "."),
            ("exception below an excluded directory", ["skip", "!skip/y/h.md", "*.log"], [], "."),
            ("wildcard exception (not pruned)", ["keep", "!keep/*/f.tx?"], [], "."),
            ("--exclude patterns with a re-include", [], ["**/*.md", "!b/**/h.md"], "."),
            ("fan-out below a single directory", ["only/one/other/c"], [], "only"),
        ]
        for c in cases {
            let ctx = try ContextDirectory(root: t.root, matcher: c.ignore.isEmpty ? nil : try PatternMatcher(patterns: c.ignore))
            let start = try ctx.stat(c.walked)
            let inOrder = try walk(ctx, start, excluding: c.extra, inParallel: false)
            XCTAssertFalse(inOrder.paths.isEmpty, c.name)
            for _ in 0..<5 {
                let parallel = try walk(ctx, start, excluding: c.extra, inParallel: true)
                XCTAssertEqual(parallel.paths, inOrder.paths, c.name)
                XCTAssertEqual(parallel.directories, inOrder.directories, c.name)
            }
        }
    }

    /// Two subtrees that both fail: the error is the first one in walk order, however the
    /// threads finish.
    func testFirstErrorInOrderWins() throws {
        let t = try TempTree()
        try t.make(["a/ok", "m/ok", "z/ok"])
        let component = String(repeating: "d", count: 200)
        for top in ["m", "z"] {
            var fd = open(t.root + "/" + top, O_RDONLY | O_DIRECTORY)
            for _ in 0..<(Int(PATH_MAX) / 201 + 2) {
                XCTAssertEqual(mkdirat(fd, component, 0o755), 0)
                let next = openat(fd, component, O_RDONLY | O_DIRECTORY)
                close(fd)
                fd = next
            }
            close(fd)
        }
        let ctx = try ContextDirectory(root: t.root, matcher: nil)
        for parallel in [false, true, true, true] {
            XCTAssertThrowsError(try walk(ctx, try ctx.stat("."), inParallel: parallel)) { error in
                XCTAssertTrue("\(error)".hasPrefix("cannot read \"m/ddd"), "\(error)".prefix(40) + "")
            }
        }
    }
}

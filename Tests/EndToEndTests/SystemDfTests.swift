import Foundation
import XCTest

/// `system df` counts what the store holds; `system prune --filter until=` removes build cache
/// records and cache mounts by last use, and keeps what a recent build used.
final class SystemDfTests: XCTestCase {
    /// The df table as TYPE → [TOTAL, ACTIVE, SIZE, RECLAIMABLE].
    private func table(_ swiftdock: Swiftdock) throws -> [String: [String]] {
        let lines = try swiftdock.ok("system", "df").stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.split(separator: " ", omittingEmptySubsequences: true), ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"])
        var rows: [String: [String]] = [:]
        for line in lines.dropFirst() {
            let columns = line.components(separatedBy: "   ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            rows[columns[0]] = Array(columns.dropFirst())
        }
        return rows
    }

    private func records(_ swiftdock: Swiftdock) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: swiftdock.home + "/cache/steps").count
    }

    func testDfCountsAndPruneUntilRemovesWhatWasNotUsedSince() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let baseRecords = try records(swiftdock)
        let context = try Harness.makeTemporaryDirectory("df")
        try Harness.write("one\n", to: context + "/a.txt")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY a.txt /a/
            RUN --mount=type=cache,target=/c,id=pip echo cached-bytes > /c/f && echo done > /out
            ENV X=1

            """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", "df", context)
        XCTAssertEqual(try records(swiftdock), baseRecords + 3)

        var rows = try table(swiftdock)
        XCTAssertEqual(rows["Images"]?[0], "2", "the base (under two names) and df: \(rows)")
        XCTAssertEqual(rows["Images"]?[1], "2", "both tagged")
        XCTAssertEqual(rows["Images"]?[3], "0B (0%)", "nothing only an untagged image holds")
        XCTAssertEqual(rows["Build Cache"]?[0], String(baseRecords + 3))
        XCTAssertEqual(rows["Cache Mounts"]?[0], "1")
        XCTAssertEqual(rows["Cache Mounts"]?[2], "13B", "the file the RUN left in the cache mount")
        XCTAssertEqual(rows["Cache Mounts"]?[3], "13B (100%)")

        // Everything was last used two days ago; then a rebuild (all from the cache, so the
        // RUN and its cache mount are not used) marks its own records as used now.
        try Harness.sh("touch -d '2 days ago' '\(swiftdock.home)'/cache/steps/* '\(swiftdock.home)'/cache/run-mounts/*")
        try swiftdock.ok("build", "-q", "-t", "df", context)
        let pruned = try swiftdock.ok("system", "prune", "-f", "--filter", "until=24h").stdout
        XCTAssertTrue(pruned.contains("Deleted \(baseRecords) build cache record"), pruned)
        XCTAssertTrue(pruned.contains("Deleted 1 cache mount"), pruned)
        XCTAssertEqual(try records(swiftdock), 3, "the records the rebuild used stay")
        rows = try table(swiftdock)
        XCTAssertEqual(rows["Build Cache"]?[0], "3")
        XCTAssertEqual(rows["Cache Mounts"]?[0], "0")
        let rebuilt = try swiftdock.ok("build", "-t", "df", context).stderr
        XCTAssertEqual(rebuilt.components(separatedBy: " CACHED").count - 1, 2, "COPY and RUN still hit: \(rebuilt)")

        for bad in ["until=soon", "label=x", "until"] {
            let result = try swiftdock.run(["system", "prune", "-f", "--filter", bad])
            XCTAssertEqual(result.status, 125, "\(bad): \(result.stderr)")
        }
    }
}

import Foundation
import XCTest

/// The step cache through the binary: a rebuild in a new process takes every step from the
/// cache and yields the same image; each input that matters re-runs its step and those after
/// it, mtimes alone do not; `--no-cache`, failed RUNs and `system prune -a`.
final class BuildCacheTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("cache")
        try Harness.write("one\n", to: context + "/a.txt")
        try Harness.write("two\n", to: context + "/b.txt")
    }

    static let dockerfile = """
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        COPY a.txt /a/
        RUN cat /proc/sys/kernel/random/uuid >> /stamps
        ENV STAGE=after
        COPY b.txt /b/
        RUN cat /proc/sys/kernel/random/uuid >> /stamps
        WORKDIR /made/here

        """

    /// Builds `-t tag`; returns the step numbers the progress marked CACHED and the image ID.
    @discardableResult
    private func build(_ extra: [String] = [], tag: String = "cached", file: StaticString = #filePath, line: UInt = #line)
        throws -> (cached: [Int], id: String) {
        let result = try swiftdock.run(["build", "-t", tag] + extra + [context])
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        let cached = result.stderr.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("#"), line.hasSuffix(" CACHED") else { return nil }
            return Int(line.dropFirst().dropLast(" CACHED".count))
        }
        let id = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (cached, id)
    }

    private func stamps(_ tag: String = "cached") throws -> [String] {
        try swiftdock.ok("run", "--rm", tag, "cat", "/stamps").stdout.split(separator: "\n").map(String.init)
    }

    func testRebuildInANewProcessIsAllCachedAndTheSameImage() throws {
        try Harness.write(Self.dockerfile, to: context + "/Dockerfile")
        let first = try build()
        XCTAssertEqual(first.cached, [])
        let manifest = try swiftdock.ok("inspect", "-f", "{{.Digest}}", "cached").stdout
        let second = try build()
        XCTAssertEqual(second.cached, [2, 3, 5, 6, 7], "every layer step from the cache")
        XCTAssertEqual(second.id, first.id, "the same config")
        XCTAssertEqual(try swiftdock.ok("inspect", "-f", "{{.Digest}}", "cached").stdout, manifest, "the same manifest")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: swiftdock.home + "/cache/file-digests").count, 2,
                       "a file index per context: the base fixture's and this one")
        // mtime alone is not content.
        try Harness.sh("touch -d '2001-01-01' '\(context!)/a.txt' '\(context!)/b.txt'")
        XCTAssertEqual(try build().cached, [2, 3, 5, 6, 7])
        let cachedStamps = try stamps()
        XCTAssertEqual(try build(["--no-cache"]).cached, [], "--no-cache runs everything")
        XCTAssertNotEqual(try stamps().first, cachedStamps.first, "the first RUN was executed again")
    }

    func testAnEditReRunsOnlyTheStepsAfterIt() throws {
        try Harness.write(Self.dockerfile, to: context + "/Dockerfile")
        try build()
        let before = try stamps()
        try Harness.write("two, edited\n", to: context + "/b.txt")
        XCTAssertEqual(try build().cached, [2, 3], "COPY b.txt and what follows run again")
        let after = try stamps()
        XCTAssertEqual(after.count, 2)
        XCTAssertEqual(after.first, before.first, "the RUN before the edit was not executed")
        XCTAssertNotEqual(after.last, before.last, "the RUN after the edit was")
        XCTAssertEqual(try swiftdock.ok("run", "--rm", "cached", "cat", "/b/b.txt").stdout, "two, edited\n")
    }

    /// A COPY taken from the cache still tells the next step what it wrote (from its planned
    /// items, not its layer): an edited COPY into a symlink that the cached COPY made follows it.
    func testAStepAfterACachedCopySeesItsFiles() throws {
        try FileManager.default.createDirectory(atPath: context + "/tree/real", withIntermediateDirectories: true)
        try Harness.write("kept\n", to: context + "/tree/real/kept.txt")
        try FileManager.default.createSymbolicLink(atPath: context + "/tree/link", withDestinationPath: "real")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY tree /t/
            COPY b.txt /t/link/

            """, to: context + "/Dockerfile")
        try build()
        try Harness.write("two, edited\n", to: context + "/b.txt")
        XCTAssertEqual(try build().cached, [2], "the tree's COPY from the cache, b.txt's again")
        XCTAssertEqual(try swiftdock.ok("run", "--rm", "cached", "cat", "/t/real/b.txt").stdout, "two, edited\n",
                       "written through the cached layer's symlink")
        XCTAssertEqual(try swiftdock.ok("run", "--rm", "cached", "cat", "/t/real/kept.txt").stdout, "kept\n")
    }

    /// Each input that matters changes the key of its step (and so of every step after it).
    func testEveryInputThatMattersInvalidates() throws {
        let dockerfile = """
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            ARG V=1
            COPY a.txt /a/
            RUN echo "$V" > /v

            """
        try Harness.write(dockerfile, to: context + "/Dockerfile")
        try build()
        XCTAssertEqual(try build().cached, [3, 4])
        let cases: [(name: String, change: () throws -> Void, args: [String], cached: [Int])] = [
            ("file mode", { chmod(self.context + "/a.txt", 0o755) }, [], []),
            // Conservative: a changed ARG value re-runs every step after its ARG.
            ("a build arg", {}, ["--build-arg", "V=2"], []),
            ("file content", { try Harness.write("ONE\n", to: self.context + "/a.txt") }, [], []),
            ("instruction text", { try Harness.write(dockerfile.replacingOccurrences(of: "> /v", with: ">  /v"),
                                                     to: self.context + "/Dockerfile") }, [], [3]),
            ("an ignored file", { try Harness.write("x\n", to: self.context + "/ignored.txt")
                                  try Harness.write("ignored.txt\n", to: self.context + "/.dockerignore") }, [], [3, 4]),
            ("base image digest", { try self.swiftdock.ok("tag", "cached", "gcr.io/deeplearning-platform-release/base-cpu:latest") },
             [], []),
        ]
        for c in cases {
            try c.change()
            XCTAssertEqual(try build(c.args).cached, c.cached, c.name)
            XCTAssertEqual(try build(c.args).cached, [3, 4], "\(c.name): the rebuild after it hits")
        }
    }

    func testAFailedRunIsNotCachedAndTheFixedOneRuns() throws {
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY a.txt /a/
            RUN test -e /fixed || exit 3

            """, to: context + "/Dockerfile")
        let failed = try swiftdock.run(["build", "-t", "cached", context])
        XCTAssertEqual(failed.status, 1, failed.stderr)
        let again = try swiftdock.run(["build", "-t", "cached", context])
        XCTAssertEqual(again.status, 1, "the failure was not cached: \(again.stderr)")
        XCTAssertTrue(again.stderr.contains("#2 CACHED"), "the COPY before it was: \(again.stderr)")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY a.txt /a/
            RUN touch /fixed

            """, to: context + "/Dockerfile")
        XCTAssertEqual(try build().cached, [2])
        XCTAssertEqual(try build().cached, [2, 3])
    }

    func testPruneAllEmptiesTheCacheAndPlainPruneKeepsIt() throws {
        try Harness.write(Self.dockerfile, to: context + "/Dockerfile")
        try build()
        try swiftdock.ok("system", "prune", "-f")
        XCTAssertEqual(try build().cached, [2, 3, 5, 6, 7], "prune keeps the layers the cache names")
        // A damaged record is a miss, not a crash.
        let records = swiftdock.home + "/cache/steps"
        for name in try FileManager.default.contentsOfDirectory(atPath: records) {
            try "{not json".write(toFile: records + "/" + name, atomically: false, encoding: .utf8)
        }
        XCTAssertEqual(try build().cached, [])
        let pruned = try swiftdock.ok("system", "prune", "-a", "-f").stdout
        XCTAssertTrue(pruned.contains("build cache record"), pruned)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: records), [])
        XCTAssertEqual(try build().cached, [])
    }
}

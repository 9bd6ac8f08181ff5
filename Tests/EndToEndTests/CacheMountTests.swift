import Foundation
import ProcessWaiting
import XCTest

/// `RUN --mount=type=cache` across builds: it persists in the store, `sharing=locked` waits for
/// the cache's other user and `sharing=private` takes a fresh cache when it is busy (BuildKit's
/// modes), and `--cache-to …,mode=max,mounts=ID` carries it to an empty store through a
/// registry or a local layout.
final class CacheMountTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("cachemount")
    }

    private func dockerfile(_ run: String, base: String = "gcr.io/deeplearning-platform-release/base-cpu:latest") throws {
        try Harness.write("FROM \(base)\nRUN \(run)\n", to: context + "/Dockerfile")
    }

    /// The store directory of cache `id`.
    private func cacheDirectory(_ id: String, in store: Swiftdock) throws -> String {
        let hex = try Harness.sh("printf %s '\(id)' | sha256sum").prefix(64)
        return store.home + "/cache/run-mounts/" + hex
    }

    func testLockedWaitsForTheOtherUserAndPrivateTakesAFreshCache() throws {
        try dockerfile("--mount=type=cache,target=/c,id=s echo first > /c/file")
        try swiftdock.ok("build", "-q", "-t", "mount", context)
        let directory = try cacheDirectory("s", in: swiftdock)
        XCTAssertEqual(try String(contentsOfFile: directory + "/file", encoding: .utf8), "first\n", "the cache persists in the store")

        // Another user holds the cache for 3 s and leaves a marker just before it lets go:
        // a locked RUN sees the marker, so it waited.
        try dockerfile("--mount=type=cache,target=/c,id=s,sharing=locked cat /c/marker > /seen")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [directory + ".lock", "sh", "-c", "sleep 3; echo released > '\(directory)/marker'"]
        let holderExit = try ProcessExit.start(holder)
        Thread.sleep(forTimeInterval: 0.3)
        try swiftdock.ok("build", "-q", "-t", "mount", context)
        holderExit.wait()
        XCTAssertEqual(try swiftdock.ok("run", "--rm", "mount", "cat", "/seen").stdout, "released\n")

        // While the cache is held, a private RUN gets an empty cache of its own.
        try dockerfile("--mount=type=cache,target=/c,id=s,sharing=private ls /c > /seen; echo private > /c/file")
        let busy = try Harness.run("/usr/bin/flock", [directory + ".lock", Harness.binary, "build", "-q", "-t", "mount", context],
                                   environment: ["SWIFTDOCK_HOME": swiftdock.home])
        XCTAssertEqual(busy.status, 0, busy.stderr)
        XCTAssertEqual(try swiftdock.ok("run", "--rm", "mount", "cat", "/seen").stdout, "", "a fresh, empty cache")
        XCTAssertEqual(try String(contentsOfFile: directory + "/file", encoding: .utf8), "first\n", "the shared one is untouched")

        try dockerfile("--mount=type=cache,target=/c,sharing=sometimes true")
        let invalid = try swiftdock.run(["build", context])
        XCTAssertEqual(invalid.status, 1)
        XCTAssertTrue(invalid.stderr.contains("unrecognized sharing \"sometimes\""), invalid.stderr)
    }

    func testExportedCacheMountsSeedAnEmptyStore() throws {
        guard let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        let prefix = "\(registry)/mounts-\(UUID().uuidString.prefix(8).lowercased())"
        try swiftdock.ok("tag", "swiftdock.local/busybox-base", "\(prefix)/base:v1")
        try swiftdock.ok("push", "-q", "\(prefix)/base:v1")
        try dockerfile("--mount=type=cache,target=/root/.cache/pip,id=pip mkdir -p /root/.cache/pip/wheels && echo wheel > /root/.cache/pip/wheels/a.whl",
                       base: "\(prefix)/base:v1")
        let layout = try Harness.makeTemporaryDirectory("mountlayout") + "/cache"
        let seeded = try swiftdock.ok("build", "-t", "mount", "--cache-to", "type=registry,ref=\(prefix)/cache:main,mode=max,mounts=pip;unused",
                                      "--cache-to", "type=local,dest=\(layout),mode=max,mounts=pip", context)
        XCTAssertTrue(seeded.stderr.contains("WARNING: cache mount unused is not in the store: not exported"), seeded.stderr)

        try dockerfile("--mount=type=cache,target=/root/.cache/pip,id=pip cat /root/.cache/pip/wheels/a.whl > /seen", base: "\(prefix)/base:v1")
        for source in ["\(prefix)/cache:main", "type=local,src=\(layout)"] {
            let fresh = try Swiftdock()
            let result = try fresh.ok("build", "-t", "mount", "--cache-from", source, context)
            XCTAssertTrue(result.stderr.contains("cache mount pip: seeded from the imported cache"), result.stderr)
            XCTAssertEqual(try fresh.ok("run", "--rm", "mount", "cat", "/seen").stdout, "wheel\n", source)
        }
        for (spec, message) in [("type=registry,ref=\(prefix)/c,mounts=pip", "mounts= needs mode=max"),
                                ("type=registry,ref=\(prefix)/c,mode=max,mounts=a;;b", "cache ids separated by ';'")] {
            let result = try swiftdock.run(["build", "--cache-to", spec, context])
            XCTAssertEqual(result.status, 125, result.stderr)
            XCTAssertTrue(result.stderr.contains(message), result.stderr)
        }
    }
}

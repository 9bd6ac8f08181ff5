import Foundation
import XCTest

/// `system prune` frees the RUN cache and unreferenced blobs and leaves tagged images whole.
final class SystemPruneTests: XCTestCase {
    func testPruneFreesTheCacheAndOldOrphansAndKeepsTaggedImages() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("prune")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN echo pruned > /x\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", "kept", context)
        let cache = swiftdock.home + "/cache/rootfs"
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: cache).isEmpty, "RUN cached the base's root file system")
        // An orphan blob from an interrupted pull, old enough to be collected, and a fresh one
        // that may belong to a build in progress.
        let blobs = swiftdock.home + "/blobs/sha256/"
        let old = String(repeating: "a", count: 64), fresh = String(repeating: "b", count: 64)
        try Harness.sh("echo orphan > '\(blobs + old)' && touch -d '2 days ago' '\(blobs + old)' && echo young > '\(blobs + fresh)'")

        let declined = try Harness.run("/bin/sh", ["-c", "echo n | SWIFTDOCK_HOME='\(swiftdock.home)' '\(Harness.binary)' system prune"])
        XCTAssertEqual(declined.status, 0, declined.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: blobs + old), "answering no deletes nothing")

        let result = try swiftdock.ok("system", "prune", "-f")
        XCTAssertTrue(result.stdout.contains("deleted: sha256:\(old)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Deleted 1 cached root file system"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Total reclaimed space: "), result.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: blobs + old))
        XCTAssertTrue(FileManager.default.fileExists(atPath: blobs + fresh), "blobs younger than the grace period stay")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache).filter { !$0.hasSuffix(".lock") }, [])

        // Tagged images are whole: they run, and the cache comes back.
        let run = try swiftdock.ok("run", "--rm", "kept", "cat", "/x")
        XCTAssertEqual(run.stdout, "pruned\n")
    }
}

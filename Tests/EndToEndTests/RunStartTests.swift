import Foundation
import XCTest

/// Issue 13: what a stage's first RUN waits for starts with the stage, beside the steps
/// before it (the sandbox probe, the base's root file system: `StageExecutor.prepareFirstRun`),
/// and files a RUN reads from stored layers (`/etc/passwd`, `/etc/group`) are read once per
/// layer. Neither may change what a RUN sees.
final class RunStartTests: XCTestCase {
    private var swiftdock: Swiftdock!
    private var context = ""

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("run-start")
    }

    override func tearDownWithError() throws {
        for path in [context, swiftdock?.home].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Each RUN resolves its USER in the passwd its stage has at that step: the base's (read
    /// from the stored layer, then from what was read), then the one a RUN before changed.
    func testEachRunSeesThePasswdOfItsOwnStep() throws {
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            USER jupyter
            RUN id -u > /tmp/first
            USER root
            RUN id -u > /tmp/second && echo 'late:x:1234:100::/:/bin/sh' >> /etc/passwd
            USER late
            RUN id -u > /tmp/third
            USER jupyter
            RUN id -u > /tmp/fourth

            """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", "run-start.example/users", context)
        let ids = try swiftdock.ok("run", "--rm", "run-start.example/users", "cat", "/tmp/first", "/tmp/second", "/tmp/third",
                                   "/tmp/fourth").stdout
        XCTAssertEqual(ids, "1000\n0\n1234\n1000\n")
    }

    /// A first RUN that fails while the base's root was being prepared beside the steps: the
    /// RUN's error, and the build returns only once that preparation has ended — the root
    /// complete in the store's cache, nothing of it left in `tmp/`. Under both isolations.
    func testAFailingFirstRunLeavesThePreparedRootWholeAndNoTemporaryFiles() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN exit 3\n", to: context + "/Dockerfile")
        for isolation in ["overlay", "copy"] {
            try Harness.sh("rm -rf '\(swiftdock.home)/cache/rootfs'")
            let result = try swiftdock.run(["build", "-q", context], environment: ["SWIFTDOCK_RUN_ISOLATION": isolation])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("Dockerfile:2") && result.stderr.contains("exit code: 3"), result.stderr)
            XCTAssertEqual(try Harness.sh("ls -A '\(swiftdock.home)/tmp'"), "", "\(isolation): no temp file left")
            let entries = try Harness.sh("cd '\(swiftdock.home)/cache/rootfs' && ls -d */ && ls */owners.json */rootfs/bin/busybox")
            XCTAssertEqual(entries.split(separator: "\n").count, 3, "\(isolation): one complete root\n\(entries)")
        }
    }
}

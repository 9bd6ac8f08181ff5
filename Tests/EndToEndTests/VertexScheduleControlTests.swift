import Foundation
import GoogleAPIStandIn
import XCTest

/// `vertex schedule pause|resume|runs|describe` and `workbench create --idle-timeout`, against
/// the stand-in (which schema-checks every body, including the pause/resume `{}`).
extension VertexCommandTests {
    func testSchedulePauseResumeRunsAndDescribe() async throws {
        let scheduleFlags = ["--cron", "0 6 * * *", "--time-zone", "Europe/Berlin"] + regionFlags
            + ["--service-account", "scheduler@swiftdock-test.iam.gserviceaccount.com"]
        _ = try await ok(["vertex", "schedule", "nightly"] + scheduleFlags + ["--", image, "--spot",
                                                                              "--notebook", "/Sourcecode/dockerVertexai.ipynb"])
        let paused = try await ok(["vertex", "schedule", "pause", "nightly"] + regionFlags)
        XCTAssertEqual(paused.stdout, "nightly\tPAUSED\n")
        let described = try await ok(["vertex", "schedule", "describe", "nightly"] + regionFlags)
        for line in ["state:        PAUSED", "schedule:     0 6 * * *", "time zone:    Europe/Berlin", "image:        \(image)",
                     "strategy:     SPOT", "runs as:      scheduler@swiftdock-test.iam.gserviceaccount.com", "last attempt: -"] {
            XCTAssertTrue(described.stdout.contains(line + "\n"), "\(line) in\n\(described.stdout)")
        }
        let resumed = try await ok(["vertex", "schedule", "resume", "nightly"] + regionFlags)
        XCTAssertEqual(resumed.stdout, "nightly\tENABLED\n")
        let calls = await calls().filter { $0.hasPrefix("POST") && $0.contains(":") }
        XCTAssertEqual(calls, ["POST /v1/projects/swiftdock-test/locations/europe-west3/jobs/nightly:pause",
                               "POST /v1/projects/swiftdock-test/locations/europe-west3/jobs/nightly:resume"])

        // Two runs of the schedule, followed to their end; an unrelated job stays out of the list.
        _ = try await ok(["vertex", "run", image] + regionFlags)
        var created: [String] = []
        for _ in 0..<2 {
            created.append(try await ok(["vertex", "schedule", "run", "nightly"] + regionFlags + ["--wait"]).stdout
                .trimmingCharacters(in: .newlines))
        }
        let runs = try await ok(["vertex", "schedule", "runs", "nightly"] + regionFlags)
        let lines = runs.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, runs.stdout)
        XCTAssertTrue(lines[0].hasPrefix("JOB ID"), runs.stdout)
        for (line, name) in zip(lines.dropFirst(), created) {
            XCTAssertTrue(line.hasPrefix(String(name.split(separator: "/").last!)), "\(line) is \(name)")
            XCTAssertTrue(line.contains("JOB_STATE_SUCCEEDED"), line)
            XCTAssertTrue(line.hasSuffix("s"), "a duration: \(line)")
        }
        let afterRuns = try await ok(["vertex", "schedule", "describe", "nightly"] + regionFlags)
        XCTAssertTrue(afterRuns.stdout.contains("last result:  succeeded\n"), afterRuns.stdout)

        let missing = try await swiftdock(["vertex", "schedule", "pause", "nosuch"] + regionFlags)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("Error: pause schedule nosuch in projects/swiftdock-test/locations/europe-west3: NOT_FOUND"),
                      missing.stderr)
        let bad = try await swiftdock(["vertex", "schedule", "runs", "bad name"] + regionFlags)
        XCTAssertEqual(bad.status, 125)
    }

    func testWorkbenchCreateSendsTheIdleTimeout() async throws {
        let dry = try await ok(["vertex", "workbench", "create", "nb", "--image", image] + zoneFlags + ["--idle-timeout", "5400s", "--dry-run"])
        XCTAssertEqual(try json(dry.stdout)["gceSetup"]?["metadata"]?["idle-timeout-seconds"]?.stringValue, "5400")
        let bad = try await swiftdock(["vertex", "workbench", "create", "nb", "--image", image] + zoneFlags + ["--idle-timeout", "90m"])
        XCTAssertEqual(bad.status, 125)
        XCTAssertTrue(bad.stderr.contains("--idle-timeout 90m: expected whole seconds such as 3600s"), bad.stderr)
    }
}

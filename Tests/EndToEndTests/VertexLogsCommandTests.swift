import Foundation
import GoogleAPIStandIn
import XCTest

/// `vertex logs` and the log lines `vertex run --wait` shows, against the stand-in's Cloud Logging.
extension VertexCommandTests {
    func testLogsPrintsTheJobsLinesInOrderAcrossPages() async throws {
        let name = try await ok(["vertex", "run", image] + regionFlags).stdout.trimmingCharacters(in: .newlines)
        let id = try XCTUnwrap(name.split(separator: "/").last.map(String.init))
        await google.appendLogEntry(project: "swiftdock-test", jobID: id, text: "20 rows")
        await google.appendLogEntry(project: "swiftdock-test", jobID: id, text: "wrote output.csv", structured: true)
        await google.appendLogEntry(project: "swiftdock-test", jobID: "1234", text: "another job's line")
        await google.appendLogEntry(project: "swiftdock-test", jobID: id, text: "done")
        await google.configure { $0.listPageSize = 2 }
        let logs = try await ok(["vertex", "logs", id] + regionFlags)
        XCTAssertEqual(logs.stdout, "20 rows\nwrote output.csv\ndone\n")
        let lists = await google.requests.filter { $0.path == "/v2/entries:list" }
        XCTAssertEqual(lists.count, 2, "three lines, two per page")
        XCTAssertEqual(lists.first?.json?["filter"]?.stringValue, "resource.type=\"ml_job\" AND resource.labels.job_id=\"\(id)\"")
        XCTAssertEqual(lists.first?.json?["orderBy"]?.stringValue, "timestamp asc")
        XCTAssertEqual(lists.first?.json?["resourceNames"], ["projects/swiftdock-test"])
    }

    func testLogsFollowUntilTheJobEndsAndExitsByItsState() async throws {
        let name = try await ok(["vertex", "run", image] + regionFlags).stdout.trimmingCharacters(in: .newlines)
        let id = try XCTUnwrap(name.split(separator: "/").last.map(String.init))
        await google.appendLogEntry(project: "swiftdock-test", jobID: id, text: "started")
        let followed = try await ok(["vertex", "logs", name] + regionFlags + ["--follow"])
        XCTAssertEqual(followed.stdout, "started\nCustomJob entered JOB_STATE_PENDING.\nCustomJob entered JOB_STATE_RUNNING.\nCustomJob entered JOB_STATE_SUCCEEDED.\n",
                       "each line once, in order")

        await google.configure { $0.customJobProgression = .fails(message: "exit status 3") }
        let failing = try await ok(["vertex", "run", image] + regionFlags).stdout.trimmingCharacters(in: .newlines)
        let failed = try await swiftdock(["vertex", "logs", String(failing.split(separator: "/").last!)] + regionFlags + ["--follow"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stdout.hasSuffix("CustomJob entered JOB_STATE_FAILED.\n"), failed.stdout)
        XCTAssertTrue(failed.stderr.hasSuffix("ended JOB_STATE_FAILED: exit status 3\n"), failed.stderr)
        let bad = try await swiftdock(["vertex", "logs", "nightly"] + regionFlags)
        XCTAssertEqual(bad.status, 125)
    }

    func testRunWaitShowsTheJobsLogOnStderr() async throws {
        let result = try await ok(["vertex", "run", image] + regionFlags + ["--wait"])
        XCTAssertTrue(result.stderr.contains("CustomJob entered JOB_STATE_RUNNING.\n"), result.stderr)
        XCTAssertTrue(result.stderr.contains("CustomJob entered JOB_STATE_SUCCEEDED.\n"), result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "stdout holds only the job name")

        await google.forceError(GoogleError(code: 403, status: "PERMISSION_DENIED", message: "logging.logEntries.list denied"),
                                path: "/v2/entries:list")
        let denied = try await ok(["vertex", "run", image] + regionFlags + ["--wait"])
        let warnings = denied.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("WARNING: not showing the job's log") }
        XCTAssertEqual(warnings.count, 1, "one warning, and the wait goes on: \(denied.stderr)")
    }
}

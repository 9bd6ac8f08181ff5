import Foundation
import GoogleAPIStandIn
import NIOHTTP1
import XCTest

final class SchedulerEndpointTests: StandInTestCase {
    private var jobPath: String { Self.schedulerJobsPath + "/nightly" }

    func testCreateListGetDelete() async throws {
        let none = try await call(.GET, Self.schedulerJobsPath).json
        XCTAssertEqual(none, [:], "no jobs: {}")
        let created = try await call(.POST, Self.schedulerJobsPath, json: Self.schedulerJob(id: "nightly"))
        XCTAssertEqual(created.status, 200, created.text)
        XCTAssertEqual(created.json["name"], "projects/swiftdock-test/locations/europe-west3/jobs/nightly")
        XCTAssertEqual(created.json["state"], "ENABLED")
        XCTAssertNotNil(created.json["userUpdateTime"]?.stringValue)
        XCTAssertEqual(created.json["httpTarget"], Self.schedulerJob(id: "nightly")["httpTarget"])

        var unnamed = Self.schedulerJob(id: "x")
        unnamed["name"] = nil
        let generated = try await call(.POST, Self.schedulerJobsPath, json: unnamed)
        XCTAssertTrue(generated.json["name"]?.stringValue?.hasPrefix("projects/swiftdock-test/locations/europe-west3/jobs/") ?? false,
                      generated.text)

        let list = try await call(.GET, Self.schedulerJobsPath).json["jobs"]?.arrayValue
        XCTAssertEqual(list?.compactMap { $0["name"]?.stringValue }.first, "projects/swiftdock-test/locations/europe-west3/jobs/nightly")
        XCTAssertEqual(list?.count, 2)
        let schedule = try await call(.GET, jobPath).json["schedule"]
        XCTAssertEqual(schedule, "0 6 * * *")
        let deleted = try await call(.DELETE, jobPath).json
        XCTAssertEqual(deleted, [:])
        assertGoogleError(try await call(.GET, jobPath), 404, "NOT_FOUND")
        assertGoogleError(try await call(.DELETE, jobPath), 404, "NOT_FOUND")
        await assertNoSchemaFailures()
    }

    func testRunPerformsTheCustomJobTarget() async throws {
        _ = try await call(.POST, Self.schedulerJobsPath, json: Self.schedulerJob(id: "nightly"))
        for _ in 0..<2 {
            let ran = try await call(.POST, jobPath + ":run", json: [:])
            XCTAssertEqual(ran.status, 200, ran.text)
            XCTAssertEqual(ran.json["name"], "projects/swiftdock-test/locations/europe-west3/jobs/nightly")
            XCTAssertEqual(ran.json["status"], [:], "the attempt succeeded")
            XCTAssertNotNil(ran.json["lastAttemptTime"]?.stringValue)
        }
        let jobs = await google.storedCustomJobs
        XCTAssertEqual(jobs.count, 2, "each run creates a CustomJob (ids are server-generated)")
        XCTAssertEqual(jobs.first?["displayName"], Self.customJob["displayName"])
        XCTAssertEqual(jobs.first?["jobSpec"], Self.customJob["jobSpec"])

        let runs = await google.scheduledRuns
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs.first?.responseStatus, 200)
        XCTAssertNil(runs.first?.note)
        XCTAssertEqual(runs.first?.body, Self.customJob)
        XCTAssertEqual(runs.first?.response?["name"], jobs.first?["name"])

        let performed = await google.requests.filter(\.fromScheduler)
        XCTAssertEqual(performed.map(\.path), [Self.customJobsPath, Self.customJobsPath])
        XCTAssertEqual(performed.first?.headers["content-type"], "application/json")
        XCTAssertEqual(performed.first?.headers["user-agent"], "Google-Cloud-Scheduler")
        XCTAssertEqual(performed.first?.json, Self.customJob)
        let lastGrantee = await google.grantees.last
        XCTAssertEqual(lastGrantee, .serviceAccount("scheduler@swiftdock-test.iam.gserviceaccount.com"),
                       "the oauthToken's service account")
        await assertNoSchemaFailures()
    }

    func testRunOfAWorkbenchStartTarget() async throws {
        await google.addInstance(project: Self.project, zone: Self.zone, id: "nb", state: "STOPPED")
        let uri = "https://notebooks.googleapis.com\(Self.instancesPath)/nb:start"
        _ = try await call(.POST, Self.schedulerJobsPath, json: Self.schedulerJob(id: "morning", body: [:], uri: uri))
        let ran = try await call(.POST, Self.schedulerJobsPath + "/morning:run", json: [:])
        XCTAssertEqual(ran.status, 200, ran.text)
        let firstRun = await google.scheduledRuns.first
        let run = try XCTUnwrap(firstRun)
        XCTAssertEqual(run.responseStatus, 200)
        XCTAssertEqual(run.response?["metadata"]?["verb"], "start")
        let state = await google.storedInstances["projects/swiftdock-test/locations/us-central1-b/instances/nb"]?["state"]
        XCTAssertEqual(state, "STARTING")
        await assertNoSchemaFailures()
    }

    func testRunsThatGoWrong() async throws {
        let leaked = "\(google.baseURL)\(Self.customJobsPath)"
        let otherRegion = "https://us-east1-aiplatform.googleapis.com\(Self.customJobsPath)"
        var noAuth = Self.schedulerJob(id: "no-auth")
        noAuth["httpTarget"]?["oauthToken"] = nil
        // (job, status of the performed call (0: not performed), note or error message substring)
        let cases: [(JSONValue, Int, String)] = [
            (Self.schedulerJob(id: "leaked", uri: leaked), 0, "is not an https URI"),
            (Self.schedulerJob(id: "wrong-host", uri: otherRegion), 0, "the API is at europe-west3-aiplatform.googleapis.com"),
            (Self.schedulerJob(id: "octet-stream", headers: [:]), 400, "Content-Type must be application/json"),
            (noAuth, 401, "invalid authentication credentials"),
        ]
        for (job, status, message) in cases {
            let name = try XCTUnwrap(job["name"]?.stringValue)
            let created = try await call(.POST, Self.schedulerJobsPath, json: job).status
            XCTAssertEqual(created, 200, name)
            let ran = try await call(.POST, "/v1/\(name):run", json: [:])
            XCTAssertEqual(ran.status, 200, ran.text)
            let lastRun = await google.scheduledRuns.last
            let run = try XCTUnwrap(lastRun)
            XCTAssertEqual(run.responseStatus, status, name)
            let said = run.note ?? run.response?["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(said.contains(message), "\(name): \(said)")
            XCTAssertNotEqual(ran.json["status"], [:], "\(name): the job's status tells of the failed attempt")
        }
        let customJobs = await google.storedCustomJobs.count
        XCTAssertEqual(customJobs, 0)
    }

    func testErrors() async throws {
        await google.addSchedulerJob(project: Self.project, location: Self.region, id: "taken")
        var badInner = Self.customJob
        badInner["jobSpec"]?["workerPoolSpecs"] = [["replicaCount": 1, "containerSpec": ["imageUri": .string(Self.image)]]]
        var wrongParent = Self.schedulerJob(id: "x")
        wrongParent["name"] = "projects/other/locations/europe-west3/jobs/x"
        let cases: [(String, HTTPMethod, String, JSONValue?, Int, String, String)] = [
            ("existing name", .POST, Self.schedulerJobsPath, Self.schedulerJob(id: "taken"), 409, "ALREADY_EXISTS", "already exists"),
            ("bad CustomJob inside", .POST, Self.schedulerJobsPath, Self.schedulerJob(id: "bad", body: badInner), 400, "INVALID_ARGUMENT",
             "httpTarget.body of projects/swiftdock-test/locations/europe-west3/jobs/bad, base64-decoded: WARN $.jobSpec.workerPoolSpecs[0].replicaCount: int64 given as a JSON number"),
            ("name under another parent", .POST, Self.schedulerJobsPath, wrongParent, 400, "INVALID_ARGUMENT", "must be projects/swiftdock-test"),
            ("zone for a region", .POST, "/v1/projects/p/locations/europe-west3-a/jobs", Self.schedulerJob(id: "z"), 400,
             "INVALID_ARGUMENT", "not a region"),
            ("run a missing job", .POST, jobPath + ":run", [:], 404, "NOT_FOUND", "Job not found"),
            ("lowercase method", .POST, Self.schedulerJobsPath, {
                var job = Self.schedulerJob(id: "lower")
                job["httpTarget"]?["httpMethod"] = "post"
                return job
            }(), 400, "INVALID_ARGUMENT", "'post' is not one of"),
        ]
        for (what, method, path, body, code, status, message) in cases {
            assertGoogleError(try await call(method, path, json: body), code, status, contains: message, what)
        }
        let failures = await google.schemaFailures
        XCTAssertEqual(failures.map(\.schema), [
            "aiplatform.v1.customjob.json CustomJob (httpTarget.body of projects/swiftdock-test/locations/europe-west3/jobs/bad, base64-decoded)",
            "cloudscheduler.v1.json Job",
        ])
        let jobs = await google.storedSchedulerJobs.count
        XCTAssertEqual(jobs, 1)
    }
}

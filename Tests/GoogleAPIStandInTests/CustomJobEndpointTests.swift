import Foundation
import GoogleAPIStandIn
import NIOHTTP1
import XCTest

final class CustomJobEndpointTests: StandInTestCase {
    /// Creates the standard job; returns the created resource and its name's path.
    private func createJob(_ body: JSONValue = customJob) async throws -> (JSONValue, String) {
        let created = try await call(.POST, Self.customJobsPath, json: body)
        XCTAssertEqual(created.status, 200, created.text)
        let name = try XCTUnwrap(created.json["name"]?.stringValue)
        return (created.json, "/v1/" + name)
    }

    func testCreateEchoesTheJobWithOutputFields() async throws {
        let (job, _) = try await createJob()
        let name = try XCTUnwrap(job["name"]?.stringValue)
        XCTAssertNotNil(name.range(of: #"^projects/[0-9]{12}/locations/europe-west3/customJobs/[0-9]{19}$"#, options: .regularExpression),
                        "\(name): project number and a numeric id, as Vertex answers")
        XCTAssertEqual(job["state"], "JOB_STATE_QUEUED")
        XCTAssertNotNil(job["createTime"]?.stringValue)
        XCTAssertEqual(job["displayName"], Self.customJob["displayName"])
        XCTAssertEqual(job["jobSpec"], Self.customJob["jobSpec"])
        await assertNoSchemaFailures()
    }

    func testEachGetAdvancesOneStateThenStays() async throws {
        let (_, path) = try await createJob()
        var states: [String] = []
        for _ in 0..<5 {
            let job = try await call(.GET, path)
            XCTAssertEqual(job.status, 200, job.text)
            states.append(job.json["state"]?.stringValue ?? "?")
        }
        XCTAssertEqual(states, ["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"])
        let done = try await call(.GET, path).json
        XCTAssertNotNil(done["startTime"]?.stringValue)
        XCTAssertNotNil(done["endTime"]?.stringValue)
        XCTAssertNil(done["error"])
    }

    func testConfiguredProgressions() async throws {
        let cases: [(CustomJobProgression, [String], JSONValue?)] = [
            (.fails(message: "exit status 1"), ["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_FAILED"],
             ["code": 3, "message": "exit status 1"]),
            (.fails(code: 8, message: "quota"), ["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_FAILED"], ["code": 8, "message": "quota"]),
            (CustomJobProgression(states: ["JOB_STATE_PENDING", "JOB_STATE_SUCCEEDED"]), ["JOB_STATE_SUCCEEDED", "JOB_STATE_SUCCEEDED"], nil),
            (CustomJobProgression(states: ["JOB_STATE_QUEUED", "JOB_STATE_EXPIRED"]), ["JOB_STATE_EXPIRED", "JOB_STATE_EXPIRED"], nil),
        ]
        for (progression, expected, error) in cases {
            await google.configure { $0.customJobProgression = progression }
            let (created, path) = try await createJob()
            XCTAssertEqual(created["state"]?.stringValue, progression.states[0])
            var last = JSONValue.null
            var states: [String] = []
            for _ in expected {
                last = try await call(.GET, path).json
                states.append(last["state"]?.stringValue ?? "?")
            }
            XCTAssertEqual(states, expected)
            XCTAssertEqual(last["error"], error)
            XCTAssertNotNil(last["endTime"]?.stringValue)
        }
    }

    func testCancel() async throws {
        let (_, path) = try await createJob()
        _ = try await call(.GET, path)
        let cancelled = try await call(.POST, path + ":cancel", json: [:])
        XCTAssertEqual(cancelled.status, 200, cancelled.text)
        XCTAssertEqual(cancelled.json, [:])
        let stateAfterCancel = await google.storedCustomJobs.first?["state"]
        XCTAssertEqual(stateAfterCancel, "JOB_STATE_CANCELLING")
        let job = try await call(.GET, path).json
        XCTAssertEqual(job["state"], "JOB_STATE_CANCELLED")
        XCTAssertEqual(job["error"]?["code"], 1)
        let stateLater = try await call(.GET, path).json["state"]
        XCTAssertEqual(stateLater, "JOB_STATE_CANCELLED", "stays cancelled")
        assertGoogleError(try await call(.POST, path + ":cancel", json: [:]), 400, "FAILED_PRECONDITION", contains: "JOB_STATE_CANCELLED")
        await assertNoSchemaFailures()
    }

    func testJobsAreFoundByProjectIdOrNumberAndListed() async throws {
        let (job, pathWithNumber) = try await createJob()
        let id = try XCTUnwrap(job["name"]?.stringValue?.split(separator: "/").last)
        let byID = try await call(.GET, "\(Self.customJobsPath)/\(id)").status
        XCTAssertEqual(byID, 200)
        let byNumber = try await call(.GET, pathWithNumber).status
        XCTAssertEqual(byNumber, 200)
        let list = try await call(.GET, Self.customJobsPath).json
        XCTAssertEqual(list["customJobs"]?.arrayValue?.count, 1)
        let otherRegion = try await call(.GET, "/v1/projects/\(Self.project)/locations/us-east1/customJobs").json
        XCTAssertEqual(otherRegion, [:],
                       "an empty list is {} as proto3 JSON writes it")

        await google.configure { $0.useProjectNumbers = false }
        let (plain, _) = try await createJob()
        XCTAssertTrue(plain["name"]?.stringValue?.hasPrefix("projects/\(Self.project)/") ?? false)
    }

    func testListFiltersAndPages() async throws {
        for (name, schedule) in [("a", "nightly"), ("b", "nightly"), ("c", "weekly"), ("d", nil)] {
            var body = Self.customJob
            body["displayName"] = .string(name)
            if let schedule { body["labels"] = ["swiftdock-schedule": .string(schedule)] }
            _ = try await createJob(body)
        }
        func names(_ query: String) async throws -> [String] {
            let answer = try await call(.GET, Self.customJobsPath + "?" + query)
            XCTAssertEqual(answer.status, 200, "\(query): \(answer.text)")
            return answer.json["customJobs"]?.arrayValue?.compactMap { $0["displayName"]?.stringValue } ?? []
        }
        let escaped = { (filter: String) in "filter=" + filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        let cases: [(String, [String])] = [
            (escaped("labels.swiftdock-schedule=\"nightly\""), ["a", "b"]),
            (escaped("labels.swiftdock-schedule=weekly"), ["c"]),
            (escaped("labels.swiftdock-schedule=\"nightly\" AND display_name=\"b\""), ["b"]),
            (escaped("state=JOB_STATE_QUEUED AND labels.swiftdock-schedule!=\"nightly\""), ["c", "d"]),
            (escaped("state=\"JOB_STATE_RUNNING\""), []),
            ("pageSize=3", ["a", "b", "c"]),
            ("pageSize=3&pageToken=page-3", ["d"]),
        ]
        for (query, expected) in cases {
            let listed = try await names(query)
            XCTAssertEqual(listed, expected, query)
        }
        await google.configure { $0.listPageSize = 2 }
        let first = try await call(.GET, Self.customJobsPath).json
        XCTAssertEqual(first["customJobs"]?.arrayValue?.count, 2)
        let token = try XCTUnwrap(first["nextPageToken"]?.stringValue)
        let last = try await call(.GET, Self.customJobsPath + "?pageToken=" + token).json
        XCTAssertEqual(last["customJobs"]?.arrayValue?.count, 2)
        XCTAssertNil(last["nextPageToken"], "the last page has no token")
        assertGoogleError(try await call(.GET, Self.customJobsPath + "?pageToken=bogus"), 400, "INVALID_ARGUMENT", contains: "page token")
        assertGoogleError(try await call(.GET, Self.customJobsPath + "?" + escaped("create_time>\"2020\"")), 400, "INVALID_ARGUMENT",
                          contains: "Unsupported filter")
    }

    func testErrors() async throws {
        let flat: JSONValue = ["displayName": "x", "imageUri": .string(Self.image)]
        let cases: [(String, HTTPMethod, String, JSONValue?, Int, String, String)] = [
            ("unknown job", .GET, Self.customJobsPath + "/123", nil, 404, "NOT_FOUND", "does not exist"),
            ("zone for a region", .POST, "/v1/projects/p/locations/us-central1-b/customJobs", Self.customJob, 400, "INVALID_ARGUMENT", "not a region"),
            ("flat body", .POST, Self.customJobsPath, flat, 400, "INVALID_ARGUMENT", "ERROR $.imageUri: unknown field"),
            ("no displayName", .POST, Self.customJobsPath, ["jobSpec": Self.customJob["jobSpec"]!], 400, "INVALID_ARGUMENT", "displayName: missing"),
            ("unknown verb", .POST, Self.customJobsPath + "/123:pause", [:], 404, "NOT_FOUND", "stand-in serves no"),
        ]
        for (what, method, path, body, code, status, message) in cases {
            let answer = try await call(method, path, json: body)
            assertGoogleError(answer, code, status, contains: message, what)
        }
        let failures = await google.schemaFailures
        XCTAssertEqual(failures.map(\.schema), ["aiplatform.v1.customjob.json CustomJob", "aiplatform.v1.customjob.json CustomJob"])
        let created = await google.storedCustomJobs.count
        XCTAssertEqual(created, 0)
    }

    func testOutputOnlyFieldsInARequestFailTheStrictCheck() async throws {
        var body = Self.customJob
        body["state"] = "JOB_STATE_SUCCEEDED"
        assertGoogleError(try await call(.POST, Self.customJobsPath, json: body), 400, "INVALID_ARGUMENT", contains: "WARN $.state: output-only")
        var snake = Self.customJob
        snake["display_name"] = snake["displayName"]
        snake["displayName"] = nil
        assertGoogleError(try await call(.POST, Self.customJobsPath, json: snake), 400, "INVALID_ARGUMENT", contains: "proto field name")
    }
}

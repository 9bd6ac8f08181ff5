import Foundation
import GoogleAPIStandIn
import XCTest

/// The stand-in's answers are themselves valid against Google's schemas (`gcp_validate.py
/// --response`): a client that parses them parses Google's.
final class ResponseSchemaTests: StandInTestCase {
    func testAnswersMatchTheResponseSchemas() async throws {
        await google.configure {
            $0.operationPendingPolls = 0
            $0.customJobProgression = .fails(message: "exit 1")
        }
        var answers: [(String, String, JSONValue)] = []
        let job = try await call(.POST, Self.customJobsPath, json: Self.customJob).json
        answers.append(("aiplatform.v1.customjob.json", "CustomJob", job))
        var last = job
        for _ in 0..<3 { last = try await call(.GET, "/v1/" + (job["name"]?.stringValue ?? "")).json }
        answers.append(("aiplatform.v1.customjob.json", "CustomJob", last))
        answers.append(("aiplatform.v1.customjob.json", "aiplatform.projects.locations.customJobs.list",
                        try await call(.GET, Self.customJobsPath).json))

        let operation = try await call(.POST, Self.instancesPath + "?instanceId=nb", json: Self.instance).json
        answers.append(("notebooks.v2.json", "Operation", operation))
        let done = try await call(.GET, "/v2/" + (operation["name"]?.stringValue ?? "")).json
        answers.append(("notebooks.v2.json", "Operation", done))
        answers.append(("notebooks.v2.json", "Instance", try await call(.GET, Self.instancesPath + "/nb").json))
        answers.append(("notebooks.v2.json", "ListInstancesResponse", try await call(.GET, Self.instancesPath).json))

        answers.append(("cloudscheduler.v1.json", "Job", try await call(.POST, Self.schedulerJobsPath, json: Self.schedulerJob(id: "j")).json))
        answers.append(("cloudscheduler.v1.json", "Job", try await call(.POST, Self.schedulerJobsPath + "/j:run", json: [:]).json))
        answers.append(("cloudscheduler.v1.json", "ListJobsResponse", try await call(.GET, Self.schedulerJobsPath).json))

        let validator = SchemaValidator(reference: try XCTUnwrap(google.reference))
        for (document, schema, body) in answers {
            let outcome = await validator.check(body.data, document: document, schema: schema, response: true)
            XCTAssertTrue(outcome.passed, "\(schema) \(body): \(outcome.output)")
        }
        XCTAssertEqual(last["state"], "JOB_STATE_FAILED")
        await assertNoSchemaFailures()
    }
}

import Foundation
import GoogleAPIStandIn
import Vertex
import XCTest

/// Every shape of body the commands can build passes `gcp_validate.py --strict` against Google's
/// discovery documents (Fixtures/gcp-reference, or ../shared when present).
final class SchemaTests: XCTestCase {
    let image = "europe-west3-docker.pkg.dev/tweetiment-xyz/tweetimentrep/python-docker"

    func assertValid(_ body: some Encodable, _ document: String, _ schema: String, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) async throws {
        let validator = SchemaValidator(reference: try GCPReference.locate())
        let outcome = await validator.check(try GoogleJSON.encode(body), document: document, schema: schema)
        XCTAssertTrue(outcome.passed, "\(what): \(outcome.output)", file: file, line: line)
    }

    var runVariants: [(String, VertexRunRequest)] {
        [
            ("minimal", VertexRunRequest(image: image)),
            ("everything", VertexRunRequest(
                image: image + ":v1", machineType: "a2-highgpu-1g", accelerator: "NVIDIA_TESLA_A100:1",
                command: ["python3"], args: ["-m", "app"], environment: ["A=1", "EMPTY="],
                serviceAccount: "runner@tweetiment-xyz.iam.gserviceaccount.com", displayName: "nightly", timeout: "7200s")),
            ("notebook", VertexRunRequest(image: image, notebook: .init(notebook: "/Sourcecode/dockerVertexai.ipynb",
                                                                        outputs: "gs://tweetiment-runs/out"))),
            ("spot-no-retries-papermill", VertexRunRequest(
                image: image, notebook: .init(notebook: "/Sourcecode/dockerVertexai.ipynb", outputs: "gs://tweetiment-runs/out",
                                              parameters: [.init(name: "day", value: "2026-12-06")], parametersYAML: "{\"limit\": 5}"),
                strategy: .spot, disableRetries: true)),
            ("flex-start-max-wait", VertexRunRequest(image: image, timeout: "3600s", strategy: .flexStart, maxWait: "1800s")),
        ]
    }

    func testCustomJobBodies() async throws {
        for (name, request) in runVariants {
            try await assertValid(try request.customJob(), "aiplatform.v1.customjob.json", "CustomJob", name)
        }
    }

    func testSchedulerJobBodiesAndTheCustomJobsInside() async throws {
        for (name, run) in runVariants {
            for timeZone in [nil, "Europe/Berlin"] {
                let job = try ScheduleRequest(name: "nightly_\(name)", cron: "0 6 * * *", timeZone: timeZone, project: "tweetiment-xyz",
                                              region: "europe-west3", serviceAccount: "scheduler@tweetiment-xyz.iam.gserviceaccount.com",
                                              run: run).job()
                try await assertValid(job, "cloudscheduler.v1.json", "Job", name)
                let inner = try JSONDecoder().decode(CustomJob.self, from: XCTUnwrap(Data(base64Encoded: XCTUnwrap(job.httpTarget?.body))))
                try await assertValid(inner, "aiplatform.v1.customjob.json", "CustomJob", "\(name) inside the schedule")
            }
        }
    }

    func testWorkbenchInstanceBodies() async throws {
        let variants: [(String, WorkbenchCreateRequest)] = [
            ("minimal", .init(name: "nb", image: image)),
            ("everything", .init(name: "swiftdock-nb", image: image + ":v2", machineType: "e2-standard-4",
                                 postStartupScript: "gs://tweetiment-runs/start.sh",
                                 serviceAccount: "runner@tweetiment-xyz.iam.gserviceaccount.com")),
            ("idle timeout", .init(name: "nb", image: image, idleTimeout: "3600s")),
        ]
        for (name, request) in variants {
            try await assertValid(try request.instance(), "notebooks.v2.json", "Instance", name)
        }
    }
}

import Foundation
import GoogleAuth
import Vertex
import XCTest

/// The bodies the commands send, field by field. (Their schema check against Google's
/// discovery documents is in `SchemaTests`.)
final class RequestBodyTests: XCTestCase {
    let image = "europe-west3-docker.pkg.dev/tweetiment-xyz/tweetimentrep/python-docker"

    func json(_ value: some Encodable) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: GoogleJSON.encode(value)) as? [String: Any])
    }

    func testMinimalCustomJobKeepsTheImageExactlyAsGiven() throws {
        let body = try json(VertexRunRequest(image: image).customJob())
        let pools = try XCTUnwrap((body["jobSpec"] as? [String: Any])?["workerPoolSpecs"] as? [[String: Any]])
        XCTAssertEqual(pools.count, 1)
        XCTAssertEqual(pools[0]["replicaCount"] as? String, "1")
        XCTAssertEqual((pools[0]["machineSpec"] as? [String: Any])?["machineType"] as? String, "n1-standard-4")
        let container = try XCTUnwrap(pools[0]["containerSpec"] as? [String: Any])
        XCTAssertEqual(container["imageUri"] as? String, image)
        XCTAssertEqual(Set(container.keys), ["imageUri"])
        XCTAssertEqual(body["displayName"] as? String, "swiftdock-python-docker")
    }

    func testCommandArgsEnvAcceleratorAndServiceAccount() throws {
        let request = VertexRunRequest(
            image: image + ":v2", machineType: "n1-highmem-8", accelerator: "nvidia_tesla_t4:2",
            command: ["/bin/bash", "-c"], args: ["cd /Sourcecode && ipython main.ipynb"], environment: ["A=1", "B=x=y", "C="],
            serviceAccount: "runner@tweetiment-xyz.iam.gserviceaccount.com", displayName: "nightly", timeout: "3600s")
        let job = try request.customJob()
        let pool = job.jobSpec.workerPoolSpecs[0]
        XCTAssertEqual(pool.containerSpec.command, ["/bin/bash", "-c"])
        XCTAssertEqual(pool.containerSpec.args, ["cd /Sourcecode && ipython main.ipynb"])
        XCTAssertEqual(pool.containerSpec.env, [.init(name: "A", value: "1"), .init(name: "B", value: "x=y"), .init(name: "C", value: "")])
        XCTAssertEqual(pool.machineSpec, .init(machineType: "n1-highmem-8", acceleratorType: "NVIDIA_TESLA_T4", acceleratorCount: 2))
        XCTAssertEqual(job.jobSpec.serviceAccount, "runner@tweetiment-xyz.iam.gserviceaccount.com")
        XCTAssertEqual(job.jobSpec.scheduling?.timeout, "3600s")
        XCTAssertEqual(job.displayName, "nightly")
    }

    func testBadRunRequests() {
        let cases: [(VertexRunRequest, String)] = [
            (VertexRunRequest(image: "Not A Reference"), "image reference \"Not A Reference\": invalid reference format: repository name (Not A Reference) must be lowercase"),
            (VertexRunRequest(image: image, accelerator: "NVIDIA_GTX_1080"), "--accelerator NVIDIA_GTX_1080: unknown type (for example NVIDIA_TESLA_T4:1)"),
            (VertexRunRequest(image: image, accelerator: "NVIDIA_L4:0"), "--accelerator NVIDIA_L4:0: count must be a positive number (TYPE[:N])"),
            (VertexRunRequest(image: image, environment: ["=x"]), "--env =x: expected KEY=VALUE"),
            (VertexRunRequest(image: image, environment: ["NOVALUE"]), "--env NOVALUE: expected KEY=VALUE"),
            (VertexRunRequest(image: image, timeout: "1h"), "--timeout 1h: expected seconds such as 3600s"),
            (VertexRunRequest(image: image, command: ["x"], notebook: .init(notebook: "/a.ipynb")),
             "--notebook builds the container command itself; drop --command and --arg"),
            (VertexRunRequest(image: image, notebook: .init(notebook: "/Sourcecode/main.py")), "--notebook /Sourcecode/main.py: not a notebook file (*.ipynb)"),
            (VertexRunRequest(image: image, notebook: .init(notebook: "/a.ipynb", outputs: "s3://b/p")),
             "--outputs s3://b/p: not a Cloud Storage URI (gs://BUCKET/PREFIX)"),
            (VertexRunRequest(image: image, notebook: .init(notebook: "/a.ipynb", outputs: "gs://B!/p")), "--outputs gs://B!/p: \"B!\" is not a bucket name"),
            (VertexRunRequest(image: image, strategy: .spot, maxWait: "60s"), "--max-wait goes with --flex-start"),
            (VertexRunRequest(image: image, strategy: .flexStart, maxWait: "soon"), "--max-wait soon: expected seconds such as 3600s"),
            (VertexRunRequest(image: image, timeout: "infs"), "--timeout infs: expected seconds such as 3600s"),
        ]
        for (request, expected) in cases {
            XCTAssertEqual(message { _ = try request.customJob() }, expected)
        }
    }

    func testSchedulingStrategiesAndRetries() throws {
        XCTAssertNil(try VertexRunRequest(image: image).customJob().jobSpec.scheduling, "nothing set, no scheduling object")
        let table: [(VertexRunRequest, CustomJob.Scheduling)] = [
            (VertexRunRequest(image: image, strategy: .spot), .init(strategy: "SPOT")),
            (VertexRunRequest(image: image, strategy: .flexStart, maxWait: "1800s"), .init(strategy: "FLEX_START", maxWaitDuration: "1800s")),
            (VertexRunRequest(image: image, timeout: "60s", disableRetries: true), .init(timeout: "60s", disableRetries: true)),
        ]
        for (request, expected) in table {
            XCTAssertEqual(try request.customJob().jobSpec.scheduling, expected)
        }
        let body = try json(VertexRunRequest(image: image, strategy: .flexStart, maxWait: "1800s", disableRetries: true).customJob())
        let scheduling = try XCTUnwrap((body["jobSpec"] as? [String: Any])?["scheduling"] as? [String: Any])
        XCTAssertEqual(scheduling["strategy"] as? String, "FLEX_START")
        XCTAssertEqual(scheduling["maxWaitDuration"] as? String, "1800s")
        XCTAssertEqual(scheduling["disableRetries"] as? Bool, true)
    }

    func testParameterNames() throws {
        XCTAssertEqual(try NotebookRun.Parameter(parsing: "day=2026-12-06 x"), .init(name: "day", value: "2026-12-06 x"))
        XCTAssertEqual(try NotebookRun.Parameter(parsing: "_n="), .init(name: "_n", value: ""))
        for (bad, expected) in [("day", "--parameters day: expected NAME=VALUE"), ("1x=2", "--parameters 1x=2: \"1x\" is not a Python name"),
                                ("a-b=1", "--parameters a-b=1: \"a-b\" is not a Python name"), ("=1", "--parameters =1: \"\" is not a Python name")] {
            XCTAssertEqual(message { _ = try NotebookRun.Parameter(parsing: bad) }, expected)
        }
    }

    func testRegistryWarning() {
        XCTAssertNil(VertexRunRequest(image: image).registryWarning())
        XCTAssertNil(VertexRunRequest(image: "gcr.io/p/i").registryWarning())
        XCTAssertNil(VertexRunRequest(image: "python:3.12").registryWarning())
        XCTAssertEqual(VertexRunRequest(image: "ghcr.io/o/i").registryWarning(),
                       "Vertex AI pulls images from Artifact Registry (*.pkg.dev), Container Registry or Docker Hub; ghcr.io may not be reachable from it")
    }

    func testWorkbenchInstanceSplitsRepositoryAndTag() throws {
        let cases: [(String, String, String)] = [
            (image, image, "latest"),
            (image + ":v3", image, "v3"),
            ("localhost:5000/nb", "localhost:5000/nb", "latest"),
        ]
        for (reference, repository, tag) in cases {
            let instance = try WorkbenchCreateRequest(name: "swiftdock-nb", image: reference).instance()
            XCTAssertEqual(instance.gceSetup?.containerImage, .init(repository: repository, tag: tag), reference)
            XCTAssertNil(instance.gceSetup?.metadata)
        }
        let withScript = try WorkbenchCreateRequest(name: "nb", image: image, postStartupScript: "gs://b/start.sh",
                                                    serviceAccount: "sa@p.iam.gserviceaccount.com").instance()
        XCTAssertEqual(withScript.gceSetup?.metadata, ["post-startup-script": "gs://b/start.sh", "post-startup-script-behavior": "run_every_start"])
        XCTAssertEqual(withScript.gceSetup?.serviceAccounts, [.init(email: "sa@p.iam.gserviceaccount.com")])
    }

    func testBadWorkbenchRequests() {
        let digest = "@sha256:" + String(repeating: "a", count: 64)
        let cases: [(WorkbenchCreateRequest, String)] = [
            (.init(name: "Notebook", image: image), "instance name \"Notebook\": use a lowercase letter, then lowercase letters, digits or hyphens (63 at most)"),
            (.init(name: "nb-", image: image), "instance name \"nb-\": use a lowercase letter, then lowercase letters, digits or hyphens (63 at most)"),
            (.init(name: "nb", image: "UPPER/case"), "--image UPPER/case: invalid reference format: repository name (UPPER/case) must be lowercase"),
            (.init(name: "nb", image: image + digest), "--image \(image + digest): Workbench takes a repository and a tag, not a digest"),
            (.init(name: "nb", image: image, postStartupScript: "echo hi"), "--post-startup-script echo hi: must be a gs:// URI (Workbench does not take inline scripts)"),
        ]
        for (request, expected) in cases {
            XCTAssertEqual(message { _ = try request.instance() }, expected)
        }
    }

    func testSupportedWorkbenchBases() {
        XCTAssertTrue(WorkbenchCreateRequest.isSupportedBase("us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container:latest"))
        XCTAssertTrue(WorkbenchCreateRequest.isSupportedBase("us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container-slim:latest"))
        XCTAssertFalse(WorkbenchCreateRequest.isSupportedBase("gcr.io/deeplearning-platform-release/base-cpu:latest"))
        XCTAssertFalse(WorkbenchCreateRequest.isSupportedBase("docker.io/library/python:3.12"))
    }

    func testSchedulerJobPostsTheCustomJobThatRunWouldCreate() throws {
        let run = VertexRunRequest(image: image, notebook: .init(notebook: "/Sourcecode/dockerVertexai.ipynb", outputs: "gs://tweets/out"))
        let schedule = ScheduleRequest(name: "nightly", cron: "0 6 * * *", timeZone: "Europe/Berlin", project: "tweetiment-xyz",
                                       region: "europe-west3", serviceAccount: "scheduler@tweetiment-xyz.iam.gserviceaccount.com", run: run)
        let job = try schedule.job()
        XCTAssertEqual(job.name, "projects/tweetiment-xyz/locations/europe-west3/jobs/nightly")
        XCTAssertEqual(job.schedule, "0 6 * * *")
        XCTAssertEqual(job.timeZone, "Europe/Berlin")
        XCTAssertEqual(job.retryConfig?.retryCount, 0)
        let target = try XCTUnwrap(job.httpTarget)
        XCTAssertEqual(target.uri, "https://europe-west3-aiplatform.googleapis.com/v1/projects/tweetiment-xyz/locations/europe-west3/customJobs")
        XCTAssertEqual(target.httpMethod, "POST")
        XCTAssertEqual(target.headers, ["Content-Type": "application/json"])
        XCTAssertEqual(target.oauthToken, .init(serviceAccountEmail: "scheduler@tweetiment-xyz.iam.gserviceaccount.com",
                                                scope: "https://www.googleapis.com/auth/cloud-platform"))
        let decoded = try JSONDecoder().decode(CustomJob.self, from: XCTUnwrap(Data(base64Encoded: XCTUnwrap(target.body))))
        var expected = try run.customJob()
        expected.labels?["swiftdock-schedule"] = "nightly"
        XCTAssertEqual(decoded, expected, "the CustomJob `vertex run` would create, labelled with the schedule")
        XCTAssertEqual(ScheduleRequest.jobFilter(name: "Nightly_Run"), "labels.swiftdock-schedule=\"nightly_run\"")
    }

    func testBadSchedules() {
        let run = VertexRunRequest(image: image)
        func schedule(_ name: String, _ cron: String, _ run: VertexRunRequest) -> ScheduleRequest {
            ScheduleRequest(name: name, cron: cron, timeZone: nil, project: "tweetiment-xyz", region: "europe-west3",
                            serviceAccount: "s@x", run: run)
        }
        XCTAssertEqual(message { _ = try schedule("night ly", "0 6 * * *", run).job() },
                       "schedule name \"night ly\": use letters, digits, hyphens and underscores")
        XCTAssertEqual(message { _ = try schedule("nightly", "daily", run).job() },
                       "--cron \"daily\": expected 5 fields (minute hour day-of-month month day-of-week), got 1")
        XCTAssertEqual(message { _ = try schedule("nightly", "0 6 * * *", VertexRunRequest(image: "a b")).job() },
                       "image reference \"a b\": invalid reference format: \"a b\"")
    }

    func testAPIBaseReplacesOnlyGoogleAPIHosts() {
        let base = GoogleAPIBase(environment: ["SWIFTDOCK_GOOGLE_API_BASE": "http://127.0.0.1:8080/"])
        let cases: [(String, String)] = [
            ("https://europe-west3-aiplatform.googleapis.com/v1/projects/p/locations/europe-west3/customJobs",
             "http://127.0.0.1:8080/v1/projects/p/locations/europe-west3/customJobs"),
            ("https://notebooks.googleapis.com/v2/projects/p/locations/z/instances?instanceId=nb",
             "http://127.0.0.1:8080/v2/projects/p/locations/z/instances?instanceId=nb"),
            ("https://oauth2.googleapis.com/token", "http://127.0.0.1:8080/token"),
            ("https://europe-west3-docker.pkg.dev/v2/", "https://europe-west3-docker.pkg.dev/v2/"),
            ("https://evilgoogleapis.com/x", "https://evilgoogleapis.com/x"),
        ]
        for (url, expected) in cases {
            XCTAssertEqual(base.transportURL(url), expected, url)
        }
        XCTAssertEqual(GoogleAPIBase(environment: [:]).transportURL(cases[0].0), cases[0].0)
    }
}

extension RequestBodyTests {
    func testWorkbenchIdleTimeoutIsMetadataInSeconds() throws {
        let instance = try WorkbenchCreateRequest(name: "nb", image: image, idleTimeout: "3600s").instance()
        XCTAssertEqual(instance.gceSetup?.metadata, ["idle-timeout-seconds": "3600"])
        let both = try WorkbenchCreateRequest(name: "nb", image: image, postStartupScript: "gs://b/s.sh", idleTimeout: "600s").instance()
        XCTAssertEqual(both.gceSetup?.metadata?["idle-timeout-seconds"], "600")
        XCTAssertEqual(both.gceSetup?.metadata?["post-startup-script"], "gs://b/s.sh")
        for bad in ["1h", "0s", "1.5s", "-5s"] {
            XCTAssertEqual(message { _ = try WorkbenchCreateRequest(name: "nb", image: image, idleTimeout: bad).instance() },
                           "--idle-timeout \(bad): expected whole seconds such as 3600s")
        }
    }
}

import Foundation
import GoogleAPIStandIn
import TestSupport
import XCTest

/// `swiftdock vertex …` end to end: the built binary against the loopback stand-in of Google's
/// OAuth2, Vertex AI, Workbench and Cloud Scheduler endpoints (`SWIFTDOCK_GOOGLE_API_BASE`),
/// which checks every request body against Google's published schemas.
final class VertexCommandTests: XCTestCase {
    var google: StandInServer!
    var home = ""
    var environment: [String: String] = [:]
    let image = "europe-west3-docker.pkg.dev/swiftdock-test/tutorial/python-docker:latest"
    let regionFlags = ["--project", "swiftdock-test", "--region", "europe-west3"]
    let zoneFlags = ["--project", "swiftdock-test", "--zone", "europe-west3-a"]

    override func setUp() async throws {
        google = StandInServer()
        try await google.start()
        home = try Harness.makeTemporaryDirectory("vertex")
        try google.credentials.writeServiceAccountKey(to: home + "/sa.json")
        try google.credentials.writeAuthorizedUser(to: home + "/adc-user.json")
        environment = [
            "SWIFTDOCK_HOME": home + "/store", "HOME": home, "SWIFTDOCK_GOOGLE_API_BASE": google.baseURL,
            "GOOGLE_APPLICATION_CREDENTIALS": home + "/sa.json", "SWIFTDOCK_GOOGLE_TOKEN_URI": "",
            "GCE_METADATA_HOST": "127.0.0.1:9", "SWIFTDOCK_POLL_INTERVAL": "0.05",
            "CLOUDSDK_CORE_PROJECT": "", "GOOGLE_CLOUD_PROJECT": "",
        ]
    }

    override func tearDown() async throws {
        for failure in await google.schemaFailures {
            XCTFail("schema check refused \(failure.method) \(failure.path) (\(failure.schema)): \(failure.message)")
        }
        try await google.shutdown()
        try? FileManager.default.removeItem(atPath: home)
    }

    /// Runs swiftdock (or, with `shell`, /bin/sh with these arguments) off the cooperative pool
    /// (the stand-in answers on it meanwhile).
    func swiftdock(_ arguments: [String], environment extra: [String: String] = [:], shell: Bool = false) async throws -> CommandResult {
        let env = environment.merging(extra) { $1 }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Harness.run(shell ? "/bin/sh" : Harness.binary, arguments, environment: env) })
            }
        }
    }

    /// Runs and fails the test unless swiftdock exits 0.
    func ok(_ arguments: [String], environment extra: [String: String] = [:],
            file: StaticString = #filePath, line: UInt = #line) async throws -> CommandResult {
        let result = try await swiftdock(arguments, environment: extra)
        XCTAssertEqual(result.status, 0, "swiftdock \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    /// The recorded API requests (token grants left out) as `METHOD path`.
    func calls() async -> [String] {
        await google.requests.filter { $0.path != "/token" && !$0.fromScheduler }.map { "\($0.method) \($0.path)" }
    }

    func json(_ text: String) throws -> JSONValue {
        try XCTUnwrap(JSONValue(data: Data(text.utf8)), text)
    }

    // MARK: vertex run

    func testRunWaitsForTheJobAndSendsTheDryRunBody() async throws {
        let flags = [image] + regionFlags + ["--machine-type", "n1-standard-8", "--env", "MODE=batch",
                                             "--command", "/bin/sh", "--command", "-c", "--arg", "echo hello"]
        let dryRun = try await ok(["vertex", "run"] + flags + ["--dry-run"])
        let afterDryRun = await google.requests
        XCTAssertTrue(afterDryRun.isEmpty, "--dry-run sends nothing")

        let result = try await ok(["vertex", "run"] + flags + ["--wait"])
        let name = result.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(name.hasPrefix("projects/") && name.contains("/locations/europe-west3/customJobs/"), result.stdout)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "stdout holds only the job name")
        for state in ["JOB_STATE_PENDING", "JOB_STATE_RUNNING", "JOB_STATE_SUCCEEDED"] {
            XCTAssertTrue(result.stderr.contains(" \(state)\n"), "state change \(state) shown: \(result.stderr)")
        }

        let requests = await google.requests
        let token = try XCTUnwrap(requests.first)
        XCTAssertEqual("\(token.method) \(token.path)", "POST /token")
        XCTAssertEqual(token.form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer")
        let create = try XCTUnwrap(requests.first { $0.method == "POST" && $0.path.hasSuffix("/customJobs") })
        XCTAssertEqual(create.path, "/v1/projects/swiftdock-test/locations/europe-west3/customJobs")
        XCTAssertEqual(create.json, try json(dryRun.stdout), "the body sent is the one --dry-run prints")
        XCTAssertEqual(create.json?["jobSpec"]?["workerPoolSpecs"]?[0]?["containerSpec"]?["imageUri"]?.stringValue, image)
        XCTAssertTrue(create.headers["authorization"]?.hasPrefix("Bearer ") == true)
        let polls = await calls().filter { $0.hasPrefix("GET ") }
        XCTAssertGreaterThanOrEqual(polls.count, 3)
        XCTAssertTrue(polls.allSatisfy { $0 == "GET /v1/" + name }, "\(polls)")
    }

    func testRunWithoutWaitPrintsTheJobNameAndReturns() async throws {
        let result = try await ok(["vertex", "run", image] + regionFlags)
        XCTAssertTrue(result.stdout.contains("/customJobs/"), result.stdout)
        let calls = await calls()
        XCTAssertEqual(calls, ["POST /v1/projects/swiftdock-test/locations/europe-west3/customJobs"])
    }

    func testAFailedJobExitsOneWithItsMessage() async throws {
        await google.configure { $0.customJobProgression = .fails(message: "The replica workerpool0-0 exited with a non-zero status of 3.") }
        let result = try await swiftdock(["vertex", "run", image] + regionFlags + ["--wait"])
        XCTAssertEqual(result.status, 1)
        let name = result.stdout.trimmingCharacters(in: .newlines)
        XCTAssertTrue(result.stderr.hasSuffix("Error: CustomJob \(name) ended JOB_STATE_FAILED: "
            + "The replica workerpool0-0 exited with a non-zero status of 3.\n"), result.stderr)
    }

    func testCtrlCStopsWaitingNotTheJobAndCancelDoes() async throws {
        await google.configure { $0.customJobProgression = CustomJobProgression(states: ["JOB_STATE_QUEUED", "JOB_STATE_RUNNING"]) }
        let command = ([Harness.binary, "vertex", "run", image] + regionFlags + ["--wait"]).map { "'\($0)'" }.joined(separator: " ")
        // Interrupt once the wait has reported RUNNING (its SIGINT handler is in place by then; a
        // background job of a non-interactive shell starts with SIGINT ignored, so an earlier
        // signal would be lost and the wait would never end), not after a fixed sleep, which a
        // loaded machine outruns.
        let script = "e=$(mktemp); \(command) 2>\"$e\" & pid=$!; i=0; "
            + "until grep -q JOB_STATE_RUNNING \"$e\" || [ $i -ge 1200 ]; do sleep 0.05; i=$((i+1)); done; "
            + "kill -INT $pid; wait $pid; s=$?; cat \"$e\" >&2; rm -f \"$e\"; exit $s"
        let interrupted = try await swiftdock(["-c", script], shell: true)
        XCTAssertEqual(interrupted.status, 130, interrupted.stderr)
        let name = interrupted.stdout.trimmingCharacters(in: .newlines)
        let id = try XCTUnwrap(name.split(separator: "/").last.map(String.init))
        XCTAssertTrue(interrupted.stderr.hasSuffix("Stopped waiting; CustomJob \(name) keeps running on Vertex AI. "
            + "Cancel it with: swiftdock vertex cancel \(id) --project swiftdock-test --region europe-west3\n"), interrupted.stderr)
        let jobs = await google.storedCustomJobs
        XCTAssertEqual(jobs.first?["state"]?.stringValue, "JOB_STATE_RUNNING", "the job was left alone")

        let cancelled = try await ok(["vertex", "cancel", id] + regionFlags + ["--wait"])
        XCTAssertTrue(cancelled.stderr.contains("JOB_STATE_CANCELLED"), cancelled.stderr)
        let cancel = await calls().filter { $0.hasSuffix(":cancel") }
        XCTAssertEqual(cancel, ["POST /v1/projects/swiftdock-test/locations/europe-west3/customJobs/\(id):cancel"])
        let bad = try await swiftdock(["vertex", "cancel", "nightly"] + regionFlags)
        XCTAssertEqual(bad.status, 125)
        XCTAssertEqual(bad.stderr, "Error: nightly: expected a CustomJob ID or projects/…/customJobs/ID\n")
    }

    func testNotebookRunKeepsItsOutputsInCloudStorage() async throws {
        let result = try await ok(["vertex", "run", image] + regionFlags
            + ["--notebook", "/Sourcecode/dockerVertexai.ipynb", "--outputs", "gs://tweetiment-runs/nightly", "--wait"])
        XCTAssertTrue(result.stderr.contains("JOB_STATE_SUCCEEDED"), result.stderr)
        let requests = await google.requests
        let create = try XCTUnwrap(requests.first { $0.method == "POST" && $0.path.hasSuffix("/customJobs") })
        let container = try XCTUnwrap(create.json?["jobSpec"]?["workerPoolSpecs"]?[0]?["containerSpec"])
        XCTAssertEqual(container["command"], ["/bin/sh", "-c"])
        let script = try XCTUnwrap(container["args"]?[0]?.stringValue)
        XCTAssertTrue(script.contains("cd /Sourcecode"), script)
        XCTAssertTrue(script.contains("dest=/gcs/tweetiment-runs/nightly"), script)
    }

    func testAuthorizedUserCredentialsWorkToo() async throws {
        _ = try await ok(["vertex", "run", image] + regionFlags, environment: ["GOOGLE_APPLICATION_CREDENTIALS": home + "/adc-user.json"])
        let requests = await google.requests
        let token = try XCTUnwrap(requests.first { $0.path == "/token" })
        XCTAssertEqual(token.form["grant_type"], "refresh_token")
    }

    func testGcloudIsTheLastCredentialSource() async throws {
        let token = await google.mintAccessToken()
        let bin = home + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try Harness.write("#!/bin/sh\n[ \"$*\" = \"auth print-access-token\" ] && echo \(token)\n", to: bin + "/gcloud")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: bin + "/gcloud")
        _ = try await ok(["vertex", "run", image] + regionFlags, environment: ["GOOGLE_APPLICATION_CREDENTIALS": "", "PATH": bin])
        let requests = await google.requests
        XCTAssertFalse(requests.contains { $0.path == "/token" }, "no ADC file, no metadata server: gcloud's token is used")
        XCTAssertEqual(requests.first?.headers["authorization"], "Bearer \(token)")
    }

    // MARK: vertex workbench

    func testWorkbenchLifecycle() async throws {
        let created = try await ok(["vertex", "workbench", "create", "swiftdock-nb", "--image", image] + zoneFlags
            + ["--post-startup-script", "gs://tweetiment-runs/start.sh", "--wait"])
        XCTAssertTrue(created.stdout.contains("state: ACTIVE"), created.stdout)
        XCTAssertTrue(created.stdout.contains("url:   https://"), created.stdout)
        XCTAssertFalse(created.stdout.contains("https://https://"), created.stdout)
        let requests = await google.requests
        let create = try XCTUnwrap(requests.first { $0.method == "POST" && $0.path.hasSuffix("/instances") })
        XCTAssertEqual(create.query["instanceId"], "swiftdock-nb")
        XCTAssertEqual(UUID(uuidString: create.query["requestId"] ?? "")?.uuidString.lowercased(), create.query["requestId"],
                       "a requestId makes a retried create safe")
        XCTAssertEqual(create.json?["gceSetup"]?["containerImage"],
                       ["repository": "europe-west3-docker.pkg.dev/swiftdock-test/tutorial/python-docker", "tag": "latest"])
        XCTAssertEqual(create.json?["gceSetup"]?["metadata"]?["post-startup-script"]?.stringValue, "gs://tweetiment-runs/start.sh")

        let again = try await swiftdock(["vertex", "workbench", "create", "swiftdock-nb", "--image", image] + zoneFlags)
        XCTAssertEqual(again.status, 1)
        XCTAssertEqual(again.stderr, "Error: Workbench instance swiftdock-nb already exists in projects/swiftdock-test/locations/europe-west3-a\n")

        let stopped = try await ok(["vertex", "workbench", "stop", "swiftdock-nb"] + zoneFlags + ["--wait"])
        XCTAssertTrue(stopped.stdout.contains("state: STOPPED"), stopped.stdout)
        let started = try await ok(["vertex", "workbench", "start", "swiftdock-nb"] + zoneFlags + ["--wait"])
        XCTAssertTrue(started.stdout.contains("state: ACTIVE"), started.stdout)
        let described = try await ok(["vertex", "workbench", "describe", "swiftdock-nb"] + zoneFlags)
        XCTAssertTrue(described.stdout.contains("image: europe-west3-docker.pkg.dev/swiftdock-test/tutorial/python-docker:latest"),
                      described.stdout)
        let json = try await ok(["vertex", "workbench", "describe", "swiftdock-nb", "--json"] + zoneFlags)
        let instance = try self.json(json.stdout)
        XCTAssertEqual(instance["state"]?.stringValue, "ACTIVE")
        XCTAssertNotNil(instance["updateTime"], "--json prints Google's whole answer, fields swiftdock does not model too: \(json.stdout)")
        _ = try await ok(["vertex", "workbench", "delete", "swiftdock-nb"] + zoneFlags + ["--wait"])
        let gone = try await swiftdock(["vertex", "workbench", "describe", "swiftdock-nb"] + zoneFlags)
        XCTAssertEqual(gone.status, 1)
        XCTAssertTrue(gone.stderr.hasPrefix("Error: describe Workbench instance swiftdock-nb in projects/swiftdock-test/locations/europe-west3-a: NOT_FOUND: "),
                      gone.stderr)
        XCTAssertEqual(gone.stderr.split(separator: "\n").count, 1, gone.stderr)
    }

    // MARK: vertex schedule

    func testScheduleCreatesListsRunsAndDeletes() async throws {
        let scheduleFlags = ["--cron", "0 6 * * *", "--time-zone", "Europe/Berlin"] + regionFlags
            + ["--service-account", "scheduler@swiftdock-test.iam.gserviceaccount.com"]
        let runFlags = [image, "--notebook", "/Sourcecode/dockerVertexai.ipynb", "--outputs", "gs://tweetiment-runs/nightly"]
        let created = try await ok(["vertex", "schedule", "nightly"] + scheduleFlags + ["--"] + runFlags)
        XCTAssertEqual(created.stdout, "projects/swiftdock-test/locations/europe-west3/jobs/nightly\n")
        let requests = await google.requests
        let post = try XCTUnwrap(requests.first { $0.method == "POST" && $0.path.hasSuffix("/jobs") })
        let target = try XCTUnwrap(post.json?["httpTarget"])
        XCTAssertEqual(target["uri"]?.stringValue,
                       "https://europe-west3-aiplatform.googleapis.com/v1/projects/swiftdock-test/locations/europe-west3/customJobs",
                       "the stand-in's address never leaks into a body")
        XCTAssertEqual(target["oauthToken"]?["serviceAccountEmail"]?.stringValue, "scheduler@swiftdock-test.iam.gserviceaccount.com")

        // The job Scheduler posts is the one `vertex run` would create, plus the schedule's label.
        let dryRun = try await ok(["vertex", "run"] + runFlags + regionFlags + ["--dry-run"])
        let scheduled = try XCTUnwrap(Data(base64Encoded: XCTUnwrap(target["body"]?.stringValue)).flatMap(JSONValue.init(data:)))
        guard case .object(var expected) = try json(dryRun.stdout), case .object(var labels)? = expected["labels"] else {
            return XCTFail("dry-run body has no labels: \(dryRun.stdout)")
        }
        labels["swiftdock-schedule"] = "nightly"
        expected["labels"] = .object(labels)
        XCTAssertEqual(scheduled, .object(expected))

        let list = try await ok(["vertex", "schedule", "list"] + regionFlags)
        XCTAssertTrue(list.stdout.hasPrefix("NAME"), list.stdout)
        XCTAssertTrue(list.stdout.contains("nightly   0 6 * * *   Europe/Berlin   ENABLED"), list.stdout)

        let run = try await ok(["vertex", "schedule", "run", "nightly"] + regionFlags + ["--wait"])
        XCTAssertTrue(run.stdout.contains("/customJobs/"), run.stdout)
        XCTAssertTrue(run.stderr.contains("JOB_STATE_SUCCEEDED"), run.stderr)
        let runs = await google.scheduledRuns
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?.response?["name"]?.stringValue, run.stdout.trimmingCharacters(in: .newlines),
                       "--wait followed the CustomJob the schedule created")

        let twice = try await swiftdock(["vertex", "schedule", "nightly"] + scheduleFlags + ["--"] + runFlags)
        XCTAssertEqual(twice.status, 1)
        XCTAssertEqual(twice.stderr, "Error: schedule nightly already exists in projects/swiftdock-test/locations/europe-west3\n")

        _ = try await ok(["vertex", "schedule", "delete", "nightly"] + regionFlags)
        let after = try await ok(["vertex", "schedule", "list"] + regionFlags)
        XCTAssertFalse(after.stdout.contains("nightly"), after.stdout)
        let again = try await swiftdock(["vertex", "schedule", "delete", "nightly"] + regionFlags)
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.hasPrefix("Error: delete schedule nightly in projects/swiftdock-test/locations/europe-west3: NOT_FOUND: "), again.stderr)
    }

    // MARK: errors

    func testGoogleErrorsBecomeOneLine() async throws {
        let message = "Permission 'aiplatform.customJobs.create' denied on resource '//aiplatform.googleapis.com/projects/swiftdock-test/locations/europe-west3' (or it may not exist)."
        await google.forceError(GoogleError(code: 403, status: "PERMISSION_DENIED", message: message),
                                path: "/v1/projects/swiftdock-test/locations/europe-west3/customJobs", method: "POST")
        let result = try await swiftdock(["vertex", "run", image] + regionFlags + ["--wait"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr,
                       "Error: create CustomJob in projects/swiftdock-test/locations/europe-west3: PERMISSION_DENIED: \(message) (HTTP 403)\n")
        XCTAssertEqual(result.stdout, "")
    }

    func testCreatesAreRetriedOnlyWhenGoogleSaysTheyWereNotCarriedOut() async throws {
        let path = "/v1/projects/swiftdock-test/locations/europe-west3/customJobs"
        await google.forceError(GoogleError(code: 503, status: "UNAVAILABLE", message: "The service is currently unavailable."),
                                path: path, method: "POST", times: 1)
        _ = try await ok(["vertex", "run", image] + regionFlags)
        var creates = await calls().filter { $0 == "POST \(path)" }
        XCTAssertEqual(creates.count, 2, "UNAVAILABLE is retried")
        let jobs = await google.storedCustomJobs
        XCTAssertEqual(jobs.count, 1, "one job")

        await google.clearRecords()
        await google.forceError(GoogleError(code: 500, status: "INTERNAL", message: "Internal error encountered."),
                                path: path, method: "POST", times: 1)
        let failed = try await swiftdock(["vertex", "run", image] + regionFlags)
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(failed.stderr, "Error: create CustomJob in projects/swiftdock-test/locations/europe-west3: INTERNAL: Internal error encountered. (HTTP 500)\n")
        creates = await calls().filter { $0 == "POST \(path)" }
        XCTAssertEqual(creates, ["POST \(path)"], "a create that may have happened is not sent again")
    }

    func testBadInputFailsBeforeAnyRequest() async throws {
        let noCredentials = ["GOOGLE_APPLICATION_CREDENTIALS": "", "PATH": "/nonexistent"]
        let cases: [(arguments: [String], environment: [String: String], status: Int32, error: String)] = [
            (["vertex", "run", image, "--project", "swiftdock-test", "--region", "europe-west99"], [:], 125,
             "--region europe-west99: unknown Vertex AI region (for example europe-west3 or us-central1)"),
            (["vertex", "run", image, "--project", "swiftdock-test", "--region", "europe-west3-a"], [:], 125,
             "--region europe-west3-a is a zone; give its region, europe-west3"),
            (["vertex", "workbench", "create", "nb", "--image", image, "--project", "swiftdock-test", "--zone", "europe-west3"], [:], 125,
             "--zone europe-west3 is a region; Workbench instances need a zone such as europe-west3-a"),
            (["vertex", "run", "Europe-West3-docker.pkg.dev/P/R/I"] + regionFlags, [:], 125,
             "image reference \"Europe-West3-docker.pkg.dev/P/R/I\": invalid reference format: repository name (Europe-West3-docker.pkg.dev/P/R/I) must be lowercase"),
            (["vertex", "run", image, "--project", "Swiftdock", "--region", "europe-west3"], [:], 125,
             "--project Swiftdock: not a Google Cloud project ID (6-30 lowercase letters, digits, hyphens)"),
            (["vertex", "schedule", "nightly", "--cron", "0 25 * * *", "--service-account", "s@x"] + regionFlags + ["--", image], [:], 125,
             "--cron \"0 25 * * *\": \"25\" is not a valid hour (0-23)"),
            (["vertex", "run", image] + regionFlags, noCredentials, 1,
             "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, or run on Google Cloud"),
            (["vertex", "run", image] + regionFlags, ["GOOGLE_APPLICATION_CREDENTIALS": home + "/missing.json"], 1,
             "GOOGLE_APPLICATION_CREDENTIALS: \(home)/missing.json does not exist"),
        ]
        for c in cases {
            let result = try await swiftdock(c.arguments, environment: c.environment)
            XCTAssertEqual(result.status, c.status, c.arguments.joined(separator: " "))
            XCTAssertEqual(result.stderr, "Error: \(c.error)\n")
            XCTAssertEqual(result.stdout, "")
        }
        let requests = await google.requests
        XCTAssertTrue(requests.isEmpty, "no request reached Google: \(requests.map { "\($0.method) \($0.path)" })")
    }
}

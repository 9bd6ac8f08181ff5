import Foundation
import GoogleAPIStandIn
import TestSupport
import XCTest

/// `swiftdock vertex run IMAGE --local`: the CustomJob's container spec runs here in the sandbox,
/// on the busybox base with stub `jupyter` and `papermill` scripts standing in for the real ones
/// (the real-Python path is the main job's), with the Google stand-in listening to prove that
/// nothing is sent to Google.
final class VertexLocalRunTests: XCTestCase {
    var swiftdock: Swiftdock!
    var google: StandInServer!
    var gcs = ""
    let image = "europe-west3-docker.pkg.dev/swiftdock-test/tutorial/python-docker:latest"

    /// A notebook runner as nbconvert is called (`nbconvert --to notebook --execute --output OUT NB`):
    /// copies the notebook to OUT and writes output.csv as the tutorial's notebook does
    /// (input.csv plus its `Output` score column), so the run leaves what the real one leaves.
    static let stubJupyter = #"""
        #!/bin/sh
        [ "$1 $2" = "nbconvert --version" ] && { echo 7.0-stub; exit 0; }
        [ "$1" = nbconvert ] || exit 2
        while [ $# -gt 1 ]; do [ "$1" = --output ] && out=$2; shift; done
        cp "$1" "$out" || exit 1
        awk -F, 'NR == 1 { print $0 ",Output"; next } { print $0 "," ($NF == "positive" ? 1 : $NF == "negative" ? -1 : 0) }' input.csv > output.csv
        echo "stub nbconvert ran $1"
        """#

    /// Records how papermill was called, in the bucket, and writes the executed notebook.
    static let stubPapermill = #"""
        #!/bin/sh
        mkdir -p "/gcs/$RECORD_BUCKET" && echo "$*" > "/gcs/$RECORD_BUCKET/papermill-args"
        cp "$1" "$2"
        """#

    override func setUp() async throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        google = StandInServer()
        try await google.start()
        gcs = try Harness.makeTemporaryDirectory("gcs")
    }

    override func tearDown() async throws {
        try await google.shutdown()
        try? FileManager.default.removeItem(atPath: gcs)
        try? FileManager.default.removeItem(atPath: swiftdock.home)
    }

    /// Builds the tutorial (on the busybox base) with the stubs given on PATH.
    func buildTutorial(stubs: [String: String]) throws {
        let context = try Harness.makeTemporaryDirectory("local-run")
        defer { try? FileManager.default.removeItem(atPath: context) }
        try Harness.sh("cp -r '\(Harness.packageRoot.path)/Fixtures/tutorial/Sourcecode' '\(context)/'")
        var dockerfile = try String(contentsOfFile: Harness.packageRoot.path + "/Fixtures/tutorial/Dockerfile", encoding: .utf8)
        for (name, script) in stubs {
            try Harness.write(script + "\n", to: "\(context)/stubs/\(name)")
            dockerfile += "COPY --chmod=755 stubs/\(name) /usr/local/bin/\(name)\n"
        }
        try Harness.write(dockerfile, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", image, context)
    }

    /// `vertex run IMAGE --local --gcs-dir GCS …`, with Google's stand-in as the API base.
    func local(_ arguments: [String]) async throws -> CommandResult {
        let env = ["SWIFTDOCK_GOOGLE_API_BASE": google.baseURL, "CLOUDSDK_CORE_PROJECT": "", "GOOGLE_CLOUD_PROJECT": ""]
        let all = ["vertex", "run", image, "--local", "--gcs-dir", gcs] + arguments
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { [swiftdock] in
                continuation.resume(with: Result { try swiftdock!.run(all, environment: env) })
            }
        }
    }

    func assertNothingSentToGoogle(file: StaticString = #filePath, line: UInt = #line) async {
        let requests = await google.requests
        XCTAssertEqual(requests.map { "\($0.method) \($0.path)" }, [], "--local must not reach Google", file: file, line: line)
    }

    func testTheNotebookRunsAndItsOutputsLandInTheLocalBucket() async throws {
        try buildTutorial(stubs: ["jupyter": Self.stubJupyter])
        let result = try await local(["--notebook", "/Sourcecode/dockerVertexai.ipynb", "--outputs", "gs://tweets-runs/nightly"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("stub nbconvert ran dockerVertexai.ipynb"), result.stdout)
        XCTAssertTrue(result.stdout.contains("kept output.csv in gs://tweets-runs/nightly"), result.stdout)
        XCTAssertTrue(result.stderr.contains("gs://tweets-runs/nightly is \(gcs)/tweets-runs/nightly here"), result.stderr)
        let kept = "\(gcs)/tweets-runs/nightly"
        let output = try String(contentsOfFile: kept + "/output.csv", encoding: .utf8)
        XCTAssertEqual(output.split(separator: "\n").first, "id,date,text,label,Output")
        XCTAssertTrue(output.contains("\n4,2024-03-02,\"Price went up again, not happy\",negative,-1\n"), output)
        XCTAssertTrue(output.hasSuffix("\n8,2024-03-04,\"Okay I guess\",neutral,0\n"), output)
        let original = try Data(contentsOf: Harness.packageRoot.appendingPathComponent("Fixtures/tutorial/Sourcecode/dockerVertexai.ipynb"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: kept + "/executed-dockerVertexai.ipynb")), original)
        await assertNothingSentToGoogle()
    }

    func testCommandArgsAndEnvFollowVertexRulesAndTheExitCodeIsTheContainers() async throws {
        try buildTutorial(stubs: [:])
        try FileManager.default.createDirectory(atPath: gcs + "/bucket", withIntermediateDirectories: true)
        let result = try await local([
            "--command", "/bin/sh", "--arg", "-c", "--arg", "echo \"$GREETING from $(pwd)\" > /gcs/bucket/said; exit 3",
            "--env", "GREETING=hello",
        ])
        XCTAssertEqual(result.status, 3, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: gcs + "/bucket/said", encoding: .utf8), "hello from /\n")
        await assertNothingSentToGoogle()
    }

    func testParametersRunPapermillAndWithoutItTheLogSaysSo() async throws {
        try buildTutorial(stubs: ["jupyter": Self.stubJupyter, "papermill": Self.stubPapermill])
        let file = gcs + "/params.json"
        try Harness.write("{\"limit\": 5}", to: file)
        let result = try await local([
            "--notebook", "/Sourcecode/dockerVertexai.ipynb", "--outputs", "gs://runs/p", "--env", "RECORD_BUCKET=runs",
            "--parameters", "day=2026-12-06", "--parameters-file", file,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: gcs + "/runs/papermill-args", encoding: .utf8),
                       "dockerVertexai.ipynb executed-dockerVertexai.ipynb -y {\"limit\": 5} -p day 2026-12-06\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: gcs + "/runs/p/executed-dockerVertexai.ipynb"))

        try buildTutorial(stubs: ["jupyter": Self.stubJupyter])
        let missing = try await local(["--notebook", "/Sourcecode/dockerVertexai.ipynb", "--parameters", "day=1"])
        XCTAssertEqual(missing.status, 127)
        XCTAssertTrue(missing.stderr.contains("swiftdock: --parameters needs papermill, and this image has none"), missing.stderr)
        await assertNothingSentToGoogle()
    }

    func testBadLocalInvocations() async throws {
        let cases: [([String], String)] = [
            (["--wait"], "--local runs here: drop --wait and --dry-run"),
            (["--parameters", "x=1"], "--workdir, --outputs, --parameters and --parameters-file go with --notebook"),
            (["--notebook", "/a.ipynb", "--parameters-file", "/nonexistent.toml"], "--parameters-file /nonexistent.toml: expected a .yaml, .yml or .json file"),
            (["--notebook", "/a.ipynb", "--parameters-file", "/nonexistent.json"], "--parameters-file /nonexistent.json: cannot be read"),
            (["--spot", "--flex-start"], "--spot and --flex-start exclude each other"),
        ]
        for (arguments, expected) in cases {
            let result = try await local(arguments)
            XCTAssertEqual(result.status, 125, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        let notJSON = gcs + "/list.json"
        try Harness.write("[1, 2]", to: notJSON)
        let result = try await local(["--notebook", "/a.ipynb", "--parameters-file", notJSON])
        XCTAssertTrue(result.stderr.contains("not a JSON object of parameter names and values"), result.stderr)
        await assertNothingSentToGoogle()
    }
}

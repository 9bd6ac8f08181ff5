import Foundation
import GoogleAPIStandIn
import XCTest

/// `build --secret` and `RUN --mount=type=secret` end to end on the busybox base: every form of
/// the flag and the mount, nothing of the value in any layer, config, the store, a saved archive
/// or the build's output, and a changed value still hits the step cache (as in BuildKit).
final class SecretMountTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context = ""
    let value1 = "swiftdock-file-secret-\(UUID().uuidString)"
    let value2 = "swiftdock-env-secret-\(UUID().uuidString)"
    let value3 = "swiftdock-idonly-secret-\(UUID().uuidString)"

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("secret")
        try Harness.write(value1, to: context + "/secret.txt")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: context)
        try? FileManager.default.removeItem(atPath: swiftdock.home)
    }

    func testEveryFormReachesItsRunAndNothingPersists() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN --mount=type=secret,id=file1 sha256sum /run/secrets/file1 | cut -c1-64 > /file1.sha && stat -c '%a %u:%g' /run/secrets/file1 > /file1.stat
        RUN --mount=type=secret,id=envsecret,env=TOKEN printf %s "$TOKEN" | sha256sum | cut -c1-64 > /env.sha && if test -e /run/secrets/envsecret; then echo file > /env.file; fi
        RUN --mount=type=secret,id=SWIFTDOCK_TEST_IDONLY sha256sum /run/secrets/SWIFTDOCK_TEST_IDONLY | cut -c1-64 > /idonly.sha
        RUN --mount=type=secret,id=relative.txt,target=/etc/app/token,mode=0440,uid=1000,gid=100 stat -c '%a %u:%g' /etc/app/token > /target.stat && sha256sum /etc/app/token | cut -c1-64 > /relative.sha
        RUN --mount=type=secret,id=absent,env=ABSENT sh -c 'test ! -e /run/secrets/absent && test -z "${ABSENT+x}" && echo absent > /absent'
        RUN test ! -e /run/secrets && test -z "${TOKEN+x}" && echo clean > /after
        """, to: context + "/Dockerfile")
        try Harness.write(value1, to: context + "/relative.txt")
        // `id=relative.txt` alone is the file of that name (no such variable): run from the context.
        let result = try Harness.run(Harness.binary, [
            "build", "-t", "secrets", "--secret", "id=file1,src=\(context)/secret.txt", "--secret", "id=envsecret,env=MY_SECRET_VAR",
            "--secret", "id=SWIFTDOCK_TEST_IDONLY", "--secret", "id=relative.txt", context,
        ], environment: ["SWIFTDOCK_HOME": swiftdock.home, "MY_SECRET_VAR": value2, "SWIFTDOCK_TEST_IDONLY": value3],
           currentDirectory: context)
        XCTAssertEqual(result.status, 0, result.stderr)
        let root = try swiftdock.unpackRootfs("secrets")
        func read(_ path: String) -> String { (try? String(contentsOfFile: root + path, encoding: .utf8)) ?? "(missing \(path))" }
        XCTAssertEqual(read("/file1.sha"), Swiftdock.sha256(value1) + "\n")
        XCTAssertEqual(read("/file1.stat"), "400 0:0\n", "BuildKit's default: 0400, root")
        XCTAssertEqual(read("/env.sha"), Swiftdock.sha256(value2) + "\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/env.file"), "env= alone mounts no file")
        XCTAssertEqual(read("/idonly.sha"), Swiftdock.sha256(value3) + "\n", "id alone takes the variable of that name")
        XCTAssertEqual(read("/target.stat"), "440 1000:100\n")
        XCTAssertEqual(read("/relative.sha"), Swiftdock.sha256(value1) + "\n", "id alone takes the file of that name")
        XCTAssertEqual(read("/absent"), "absent\n", "an optional secret not given is simply absent")
        XCTAssertEqual(read("/after"), "clean\n")
        // Mount targets and the directories made for them are no part of any layer.
        for path in ["/run", "/run/secrets", "/etc/app"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: root + path), "\(path) stayed in the image")
        }
        // The history shows the command, never a value (BuildKit's created_by has no mount flags).
        let history = try swiftdock.ok("inspect", "-f", "{{json .ImageConfig.history}}", "secrets").stdout
        XCTAssertTrue(history.contains("RUN /bin/sh -c sha256sum /run/secrets/file1"), history)
        try swiftdock.assertNothingHolds([value1, value2, value3], output: result.stdout + result.stderr, image: "secrets")
    }

    /// Copy-and-compare isolation (no overlayfs): the secret's mount point and its directories
    /// are part of the snapshot, so the layer holds only what the RUN wrote.
    func testCopyIsolationKeepsTheSecretOut() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN --mount=type=secret,id=tok,target=/etc/app/tok sha256sum /etc/app/tok | cut -c1-64 > /copied.sha
        """, to: context + "/Dockerfile")
        let result = try swiftdock.ok("build", "-t", "copied", "--secret", "id=tok,src=\(context)/secret.txt", context,
                                      environment: ["SWIFTDOCK_RUN_ISOLATION": "copy"])
        XCTAssertEqual(try swiftdock.topLayerFile("copied", "copied.sha"), Swiftdock.sha256(value1) + "\n")
        let root = try swiftdock.unpackRootfs("copied")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/etc/app"), "the mount point stayed in the image")
        try swiftdock.assertNothingHolds([value1], output: result.stdout + result.stderr, image: "copied")
    }

    func testRequiredSecretMissingFailsAtItsLine() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN true
        RUN --mount=type=secret,id=needed,required=true cat /run/secrets/needed
        """, to: context + "/Dockerfile")
        let before = try swiftdock.fingerprint()
        let result = try swiftdock.run(["build", "-t", "nope", context])
        XCTAssertEqual(result.status, 1, result.stderr)
        let line = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("Error: \(context)/Dockerfile:3: RUN: secret needed: not provided"), line)
        XCTAssertEqual(try swiftdock.fingerprint(), before, "a failed build leaves the store as it was")
    }

    func testBadFlagsAreOneLineUsageErrors() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN true\n", to: context + "/Dockerfile")
        let cases: [([String], [String: String], String)] = [
            (["--secret", "id=x,src=\(context)/missing"], [:], "Error: --secret id=x: open \(context)/missing: no such file or directory"),
            (["--secret", "id=x,env=SWIFTDOCK_UNSET_VARIABLE"], [:], "Error: --secret id=x: environment variable SWIFTDOCK_UNSET_VARIABLE is not set"),
            (["--secret", "id=x,type=vault"], [:], "Error: --secret id=x,type=vault: unsupported secret type \"vault\" (file, env or google-token)"),
            (["--secret", "src=/etc/hostname"], [:], "Error: --secret src=/etc/hostname: secret missing ID"),
            (["--ssh", "default"], ["SSH_AUTH_SOCK": ""], "Error: --ssh default: SSH_AUTH_SOCK is not set"),
            (["--ssh", "deploy=\(context)/no-key"], [:], "Error: --ssh deploy: \(context)/no-key: No such file or directory"),
        ]
        for (flags, environment, message) in cases {
            let result = try swiftdock.run(["build"] + flags + [context], environment: environment)
            XCTAssertEqual(result.status, 125, "\(flags): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix(message), "\(flags): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
    }

    /// BuildKit leaves secrets out of the cache key: a new value reuses the step.
    func testChangedValueIsACacheHit() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN --mount=type=secret,id=tok,env=TOK test -n "$TOK" && date +%s%N > /stamp
        """, to: context + "/Dockerfile")
        let first = try swiftdock.ok("build", "-t", "c1", "--secret", "id=tok,env=TOK", context, environment: ["TOK": value1])
        let second = try swiftdock.ok("build", "-t", "c2", "--secret", "id=tok,env=TOK", context, environment: ["TOK": value2])
        XCTAssertFalse(first.stderr.contains("CACHED"), first.stderr)
        XCTAssertTrue(second.stderr.contains("#2 CACHED"), second.stderr)
        XCTAssertEqual(first.stdout, second.stdout, "the same image")
        try swiftdock.assertNothingHolds([value1, value2], output: first.stderr + second.stderr, image: "c2")
    }

    /// `type=google-token`: a token minted from the service account key by the loopback stand-in
    /// of Google's OAuth2 endpoint, which the RUN then uses against the stand-in's API (it answers
    /// 401 to any token it did not mint).
    func testGoogleTokenSecret() async throws {
        let google = StandInServer()
        try await google.start()
        let keyDirectory = try Harness.makeTemporaryDirectory("gcp-key")
        try google.credentials.writeServiceAccountKey(to: keyDirectory + "/sa.json")
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        ARG API
        RUN --network=host --mount=type=secret,id=gcp-token,required \\
            wget -q -O /jobs.json --header "Authorization: Bearer $(cat /run/secrets/gcp-token)" "$API/v1/projects/swiftdock-test/locations/europe-west3/customJobs"
        """, to: context + "/Dockerfile")
        let environment = [
            "SWIFTDOCK_HOME": swiftdock.home, "GOOGLE_APPLICATION_CREDENTIALS": keyDirectory + "/sa.json",
            "SWIFTDOCK_GOOGLE_API_BASE": google.baseURL, "SWIFTDOCK_GOOGLE_TOKEN_URI": "", "GCE_METADATA_HOST": "127.0.0.1:9",
        ]
        let arguments = ["build", "-t", "gcp", "--build-arg", "API=\(google.baseURL)", "--secret", "id=gcp-token,type=google-token", context]
        let result = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Harness.run(Harness.binary, arguments, environment: environment) })
            }
        }
        let grantees = await google.grantees
        let calls = await google.requests.filter { $0.path.hasSuffix("/customJobs") }.map(\.responseStatus)
        try await google.shutdown()
        try? FileManager.default.removeItem(atPath: keyDirectory)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(grantees.count, 1, "one token, minted for the build")
        XCTAssertEqual(calls, [200], "the RUN called the API with the minted token")
        let root = try swiftdock.unpackRootfs("gcp")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/jobs.json"))
    }
}

import Foundation
import XCTest

/// Through every way of authenticating: push a base, pull it into a fresh store, build FROM
/// it and push the result, then read it back with skopeo and umoci. Runs against the loopback
/// registries `scripts/registries.sh` starts (skipped when they are not running).
final class RegistryRoundTripTests: XCTestCase {
    struct Mode {
        var name: String
        /// The registry (host:port) this mode talks to.
        var registry: String
        /// Extra environment for every swiftdock call (credentials, Google settings).
        var environment: [String: String]
        /// `swiftdock login` first, with the test user.
        var login = false
        /// skopeo's `--creds` for reading back.
        var skopeoCreds: String?
    }

    private func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw XCTSkip("\(name) is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        return value
    }

    private func modes(dockerConfig: String, helperBin: String) throws -> [Mode] {
        let user = try env("SWIFTDOCK_TEST_USER"), password = try env("SWIFTDOCK_TEST_PASSWORD")
        let creds = "\(user):\(password)"
        let token = try env("SWIFTDOCK_TEST_REGISTRY_TOKEN"), tokenAR = try env("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR")
        let noGoogleHome = try Harness.makeTemporaryDirectory("home")
        let google: [String: String] = [
            "SWIFTDOCK_GOOGLE_REGISTRIES": tokenAR, "SWIFTDOCK_GOOGLE_TOKEN_URI": try env("SWIFTDOCK_TEST_GOOGLE_TOKEN_URI"),
            "HOME": noGoogleHome, "GOOGLE_APPLICATION_CREDENTIALS": "", "GCE_METADATA_HOST": "127.0.0.1:9",
        ]
        return [
            Mode(name: "open", registry: try env("SWIFTDOCK_TEST_REGISTRY_OPEN"), environment: [:]),
            Mode(name: "htpasswd + login", registry: try env("SWIFTDOCK_TEST_REGISTRY_HTPASSWD"), environment: [:],
                 login: true, skopeoCreds: creds),
            Mode(name: "token + login", registry: token, environment: [:], login: true, skopeoCreds: creds),
            Mode(name: "token, CI environment credentials", registry: token,
                 environment: ["SWIFTDOCK_USERNAME": user, "SWIFTDOCK_PASSWORD": password, "SWIFTDOCK_REGISTRY": token],
                 skopeoCreds: creds),
            Mode(name: "token, credential helper", registry: token,
                 environment: ["PATH": helperBin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
                               "DOCKER_CONFIG": dockerConfig + "/helper"],
                 skopeoCreds: creds),
            Mode(name: "Artifact-Registry-style token + login", registry: tokenAR, environment: [:], login: true, skopeoCreds: creds),
            Mode(name: "Google service account key", registry: tokenAR,
                 environment: google.merging(["GOOGLE_APPLICATION_CREDENTIALS": try env("SWIFTDOCK_TEST_SA_KEY")]) { $1 },
                 skopeoCreds: creds),
            Mode(name: "Google authorized_user ADC", registry: tokenAR,
                 environment: google.merging(["GOOGLE_APPLICATION_CREDENTIALS": try env("SWIFTDOCK_TEST_ADC_USER")]) { $1 },
                 skopeoCreds: creds),
            Mode(name: "Google metadata server", registry: tokenAR,
                 environment: google.merging(["GCE_METADATA_HOST": try env("GCE_METADATA_HOST")]) { $1 },
                 skopeoCreds: creds),
        ]
    }

    func testPullBuildPushRoundTripThroughEveryAuthMode() throws {
        let configRoot = try Harness.makeTemporaryDirectory("dockercfg")
        let helperBin = try Harness.makeTemporaryDirectory("helperbin")
        let allModes = try modes(dockerConfig: configRoot, helperBin: helperBin)
        // A credential helper as `docker-credential-NAME get` is called: server on stdin, JSON out.
        try Harness.write("""
        #!/bin/sh
        [ "$1" = get ] || exit 1
        read server
        printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}' "$server" "\(try env("SWIFTDOCK_TEST_USER"))" "\(try env("SWIFTDOCK_TEST_PASSWORD"))"
        """, to: helperBin + "/docker-credential-sdtest")
        try Harness.sh("chmod +x '\(helperBin)/docker-credential-sdtest'")
        try Harness.write("{\"credHelpers\": {\"\(try env("SWIFTDOCK_TEST_REGISTRY_TOKEN"))\": \"sdtest\"}}",
                          to: configRoot + "/helper/config.json")

        let producer = try Swiftdock()
        try producer.buildBase()
        for (i, mode) in allModes.enumerated() {
            let environment = ["DOCKER_CONFIG": configRoot + "/mode\(i)"].merging(mode.environment) { $1 }
            let base = "\(mode.registry)/mode\(i)/busybox:1"
            let app = "\(mode.registry)/mode\(i)/tutorial:1"
            if mode.login {
                let login = try Harness.run("/bin/bash", ["-c", "printf '%s' \"$SWIFTDOCK_TEST_PASSWORD\" | '\(Harness.binary)' login -u \"$SWIFTDOCK_TEST_USER\" --password-stdin \(mode.registry)"],
                                            environment: environment)
                XCTAssertEqual(login.status, 0, "\(mode.name): login: \(login.stderr)")
                XCTAssertTrue(login.stdout.contains("Login Succeeded"), "\(mode.name): \(login.stdout)")
            }
            try producer.ok("tag", "swiftdock.local/busybox-base", base)
            let push = try producer.ok("push", base, environment: environment)
            XCTAssertTrue(push.stdout.contains("1: digest: sha256:"), "\(mode.name): \(push.stdout)")

            // A fresh store pulls the base (manifest and config only) and builds on it.
            let consumer = try Swiftdock()
            let pull = try consumer.ok("pull", base, environment: environment)
            XCTAssertTrue(pull.stdout.contains("Digest: sha256:"), "\(mode.name): \(pull.stdout)")
            if i == 0 {
                // The pull left the layer in the registry; save fetches it, verified, first.
                let blobsBefore = try Harness.sh("ls '\(consumer.home)/blobs/sha256' | wc -l")
                let saved = try Harness.makeTemporaryDirectory("saved") + "/oci"
                try consumer.ok("save", base, "--format", "oci", "-o", saved, environment: environment)
                XCTAssertNotEqual(try Harness.sh("ls '\(consumer.home)/blobs/sha256' | wc -l"), blobsBefore)
                try Harness.sh("cd '\(saved)/..' && umoci unpack --rootless --image oci:1 b >/dev/null && test -x b/rootfs/bin/busybox")
            }
            let context = try Harness.makeTemporaryDirectory("rt")
            try Harness.write("FROM \(base)\nCOPY notebook.ipynb /Sourcecode/\n", to: context + "/Dockerfile")
            try Harness.write("{\"cells\": []}\n", to: context + "/notebook.ipynb")
            try consumer.ok("build", "--push", "-t", app, context, environment: environment)

            // Read back independently.
            let creds = mode.skopeoCreds.map { "--creds '\($0)'" } ?? ""
            let inspected = try Harness.sh("skopeo inspect --tls-verify=false \(creds) docker://\(app)")
            XCTAssertTrue(inspected.contains("\"Layers\""), "\(mode.name): \(inspected)")
            let out = try Harness.makeTemporaryDirectory("rt-oci")
            try Harness.sh("skopeo copy -q --src-tls-verify=false \(creds.replacingOccurrences(of: "--creds", with: "--src-creds")) docker://\(app) oci:\(out)/oci:app")
            try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:app bundle >/dev/null && test -f bundle/rootfs/Sourcecode/notebook.ipynb && test -x bundle/rootfs/bin/busybox")
        }
    }

    func testWrongPasswordAndUnknownRepositoryFailWithOneLine() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_TOKEN")
        let config = try Harness.makeTemporaryDirectory("dockercfg")
        let login = try Harness.run("/bin/bash", ["-c", "printf wrong | '\(Harness.binary)' login -u tester --password-stdin \(registry)"],
                                    environment: ["DOCKER_CONFIG": config])
        XCTAssertEqual(login.status, 1, login.stderr)
        XCTAssertEqual(login.stderr.split(separator: "\n").count, 1, login.stderr)
        XCTAssertTrue(login.stderr.contains(registry), login.stderr)
        XCTAssertFalse(login.stderr.contains("wrong"), "the password never appears: \(login.stderr)")

        let swiftdock = try Swiftdock()
        let open = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let pull = try swiftdock("pull", "\(open)/no/such-repo:1")
        XCTAssertEqual(pull.status, 1)
        XCTAssertEqual(pull.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, pull.stderr)
        XCTAssertTrue(pull.stderr.contains("no/such-repo"), pull.stderr)
    }

    func testPullByDigestIsListedRunnableAndRemovable() throws {
        let open = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let source = try Swiftdock()
        try source.buildBase()
        let remote = "\(open)/by-digest/base-\(UUID().uuidString.prefix(8).lowercased())"
        try source.ok("tag", "swiftdock.local/busybox-base", remote + ":v1")
        try source.ok("push", "-q", remote + ":v1")
        let digest = try source.ok("inspect", "--format", "{{.Digest}}", remote + ":v1").stdout.trimmingCharacters(in: .newlines)

        let swiftdock = try Swiftdock()
        let pinned = "\(remote)@\(digest)"
        try swiftdock.ok("pull", "-q", pinned)
        let listed = try swiftdock.ok("images", "--digests").stdout.split(separator: "\n")
        XCTAssertEqual(listed.count, 2, "\(listed)")
        XCTAssertEqual(listed.last?.split(separator: " ", omittingEmptySubsequences: true).prefix(3).joined(separator: " "),
                       "\(remote) <none> \(digest)")
        XCTAssertEqual(try swiftdock.ok("run", "--rm", pinned, "echo", "pinned").stdout, "pinned\n")
        XCTAssertTrue(try swiftdock.ok("rmi", pinned).stdout.hasPrefix("Untagged: \(pinned)"))
        XCTAssertEqual(try swiftdock.ok("images", "-q").stdout, "")
    }
}

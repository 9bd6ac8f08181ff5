import Foundation
import XCTest

/// `build --provenance`: an in-toto v1 statement with a SLSA v1 predicate, stored as an OCI 1.1
/// artifact whose subject is the image; its fields checked against what the build was given
/// (a multi-stage Dockerfile outside the context's root, a target, build args — secret-looking
/// and proxy ones left out —, a base image by digest, the context's commit read by real `git`).
final class ProvenanceTests: XCTestCase {
    func testProvenanceRecordsTheBuild() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let baseDigest = try swiftdock.ok("inspect", "-f", "{{.Digest}}", "gcr.io/deeplearning-platform-release/base-cpu:latest")
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // A git repository whose subdirectory `app` is the context.
        let repository = try Harness.makeTemporaryDirectory("provenance")
        let context = repository + "/app"
        let dockerfile = """
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest AS base
            ARG VERSION
            LABEL version=$VERSION
            FROM scratch AS out
            COPY --from=base /bin/busybox /bin/busybox
            FROM out AS unused

            """
        try Harness.write(dockerfile, to: context + "/docker/Dockerfile.prod")
        try Harness.sh("""
            cd '\(repository)' && git init -q -b trunk && git add . && \
            git -c user.email=ci@example.invalid -c user.name=ci commit -q -m first
            """)
        let commit = try Harness.sh("git -C '\(repository)' rev-parse HEAD").trimmingCharacters(in: .whitespacesAndNewlines)

        let built = try swiftdock.ok("build", "--provenance", "-f", context + "/docker/Dockerfile.prod", "--target", "out",
                                     "--build-arg", "VERSION=1.2.3", "--build-arg", "DB_PASSWORD=hunter2",
                                     "--build-arg", "HTTPS_PROXY=http://user:pw@proxy.invalid", "-t", "prov:1", context)
        let manifest = try XCTUnwrap(SBOMTests.digest(after: "writing manifest ", in: built.stderr), built.stderr)
        XCTAssertTrue(built.stderr.contains("build arg DB_PASSWORD looks like a secret"), built.stderr)
        let (entry, bytes) = try Self.provenance(of: manifest, in: swiftdock.home)
        XCTAssertEqual(entry["artifactType"] as? String, "application/vnd.in-toto+json")
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertFalse(text.contains("hunter2"), "a secret-looking build arg's value is in the provenance")
        XCTAssertFalse(text.contains("user:pw"), "a proxy build arg is in the provenance")
        XCTAssertFalse(text.contains(repository), "the builder's own path is in the provenance")

        let statement = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        XCTAssertEqual(statement["_type"] as? String, "https://in-toto.io/Statement/v1")
        XCTAssertEqual(statement["predicateType"] as? String, "https://slsa.dev/provenance/v1")
        let subject = try XCTUnwrap((statement["subject"] as? [[String: Any]])?.first)
        XCTAssertEqual(subject["digest"] as? [String: String], ["sha256": String(manifest.dropFirst(7))])
        XCTAssertEqual(subject["name"] as? String, "pkg:docker/prov@1?platform=linux%2Famd64")
        let predicate = try XCTUnwrap(statement["predicate"] as? [String: Any])
        let definition = try XCTUnwrap(predicate["buildDefinition"] as? [String: Any])
        XCTAssertEqual(definition["buildType"] as? String, "https://swiftdock.invalid/slsa/dockerfile-build/v1")
        let external = try XCTUnwrap(definition["externalParameters"] as? [String: Any])
        let source = try XCTUnwrap(external["configSource"] as? [String: Any])
        XCTAssertEqual(source["path"] as? String, "docker/Dockerfile.prod")
        let dockerfileDigest = try Harness.sh("sha256sum '\(context)/docker/Dockerfile.prod' | cut -d' ' -f1")
        XCTAssertEqual(source["digest"] as? [String: String], ["sha256": dockerfileDigest.trimmingCharacters(in: .whitespacesAndNewlines)])
        let args = try XCTUnwrap((external["request"] as? [String: Any])?["args"] as? [String: String])
        XCTAssertEqual(args, ["build-arg:VERSION": "1.2.3", "target": "out", "platform": "linux/amd64"])
        let dependencies = try XCTUnwrap(definition["resolvedDependencies"] as? [[String: Any]])
        XCTAssertEqual(dependencies.count, 2, "\(dependencies)")
        XCTAssertEqual(dependencies.first?["uri"] as? String,
                       "pkg:docker/gcr.io/deeplearning-platform-release/base-cpu@latest?platform=linux%2Famd64")
        XCTAssertEqual(dependencies.first?["digest"] as? [String: String], ["sha256": String(baseDigest.dropFirst(7))])
        XCTAssertEqual(dependencies.last?["name"] as? String, "context")
        XCTAssertEqual(dependencies.last?["digest"] as? [String: String], ["gitCommit": commit])
        XCTAssertEqual(dependencies.last?["annotations"] as? [String: String], ["ref": "refs/heads/trunk"])
        let run = try XCTUnwrap(predicate["runDetails"] as? [String: Any])
        let builder = try XCTUnwrap(run["builder"] as? [String: Any])
        XCTAssertEqual(builder["id"] as? String, "https://swiftdock.invalid/builder/local")
        XCTAssertTrue(((builder["version"] as? [String: String])?["swiftdock"] ?? "").hasPrefix("0."), "\(builder)")
        let metadata = try XCTUnwrap(run["metadata"] as? [String: Any])
        let formatter = ISO8601DateFormatter()
        let started = try XCTUnwrap(formatter.date(from: metadata["startedOn"] as? String ?? ""), "\(metadata)")
        let finished = try XCTUnwrap(formatter.date(from: metadata["finishedOn"] as? String ?? ""), "\(metadata)")
        XCTAssertLessThanOrEqual(started, finished)
        XCTAssertLessThan(abs(finished.timeIntervalSinceNow), 600)

        // mode=min leaves every build arg out; a rebuild's provenance replaces the earlier one.
        let minimal = try swiftdock.ok("build", "--provenance=mode=min,builder-id=https://ci.example/run/7", "-f",
                                       context + "/docker/Dockerfile.prod", "--target", "out", "--build-arg", "VERSION=1.2.3",
                                       "-t", "prov:1", context)
        XCTAssertEqual(SBOMTests.digest(after: "writing manifest ", in: minimal.stderr), manifest, "the cached rebuild is the same image")
        let (_, minBytes) = try Self.provenance(of: manifest, in: swiftdock.home)
        let minText = String(decoding: minBytes, as: UTF8.self)
        XCTAssertFalse(minText.contains("build-arg:"), minText)
        XCTAssertTrue(minText.contains("\"id\":\"https://ci.example/run/7\""), minText)
        XCTAssertTrue(minText.contains("\"mode\":\"min\""), minText)

        // Off, and bad spellings: a usage error (125) that leaves the store as it was.
        let off = try swiftdock.ok("build", "--provenance=false", "-f", context + "/docker/Dockerfile.prod", "-t", "prov:2", context)
        XCTAssertFalse(off.stderr.contains("writing provenance"), off.stderr)
        let before = try swiftdock.fingerprint()
        for bad in ["--provenance=mode=huge", "--provenance=version=v0.2", "--provenance=color=blue", "--provenance=mode"] {
            let result = try swiftdock.run(["build", bad, "-t", "prov:3", context])
            XCTAssertEqual(result.status, 125, "\(bad): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(bad): \(result.stderr)")
        }
        XCTAssertEqual(try swiftdock.fingerprint(), before)
    }

    /// The one provenance referrer of `manifest` in the store: its referrers-index entry and the statement's bytes.
    static func provenance(of manifest: String, in home: String) throws -> ([String: Any], [UInt8]) {
        let referrers = try SBOMTests.json(home + "/referrers/" + manifest.dropFirst(7))
        let entries = (referrers["manifests"] as? [[String: Any]] ?? []).filter { $0["artifactType"] as? String == "application/vnd.in-toto+json" }
        XCTAssertEqual(entries.count, 1, "\(referrers)")
        let entry = try XCTUnwrap(entries.first)
        let artifact = try SBOMTests.json(SBOMTests.blob(try XCTUnwrap(entry["digest"] as? String), in: home))
        XCTAssertEqual((artifact["subject"] as? [String: Any])?["digest"] as? String, manifest)
        let layer = try XCTUnwrap((artifact["layers"] as? [[String: Any]])?.first)
        XCTAssertEqual(layer["mediaType"] as? String, "application/vnd.in-toto+json")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: SBOMTests.blob(try XCTUnwrap(layer["digest"] as? String), in: home)))
        return (entry, Array(bytes))
    }
}

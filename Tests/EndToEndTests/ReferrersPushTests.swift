import Foundation
import XCTest

/// Attestations on `push`, as OCI 1.1 referrers: through the CNCF registry (docker-registry 2.8,
/// no referrers API: the `sha256-<hex>` tag schema, read back with skopeo) and through the
/// `referrers-api` stand-in in front of it (the API and `OCI-Subject`); then `inspect
/// --attestations` locally and remotely, and `save --format oci` carrying them (skopeo, umoci).
final class ReferrersPushTests: XCTestCase {
    static let inToto = "application/vnd.in-toto+json"
    static let spdx = "application/spdx+json"
    /// Fixed, so a rebuild's SBOM is byte for byte the first one (and is not listed twice).
    static let epoch = "1700000000"

    private func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw XCTSkip("\(name) is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        return value
    }

    /// An image with an SBOM; the tests add `--provenance` by a second (cached, same-image) build.
    private func buildAttestedImage(_ swiftdock: Swiftdock, tag: String) throws -> (manifest: String, context: String) {
        try swiftdock.buildBase()
        let context = try Harness.makeTemporaryDirectory("referrers")
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nCOPY note /note\n", to: context + "/Dockerfile")
        try Harness.write("attested \(UUID().uuidString)\n", to: context + "/note")
        let built = try swiftdock.ok("build", "--sbom", "--source-date-epoch", Self.epoch, "-t", tag, context)
        return (try XCTUnwrap(SBOMTests.digest(after: "writing manifest ", in: built.stderr), built.stderr), context)
    }

    private func skopeoRaw(_ reference: String) throws -> CommandResult {
        try Harness.run("/usr/bin/skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://" + reference])
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testTagSchemaThroughTheCNCFRegistry() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let swiftdock = try Swiftdock()
        let (manifest, context) = try buildAttestedImage(swiftdock, tag: "attested:1")
        let repository = "\(registry)/attest/tags-\(UUID().uuidString.prefix(8).lowercased())"
        let tag = "sha256-" + manifest.dropFirst(7)

        // First push: the SBOM, listed through the tag schema.
        let first = try swiftdock.ok("push", "attested:1", repository + ":v1")
        XCTAssertTrue(first.stderr.contains("attestation \(Self.spdx) sha256:"), first.stderr)
        XCTAssertTrue(first.stderr.contains("pushed (referrers tag \(tag))"), first.stderr)
        // The registry has no referrers API (docker-registry 2.8 answers 404).
        let api = try Harness.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                    "http://\(registry)/v2/\(repository.dropFirst(registry.count + 1))/referrers/\(manifest)"])
        XCTAssertEqual(api.stdout, "404")

        // A rebuild adds provenance to the same image; the second push merges it into the tag's
        // index without repeating the SBOM.
        let rebuilt = try swiftdock.ok("build", "--sbom", "--provenance", "--source-date-epoch", Self.epoch, "-t", "attested:1", context)
        XCTAssertEqual(SBOMTests.digest(after: "writing manifest ", in: rebuilt.stderr), manifest)
        try swiftdock.ok("push", "attested:1", repository + ":v1")
        let listed = try skopeoRaw(repository + ":" + tag)
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let index = try json(listed.stdout)
        XCTAssertEqual(index["mediaType"] as? String, "application/vnd.oci.image.index.v1+json")
        let entries = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        XCTAssertEqual(entries.compactMap { $0["artifactType"] as? String }, [Self.spdx, Self.inToto])
        // Each listed artifact is there, names the image as its subject, and its payload is the stored one.
        for entry in entries {
            let digest = try XCTUnwrap(entry["digest"] as? String)
            let artifact = try skopeoRaw(repository + "@" + digest)
            XCTAssertEqual(artifact.status, 0, artifact.stderr)
            let document = try json(artifact.stdout)
            XCTAssertEqual((document["subject"] as? [String: Any])?["digest"] as? String, manifest)
            XCTAssertEqual(document["artifactType"] as? String, entry["artifactType"] as? String)
            let layer = try XCTUnwrap((document["layers"] as? [[String: Any]])?.first?["digest"] as? String)
            let blob = try Harness.run("/usr/bin/curl", ["-sf", "http://\(registry)/v2/\(repository.dropFirst(registry.count + 1))/blobs/\(layer)"])
            XCTAssertEqual(Array(blob.stdout.utf8), Array(try String(contentsOfFile: SBOMTests.blob(layer, in: swiftdock.home), encoding: .utf8).utf8))
        }

        // inspect --attestations reads the tag schema remotely, and the store locally.
        let remote = try swiftdock.ok("inspect", "--attestations", "--remote", repository + ":v1")
        XCTAssertEqual(remote.stdout.split(separator: "\n").count, 3, remote.stdout)
        XCTAssertTrue(remote.stdout.hasPrefix("ARTIFACT TYPE"), remote.stdout)
        XCTAssertTrue(remote.stderr.contains("referrers tag"), remote.stderr)
        let local = try swiftdock.ok("inspect", "--attestations", "-f", "json", "attested:1")
        let localEntries = try XCTUnwrap(try json(local.stdout)["manifests"] as? [[String: Any]])
        XCTAssertEqual(localEntries.compactMap { $0["digest"] as? String }, entries.compactMap { $0["digest"] as? String })
        let bad = try swiftdock.run(["inspect", "--attestations", "-f", "{{.Id}}", "attested:1"])
        XCTAssertEqual(bad.status, 125, bad.stderr)

        // A referrers tag that holds something else than an index is never overwritten.
        let hostile = "\(registry)/attest/hostile-\(UUID().uuidString.prefix(8).lowercased())"
        try swiftdock.ok("push", "gcr.io/deeplearning-platform-release/base-cpu:latest", hostile + ":" + tag)
        let refused = try swiftdock.run(["push", "attested:1", hostile + ":v1"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("the referrers tag \(tag) holds application/vnd.oci.image.manifest.v1+json, not an OCI index"),
                      refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, refused.stderr)
    }

    func testReferrersAPIStandIn() throws {
        let registry = try env("SWIFTDOCK_TEST_REGISTRY_REFERRERS")
        let swiftdock = try Swiftdock()
        let (manifest, context) = try buildAttestedImage(swiftdock, tag: "attested:api")
        try swiftdock.ok("build", "--sbom", "--provenance", "--source-date-epoch", Self.epoch, "-t", "attested:api", context)
        let repository = "\(registry)/attest/api-\(UUID().uuidString.prefix(8).lowercased())"
        let pushed = try swiftdock.ok("push", "attested:api", repository + ":v1")
        XCTAssertEqual(pushed.stderr.components(separatedBy: "pushed (referrers API)").count - 1, 2, pushed.stderr)
        // The registry indexed them itself: no referrers tag was written.
        XCTAssertNotEqual(try skopeoRaw(repository + ":sha256-" + manifest.dropFirst(7)).status, 0)
        // Listed through the API (one per page: the client follows `Link`), with the filter.
        let remote = try swiftdock.ok("inspect", "--attestations", "--remote", "-f", "json", repository + ":v1")
        let entries = try XCTUnwrap(try json(remote.stdout)["manifests"] as? [[String: Any]])
        XCTAssertEqual(Set(entries.compactMap { $0["artifactType"] as? String }), [Self.spdx, Self.inToto])
        XCTAssertTrue(remote.stderr.contains("referrers API"), remote.stderr)
        // build --push sends them too.
        let buildPushed = try swiftdock.ok("build", "--sbom", "--provenance", "--source-date-epoch", Self.epoch, "--push",
                                           "-t", repository + ":v2", context)
        XCTAssertEqual(buildPushed.stderr.components(separatedBy: "pushed (referrers API)").count - 1, 2, buildPushed.stderr)
        let path = repository.dropFirst(registry.count + 1)
        let filtered = try Harness.run("/usr/bin/curl", ["-si", "http://\(registry)/v2/\(path)/referrers/\(manifest)?artifactType=application%2Fspdx%2Bjson"])
        XCTAssertTrue(filtered.stdout.lowercased().contains("oci-filters-applied: artifacttype"), filtered.stdout)
        let body = try XCTUnwrap(filtered.stdout.components(separatedBy: "\r\n\r\n").last)
        let only = try XCTUnwrap(try json(body)["manifests"] as? [[String: Any]])
        XCTAssertEqual(only.compactMap { $0["artifactType"] as? String }, [Self.spdx])
    }

    func testSaveOCICarriesReferrers() throws {
        let swiftdock = try Swiftdock()
        let (manifest, context) = try buildAttestedImage(swiftdock, tag: "attested:save")
        try swiftdock.ok("build", "--sbom", "--provenance", "--source-date-epoch", Self.epoch, "-t", "attested:save", context)
        let output = try Harness.makeTemporaryDirectory("save") + "/layout"
        try swiftdock.ok("save", "--format", "oci", "-o", output, "attested:save")
        let index = try SBOMTests.json(output + "/index.json")
        let entries = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        XCTAssertEqual(entries.first?["digest"] as? String, manifest)
        let referrers = entries.dropFirst()
        XCTAssertEqual(referrers.compactMap { $0["artifactType"] as? String }, [Self.spdx, Self.inToto])
        // Every artifact and its blobs are in the layout, their digests right, their subject the image.
        for entry in referrers {
            let digest = try XCTUnwrap(entry["digest"] as? String)
            let artifact = try SBOMTests.json(output + "/blobs/sha256/" + digest.dropFirst(7))
            XCTAssertEqual((artifact["subject"] as? [String: Any])?["digest"] as? String, manifest)
            let blobs = [digest] + ((artifact["layers"] as? [[String: Any]] ?? []) + [artifact["config"] as? [String: Any] ?? [:]])
                .compactMap { $0["digest"] as? String }
            for blob in blobs {
                let sum = try Harness.sh("sha256sum '\(output)/blobs/sha256/\(blob.dropFirst(7))' | cut -d' ' -f1")
                XCTAssertEqual("sha256:" + sum.trimmingCharacters(in: .whitespacesAndNewlines), blob)
            }
        }
        // The image still reads as before with skopeo and umoci.
        let inspected = try Harness.run("/usr/bin/skopeo", ["inspect", "oci:\(output):save"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertEqual(try json(inspected.stdout)["Digest"] as? String, manifest)
        let bundle = try Harness.makeTemporaryDirectory("bundle") + "/b"
        try Harness.sh("umoci unpack --rootless --image '\(output):save' '\(bundle)' >/dev/null && test -f '\(bundle)/rootfs/note'")
        // The docker archive format is unchanged: no referrers there.
        let archive = try Harness.makeTemporaryDirectory("save") + "/image.tar"
        try swiftdock.ok("save", "-o", archive, "attested:save")
        let archived = try Harness.sh("tar -xOf '\(archive)' index.json")
        XCTAssertFalse(archived.contains("artifactType"), archived)
    }
}

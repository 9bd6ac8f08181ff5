import Foundation
import XCTest

/// `build --push` uploads new layers while they are written (issue 12 item 3): the image it
/// pushes is the one `build` then `push` pushes, byte for byte; `--output type=registry` keeps
/// no layer in the store; a registry that refuses streamed bodies gets file uploads instead.
/// Runs against the loopback registries `scripts/registries.sh` starts (skipped without them).
final class StreamingPushTests: XCTestCase {
    static let epoch = "1700000000"

    private func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw XCTSkip("\(name) is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        return value
    }

    /// A context with two COPY layers (one of 3 MB, incompressible) over the busybox base.
    private func makeContext() throws -> String {
        let context = try Harness.makeTemporaryDirectory("stream-ctx")
        try Harness.write("FROM swiftdock.local/busybox-base\nCOPY app/ /app/\nENV STREAMED=1\nCOPY big.bin /data/big.bin\n",
                          to: context + "/Dockerfile")
        try FileManager.default.createDirectory(atPath: context + "/app", withIntermediateDirectories: true)
        for n in 0..<20 { try Harness.write("file \(n)\n", to: context + "/app/f\(n).txt") }
        try Harness.sh("head -c 3145728 /dev/urandom > '\(context)/big.bin'")
        return context
    }

    /// The digest in the push's last line (`TAG: digest: sha256:… size: N`).
    private func pushedDigest(_ stderr: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let digest = stderr.split(separator: "\n").reversed().lazy.compactMap { line -> String? in
            guard let range = line.range(of: ": digest: ") else { return nil }
            return line[range.upperBound...].split(separator: " ").first.map(String.init)
        }.first
        XCTAssertNotNil(digest, "no push summary in: \(stderr)", file: file, line: line)
        return digest ?? ""
    }

    /// The layer digests of a pushed manifest, read back with skopeo.
    private func layerDigests(_ reference: String) throws -> [String] {
        let raw = try Harness.sh("skopeo inspect --raw --tls-verify=false docker://\(reference)")
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any]
        return ((manifest?["layers"] as? [[String: Any]]) ?? []).compactMap { $0["digest"] as? String }
    }

    private func storeBlobs(_ swiftdock: Swiftdock) throws -> Set<String> {
        Set(try Harness.sh("ls '\(swiftdock.home)/blobs/sha256'").split(separator: "\n").map { "sha256:" + $0 })
    }

    func testStreamedPushIsTheImageBuildThenPushMakes() throws {
        let open = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let context = try makeContext()
        let run = UUID().uuidString.prefix(8).lowercased()

        // Reference: build, then push.
        let reference = try Swiftdock()
        try reference.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
        try reference.ok("build", "-q", "--source-date-epoch", Self.epoch, "-t", "\(open)/stream/ref-\(run):1", context)
        let expected = pushedDigest(try reference.ok("push", "\(open)/stream/ref-\(run):1").stdout)

        // build --push: the same manifest digest, layers streamed while built, a store entry kept.
        let streamed = try Swiftdock()
        try streamed.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
        let pushed = try streamed.ok("build", "--push", "--source-date-epoch", Self.epoch, "-t", "\(open)/stream/push-\(run):1", context)
        XCTAssertEqual(pushedDigest(pushed.stderr), expected, pushed.stderr)
        XCTAssertTrue(pushed.stderr.contains("streamed 2 layer(s) to \(open)/stream/push-\(run)"), pushed.stderr)
        let layers = try layerDigests("\(open)/stream/push-\(run):1")
        XCTAssertEqual(layers.count, 3, "base + two COPY layers")
        XCTAssertTrue(Set(layers).isSubset(of: try storeBlobs(streamed)), "build --push -t keeps the layers in the store")
        assertReportedPushed(layers, in: pushed.stderr)
        XCTAssertTrue(try streamed.ok("images").stdout.contains("\(open)/stream/push-\(run)"))
        // Its COPYs took the folded path (each file read once, digests from the upload's read,
        // FoldedContent): their keys were still recorded, so a plain rebuild hits both.
        let rebuilt = try streamed.ok("build", "--source-date-epoch", Self.epoch, "-t", "\(open)/stream/push-\(run):1", context)
        let cached = rebuilt.stderr.split(separator: "\n").filter { $0.hasPrefix("#") && $0.hasSuffix(" CACHED") }
        XCTAssertEqual(cached.count, 2, "both COPY steps hit after build --push: \(rebuilt.stderr)")

        // --output type=registry: the same image, and no layer of it in the store.
        let registryOnly = try Swiftdock()
        try registryOnly.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
        let before = try storeBlobs(registryOnly)
        let output = try registryOnly.ok("build", "--source-date-epoch", Self.epoch,
                                         "--output", "type=registry,name=\(open)/stream/out-\(run):1,push=true", context)
        XCTAssertEqual(pushedDigest(output.stderr), expected, output.stderr)
        let added = try storeBlobs(registryOnly).subtracting(before)
        XCTAssertTrue(added.isDisjoint(with: layers), "a layer blob stayed in the store: \(added)")
        XCTAssertFalse(try registryOnly.ok("images").stdout.contains("stream/out-\(run)"), "type=registry tags nothing locally")
        XCTAssertEqual(try Harness.sh("ls -A '\(registryOnly.home)/tmp' 2>/dev/null | wc -l").trimmingCharacters(in: .whitespacesAndNewlines), "0")
        // Independently readable: skopeo copies it out and umoci unpacks the streamed layers.
        let out = try Harness.makeTemporaryDirectory("stream-oci")
        try Harness.sh("skopeo copy -q --src-tls-verify=false docker://\(open)/stream/out-\(run):1 oci:\(out)/oci:app")
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:app bundle >/dev/null && cmp bundle/rootfs/data/big.bin '\(context)/big.bin' && test -f bundle/rootfs/app/f7.txt")
    }

    /// The manifest digest `build` then `push` of `context` gives (the image every streamed
    /// build must reproduce), pushed to `reference`.
    private func referenceDigest(of context: String, pushedTo reference: String) throws -> String {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
        try swiftdock.ok("build", "-q", "--source-date-epoch", Self.epoch, "-t", reference, context)
        return pushedDigest(try swiftdock.ok("push", reference).stdout)
    }

    /// Docker's words for the layers this command uploaded: `Pushed` — the streamed ones too,
    /// which the registry already holds when the push after the build comes to them.
    private func assertReportedPushed(_ layers: [String], in stderr: String, file: StaticString = #filePath, line: UInt = #line) {
        for digest in layers {
            let short = String(digest.dropFirst("sha256:".count).prefix(12))
            XCTAssertTrue(stderr.contains("\(short): Pushed"), "\(short) not reported Pushed: \(stderr)", file: file, line: line)
            XCTAssertFalse(stderr.contains("\(short): Layer already exists"), stderr, file: file, line: line)
        }
    }

    /// The Artifact-Registry-style fixture (token auth, no `service=`, and AR's upload rules:
    /// one PATCH per session, no Content-Range, a POST needs Content-Length) takes the
    /// streamed upload as it is — one chunked PATCH, then `PUT ?digest=`, what `docker push`
    /// sends AR — with no fallback, and holds the image `build` then `push` makes.
    func testStreamedPushToArtifactRegistryStyleFixture() throws {
        let open = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let ar = try env("SWIFTDOCK_TEST_REGISTRY_TOKEN_AR")
        let context = try makeContext()
        let run = UUID().uuidString.prefix(8).lowercased()
        let expected = try referenceDigest(of: context, pushedTo: "\(open)/stream/ar-ref-\(run):1")

        let environment = ["DOCKER_CONFIG": try Harness.makeTemporaryDirectory("ar-docker-config")]
        let login = try Harness.run("/bin/bash", ["-c", "printf '%s' \"$SWIFTDOCK_TEST_PASSWORD\" | '\(Harness.binary)' login -u \"$SWIFTDOCK_TEST_USER\" --password-stdin \(ar)"],
                                    environment: environment)
        XCTAssertEqual(login.status, 0, login.stderr)
        for (index, flags) in [["--push", "-t", "\(ar)/stream/ar1-\(run):1"],
                               ["--output", "type=registry,name=\(ar)/stream/ar2-\(run):1"]].enumerated() {
            // A repository each: in one that has the base already, docker's word for it is
            // `Layer already exists`, and this test checks the words for layers sent.
            let swiftdock = try Swiftdock()
            try swiftdock.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
            let result = try swiftdock.run(["build", "--source-date-epoch", Self.epoch] + flags + [context], environment: environment)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(pushedDigest(result.stderr), expected, result.stderr)
            XCTAssertTrue(result.stderr.contains("streamed 2 layer(s) to \(ar)/stream/ar\(index + 1)-\(run)"), result.stderr)
            XCTAssertFalse(result.stderr.contains("uploading layers from files instead"), result.stderr)
            let layers = try Harness.sh("skopeo inspect --raw --tls-verify=false --creds \"$SWIFTDOCK_TEST_USER:$SWIFTDOCK_TEST_PASSWORD\" "
                                        + "docker://\(ar)/stream/ar\(index + 1)-\(run):1 | jq -r '.layers[].digest'")
                .split(separator: "\n").map(String.init)
            XCTAssertEqual(layers.count, 3, "base + two COPY layers")
            assertReportedPushed(layers, in: result.stderr)
        }
    }

    /// A front that answers 411 to bodies without Content-Length: one warning, every layer
    /// uploaded from a file, the same image; with type=registry the files go away again.
    func testRegistryRefusingStreamedBodiesGetsFileUploads() throws {
        let open = try env("SWIFTDOCK_TEST_REGISTRY_OPEN")
        let refusing = try env("SWIFTDOCK_TEST_REGISTRY_NO_CHUNKED")
        let context = try makeContext()
        let run = UUID().uuidString.prefix(8).lowercased()
        let expected = try referenceDigest(of: context, pushedTo: "\(open)/stream/fb-ref-\(run):1")

        for (index, flags) in [["--push", "-t", "\(refusing)/stream/fb1-\(run):1"],
                               ["--output", "type=registry,name=\(refusing)/stream/fb2-\(run):1"]].enumerated() {
            let swiftdock = try Swiftdock()
            try swiftdock.buildBase(environment: ["SOURCE_DATE_EPOCH": Self.epoch])
            let before = try storeBlobs(swiftdock)
            let result = try swiftdock.run(["build", "--source-date-epoch", Self.epoch] + flags + [context])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(pushedDigest(result.stderr), expected, result.stderr)
            let warnings = result.stderr.split(separator: "\n").filter { $0.contains("uploading layers from files instead") }
            XCTAssertEqual(warnings.count, 1, result.stderr)
            XCTAssertTrue(warnings.first?.contains("411") ?? false, result.stderr)
            XCTAssertFalse(result.stderr.contains("streamed 2 layer(s)"), result.stderr)
            let layers = try layerDigests("\(refusing)/stream/fb\(index + 1)-\(run):1")
            assertReportedPushed(layers, in: result.stderr)
            let added = try storeBlobs(swiftdock).subtracting(before)
            if index == 1 { XCTAssertTrue(added.isDisjoint(with: layers), "type=registry kept a layer: \(added)") }
        }
    }

    func testBadOutputSpecsAreUsageErrors() throws {
        let swiftdock = try Swiftdock()
        let context = try Harness.makeTemporaryDirectory("stream-bad")
        try Harness.write("FROM scratch\n", to: context + "/Dockerfile")
        let cases: [(spec: String, message: String)] = [
            ("type=docker", "unsupported --output type \"docker\""),
            ("type=registry", "needs name=REF or a -t/--tag"),
            ("type=registry,name=Bad Name", "invalid --output name"),
            ("type=registry,name=example.com/a,push=false", "always pushes"),
            ("type=registry,dest=/tmp/x", "unsupported --output field \"dest\""),
            ("name=example.com/a", "type= is missing"),
            ("type", "expected KEY=VALUE"),
        ]
        for (spec, message) in cases {
            let before = try swiftdock.fingerprint()
            let result = try swiftdock("build", "--output", spec, context)
            XCTAssertEqual(result.status, 125, "\(spec): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(spec): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, result.stderr)
            XCTAssertEqual(try swiftdock.fingerprint(), before, spec)
        }
    }
}

import Foundation
import XCTest

/// The tutorial from the product brief, end to end, checked by independent readers.
final class TutorialTests: XCTestCase {
    var swiftdock: Swiftdock!
    var tutorial: String { Harness.packageRoot.appendingPathComponent("Fixtures/tutorial").path }

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
    }

    func testTutorialBuildsAndOCIToolsAcceptIt() throws {
        let build = try swiftdock.ok("build", "--run=record", "-t", "python-docker", tutorial)
        XCTAssertTrue(build.stdout.hasPrefix("sha256:"), build.stdout)
        XCTAssertTrue(build.stderr.contains("RUN not executed"), build.stderr)
        XCTAssertTrue(build.stderr.contains("Dockerfile:2"), build.stderr)

        let out = try Harness.makeTemporaryDirectory("oci")
        let oci = out + "/image"
        try swiftdock.ok("save", "python-docker", "--format", "oci", "-o", oci)
        let inspect = try Harness.sh("skopeo inspect --raw oci:\(oci):latest")
        let manifest = try JSONSerialization.jsonObject(with: Data(inspect.utf8)) as! [String: Any]
        XCTAssertEqual(manifest["mediaType"] as? String, "application/vnd.oci.image.manifest.v1+json")
        XCTAssertEqual((manifest["layers"] as? [Any])?.count, 2, "base layer + COPY layer")
        let config = try Harness.sh("skopeo inspect --config oci:\(oci):latest")
        XCTAssertTrue(config.contains("RUN /bin/sh -c mkdir -p /Sourcecode # buildkit"), config)
        XCTAssertTrue(config.contains("COPY /Sourcecode /Sourcecode # buildkit"), config)

        let bundle = out + "/bundle"
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image '\(oci):latest' '\(bundle)' >/dev/null")
        let files = try Harness.sh("cd '\(bundle)/rootfs' && find Sourcecode | sort")
        XCTAssertEqual(files, "Sourcecode\nSourcecode/dockerVertexai.ipynb\nSourcecode/input.csv\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/rootfs/bin/busybox"))

        // Owners and modes as docker writes them: root-owned, modes from the context.
        let layer = try lastLayerListing(oci)
        XCTAssertTrue(layer.contains { $0.hasPrefix("drwxr-xr-x 0/0") && $0.hasSuffix("Sourcecode/") }, "\(layer)")
        XCTAssertTrue(layer.contains { $0.hasPrefix("-rw-r--r-- 0/0") && $0.hasSuffix("Sourcecode/input.csv") }, "\(layer)")
        XCTAssertFalse(layer.contains { $0.contains("temp") || $0.contains("__pycache__") }, "\(layer)")

        let archive = out + "/python-docker.tar"
        try swiftdock.ok("save", "python-docker", "--format", "docker", "-o", archive)
        let dockerInspect = try Harness.sh("skopeo inspect docker-archive:\(archive)")
        XCTAssertTrue(dockerInspect.contains("\"Layers\""), dockerInspect)
        try Harness.sh("tar -tf '\(archive)' | grep -qx manifest.json")
    }

    func testIgnoredTreesStayOutOfTheImage() throws {
        let context = try Harness.makeTemporaryDirectory("ctx")
        try Harness.sh("cp -a '\(tutorial)/.' '\(context)/' && mkdir -p '\(context)/Sourcecode/temp' '\(context)/__pycache__' '\(context)/Sourcecode/__pycache__' && echo x > '\(context)/Sourcecode/temp/scratch.txt' && echo y > '\(context)/__pycache__/a.pyc' && echo z > '\(context)/Sourcecode/__pycache__/b.pyc'")
        try swiftdock.ok("build", "--run=record", "-t", "ignored", context)
        let out = try Harness.makeTemporaryDirectory("oci") + "/image"
        try swiftdock.ok("save", "ignored", "--format", "oci", "-o", out)
        let listing = try lastLayerListing(out).joined(separator: "\n")
        XCTAssertFalse(listing.contains("Sourcecode/temp"), listing)
        // `__pycache__` in .dockerignore is anchored at the root: the nested one is copied.
        XCTAssertTrue(listing.contains("Sourcecode/__pycache__/b.pyc"), listing)
    }

    func testSourceDateEpochMakesBuildsByteIdentical() throws {
        var digests: [String] = []
        for _ in 0..<2 {
            let store = try Swiftdock()
            try store.buildBase(environment: ["SOURCE_DATE_EPOCH": "1700000000"])
            try store.ok("build", "--run=record", "-t", "repro", tutorial, environment: ["SOURCE_DATE_EPOCH": "1700000000"])
            digests.append(try store.ok("inspect", "--format", "{{.Digest}}", "repro").stdout)
            swiftdock = store
        }
        XCTAssertEqual(digests[0], digests[1])
        XCTAssertTrue(digests[0].hasPrefix("sha256:"))
        let created = try swiftdock.ok("inspect", "--format", "{{.Created}}", "repro").stdout
        XCTAssertEqual(created, "2023-11-14T22:13:20Z\n")
    }

    func testTutorialRunExecutesAndSwiftdockRunListsSourcecode() throws {
        let build = try swiftdock.ok("build", "-t", "python-docker", tutorial)
        XCTAssertFalse(build.stderr.contains("not executed"), build.stderr)
        let history = try swiftdock.ok("inspect", "--format", "{{json .ImageConfig.history}}", "python-docker").stdout
        let entries = try JSONSerialization.jsonObject(with: Data(history.utf8)) as! [[String: Any]]
        let run = entries.first { ($0["created_by"] as? String) == "RUN /bin/sh -c mkdir -p /Sourcecode # buildkit" }
        XCTAssertNotNil(run, history)
        XCTAssertNil(run?["empty_layer"], "mkdir -p /Sourcecode changed the filesystem: a layer")
        let listing = try swiftdock.ok("run", "--rm", "python-docker", "ls", "/Sourcecode").stdout
        XCTAssertEqual(listing, "dockerVertexai.ipynb\ninput.csv\n")
        let status = try swiftdock("run", "python-docker", "sh", "-c", "echo out; echo err >&2; exit 7")
        XCTAssertEqual(status.status, 7)
        XCTAssertEqual(status.stdout, "out\n")
        XCTAssertTrue(status.stderr.contains("err"), status.stderr)
    }

    /// `tar -tvzf` of the image's top layer, one line per entry.
    private func lastLayerListing(_ ociDirectory: String) throws -> [String] {
        let raw = try Harness.sh("skopeo inspect --raw oci:\(ociDirectory):latest")
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        let layers = manifest["layers"] as! [[String: Any]]
        let digest = (layers.last!["digest"] as! String).replacingOccurrences(of: "sha256:", with: "")
        return try Harness.sh("tar --numeric-owner -tvzf '\(ociDirectory)/blobs/sha256/\(digest)'")
            .split(separator: "\n").map { line in
                // "-rw-r--r-- 0/0  123 2024-01-01 00:00 path" → "-rw-r--r-- 0/0 … path"
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                return "\(fields[0]) \(fields[1]) \(fields.last!)"
            }
    }
}

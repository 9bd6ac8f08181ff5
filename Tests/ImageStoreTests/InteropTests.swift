import Foundation
import ImageModel
@testable import ImageStore
import XCTest

/// Other OCI tools read the store and what `save` writes: skopeo, umoci, tar.
final class InteropTests: XCTestCase {
    var scratch = ""
    var store: ImageStore!
    var base: TestLayer!
    var app: TestLayer!

    override func setUpWithError() throws {
        scratch = try makeScratchDirectory(self)
        store = try ImageStore(root: scratch + "/store")
        base = try makeLayer(store, files: ["etc/os-release": "ID=test\n"], scratch: scratch)
        app = try makeLayer(store, files: ["app/main.py": "print('hi')\n"], scratch: scratch)
    }

    /// `skopeo inspect` as decoded JSON.
    func skopeoInspect(_ transportReference: String) throws -> [String: Any] {
        let output = try runChecked(["skopeo", "inspect", transportReference])
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    func requireTools(_ names: String...) throws {
        for name in names where !hasTool(name) { throw XCTSkip("\(name) is not installed") }
    }

    func testSkopeoReadsTheStoreAsALayout() throws {
        try requireTools("skopeo")
        let manifest = try makeImage(store, layers: [base, app], cmd: ["python3", "main.py"])
        try store.tag(ref("python-docker"), manifest: manifest)
        try store.tag(ref("localhost:5000/team/app:v1"), manifest: manifest)

        for name in ["docker.io/library/python-docker:latest", "localhost:5000/team/app:v1"] {
            let info = try skopeoInspect("oci:\(store.root):\(name)")
            XCTAssertEqual(info["Digest"] as? String, manifest.digest.description, name)
            XCTAssertEqual(info["Layers"] as? [String], [base.descriptor.digest.description, app.descriptor.digest.description], name)
        }
        // Reading the layers too: copy out of the store.
        try runChecked(["skopeo", "copy", "--insecure-policy", "oci:\(store.root):docker.io/library/python-docker:latest",
                        "oci:\(scratch)/copy:latest"])
    }

    func testSaveDockerArchive() throws {
        try requireTools("skopeo")
        let x = try makeImage(store, layers: [base, app], cmd: ["x"])
        let yLayer = try makeLayer(store, files: ["y.txt": "y"], scratch: scratch, format: .docker)
        let y = try makeImage(store, layers: [yLayer], cmd: ["y"], format: .docker)
        try store.tag(ref("x"), manifest: x)
        try store.tag(ref("x:v2"), manifest: x)
        try store.tag(ref("y"), manifest: y)
        let output = scratch + "/images.tar"
        _ = FileManager.default.createFile(atPath: output, contents: Data("old content".utf8))

        try store.save([ref("x"), ref("x:v2"), ref("y")], format: .docker, to: output)

        let names = Set(try runChecked(["tar", "-tf", output]).split(separator: "\n").map(String.init))
        let xImage = try store.image(x), yImage = try store.image(y)
        var expected: Set<String> = ["manifest.json", "index.json", "oci-layout", "repositories", "blobs/", "blobs/sha256/"]
        for digest in [x.digest, y.digest, xImage.imageID, yImage.imageID, base.descriptor.digest, app.descriptor.digest, yLayer.descriptor.digest] {
            expected.insert("blobs/sha256/\(digest.encoded)")
        }
        XCTAssertEqual(names, expected)

        // manifest.json as docker writes it: one entry per image, familiar RepoTags.
        let manifestJSON = try runChecked(["tar", "-xOf", output, "manifest.json"])
        let entries = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(manifestJSON.utf8)) as? [[String: Any]])
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0]["RepoTags"] as? [String], ["x:latest", "x:v2"])
        XCTAssertEqual(entries[0]["Config"] as? String, "blobs/sha256/\(xImage.imageID.encoded)")
        XCTAssertEqual(entries[0]["Layers"] as? [String], [base, app].map { "blobs/sha256/\($0.descriptor.digest.encoded)" })
        XCTAssertEqual(entries[1]["RepoTags"] as? [String], ["y:latest"])
        let repositories = try runChecked(["tar", "-xOf", output, "repositories"])
        XCTAssertEqual(repositories, #"{"x":{"latest":"\#(app.descriptor.digest.encoded)","v2":"\#(app.descriptor.digest.encoded)"},"y":{"latest":"\#(yLayer.descriptor.digest.encoded)"}}"#)

        // skopeo's docker-archive reader (manifest.json) …
        let info = try skopeoInspect("docker-archive:\(output):x:v2")
        XCTAssertEqual((info["Layers"] as? [String])?.count, 2)
        XCTAssertEqual(info["RepoTags"] as? [String], [])  // docker-archive reports none
        let yInfo = try skopeoInspect("docker-archive:\(output):y:latest")
        XCTAssertEqual(yInfo["Layers"] as? [String], [yLayer.diffID.description], "compressed layer read as its diff ID")
        // … reads the gzip layer blobs too, checking them against the config's diff IDs.
        try runChecked(["skopeo", "copy", "--insecure-policy", "docker-archive:\(output):x:latest", "oci:\(scratch)/fromdocker:x"])
        // and its OCI reader (index.json) sees the same archive as an OCI layout.
        let oci = try skopeoInspect("oci-archive:\(output):v2")
        XCTAssertEqual(oci["Digest"] as? String, x.digest.description)
        // `latest` is shared by x and y, so those entries are named by the full reference.
        let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(try runChecked(["tar", "-xOf", output, "index.json"]).utf8))
        XCTAssertEqual(index.manifests.map { $0.annotations?[ImageStore.refNameAnnotation] },
                       ["docker.io/library/x:latest", "v2", "docker.io/library/y:latest"])
        let ociX = try skopeoInspect("oci-archive:\(output):docker.io/library/x:latest")
        XCTAssertEqual(ociX["Digest"] as? String, x.digest.description)
        // (skopeo's OCI reader skips Docker-media-type manifests such as y's; its docker-archive reader is used above.)

        // No temporary file is left beside the output.
        XCTAssertEqual(try FileSystem.list(scratch).filter { $0.hasPrefix(".") }, [])
        // A directory is not replaced.
        try FileManager.default.createDirectory(atPath: scratch + "/dir.tar", withIntermediateDirectories: true)
        assertStoreError(try store.save([ref("x")], format: .docker, to: scratch + "/dir.tar")) { $0 == .outputExists(path: self.scratch + "/dir.tar") }
    }

    func testSaveOCILayoutUnpacksWithUmoci() throws {
        try requireTools("skopeo", "umoci")
        let x = try makeImage(store, layers: [base, app], cmd: ["python3", "main.py"])
        try store.tag(ref("python-docker"), manifest: x)
        try store.tag(ref("python-docker:3.12"), manifest: x)
        let directory = scratch + "/layout"

        try store.save([ref("python-docker"), ref("python-docker:3.12")], format: .oci, to: directory)

        let index = try CanonicalJSON.decode(ImageIndex.self, from: Data(try FileSystem.readFile(directory + "/index.json")))
        XCTAssertEqual(index.manifests.map { $0.annotations?[ImageStore.refNameAnnotation] }, ["latest", "3.12"])
        XCTAssertEqual(index.manifests.map { $0.annotations?[ImageStore.imageNameAnnotation] },
                       ["docker.io/library/python-docker:latest", "docker.io/library/python-docker:3.12"])
        for tag in ["latest", "3.12"] {
            let info = try skopeoInspect("oci:\(directory):\(tag)")
            XCTAssertEqual(info["Digest"] as? String, x.digest.description)
        }
        let bundle = scratch + "/bundle"
        try runChecked(["umoci", "unpack", "--rootless", "--image", "\(directory):latest", bundle])
        XCTAssertEqual(try String(contentsOfFile: bundle + "/rootfs/app/main.py", encoding: .utf8), "print('hi')\n")
        XCTAssertEqual(try String(contentsOfFile: bundle + "/rootfs/etc/os-release", encoding: .utf8), "ID=test\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle + "/config.json"))

        // Existing, non-empty output is refused; an empty directory is filled.
        assertStoreError(try store.save([ref("python-docker")], format: .oci, to: directory)) { $0 == .outputExists(path: directory) }
        let empty = scratch + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try store.save([ref("python-docker")], format: .oci, to: empty)
        XCTAssertEqual(try skopeoInspect("oci:\(empty):latest")["Digest"] as? String, x.digest.description)
        _ = FileManager.default.createFile(atPath: scratch + "/file", contents: Data())
        assertStoreError(try store.save([ref("python-docker")], format: .oci, to: scratch + "/file")) { $0 == .outputExists(path: self.scratch + "/file") }
        XCTAssertEqual(try FileSystem.list(scratch).filter { $0.hasPrefix(".") }, [])
    }

    func testSaveDetectsCorruptBlobAndLeavesNoOutput() throws {
        let x = try makeImage(store, layers: [base], cmd: ["x"])
        try store.tag(ref("x"), manifest: x)
        try "tampered".write(toFile: store.blobPath(base.descriptor.digest), atomically: false, encoding: .utf8)
        for (format, output) in [(SaveFormat.docker, scratch + "/x.tar"), (.oci, scratch + "/x-layout")] {
            assertStoreError(try store.save([ref("x")], format: format, to: output)) {
                if case .digestMismatch(_, let expected, _) = $0 { return expected == self.base.descriptor.digest } else { return false }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: output), "\(format)")
        }
        XCTAssertEqual(try FileSystem.list(scratch).filter { $0.hasPrefix(".") }, [])
    }
}

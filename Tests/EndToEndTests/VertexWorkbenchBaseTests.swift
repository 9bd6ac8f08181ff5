import Foundation
import XCTest

/// Workbench runs only images derived from Google's workbench-container base; swiftdock knows
/// an image's base from the `org.opencontainers.image.base.name` annotation its builds write.
final class VertexWorkbenchBaseTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!
    let workbenchBase = "us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container:latest"
    let location = ["--project", "tweetiment-xyz", "--zone", "europe-west3-a", "--dry-run"]

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        try swiftdock.ok("tag", "swiftdock.local/busybox-base", workbenchBase)
        context = try Harness.makeTemporaryDirectory("workbench")
    }

    func build(_ tag: String, from base: String) throws {
        try Harness.write("FROM \(base)\nRUN true\n", to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "--run", "record", "-t", tag, context)
    }

    func testBuildsRecordTheirBaseAsBuildahDoes() throws {
        try build("europe-west3-docker.pkg.dev/tweetiment-xyz/nb/derived:v1", from: workbenchBase)
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "europe-west3-docker.pkg.dev/tweetiment-xyz/nb/derived:v1").stdout
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any])
        let annotations = try XCTUnwrap(manifest["annotations"] as? [String: String])
        XCTAssertEqual(annotations["org.opencontainers.image.base.name"], workbenchBase)
        let baseDigest = try swiftdock.ok("inspect", "--format", "{{.Digest}}", workbenchBase).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(annotations["org.opencontainers.image.base.digest"], baseDigest)
    }

    func testAnImageOnTheWorkbenchBaseIsNotWarnedAbout() throws {
        let image = "europe-west3-docker.pkg.dev/tweetiment-xyz/nb/derived:v1"
        try build(image, from: workbenchBase)
        let result = try swiftdock.run(["vertex", "workbench", "create", "swiftdock-nb", "--image", image] + location)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stderr.contains("WARNING"), result.stderr)
        XCTAssertTrue(result.stdout.contains("\"repository\" : \"europe-west3-docker.pkg.dev/tweetiment-xyz/nb/derived\""), result.stdout)
    }

    func testTheTutorialsBaseIsWarnedAbout() throws {
        let image = "europe-west3-docker.pkg.dev/tweetiment-xyz/tweetimentrep/python-docker"
        try build(image, from: "gcr.io/deeplearning-platform-release/base-cpu:latest")
        let result = try swiftdock.run(["vertex", "workbench", "create", "swiftdock-nb", "--image", image] + location)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").first.map(String.init),
                       "WARNING: \(image) was built FROM gcr.io/deeplearning-platform-release/base-cpu:latest; "
                       + "Workbench custom containers must derive from us-docker.pkg.dev/deeplearning-platform-release/gcr.io/workbench-container[-slim]")
        // The request itself is still printed: the warning does not stop a user who knows better.
        XCTAssertTrue(result.stdout.hasPrefix("{"), result.stdout)
    }
}

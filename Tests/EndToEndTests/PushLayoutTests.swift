import Foundation
import XCTest

/// `swiftdock push IMAGE oci:DIR[:NAME]` (issue 12): skopeo's transport syntax, read back
/// by skopeo; bad destinations are usage errors that leave nothing behind.
final class PushLayoutTests: XCTestCase {
    func testPushIntoAnOCILayoutThatSkopeoReads() throws {
        guard (try? Harness.sh("command -v skopeo")) != nil else { throw XCTSkip("skopeo is not installed") }
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let layout = try Harness.makeTemporaryDirectory("layout") + "/busybox"
        let pushed = try swiftdock.ok("push", "-q", "swiftdock.local/busybox-base", "oci:\(layout):v1")
        XCTAssertTrue(pushed.stdout.hasPrefix("v1: digest: sha256:"), pushed.stdout)
        let inspected = try Harness.sh("skopeo inspect --raw oci:\(layout):v1 | sha256sum")
        XCTAssertTrue(pushed.stdout.contains(String(inspected.prefix(64))), "the layout's manifest is the pushed one: \(pushed.stdout)")
        // skopeo copies it out of the layout into another one, checking every blob.
        try Harness.sh("skopeo copy --insecure-policy oci:\(layout):v1 oci:\(layout)-copy:v1 >/dev/null")

        // From the layout (not the store) into another layout and, when the test registries
        // run, into a registry; skopeo reads both.
        try swiftdock.ok("push", "-q", "oci:\(layout):v1", "oci:\(layout)-again:v2")
        XCTAssertEqual(try Harness.sh("skopeo inspect --raw oci:\(layout)-again:v2 | sha256sum"), inspected)
        if let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty {
            let target = "\(registry)/layout/busybox-\(UUID().uuidString.prefix(8).lowercased()):v3"
            let pushed = try swiftdock.ok("push", "-q", "oci:\(layout):v1", target)
            XCTAssertTrue(pushed.stdout.hasPrefix("v3: digest: sha256:\(inspected.prefix(64))"), pushed.stdout)
            XCTAssertEqual(try Harness.sh("skopeo inspect --tls-verify=false --raw docker://\(target) | sha256sum"), inspected)
        }

        let cases: [(String, String)] = [
            ("oci:", "oci: needs a directory"),
            ("dir:/tmp/x", "not supported by push"),
            ("docker-archive:/tmp/x.tar:team/app@sha256:" + String(repeating: "a", count: 64), "NAME:TAG reference"),
            ("oci:\(layout):", "must be a non-empty word"),
        ]
        for (destination, message) in cases {
            let result = try swiftdock("push", "swiftdock.local/busybox-base", destination)
            XCTAssertEqual(result.status, 125, destination)
            XCTAssertTrue(result.stderr.contains(message), "\(destination): \(result.stderr)")
        }
        let noDestination = try swiftdock("push", "oci:\(layout):v1")
        XCTAssertEqual(noDestination.status, 125)
        XCTAssertTrue(noDestination.stderr.contains("needs a destination"), noDestination.stderr)
    }
}

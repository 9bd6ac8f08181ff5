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

        let cases: [(String, String)] = [
            ("oci:", "oci: needs a directory"),
            ("oci-archive:/tmp/x.tar", "not supported by push"),
            ("oci:\(layout):", "must be a non-empty word"),
        ]
        for (destination, message) in cases {
            let result = try swiftdock("push", "swiftdock.local/busybox-base", destination)
            XCTAssertEqual(result.status, 125, destination)
            XCTAssertTrue(result.stderr.contains(message), "\(destination): \(result.stderr)")
        }
    }
}

import XCTest
@testable import Sandbox

final class SandboxSupportTests: XCTestCase {
    func testSupportProbeGivesAReasonWhenUnavailable() {
        let support = Sandbox.support()
        if !support.available {
            XCTAssertNotNil(support.reason)
            XCTAssertTrue(support.reason?.contains("--run=record") == true, support.reason ?? "")
        }
    }

    /// How `SWIFTDOCK_RUN_ISOLATION` picks overlay or copy from what each probe says (the
    /// machine running the tests allows overlay, so the refusals are fed in).
    func testIsolationChoice() {
        let overlayRefused = "overlayfs in a user namespace is not available here (mount overlay: Operation not permitted); build with --run=record"
        let noUserNamespaces = "user namespaces are not available here (unshare: Operation not permitted); build with --run=record"
        let ok = { (isolation: SandboxIsolation) in SandboxSupport(available: true, reason: nil, isolation: isolation) }
        let refused = { (reason: String) in { (isolation: SandboxIsolation) in
            isolation == .overlay ? SandboxSupport(available: false, reason: reason) : ok(isolation) } }
        let cases: [(requested: String, probe: (SandboxIsolation) -> SandboxSupport, available: Bool, isolation: SandboxIsolation?, fallback: String?)] = [
            ("", ok, true, .overlay, nil),
            ("auto", refused(overlayRefused), true, .copy, "overlayfs in a user namespace is not available here (mount overlay: Operation not permitted)"),
            ("AUTO", refused(noUserNamespaces), false, nil, nil),
            ("overlay", refused(overlayRefused), false, nil, nil),
            ("copy", ok, true, .copy, nil),
            ("vfs", ok, false, nil, nil),
        ]
        for c in cases {
            var probed: [SandboxIsolation] = []
            let support = Sandbox.choose(requested: c.requested) { isolation in
                probed.append(isolation)
                return c.probe(isolation)
            }
            XCTAssertEqual(support.available, c.available, c.requested)
            if let isolation = c.isolation { XCTAssertEqual(support.isolation, isolation, c.requested) }
            XCTAssertEqual(support.fallback, c.fallback, c.requested)
            if c.requested == "AUTO" {
                XCTAssertEqual(probed, [.overlay], "without user namespaces copying cannot help, so it is not tried")
                XCTAssertEqual(support.reason, noUserNamespaces)
            }
            if c.requested == "vfs" {
                XCTAssertEqual(support.reason, "SWIFTDOCK_RUN_ISOLATION=vfs is not one of auto, overlay, copy")
                XCTAssertEqual(probed, [])
            }
        }
    }
}

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
}

import XCTest
@testable import Registry

final class RegistryErrorTests: XCTestCase {
    func testMessageNamesRegistryRepositoryAndStatus() {
        let e = RegistryError(.denied, registry: "127.0.0.1:5000", repository: "a/b", status: 403, "push denied")
        XCTAssertEqual(e.description, "127.0.0.1:5000/a/b: push denied (HTTP 403)")
    }
}

import XCTest
@testable import ImageStore

final class StoreErrorTests: XCTestCase {
    func testMessagesNameWhat() {
        XCTAssertEqual(StoreError.imageNotFound("busybox:latest").description, "image not found in local store: busybox:latest")
    }
}

import XCTest
@testable import Layers

final class LayerEntryTests: XCTestCase {
    func testContentSize() {
        XCTAssertEqual(LayerEntry.FileContent.bytes([1, 2, 3]).size, 3)
        XCTAssertEqual(LayerEntry.FileContent.file(path: "/x", size: 42).size, 42)
    }
}

import XCTest
@testable import BuildContext

final class ContextEntryTests: XCTestCase {
    func testSymlinkEntriesCarryTheirTarget() {
        let e = ContextEntry(relativePath: "a", absolutePath: "/c/a", type: .symlink(target: "b"), mode: 0o777, uid: 0, gid: 0,
                             size: 1, mtimeSeconds: 0, mtimeNanoseconds: 0, device: 1, inode: 2, linkCount: 1)
        XCTAssertEqual(e.type, .symlink(target: "b"))
    }
}

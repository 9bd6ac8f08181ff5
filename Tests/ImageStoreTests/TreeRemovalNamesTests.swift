import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import ImageStore
import XCTest

/// The healing walk removes a dead owner's tree whose names are not UTF-8 (a RUN can make
/// them): each name goes to the kernel as its bytes. It used to take a repaired name for a
/// missing one and walk the same directory forever.
final class TreeRemovalNamesTests: XCTestCase {
    func testDeadOwnersTreeWithNonUTF8NamesIsRemoved() throws {
        let scratch = try makeScratchDirectory(self)
        let root = scratch + "/store"
        _ = try ImageStore(root: root)
        let entry = root + "/tmp/2147483000-1-abcdef"  // no such process
        try runChecked(["sh", "-c", "mkdir -p '\(entry)/made/sub' && cd '\(entry)/made' && touch \"$(printf 'caf\\351')\" \"sub/$(printf '\\377')\" && mkdir \"$(printf 'd\\351')\" && touch \"$(printf 'd\\351')/x\""])
        let opened = expectation(description: "the store opens")
        let thread = Thread {
            _ = try? ImageStore(root: root)
            opened.fulfill()
        }
        thread.start()
        wait(for: [opened], timeout: 60)
        XCTAssertFalse(FileManager.default.fileExists(atPath: entry), "the dead owner's tree is gone")
    }
}

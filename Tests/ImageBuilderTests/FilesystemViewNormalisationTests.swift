@testable import ImageBuilder
import Layers
import XCTest

/// The lower-file-system view keys paths by bytes: `é` (U+00E9) and `e` + U+0301 are two
/// entries, with their own owners, whiteouts and subtrees, as the kernel and BuildKit see them.
final class FilesystemViewNormalisationTests: XCTestCase {
    let nfc = "\u{E9}", nfd = "e\u{301}"

    func header(_ path: String, _ kind: LayerHeaders.Header.Kind = .directory, uid: Int = 0, link: String? = nil) -> LayerHeaders.Header {
        LayerHeaders.Header(path: path, kind: kind, mode: 0o755, uid: uid, gid: uid, mtimeSeconds: 0, linkTarget: link)
    }

    func testSpellingsAreDistinctEntries() {
        var view = FilesystemView()
        view.apply([header("srv"), header("srv/" + nfc, uid: 5), header("srv/" + nfc + "/a", .file, uid: 5)], layer: 0)
        XCTAssertTrue(view.exists("srv/" + nfc))
        XCTAssertFalse(view.exists("srv/" + nfd), "the other spelling is another path")
        XCTAssertFalse(view.isDirectory("srv/" + nfd))
        XCTAssertEqual(view.entries.count, 3)

        view.apply([header("srv/" + nfd, uid: 7), header("srv/" + nfd + "/b", .file, uid: 7)], layer: 1)
        XCTAssertEqual(view.entries.count, 5)
        XCTAssertEqual(view.entry("srv/" + nfc)?.header.uid, 5)
        XCTAssertEqual(view.entry("srv/" + nfd)?.header.uid, 7)

        // A whiteout of one spelling hides that one and its subtree only.
        view.apply([header("srv/.wh." + nfd, .file)], layer: 2)
        XCTAssertNil(view.entry("srv/" + nfd))
        XCTAssertNil(view.entry("srv/" + nfd + "/b"))
        XCTAssertEqual(view.entry("srv/" + nfc + "/a")?.header.uid, 5)
    }

    func testSymlinkResolutionComparesBytes() {
        var view = FilesystemView()
        view.apply([header(nfc), header(nfd, .symlink, link: "/target"), header("target")], layer: 0)
        XCTAssertEqual(view.resolve(nfc + "/x"), nfc + "/x")
        XCTAssertEqual(view.resolve(nfd + "/x"), "target/x")
    }

    func testComponentsAreSplitAtSlashBytes() {
        // `/` followed by a combining mark is one Character; the path still has two components.
        XCTAssertEqual(cleanLayerPath("/a/\u{301}b/./c"), "a/\u{301}b/c")
        XCTAssertEqual(ancestors(of: "a/\u{301}b/c"), ["a", "a/\u{301}b"])
        XCTAssertEqual(FilesystemView.split("a/\u{301}b").1, "\u{301}b")
    }
}

import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import BuildContext

/// The walk decides a regular file's readability from its `lstat` only when the owner class
/// makes it certain; every other case must still reach `faccessat`.
final class ReadPermissionTests: XCTestCase {
    private func status(uid: uid_t, mode: mode_t) -> stat {
        var st = stat()
        st.st_uid = uid
        st.st_mode = S_IFREG | mode
        return st
    }

    func testOnlyTheOwnersReadBitDecidesWithoutAsking() {
        let me: uid_t = 1000
        let overflow = ReadPermission.overflowUID
        let cases: [(name: String, owner: uid_t, mode: mode_t, user: uid_t?, certain: Bool)] = [
            ("owner with r", me, 0o400, me, true),
            ("owner with rw-r--r--", me, 0o644, me, true),
            ("owner without r, others with r (the kernel refuses the owner)", me, 0o044, me, false),
            ("owner without any bit", me, 0o000, me, false),
            ("another owner, others with r (ACLs could still refuse)", 1001, 0o644, me, false),
            ("root, root's file with r", 0, 0o644, 0, true),
            ("root, root's mode-000 file (capabilities: ask)", 0, 0o000, 0, false),
            ("root, someone else's file", me, 0o644, 0, false),
            ("real and effective uid differ", me, 0o644, nil, false),
            ("unmapped owner shown as the overflow uid", overflow, 0o644, overflow, false),
        ]
        for c in cases {
            XCTAssertEqual(ReadPermission.ownerMayRead(status(uid: c.owner, mode: c.mode), as: c.user), c.certain, c.name)
        }
    }

    func testOwnerWithoutReadBitIsStillAsked() throws {
        // Readable by group and others but not by its owner: unreadable for an unprivileged
        // owner (a shortcut on the other bits would miss it), readable for root.
        let t = try TempTree()
        try t.make(["a/f"])
        chmod(t.root + "/a/f", 0o044)
        defer { chmod(t.root + "/a/f", 0o644) }
        let ctx = try ContextDirectory(root: t.root, matcher: nil)
        if getuid() == 0 {
            XCTAssertEqual(try ctx.walk(try ctx.stat(".")).map(\.relativePath), ["a", "a/f"])
        } else {
            XCTAssertThrowsError(try ctx.walk(try ctx.stat("."))) { error in
                guard case ContextError.unreadable(let path, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(path, "a/f")
            }
        }
    }
}

import Foundation
import Sandbox
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `Sandbox.applyOwners` and `Sandbox.removeTree`, the helper's operations inside a user
/// namespace (ops.c), run here with the identity map (as root); the subordinate-id case is
/// end to end (RunOwnersTests).
final class TreeOperationsTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("the identity map needs root; RunOwnersTests covers subordinate ids") }
        guard Sandbox.support().available else { throw XCTSkip(Sandbox.support().reason ?? "no sandbox here") }
        scratch = NSTemporaryDirectory() + "swiftdock-tree-ops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() {
        if !scratch.isEmpty { try? FileManager.default.removeItem(atPath: scratch) }
    }

    private func owner(_ pathBytes: [UInt8]) -> (uid: uid_t, gid: gid_t, mode: mode_t)? {
        var st = stat()
        guard (pathBytes + [0]).withUnsafeBufferPointer({ $0.withMemoryRebound(to: CChar.self) { lstat($0.baseAddress!, &st) } }) == 0 else { return nil }
        return (st.st_uid, st.st_gid, st.st_mode & 0o7777)
    }

    private func makeFile(_ pathBytes: [UInt8], mode: mode_t = 0o644) {
        let fd = (pathBytes + [0]).withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY | O_CLOEXEC, mode) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
    }

    func testOwnersAndModesByBytesNeverThroughASymlink() throws {
        let root = scratch + "/root", outside = scratch + "/outside"
        for dir in [root + "/dir", outside] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        makeFile(Array((root + "/dir/file").utf8))
        let latin1 = Array("caf".utf8) + [0xE9]
        makeFile(Array((root + "/").utf8) + latin1)
        makeFile(Array((outside + "/victim").utf8))
        XCTAssertEqual(symlink(outside, root + "/link"), 0)
        try Sandbox.applyOwners([
            SandboxOwner(path: "dir/file", uid: 42, gid: 43, mode: 0o4750),
            SandboxOwner(pathBytes: latin1, uid: 44, gid: 45, mode: 0o600),
            SandboxOwner(path: "dir", uid: 1001, gid: 1001, mode: 0o700),
            SandboxOwner(path: "link/victim", uid: 46, gid: 47, mode: 0o777),  // through a symlink: skipped
            SandboxOwner(path: "link", uid: 48, gid: 49, mode: 0o777),         // the symlink itself: chowned, not chmodded
            SandboxOwner(path: "missing/file", uid: 1, gid: 1, mode: 0o644),   // not in the tree: skipped
        ], under: root, idMap: .identity)
        let cases: [(path: [UInt8], uid: uid_t, gid: gid_t, mode: mode_t?)] = [
            (Array((root + "/dir/file").utf8), 42, 43, 0o4750),
            (Array((root + "/").utf8) + latin1, 44, 45, 0o600),
            (Array((root + "/dir").utf8), 1001, 1001, 0o700),
            (Array((outside + "/victim").utf8), 0, 0, 0o644),
            (Array((root + "/link").utf8), 48, 49, nil),
        ]
        for c in cases {
            let found = try XCTUnwrap(owner(c.path), String(decoding: c.path, as: UTF8.self))
            XCTAssertEqual(found.uid, c.uid, String(decoding: c.path, as: UTF8.self))
            XCTAssertEqual(found.gid, c.gid, String(decoding: c.path, as: UTF8.self))
            if let mode = c.mode { XCTAssertEqual(found.mode, mode, String(decoding: c.path, as: UTF8.self)) }
        }
        XCTAssertEqual(owner(Array((outside).utf8))?.uid, 0, "the symlink's target directory is untouched")
    }

    func testRemoveTreeRemovesWhatTheOwnerCannotEnter() throws {
        let tree = scratch + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/a/b", withIntermediateDirectories: true)
        makeFile(Array((tree + "/a/b/f").utf8))
        XCTAssertEqual(chown(tree + "/a", 12345, 12345), 0)
        XCTAssertEqual(chmod(tree + "/a/b", 0), 0)
        XCTAssertEqual(chmod(tree + "/a", 0o500), 0)
        try Sandbox.removeTree(tree, idMap: .identity)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tree))
        try Sandbox.removeTree(tree, idMap: .identity)  // nothing there: not an error
    }
}

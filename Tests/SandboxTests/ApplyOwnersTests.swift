import Foundation
import Sandbox
import TemporaryDirectories
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `Sandbox.applyOwners` (ops.c `csb_apply_owners`) changes only what it looked at: every entry
/// is opened once without following a symlink and changed through that descriptor, so an entry
/// swapped for a symlink meanwhile (a RUN's own process racing it) never carries a chmod or
/// chown outside the tree. Run with the identity map (as root), like TreeOperationsTests.
final class ApplyOwnersTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("the identity map needs root; RunOwnersTests covers subordinate ids") }
        guard Sandbox.support().available else { throw XCTSkip(Sandbox.support().reason ?? "no sandbox here") }
        scratch = try makeTemporaryDirectory("swiftdock-apply-owners")
    }

    private func status(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    /// A file, a directory, a FIFO (opened for real, it would block), a character device and a
    /// symlink, each given an owner and a mode; the symlink's target outside is untouched.
    func testEveryKindOfEntryGetsItsOwnerAndModeAndASymlinkIsNeverFollowed() throws {
        let root = scratch + "/root", outside = scratch + "/outside"
        for directory in [root + "/dir", outside] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8)))
        XCTAssertTrue(FileManager.default.createFile(atPath: outside + "/target", contents: Data("y".utf8)))
        XCTAssertEqual(chmod(outside + "/target", 0o640), 0)
        XCTAssertEqual(mkfifo(root + "/fifo", 0o644), 0)
        XCTAssertEqual(mknod(root + "/null", S_IFCHR | 0o600, dev_t((1 << 8) | 3)), 0)  // 1:3, /dev/null (glibc makedev for small numbers)
        XCTAssertEqual(symlink(outside + "/target", root + "/link"), 0)
        let cases: [(path: String, uid: UInt32, gid: UInt32, mode: UInt32, kind: mode_t)] = [
            ("file", 42, 43, 0o4750, S_IFREG),
            ("dir", 1001, 1002, 0o2711, S_IFDIR),
            ("fifo", 44, 45, 0o620, S_IFIFO),
            ("null", 46, 47, 0o666, S_IFCHR),
        ]
        try Sandbox.applyOwners(cases.map { SandboxOwner(path: $0.path, uid: $0.uid, gid: $0.gid, mode: $0.mode) }
            + [SandboxOwner(path: "link", uid: 48, gid: 49, mode: 0o777)], under: root, idMap: .identity)
        for c in cases {
            let st = try XCTUnwrap(status(root + "/" + c.path), c.path)
            XCTAssertEqual(st.st_mode & S_IFMT, c.kind, c.path)
            XCTAssertEqual(st.st_mode & 0o7777, c.mode, c.path)
            XCTAssertEqual(st.st_uid, c.uid, c.path)
            XCTAssertEqual(st.st_gid, c.gid, c.path)
        }
        let link = try XCTUnwrap(status(root + "/link"))
        XCTAssertEqual(link.st_mode & S_IFMT, S_IFLNK)
        XCTAssertEqual([link.st_uid, link.st_gid], [48, 49], "the symlink itself is chowned")
        let target = try XCTUnwrap(status(outside + "/target"))
        XCTAssertEqual(target.st_mode & 0o7777, 0o640, "the symlink's target keeps its mode")
        XCTAssertEqual([target.st_uid, target.st_gid], [0, 0], "the symlink's target keeps its owner")
    }

    /// The race itself: while the helper works through the same entry thousands of times, a
    /// thread here keeps replacing it, atomically, by a file and by a symlink to a file outside.
    /// Checked by path and changed by path, some chmod lands on the target (the old ops.c did);
    /// through the descriptor of what was checked, none can.
    func testAnEntrySwappedForASymlinkMeanwhileIsNeverFollowed() throws {
        let root = scratch + "/root", outside = scratch + "/outside"
        for directory in [root, outside] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        XCTAssertTrue(FileManager.default.createFile(atPath: outside + "/target", contents: Data("y".utf8)))
        XCTAssertEqual(chmod(outside + "/target", 0o640), 0)
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/entry", contents: nil))
        let swapper = EntrySwapper(root: root, target: outside + "/target")
        swapper.start()
        defer { swapper.stop() }
        for _ in 0..<3 {
            try Sandbox.applyOwners(Array(repeating: SandboxOwner(path: "entry", uid: 7, gid: 8, mode: 0o4777), count: 20_000),
                                    under: root, idMap: .identity)
            let target = try XCTUnwrap(status(outside + "/target"))
            XCTAssertEqual(target.st_mode & 0o7777, 0o640, "a chmod followed the swapped-in symlink")
            XCTAssertEqual([target.st_uid, target.st_gid], [0, 0], "a chown followed the swapped-in symlink")
        }
        swapper.stop()
        XCTAssertGreaterThan(swapper.swaps, 1000, "the entry was hardly swapped: the race was not run")
    }
}

/// Replaces `root/entry` again and again, each time atomically (rename over it), by a new
/// empty file and by a symlink to `target`, on a thread of its own until `stop()`.
/// `@unchecked Sendable`: `running` and `count` are read and written under `lock` only.
private final class EntrySwapper: @unchecked Sendable {
    private let root: String, target: String
    private let lock = NSLock()
    private var running = true
    private var count = 0
    private let ended = DispatchSemaphore(value: 0)
    private var started = false

    init(root: String, target: String) { self.root = root; self.target = target }

    var swaps: Int { lock.withLock { count } }

    func start() {
        started = true
        Thread { [self] in
            let entry = root + "/entry", file = root + "/.file", link = root + "/.link"
            while lock.withLock({ running }) {
                let fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
                if fd >= 0 { close(fd) }
                rename(file, entry)
                symlink(target, link)
                rename(link, entry)
                lock.withLock { count += 2 }
            }
            ended.signal()
        }.start()
    }

    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        if started && wasRunning { ended.wait() }
    }
}

import Foundation
@testable import Sandbox
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The per-boot cache of the sandbox probe's answer: used without spawning the probe when it
/// is ours, whole and made for the same key; ignored and rewritten otherwise; never kept in a
/// directory someone else can reach.
final class SandboxProbeCacheTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/swiftdock-probe-cache-tests.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        scratch = try XCTUnwrap(made.map { String(cString: $0) })
    }

    override func tearDownWithError() throws {
        if !scratch.isEmpty { try? FileManager.default.removeItem(atPath: scratch) }
    }

    private let key = SandboxProbeKey([
        ("boot", "ef52cefb-10dc-4120-915e-5daca9d2b2a0"), ("kernel", "6.12.0 #1 SMP"), ("user", "uid 0 euid 0 gid 0"),
        ("idmap", "identity"), ("requested", "auto"), ("probe-fs", "/tmp type ef53 id 1.2"), ("userns", "-,-,96367"),
        ("executable", "dev 1 ino 2 size 3 mtime 4.5"),
    ])
    private let overlay = SandboxSupport(available: true, reason: nil, isolation: .overlay)
    private let copy = SandboxSupport(available: true, reason: nil, isolation: .copy,
                                      fallback: "overlayfs in a user namespace is not available here (mount overlay: Operation not permitted)")

    /// `cache.support` with a probe that answers `answer` and counts its calls.
    private func ask(_ cache: SandboxProbeCache, key: SandboxProbeKey? = nil, answer: SandboxSupport? = nil) -> (SandboxSupport, probes: Int) {
        var probes = 0
        let support = cache.support(key: key ?? self.key) {
            probes += 1
            return answer ?? overlay
        }
        return (support, probes)
    }

    private func fileStatus(_ path: String) -> stat? {
        var st = stat()
        return lstat(path, &st) == 0 ? st : nil
    }

    func testAnAnswerIsKeptAndThenUsedWithoutProbing() throws {
        for answer in [overlay, copy] {
            let cache = SandboxProbeCache(directory: scratch + "/run-\(answer.isolation)")
            let first = ask(cache, answer: answer)
            XCTAssertEqual(first.probes, 1)
            XCTAssertEqual(first.0, answer)
            let dir = try XCTUnwrap(fileStatus(cache.directory))
            XCTAssertEqual(dir.st_mode & 0o7777, 0o700, "the directory is made for this user alone")
            let file = try XCTUnwrap(fileStatus(cache.directory + "/" + SandboxProbeCache.fileName))
            XCTAssertEqual(file.st_mode & 0o7777, 0o600)
            XCTAssertEqual(file.st_uid, geteuid())
            let again = ask(cache, answer: SandboxSupport(available: false, reason: "must not be asked"))
            XCTAssertEqual(again.probes, 0, "a kept answer spawns no probe")
            XCTAssertEqual(again.0, answer)
        }
    }

    /// Each damage is a miss (the probe runs, its answer is used) and the file is replaced by
    /// a whole one made for the key.
    func testDamagedForeignOrStaleFilesAreIgnoredAndRewritten() throws {
        let file = { (cache: SandboxProbeCache) in cache.directory + "/" + SandboxProbeCache.fileName }
        let replace = { (path: String, bytes: [UInt8]) throws in
            unlink(path)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
        }
        let damages: [(name: String, rootOnly: Bool, damage: (String) throws -> Void)] = [
            ("a byte changed", false, { path in
                var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
                bytes[bytes.count / 2] ^= 0x20
                try replace(path, bytes)
            }),
            ("truncated", false, { path in try replace(path, Array(try Data(contentsOf: URL(fileURLWithPath: path)).dropLast(10))) }),
            ("empty", false, { path in try replace(path, []) }),
            ("another boot", false, { path in try replace(path, SandboxProbeCache.render(self.copy, key: self.key.replacing("boot", with: "0-0-0"))) }),
            ("another kernel", false, { path in try replace(path, SandboxProbeCache.render(self.copy, key: self.key.replacing("kernel", with: "7.0"))) }),
            ("the isolation changed, the sum not", false, { path in
                let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
                try replace(path, Array(text.replacingOccurrences(of: "isolation=overlay", with: "isolation=copy").utf8))
            }),
            ("an unknown isolation with a right sum", false, { path in
                let head = SandboxProbeCache.magic + "\n" + self.key.text + "isolation=none\n"
                let sum = SandboxProbeCache.checksum(Array(head.utf8))
                try replace(path, Array((head + "sum=\(sum)\n").utf8))
            }),
            ("a fallback with overlay", false, { path in
                let head = SandboxProbeCache.magic + "\n" + self.key.text + "isolation=overlay\nfallback=why\n"
                try replace(path, Array((head + "sum=\(SandboxProbeCache.checksum(Array(head.utf8)))\n").utf8))
            }),
            ("more than the size limit", false, { path in
                try replace(path, SandboxProbeCache.render(self.overlay, key: self.key) + [UInt8](repeating: 0x41, count: 9000))
            }),
            ("readable by others", false, { path in chmod(path, 0o644) }),
            ("a symlink to an answer", false, { path in
                let elsewhere = self.scratch + "/elsewhere-\(UUID().uuidString)"
                try Data(SandboxProbeCache.render(self.copy, key: self.key)).write(to: URL(fileURLWithPath: elsewhere))
                chmod(elsewhere, 0o600)
                unlink(path)
                symlink(elsewhere, path)
            }),
            ("a FIFO", false, { path in unlink(path); mkfifo(path, 0o600) }),
            ("owned by another user", true, { path in
                try replace(path, SandboxProbeCache.render(self.copy, key: self.key))
                chown(path, 65534, 65534)
            }),
        ]
        for (index, c) in damages.enumerated() {
            if c.rootOnly && geteuid() != 0 { continue }
            let cache = SandboxProbeCache(directory: scratch + "/run-\(index)")
            XCTAssertEqual(ask(cache).probes, 1, c.name)
            try c.damage(file(cache))
            let damaged = ask(cache)
            XCTAssertEqual(damaged.probes, 1, "\(c.name): the probe runs again")
            XCTAssertEqual(damaged.0, overlay, c.name)
            let st = try XCTUnwrap(fileStatus(file(cache)), c.name)
            XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG, c.name)
            XCTAssertEqual(st.st_mode & 0o7777, 0o600, c.name)
            XCTAssertEqual(st.st_uid, geteuid(), c.name)
            XCTAssertEqual(SandboxProbeCache.parse(try [UInt8](Data(contentsOf: URL(fileURLWithPath: file(cache)))), key: key), overlay,
                           "\(c.name): rewritten whole")
            XCTAssertEqual(ask(cache).probes, 0, "\(c.name): used after the rewrite")
        }
    }

    /// A directory anyone else can reach is not used at all: no answer read, none written.
    func testOnlyADirectoryOfThisUserAloneIsUsed() throws {
        let good = scratch + "/good"
        XCTAssertEqual(ask(SandboxProbeCache(directory: good)).probes, 1)
        let cases: [(name: String, rootOnly: Bool, make: (String) -> Void)] = [
            ("group and others may enter", false, { dir in mkdir(dir, 0o755); chmod(dir, 0o755) }),
            ("a symlink to this user's directory", false, { dir in symlink(good, dir) }),
            ("owned by another user", true, { dir in mkdir(dir, 0o700); chown(dir, 65534, 65534) }),
        ]
        for (index, c) in cases.enumerated() {
            if c.rootOnly && geteuid() != 0 { continue }
            let dir = scratch + "/case-\(index)"
            c.make(dir)
            let cache = SandboxProbeCache(directory: dir)
            XCTAssertEqual(ask(cache).probes, 1, c.name)
            XCTAssertEqual(ask(cache).probes, 1, "\(c.name): nothing was kept")
            if c.name.hasPrefix("a symlink") { continue }
            XCTAssertNil(fileStatus(dir + "/" + SandboxProbeCache.fileName), c.name)
        }
        XCTAssertEqual(ask(SandboxProbeCache(directory: scratch + "/missing-parent/run")).probes, 1)
    }

    func testARefusalIsNotKept() {
        let cache = SandboxProbeCache(directory: scratch + "/run")
        let refused = SandboxSupport(available: false, reason: "user namespaces are not available here (unshare: EPERM)")
        XCTAssertEqual(ask(cache, answer: refused).0, refused)
        XCTAssertEqual(ask(cache, answer: refused).probes, 1, "asked again: a refusal may be passing")
        XCTAssertNil(fileStatus(cache.directory + "/" + SandboxProbeCache.fileName))
    }

    /// An answer kept for one key is a miss for a key that differs in any one field.
    func testEveryFieldOfTheKeyCounts() throws {
        let current = try XCTUnwrap(SandboxProbeKey.current(requested: "", probeBase: scratch, idMap: .current))
        XCTAssertEqual(current.fields.map(\.name), ["boot", "namespaces", "kernel", "user", "idmap", "requested", "probe-fs", "userns", "executable"])
        XCTAssertEqual(SandboxProbeKey.current(requested: "AUTO", probeBase: scratch, idMap: .current), current)
        XCTAssertNil(SandboxProbeKey.current(requested: "", probeBase: scratch + "/missing", idMap: .current),
                     "no key where the probe's file system cannot be read")
        for field in current.fields {
            let cache = SandboxProbeCache(directory: scratch + "/run-\(field.name)")
            XCTAssertEqual(ask(cache, key: current).probes, 1)
            XCTAssertEqual(ask(cache, key: current).probes, 0)
            XCTAssertEqual(ask(cache, key: current.replacing(field.name, with: field.value + "x")).probes, 1, field.name)
        }
        XCTAssertEqual(SandboxProbeKey([("a", "one\ntwo\r\nthree")]).text, "a=one two  three\n", "a value cannot make a line of its own")
    }

    func testTheRuntimeDirectory() {
        let cases: [(env: [String: String], euid: UInt32, directory: String)] = [
            ([:], 0, "/run/swiftdock"),
            (["XDG_RUNTIME_DIR": "/run/user/1000"], 0, "/run/swiftdock"),
            (["XDG_RUNTIME_DIR": "/run/user/1000"], 1000, "/run/user/1000/swiftdock"),
            (["XDG_RUNTIME_DIR": "relative", "TMPDIR": "/var/tmp"], 1000, "/var/tmp/swiftdock-runtime-1000"),
            (["TMPDIR": ""], 1000, "/tmp/swiftdock-runtime-1000"),
        ]
        for c in cases {
            XCTAssertEqual(SandboxProbeCache.standard(environment: c.env, euid: c.euid).directory, c.directory, "\(c.env) \(c.euid)")
        }
    }

    /// The real probe through the cache: the kept answer is what an uncached probe says.
    func testTheCachedAnswerIsTheUncachedProbes() throws {
        let uncached = Sandbox.uncachedSupport(requested: "")
        guard uncached.available else { throw XCTSkip("sandbox unavailable: \(uncached.reason ?? "?")") }
        let key = try XCTUnwrap(SandboxProbeKey.current(requested: "", probeBase: Sandbox.probeBase, idMap: .current))
        let cache = SandboxProbeCache(directory: scratch + "/run")
        XCTAssertEqual(cache.support(key: key) { Sandbox.uncachedSupport(requested: "") }, uncached)
        XCTAssertEqual(cache.support(key: key) {
            XCTFail("the kept answer is used")
            return SandboxSupport(available: false, reason: nil)
        }, uncached)
        XCTAssertEqual(Sandbox.support(), uncached, "the process's own answer (cached or not) is the same")
    }
}

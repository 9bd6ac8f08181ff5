import Foundation
import ProcessWaiting
import Sandbox
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Runs RUN-like commands over a busybox root file system (Fixtures/base/make-rootfs.sh).
final class SandboxTests: XCTestCase {
    static let unprivilegedFlag = "SWIFTDOCK_SANDBOX_TEST_UNPRIVILEGED"
    // `nonisolated(unsafe)`: written once in the class `setUp` (XCTest runs it before any test
    // of the class, on one thread) and only read by the tests afterwards.
    nonisolated(unsafe) static var scratch = ""
    nonisolated(unsafe) static var rootfs = ""
    nonisolated(unsafe) static var setupError: String?

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    override class func setUp() {
        super.setUp()
        if let given = ProcessInfo.processInfo.environment[unprivilegedFlag] {
            // Re-run as an unprivileged user by testUnprivileged: use the rootfs it prepared.
            scratch = given
            rootfs = given + "/rootfs-user"
            return
        }
        var template = Array("/tmp/swiftdock-sandbox-tests.XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            setupError = "mkdtemp failed"; return
        }
        scratch = String(cString: dir)
        chmod(scratch, 0o755)
        rootfs = scratch + "/rootfs"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repoRoot.appendingPathComponent("Fixtures/base/make-rootfs.sh").path, rootfs]
        p.standardOutput = FileHandle.nullDevice
        do { try p.runToExit() } catch { setupError = "make-rootfs.sh: \(error)"; return }
        if p.terminationStatus != 0 { setupError = "make-rootfs.sh exited \(p.terminationStatus)"; return }
        chmod(rootfs, 0o755)
    }

    override class func tearDown() {
        if ProcessInfo.processInfo.environment[unprivilegedFlag] == nil, !scratch.isEmpty {
            try? FileManager.default.removeItem(atPath: scratch)
        }
        super.tearDown()
    }

    override func setUpWithError() throws {
        if let e = Self.setupError { throw XCTSkip("no rootfs: \(e)") }
        let support = Sandbox.support()
        if !support.available { throw XCTSkip("sandbox unavailable: \(support.reason ?? "?")") }
    }

    // MARK: helpers

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var upper: String
    }

    /// `@unchecked Sendable` is safe: `out` and `err` change only while `lock` is held, and are
    /// read only after `Sandbox.run` has returned (its output readers have finished).
    final class Collector: @unchecked Sendable {
        let lock = NSLock()
        var out: [UInt8] = []
        var err: [UInt8] = []
        func add(_ isError: Bool, _ bytes: [UInt8]) {
            lock.lock(); defer { lock.unlock() }
            if isError { err += bytes } else { out += bytes }
        }
    }

    func newDir(_ name: String, mode: mode_t = 0o755) throws -> String { try Self.newDir(name, mode: mode) }

    /// Static (it uses only the class's scratch and root), so a `Task` can run it without the test case.
    static func newDir(_ name: String, mode: mode_t = 0o755) throws -> String {
        let path = Self.scratch + "/" + name + "-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, mode)
        return path
    }

    func run(
        _ script: String, lowers: [String]? = nil, configure: (inout SandboxSpec) -> Void = { _ in }
    ) async throws -> Result {
        try await Self.run(script, lowers: lowers, configure: configure)
    }

    static func run(
        _ script: String, lowers: [String]? = nil, configure: (inout SandboxSpec) -> Void = { _ in }
    ) async throws -> Result {
        let upper = try newDir("upper", mode: 0o777)
        let work = try newDir("work", mode: 0o777)
        let collector = Collector()
        var spec = SandboxSpec(
            root: .overlay(lowerDirs: lowers ?? [Self.rootfs], upperDir: upper, workDir: work), argv: ["/bin/sh", "-c", script],
            stdio: .capture({ isError, bytes in collector.add(isError, bytes) }))
        configure(&spec)
        let status = try await Sandbox.run(spec)
        return Result(status: status, stdout: String(decoding: collector.out, as: UTF8.self),
                      stderr: String(decoding: collector.err, as: UTF8.self), upper: upper)
    }

    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func xattr(_ path: String, _ name: String) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())\nexcept OSError: sys.exit(1)", path, name]
        let out = Pipe()
        p.standardOutput = out
        guard let exit = try? ProcessExit.start(p) else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        exit.wait()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    func requireRoot() throws {
        if getuid() != 0 { throw XCTSkip("needs root") }
    }

    // MARK: tests

    func testExitStatusAndSignal() async throws {
        if ProcessInfo.processInfo.environment[Self.unprivilegedFlag] != nil { throw XCTSkip("root part only") }
        let ok = try await run("exit 0")
        XCTAssertEqual(ok.status, 0)
        let three = try await run("exit 3")
        XCTAssertEqual(three.status, 3)
        let killed = try await run("kill -9 $$")
        XCTAssertEqual(killed.status, 137)
    }

    func testCapturesStdoutAndStderr() async throws {
        let r = try await run("echo out; echo err >&2; echo more")
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stdout, "out\nmore\n")
        XCTAssertEqual(r.stderr, "err\n")
    }

    func testMissingExecutableThrows() async throws {
        let upper = try newDir("upper", mode: 0o777), work = try newDir("work", mode: 0o777)
        do {
            _ = try await Sandbox.run(SandboxSpec(root: .overlay(lowerDirs: [Self.rootfs], upperDir: upper, workDir: work),
                                                  argv: ["no-such-command"], stdio: .capture({ _, _ in })))
            XCTFail("expected an error")
        } catch let e as SandboxError {
            XCTAssertTrue(e.description.contains("no-such-command"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
    }

    func testChangesLandInTheUpperDir() async throws {
        let layer = try newDir("layer")
        try write("keep\n", to: layer + "/data/keep")
        try write("old\n", to: layer + "/data/mod")
        try write("bye\n", to: layer + "/data/del")
        try write("a\n", to: layer + "/dir/a/b")
        try write("c\n", to: layer + "/dir/c")
        let r = try await run(
            "echo new > /data/new && echo changed >> /data/mod && rm /data/del && rm -rf /dir && mkdir /dir && touch /dir/fresh && ls /dir",
            lowers: [layer, Self.rootfs])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "fresh\n")
        XCTAssertEqual(try String(contentsOfFile: r.upper + "/data/new", encoding: .utf8), "new\n")
        XCTAssertEqual(try String(contentsOfFile: r.upper + "/data/mod", encoding: .utf8), "old\nchanged\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: r.upper + "/data/keep"))
        var st = stat()
        XCTAssertEqual(lstat(r.upper + "/data/del", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(st.st_rdev, 0)
        let opaque = xattr(r.upper + "/dir", "user.overlay.opaque") ?? xattr(r.upper + "/dir", "trusted.overlay.opaque")
        XCTAssertEqual(opaque, "y")
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.upper + "/dir/fresh"))
        // Mount points come from the skeleton layer, never from the upper dir.
        let top = try FileManager.default.contentsOfDirectory(atPath: r.upper).sorted()
        XCTAssertEqual(top, ["data", "dir"])
    }

    func testEnvironmentWorkingDirectoryAndHostname() async throws {
        // The environment is exactly the spec's: PATH comes from the process model, not the sandbox.
        let r = try await run("echo $FOO; pwd; hostname; echo $PATH; echo $HOME") { spec in
            spec.environment = ["FOO=bar baz", "PATH=/bin:/usr/bin", "HOME=/srv"]
            spec.workingDirectory = "/srv/app"
            spec.hostname = "builder"
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "bar baz\n/srv/app\nbuilder\n/bin:/usr/bin\n/srv\n")
        var isDir: ObjCBool = false
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.upper + "/srv/app", isDirectory: &isDir) && isDir.boolValue)
    }

    func testUserAndGroupAsRoot() async throws {
        try requireRoot()
        if ProcessInfo.processInfo.environment[Self.unprivilegedFlag] != nil { throw XCTSkip("root part only") }
        let r = try await run("id -u; id -g; id -G; touch /tmp/mine; mkdir /home/jupyter/w; touch /home/jupyter/w/f") { spec in
            spec.uid = 1000; spec.gid = 100; spec.supplementaryGroups = [100, 1000]
            spec.workingDirectory = "/home/jupyter/w"
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "1000\n100\n100 1000\n")
        var st = stat()
        XCTAssertEqual(lstat(r.upper + "/tmp/mine", &st), 0)
        XCTAssertEqual(st.st_uid, 1000)
        XCTAssertEqual(st.st_gid, 100)
        XCTAssertEqual(lstat(r.upper + "/home/jupyter/w", &st), 0)
        XCTAssertEqual(st.st_uid, 1000)
    }

    func testNetworkNone() async throws {
        // A listener on the host's loopback: reachable with .host, not with .none.
        let listener = try loopbackListener()
        defer { listener.stop() }
        let port = listener.port

        let none = try await run("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; nc -w 2 127.0.0.1 \(port) </dev/null && echo connected || echo refused") { spec in
            spec.network = .none
        }
        XCTAssertEqual(none.stdout, "lo\nrefused\n", none.stderr)
        let host = try await run("nc -w 2 127.0.0.1 \(port) </dev/null && echo connected || echo refused")
        XCTAssertEqual(host.stdout, "connected\n", host.stderr)
    }

    func testBindMounts() async throws {
        let ro = try newDir("ro", mode: 0o777), rw = try newDir("rw", mode: 0o777)
        try write("input\n", to: ro + "/in")
        let r = try await run("cat /in/in; echo x > /in/y 2>/dev/null && echo wrote || echo ro; echo out > /cache/out; ls -ld /in /cache | wc -l") { spec in
            spec.mounts = [SandboxMount(source: ro, target: "/in", readOnly: true),
                           SandboxMount(source: rw, target: "/cache", readOnly: false)]
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "input\nro\n2\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: ro + "/y"))
        XCTAssertEqual(try String(contentsOfFile: rw + "/out", encoding: .utf8), "out\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: r.upper), [])
    }

    func testPidNamespace() async throws {
        let r = try await run("echo $$; ls /proc | grep -E '^[0-9]+$' | wc -l; cat /proc/1/cmdline | tr '\\0' ' '")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "2")
        // init, the shell, ls and grep at most (and wc).
        XCTAssertLessThanOrEqual(Int(lines.dropFirst().first ?? "99") ?? 99, 5)
        XCTAssertTrue(lines.last?.hasPrefix("swiftdock-sandbox") ?? false, r.stdout)
    }

    /// The root overlay's upper dir is a scratch dir: mounted `volatile` where the kernel has it
    /// (5.10), so the command's fsyncs do not wait for the disk; its view is the same. A kernel
    /// that refuses the option mounts without it.
    func testRootOverlayIsVolatileWhereTheKernelHasIt() async throws {
        let r = try await run("grep ' / / ' /proc/self/mountinfo; echo data > /f && sync && cat /f")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasSuffix("data\n"), r.stdout)
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let version = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        let hasVolatile = version.count == 2 && (version[0], version[1]) >= (5, 10)
        let rootLine = r.stdout.split(separator: "\n").first { $0.contains(" - overlay ") } ?? ""
        XCTAssertEqual(rootLine.contains("volatile"), hasVolatile, String(rootLine))
        XCTAssertEqual(try String(contentsOfFile: r.upper + "/f", encoding: .utf8), "data\n")
    }

    func testWhiteoutInAnUpperLayerHidesTheLowerFile() async throws {
        try requireRoot()  // mknod of the 0/0 whiteout
        if ProcessInfo.processInfo.environment[Self.unprivilegedFlag] != nil { throw XCTSkip("root part only") }
        let layer = try newDir("layer")
        try FileManager.default.createDirectory(atPath: layer + "/etc", withIntermediateDirectories: true)
        XCTAssertEqual(mknod(layer + "/etc/hostname", S_IFCHR | 0o000, 0), 0)
        try write("added\n", to: layer + "/etc/added")
        let r = try await run("test -e /etc/hostname && echo present || echo hidden; cat /etc/added; cat /etc/passwd | head -1",
                              lowers: [layer, Self.rootfs])
        XCTAssertEqual(r.stdout, "hidden\nadded\nroot:x:0:0:root:/root:/bin/sh\n", r.stderr)
    }

    /// Copy-and-compare isolation: the command changes the directory itself; owners the copy
    /// could not set are applied inside the namespace, setuid bits kept.
    func testDirectoryRootIsChangedInPlaceWithOwnersApplied() async throws {
        let root = try newDir("copy")
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", Self.rootfs + "/.", root]
        try cp.runToExit()
        XCTAssertEqual(cp.terminationStatus, 0)
        try write("tool\n", to: root + "/opt/tool")
        chmod(root + "/opt/tool", 0o4755)
        let mapsOthers = getuid() == 0
        let owners = mapsOthers ? [SandboxOwner(path: "opt/tool", uid: 1000, gid: 100, mode: 0o4755)] : []
        let collector = Collector()
        let status = try await Sandbox.run(SandboxSpec(
            root: .directory(root, owners: owners), argv: ["/bin/sh", "-c", "echo made > /made; rm /etc/hostname; stat -c '%u:%g %a' /opt/tool; test -e /proc/1/cmdline && echo proc"],
            stdio: .capture({ isError, bytes in collector.add(isError, bytes) })))
        XCTAssertEqual(status, 0, String(decoding: collector.err, as: UTF8.self))
        XCTAssertEqual(String(decoding: collector.out, as: UTF8.self), mapsOthers ? "1000:100 4755\nproc\n" : "0:0 4755\nproc\n")
        XCTAssertEqual(try String(contentsOfFile: root + "/made", encoding: .utf8), "made\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/etc/hostname"))
        var st = stat()
        XCTAssertEqual(lstat(root + "/opt/tool", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o4755, "chown inside the sandbox must not lose the setuid bit")
    }

    func testHostResolvConfIsVisible() async throws {
        guard let host = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else { throw XCTSkip("no /etc/resolv.conf") }
        let r = try await run("cat /etc/resolv.conf; echo x >> /etc/resolv.conf 2>/dev/null && echo wrote || echo ro")
        XCTAssertEqual(r.stdout, host + "ro\n", r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: r.upper + "/etc/resolv.conf"))
    }

    func testCancellationKillsTheSandbox() async throws {
        let task = Task { try await SandboxTests.run("sleep 30") }
        try await Task.sleep(nanoseconds: 500_000_000)
        let start = Date()
        task.cancel()
        let r = try await task.value
        XCTAssertEqual(r.status, 128 + SIGKILL)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// Re-runs this test binary as uid/gid 65534 (setpriv) on `testUnprivilegedInner`.
    func testUnprivileged() throws {
        if ProcessInfo.processInfo.environment[Self.unprivilegedFlag] != nil { throw XCTSkip("outer part only") }
        try requireRoot()
        guard let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw XCTSkip("setpriv missing") }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        // A copy of the rootfs owned by the unprivileged user, as its own pull would extract it.
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/sh")
        cp.arguments = ["-c", "cp -a \"$1\" \"$2\" && chown -R 65534:65534 \"$2\"", "sh", Self.rootfs, Self.scratch + "/rootfs-user"]
        try cp.runToExit()
        XCTAssertEqual(cp.terminationStatus, 0)
        chmod(Self.scratch, 0o777)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: setpriv)
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", exe, "SandboxTests.SandboxTests/testUnprivilegedInner"]
        var env = ProcessInfo.processInfo.environment
        env[Self.unprivilegedFlag] = Self.scratch
        env["HOME"] = "/tmp"
        // The sandbox probe's per-boot answer (SandboxProbeCache) in the scratch directory, not
        // in a /tmp/swiftdock-runtime-65534 left behind.
        env["XDG_RUNTIME_DIR"] = Self.scratch
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        let exit = try ProcessExit.start(p)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        exit.wait()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("testUnprivilegedInner]' passed") || text.contains("Executed 1 test, with 0 failures"), text)
        XCTAssertFalse(text.contains("skipped"), text)
    }

    func testUnprivilegedInner() async throws {
        guard ProcessInfo.processInfo.environment[Self.unprivilegedFlag] != nil else { throw XCTSkip("run by testUnprivileged") }
        XCTAssertNotEqual(getuid(), 0)
        let r = try await run("id -u; cat /proc/self/uid_map | tr -s ' '; touch /created; rm /etc/hostname; echo ok")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("0\n"), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("ok\n"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: r.upper + "/created"))
        var st = stat()
        XCTAssertEqual(lstat(r.upper + "/etc/hostname", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
        // The escapes of issue 11, unprivileged (SandboxContainmentTests.swift).
        try await checkMountSources()
        try await checkProfile()
        try await testReadWriteBindIsCopyOnWrite()
        if csbHasSubids() { return }
        do {
            _ = try await run("id") { spec in spec.uid = 1000; spec.gid = 100 }
            XCTFail("uid 1000 must fail without subordinate IDs")
        } catch let e as SandboxError {
            XCTAssertTrue(e.description.contains("uid 1000") && e.description.contains("/etc/subuid") && e.description.contains("uidmap"), e.description)
            XCTAssertFalse(e.description.contains("\n"))
        }
    }

    /// Whether the sandbox maps subordinate ids here: the one answer the helper is given too.
    func csbHasSubids() -> Bool {
        if case .subordinate = UserNamespaceMap.current { return true }
        return false
    }
}

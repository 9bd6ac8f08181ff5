import Foundation
import ProcessWaiting
import XCTest

/// Issue 11's escapes, driven through `swiftdock build`: RUN mount sources resolved inside their
/// own root, rw binds discarded after the step, kernel settings and host cgroups out of reach,
/// the host's loopback out of reach — as root, as an unprivileged user, and as one with
/// subordinate ID ranges.
extension RunStepTests {
    /// Each line of /made.txt is one escape attempt's outcome, as the sandbox must leave it.
    static let escapesDockerfile = """
        FROM scratch AS base
        COPY rootfs/ /
        FROM base AS s
        RUN ln -s / /hostroot && mkdir -p /seed && echo seeded > /seed/a
        FROM base
        RUN --mount=type=bind,from=s,source=hostroot,target=/h cat /h/etc/hostname > /made.txt
        RUN --mount=type=bind,source=rootlink,target=/r sh -c 'cat /r/etc/hostname 2>/dev/null || echo no-host-file' >> /made.txt
        RUN --mount=type=bind,target=/ctx,rw sh -c 'echo W > /ctx/f && cat /ctx/f' >> /made.txt
        RUN --mount=type=bind,target=/ctx cat /ctx/f >> /made.txt
        RUN --mount=type=cache,from=s,source=/seed,target=/cache cat /cache/a >> /made.txt
        RUN (echo $(cat /proc/sys/vm/overcommit_memory) > /proc/sys/vm/overcommit_memory) 2>/dev/null && echo sysctl-written >> /made.txt || echo sysctl-refused >> /made.txt
        RUN mkdir /sys/fs/cgroup/pids/swiftdock-escape 2>/dev/null && echo cgroup-made >> /made.txt || echo cgroup-refused >> /made.txt
        RUN echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c) >> /made.txt

        """
    static let escapesExpected = "swiftdock-base\nno-host-file\nW\noriginal\nseeded\nsysctl-refused\ncgroup-refused\nkcore=0\n"

    private func hostileContext() throws {
        try Harness.write("original\n", to: context + "/f")
        XCTAssertEqual(symlink("/", context + "/rootlink"), 0)
    }

    private func assertHostUntouched() throws {
        XCTAssertEqual(try String(contentsOfFile: context + "/f", encoding: .utf8), "original\n", "a rw bind of the context writes through")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/swiftdock-escape"))
    }

    func testEscapesAsRoot() throws {
        try hostileContext()
        try Harness.write(Self.escapesDockerfile, to: context + "/Dockerfile")
        try Harness.sh("cp -a '\(Harness.packageRoot.path)/Fixtures/base/rootfs' '\(context!)/rootfs'")
        try swiftdock.ok("build", "-t", "escapes", context)
        XCTAssertEqual(try swiftdock.ok("run", "escapes", "cat", "/made.txt").stdout, Self.escapesExpected)
        try assertHostUntouched()
    }

    func testEscapesAsAnUnprivilegedUser() throws {
        try hostileContext()
        try buildAsUser("nobody", dockerfile: Self.escapesDockerfile, expectRun: Self.escapesExpected)
        try assertHostUntouched()
    }

    func testEscapesAsAnUnprivilegedUserWithSubordinateIDs() throws {
        guard let user = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        try hostileContext()
        try buildAsUser(user, dockerfile: Self.escapesDockerfile, expectRun: Self.escapesExpected)
        try assertHostUntouched()
    }

    /// `source=canlink,rw` with `canlink` pointing at a host file: the link resolves inside the
    /// context, where nothing is: one line naming the source, the host file unchanged.
    func testReadWriteBindThroughASymlinkToAHostFileFails() throws {
        let outside = try Harness.makeTemporaryDirectory("host") + "/file"
        try Harness.write("HOST\n", to: outside)
        XCTAssertEqual(symlink(outside, context + "/canlink"), 0)
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN --mount=type=bind,source=canlink,target=/c,rw sh -c 'echo W > /c'\n",
                          to: context + "/Dockerfile")
        let result = try swiftdock.run(["build", "-t", "never", context])
        XCTAssertEqual(result.status, 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        XCTAssertTrue(errors.first?.contains("--mount source canlink not found in the build context") ?? false, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: outside, encoding: .utf8), "HOST\n")
    }

    /// RUN and `run` have their own network namespace by default: a service on the host's
    /// loopback is out of reach; `--network=host` keeps it reachable, on request.
    func testHostLoopbackIsNotReachableByDefault() throws {
        let ready = try Harness.makeTemporaryDirectory("svc") + "/port"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = ["-c", """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
            open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); __import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
            while True:
                c, _ = s.accept(); c.sendall(b"host-service\\n"); c.close()
            """, ready]
        let serverExit = try ProcessExit.start(server)
        defer { server.terminate(); serverExit.wait() }
        var port = ""
        for _ in 0..<100 where port.isEmpty {
            port = (try? String(contentsOfFile: ready, encoding: .utf8)) ?? ""
            if port.isEmpty { usleep(50_000) }
        }
        XCTAssertFalse(port.isEmpty, "the loopback service did not start")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            RUN (nc -w 2 127.0.0.1 \(port) </dev/null || echo refused) > /default.txt
            RUN --network=host nc -w 2 127.0.0.1 \(port) </dev/null > /host.txt

            """, to: context + "/Dockerfile")
        let build = try swiftdock.ok("build", "-t", "net", context)
        let rootfs = try unpack("net")
        XCTAssertEqual(try String(contentsOfFile: rootfs + "/host.txt", encoding: .utf8), "host-service\n")
        let fallback = build.stderr.contains("RUN shares the host's network")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/slirp4netns") && access("/dev/net/tun", R_OK | W_OK) == 0 {
            XCTAssertFalse(fallback, build.stderr)
            XCTAssertEqual(try String(contentsOfFile: rootfs + "/default.txt", encoding: .utf8), "refused\n")
        } else {
            XCTAssertTrue(fallback, "without slirp4netns the build says RUN shares the host network: \(build.stderr)")
        }
        // `swiftdock run` likewise, as docker's run (its default network is a bridge of its own):
        // the host's loopback only with --network host.
        let privateNetwork = FileManager.default.isExecutableFile(atPath: "/usr/bin/slirp4netns") && access("/dev/net/tun", R_OK | W_OK) == 0
        let probe = ["sh", "-c", "nc -w 2 127.0.0.1 \(port) </dev/null || echo refused"]
        let cases: [(flags: [String], stdout: String)] = [
            ([], privateNetwork ? "refused\n" : "host-service\n"),
            (["--network", "bridge"], privateNetwork ? "refused\n" : "host-service\n"),
            (["--network", "host"], "host-service\n"),
            (["--network", "none"], "refused\n"),
        ]
        for c in cases {
            let result = try swiftdock.run(["run", "--rm"] + c.flags + ["net"] + probe)
            XCTAssertEqual(result.status, 0, "\(c.flags): \(result.stderr)")
            XCTAssertEqual(result.stdout, c.stdout, "\(c.flags): \(result.stderr)")
            XCTAssertEqual(result.stderr.contains("shares the host's network"), !privateNetwork && !c.flags.contains("host") && !c.flags.contains("none"),
                           "\(c.flags): \(result.stderr)")
        }
    }
}

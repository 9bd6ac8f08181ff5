import Foundation
import Sandbox
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What a RUN cannot reach (issue 11): mount sources outside their root, writes through rw
/// binds, kernel settings, host cgroups, docker's masked paths, capabilities beyond docker's
/// default set, the host's loopback. Run as root here and, through `testUnprivilegedInner`, as
/// an unprivileged user (`checkContainment`).
extension SandboxTests {
    /// docker's default capability set, as /proc/self/status prints it (`CapBnd`).
    static let dockerDefaultCapBnd = "00000000a80425fb"

    /// A context with the two hostile symlinks of the issue, and a host file outside it.
    func hostileContext() throws -> (context: String, hostFile: String) {
        let context = try newDir("context")
        let host = try newDir("host") + "/secret"
        try write("HOST\n", to: host)
        // The same path inside the context: what the symlinks must resolve to instead.
        try write("CONTEXT\n", to: context + host)
        XCTAssertEqual(symlink("/", context + "/rootlink"), 0)
        XCTAssertEqual(symlink(host, context + "/canlink"), 0)
        XCTAssertEqual(symlink("../../../../../../..\(host)", context + "/uplink"), 0)
        return (context, host)
    }

    func testMountSourceSymlinksResolveInsideTheirRoot() async throws {
        try await checkMountSources()
    }

    func checkMountSources() async throws {
        let (context, host) = try hostileContext()
        let r = try await run("cat /h\(host); cat /c; cat /u; echo W > /w; cat /w") { spec in
            spec.mounts = [
                SandboxMount(root: context, path: "rootlink", target: "/h", readOnly: true),
                SandboxMount(root: context, path: "canlink", target: "/c", readOnly: true),
                SandboxMount(root: context, path: "uplink", target: "/u", readOnly: true),
                SandboxMount(root: context, path: "canlink", target: "/w", readOnly: false, scratch: try! self.newDir("scratch")),
            ]
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "CONTEXT\nCONTEXT\nCONTEXT\nW\n")
        XCTAssertEqual(try String(contentsOfFile: host, encoding: .utf8), "HOST\n", "the host file is untouched")
        XCTAssertEqual(try String(contentsOfFile: context + host, encoding: .utf8), "CONTEXT\n", "rw binds are copy-on-write")

        // A source that exists only on the host is missing inside the root: one-line error.
        try FileManager.default.removeItem(atPath: context + host)
        do {
            _ = try await run("cat /c") { spec in spec.mounts = [SandboxMount(root: context, path: "canlink", target: "/c", readOnly: true)] }
            XCTFail("a source outside its root must not be found")
        } catch let e as SandboxError {
            XCTAssertTrue(e.description.contains("canlink") && e.description.contains("No such file"), e.description)
        }
    }

    /// A writable bind of a directory: the command sees its writes, the source never changes.
    func testReadWriteBindIsCopyOnWrite() async throws {
        let source = try newDir("rwsource")
        try write("original\n", to: source + "/f")
        let r = try await run("echo W > /ctx/f; echo new > /ctx/g; rm /ctx/f; ls /ctx") { spec in
            spec.mounts = [SandboxMount(root: source, path: "", target: "/ctx", readOnly: false, scratch: try! self.newDir("scratch"))]
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "g\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: source), ["f"])
        XCTAssertEqual(try String(contentsOfFile: source + "/f", encoding: .utf8), "original\n")
    }

    /// Both ways of resolving (openat2 and the userspace walk) agree on every hostile path.
    func testResolutionInRootKernelAndUserspaceAgree() throws {
        let (context, host) = try hostileContext()
        try write("inner\n", to: context + "/dir/file")
        XCTAssertEqual(symlink("dir/file", context + "/rel"), 0)
        XCTAssertEqual(symlink("loop2", context + "/loop1"), 0)
        XCTAssertEqual(symlink("loop1", context + "/loop2"), 0)
        XCTAssertEqual(symlink("/dir/../../../dir", context + "/dirlink"), 0)
        let cases: [(path: String, expect: String)] = [
            ("rootlink\(host)", "CONTEXT\n"), ("canlink", "CONTEXT\n"), ("uplink", "CONTEXT\n"),
            ("../../../..\(host)", "CONTEXT\n"), ("/rootlink/rootlink/dir/file", "inner\n"), ("rel", "inner\n"),
            ("dirlink/file", "inner\n"), ("dir/./../dir/file", "inner\n"),
            ("loop1", "error: Too many levels of symbolic links"), ("dir/file/x", "error: Not a directory"),
            ("nothing", "error: No such file or directory"),
        ]
        for method in [MountSource.Method.kernel, .userspace, .automatic] {
            for c in cases {
                let got: String
                do { got = String(decoding: try MountSource.contents(of: c.path, in: context, method: method), as: UTF8.self) }
                catch { got = "error: \(error)" }
                XCTAssertTrue(got == c.expect || (c.expect.hasPrefix("error: ") && got.hasPrefix("error: ") && got.contains(c.expect.dropFirst(7))),
                              "\(method) \(c.path): \(got)")
            }
        }
        XCTAssertEqual(try MountSource.kind(of: "rootlink", in: context, method: .userspace), .directory)
        XCTAssertEqual(try MountSource.kind(of: "", in: context, method: .kernel), .directory)
    }

    /// docker's default profile: capabilities, no_new_privs, masked and read-only paths, /sys
    /// read-only with every submount, for each kind of network (which decides how /sys is made).
    func testContainerProfileLikeDockersDefault() async throws {
        try await checkProfile()
    }

    func checkProfile() async throws {
        let cgroup = ["/sys/fs/cgroup/pids", "/sys/fs/cgroup"].first { FileManager.default.fileExists(atPath: $0) } ?? "/sys/fs/cgroup"
        let script = """
            grep -E '^(CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/self/status | tr -d '\\t' | tr '\\n' ' '; echo
            v=$(cat /proc/sys/vm/overcommit_memory); echo $v > /proc/sys/vm/overcommit_memory 2>/dev/null && echo sysctl-written || echo sysctl-refused
            mkdir \(cgroup)/swiftdock-escape 2>/dev/null && echo cgroup-made || echo cgroup-refused
            [ -w /proc/sysrq-trigger ] && echo sysrq-writable || echo sysrq-refused
            echo kcore=$(cat /proc/kcore 2>/dev/null | head -c 16 | wc -c) keys=$(cat /proc/keys 2>/dev/null | wc -c) timers=$(cat /proc/timer_list 2>/dev/null | wc -c)
            ls /sys/firmware 2>/dev/null | wc -l
            umount /proc/keys 2>/dev/null && echo unmasked || echo mask-stays
            grep '^Seccomp:' /proc/self/status | tr -d '\t'
            unshare -U true 2>/dev/null && echo unshared || echo unshare-refused
            """
        let networks: [SandboxNetwork] = Sandbox.privateNetwork().helper == nil ? [.host, .none] : [.host, .none, .private]
        for network in networks {
            let r = try await run(script) { spec in spec.network = network }
            XCTAssertEqual(r.status, 0, r.stderr)
            let lines = r.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first, "CapInh:0000000000000000 CapBnd:\(Self.dockerDefaultCapBnd) CapAmb:0000000000000000 NoNewPrivs:1 ", "\(network)")
            XCTAssertEqual(Array(lines.dropFirst()), ["sysctl-refused", "cgroup-refused", "sysrq-refused", "kcore=0 keys=0 timers=0", "0", "mask-stays",
                                                   "Seccomp:2", "unshare-refused"],
                           "\(network): \(r.stdout)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: cgroup + "/swiftdock-escape"))
    }
}

/// RUN's private network: outbound through slirp4netns, never the host's loopback.
extension SandboxTests {
    /// A TCP listener on the host's 127.0.0.1 that accepts and closes; its port.
    func loopbackListener() throws -> (port: UInt16, stop: () -> Void) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw XCTSkip("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        XCTAssertTrue(bound)
        XCTAssertEqual(listen(fd, 8), 0)
        let acceptor = Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { break }
                close(c)
            }
        }
        acceptor.start()
        return (UInt16(bigEndian: addr.sin_port), { shutdown(fd, Int32(SHUT_RDWR)); close(fd) })
    }

    /// Runs a bash script through system(3), its output to a file: a daemon it starts in the
    /// background keeps no pipe of ours open, and nothing waits on Foundation's process monitor.
    func sh(_ script: String) throws -> (status: Int32, output: String) {
        let dir = try newDir("sh")
        try script.write(toFile: dir + "/script", atomically: true, encoding: .utf8)
        let status = system("bash '\(dir)/script' </dev/null >'\(dir)/output' 2>&1")
        return ((status >> 8) & 0xff, (try? String(contentsOfFile: dir + "/output", encoding: .utf8)) ?? "")
    }

    func testPrivateNetworkReachesOutButNotTheHostsLoopback() async throws {
        let net = Sandbox.privateNetwork()
        guard net.helper != nil else { throw XCTSkip("no private network here: \(net.reason ?? "?")") }
        let listener = try loopbackListener()
        defer { listener.stop() }
        let port = listener.port
        // 10.0.2.2 is slirp4netns's gateway, the host's loopback unless --disable-host-loopback.
        let r = try await run("""
            nc -w 2 127.0.0.1 \(port) </dev/null && echo lo-connected || echo lo-refused
            nc -w 2 10.0.2.2 \(port) </dev/null && echo gw-connected || echo gw-refused
            cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '; echo
            grep nameserver /etc/resolv.conf
            """) { spec in spec.network = .private }
        XCTAssertEqual(r.stdout, "lo-refused\ngw-refused\nlo tap0 \nnameserver 10.0.2.3\n", r.stderr)

        // Outbound: a test host in a network namespace of the test's own, behind a veth pair
        // with addresses in a private /30 made here (never an outside address).
        guard getuid() == 0 else {
            throw XCTSkip("the outbound part needs root to make a network namespace and a veth pair (ip netns add)")
        }
        let tag = String(getpid() % 200 + 20)
        let ns = "swiftdock-test-\(getpid())", hostEnd = "sdh\(getpid())", nsEnd = "sdn\(getpid())"
        let prefix = "10.231.\(tag)"
        let ready = try newDir("netns") + "/ready"
        defer { _ = try? sh("ip netns pids \(ns) 2>/dev/null | xargs -r kill; ip netns del \(ns) 2>/dev/null; ip link del \(hostEnd) 2>/dev/null") }
        let setup = try sh("""
            set -e
            ip netns add \(ns)
            ip link add \(hostEnd) type veth peer name \(nsEnd)
            ip link set \(nsEnd) netns \(ns)
            ip addr add \(prefix).1/30 dev \(hostEnd) && ip link set \(hostEnd) up
            ip netns exec \(ns) ip addr add \(prefix).2/30 dev \(nsEnd)
            ip netns exec \(ns) ip link set \(nsEnd) up
            ip netns exec \(ns) ip link set lo up
            ip netns exec \(ns) python3 -c '
            import socket, sys
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("\(prefix).2", 8089)); s.listen(4); open(sys.argv[1], "w").close()
            while True:
                c, _ = s.accept(); c.sendall(b"hello from the test host\\n"); c.close()
            ' '\(ready)' </dev/null >/dev/null 2>&1 &
            for i in $(seq 50); do [ -e '\(ready)' ] && exit 0; sleep 0.1; done; echo "test host did not start"; exit 1
            """)
        XCTAssertEqual(setup.status, 0, setup.output)
        let out = try await run("nc -w 5 \(prefix).2 8089 </dev/null") { spec in spec.network = .private }
        XCTAssertEqual(out.stdout, "hello from the test host\n", out.stderr)
    }
}

import Foundation
import ProcessWaiting
import XCTest

/// `build --ssh` and `RUN --mount=type=ssh` with OpenSSH's real ssh-agent: the RUN lists the
/// agent's keys with the host's own ssh-add (bound into the busybox base with its libraries and
/// run through their dynamic loader), and the key's fingerprint is the one ssh-keygen prints.
final class SSHMountTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context = ""
    var scratch = ""
    var agents: [(process: Process, exit: ProcessExit)] = []

    override func setUpWithError() throws {
        for tool in ["ssh-agent", "ssh-add", "ssh-keygen"] where !FileManager.default.isExecutableFile(atPath: "/usr/bin/\(tool)") {
            XCTFail("\(tool) missing: scripts/setup.sh installs openssh-client")
            return
        }
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("ssh")
        scratch = try Harness.makeTemporaryDirectory("ssh-tmp")
        try Harness.sh("ssh-keygen -q -t ed25519 -N '' -C swiftdock-test-key -f '\(scratch)/id_ed25519'")
        // ssh-add, its libraries and their loader, to run in an image that has no libc.
        try Harness.sh("""
            mkdir '\(context)/sshtools' && cp /usr/bin/ssh-add '\(context)/sshtools/' && \
            ldd /usr/bin/ssh-add | awk '/=>/ { print $3 } !/=>/ && /^[[:space:]]*\\// { print $1 }' | while read -r lib; do cp -L "$lib" '\(context)/sshtools/'; done
            """)
    }

    override func tearDownWithError() throws {
        for agent in agents where agent.process.isRunning { agent.process.terminate(); agent.exit.wait() }
        for path in [context, scratch, swiftdock?.home ?? ""] where !path.isEmpty { try? FileManager.default.removeItem(atPath: path) }
    }

    var fingerprint: String {
        get throws { try Harness.sh("ssh-keygen -lf '\(scratch)/id_ed25519.pub' | cut -d' ' -f2").trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func dockerfile(_ mount: String) throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN --mount=type=bind,source=sshtools,target=/opt/ssh \(mount) \\
            echo "$SSH_AUTH_SOCK" > /sock && /opt/ssh/ld-linux-x86-64.so.2 --library-path /opt/ssh /opt/ssh/ssh-add -l > /keys
        RUN test -z "$SSH_AUTH_SOCK" && test ! -e /run/buildkit && echo none > /after
        """, to: context + "/Dockerfile")
    }

    /// `--ssh default` forwards `$SSH_AUTH_SOCK`, an agent the user started.
    func testForwardsTheUsersAgentSocket() throws {
        let socket = scratch + "/agent.sock"
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        agents.append((agent, try ProcessExit.start(agent)))
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
        _ = try Harness.run("/usr/bin/ssh-add", ["-q", scratch + "/id_ed25519"], environment: ["SSH_AUTH_SOCK": socket])
        try dockerfile("--mount=type=ssh")
        let result = try swiftdock.ok("build", "-t", "ssh-socket", "--ssh", "default", context, environment: ["SSH_AUTH_SOCK": socket])
        let root = try swiftdock.unpackRootfs("ssh-socket")
        XCTAssertEqual(try String(contentsOfFile: root + "/sock", encoding: .utf8), "/run/buildkit/ssh_agent.0\n")
        let keys = try String(contentsOfFile: root + "/keys", encoding: .utf8)
        XCTAssertTrue(keys.contains(try fingerprint) && keys.contains("swiftdock-test-key"), keys + result.stderr)
        XCTAssertEqual(try String(contentsOfFile: root + "/after", encoding: .utf8), "none\n", "no socket without the mount")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/run"), "the socket's mount point stays out of the layer")
    }

    /// `--ssh ID=KEYFILE`: swiftdock starts ssh-agent for the build, adds the key, kills it after.
    func testServesKeyFilesThroughAnAgentOfItsOwn() throws {
        try dockerfile("--mount=type=ssh,id=deploy,target=/tmp/agent,required")
        let tmp = scratch + "/tmpdir"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let result = try swiftdock.ok("build", "-t", "ssh-key", "--ssh", "deploy=\(scratch)/id_ed25519", context,
                                      environment: ["TMPDIR": tmp, "SSH_AUTH_SOCK": ""])
        let root = try swiftdock.unpackRootfs("ssh-key")
        XCTAssertEqual(try String(contentsOfFile: root + "/sock", encoding: .utf8), "/tmp/agent\n")
        XCTAssertTrue(try String(contentsOfFile: root + "/keys", encoding: .utf8).contains(try fingerprint), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tmp), [], "the agent's directory is removed")
        let running = try Harness.run("/usr/bin/pgrep", ["-f", "ssh-agent -D -a \(tmp)"])
        XCTAssertEqual(running.stdout, "", "the agent swiftdock started is gone")
        // The private key's bytes are nowhere in the store.
        let keyLine = try Harness.sh("sed -n 3p '\(scratch)/id_ed25519'").trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertGreaterThan(keyLine.count, 40)
        let leaks = try Harness.run("/bin/sh", ["-c", "grep -rlaF -- \"$LEAK\" \"$1\"; true", "scan", swiftdock.home], environment: ["LEAK": keyLine])
        XCTAssertEqual(leaks.stdout, "")
    }

    func testRequiredAgentMissingFailsAtItsLine() throws {
        try dockerfile("--mount=type=ssh,required=true")
        let result = try swiftdock.run(["build", "-t", "nope", context])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("\(context)/Dockerfile:2: RUN: ssh default: no SSH agent or key forwarded"), result.stderr)
    }
}

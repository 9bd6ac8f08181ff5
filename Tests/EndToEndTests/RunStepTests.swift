import Foundation
import XCTest

/// RUN executed in the rootless sandbox: what changes lands in the layer (whiteouts and opaque
/// directories included), exec form, heredocs, mounts, failures; read back with umoci.
final class RunStepTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("run")
    }

    /// Unpacks the image with umoci and returns the rootfs path.
    private func unpack(_ image: String) throws -> String {
        let out = try Harness.makeTemporaryDirectory("run-oci")
        try swiftdock.ok("save", image, "--format", "oci", "-o", out + "/oci")
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        return out + "/bundle/rootfs"
    }

    private func layerListings(_ image: String) throws -> [String] {
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", image).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        return try (manifest["layers"] as! [[String: Any]]).map { layer in
            let digest = (layer["digest"] as! String).dropFirst(7)
            return try Harness.sh("tar --numeric-owner -tvzf '\(swiftdock.home)/blobs/sha256/\(digest)'")
        }
    }

    func testCreateModifyDeleteWithWhiteoutsAndOpaqueDirectories() throws {
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN mkdir -p /app/keep /app/gone /app/replaced && echo 1 > /app/keep/a && echo x > /app/gone/b && echo y > /app/replaced/old
        RUN echo 2 >> /app/keep/a && rm -rf /app/gone && rm -rf /app/replaced && mkdir /app/replaced && echo new > /app/replaced/new \\
            && rm /etc/hostname && chown 1000:100 /app/keep/a
        RUN ["/bin/sh", "-c", "echo exec-form > /app/exec.txt"]
        RUN <<EOF
        echo heredoc > /app/heredoc.txt
        echo "$HOME" > /app/home.txt
        EOF
        RUN cat <<EOT > /app/cat.txt
        from cat
        EOT
        """, to: context + "/Dockerfile")
        let build = try swiftdock.ok("build", "-t", "changes", context)
        XCTAssertTrue(build.stderr.contains("RUN mkdir -p /app/keep"), build.stderr)
        let rootfs = try unpack("changes")
        let read = { (path: String) in try String(contentsOfFile: rootfs + path, encoding: .utf8) }
        XCTAssertEqual(try read("/app/keep/a"), "1\n2\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/app/gone"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/app/replaced"), ["new"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/etc/hostname"))
        XCTAssertEqual(try read("/app/exec.txt"), "exec-form\n")
        XCTAssertEqual(try read("/app/heredoc.txt"), "heredoc\n")
        XCTAssertEqual(try read("/app/cat.txt"), "from cat\n")
        XCTAssertEqual(try read("/app/home.txt"), "/root\n", "HOME from the image's passwd, as docker sets it")
        XCTAssertEqual(try swiftdock.ok("run", "-u", "jupyter", "changes", "sh", "-c", "echo $HOME").stdout, "/home/jupyter\n")

        let layers = try layerListings("changes")
        let second = layers[2]
        XCTAssertTrue(second.contains("app/.wh.gone"), "deleted directory → whiteout:\n\(second)")
        XCTAssertTrue(second.contains("etc/.wh.hostname"), "deleted base file → whiteout:\n\(second)")
        XCTAssertTrue(second.contains("app/replaced/.wh..wh..opq") || second.contains("app/replaced/.wh.old"),
                      "a directory removed and made again hides the old content:\n\(second)")
        XCTAssertTrue(second.contains("1000/100") && second.contains("app/keep/a"), second)
        XCTAssertFalse(layers.joined().contains("etc/resolv.conf") || layers.joined().contains(" dev/") || layers.joined().contains(" proc/"),
                       "no stray mount points in layers:\n\(layers.joined())")
    }

    func testFailingRunGivesOneLineWithLineCommandAndExitCode() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN echo partial > /p && exit 3\n", to: context + "/Dockerfile")
        let before = try swiftdock.fingerprint()
        let result = try swiftdock("build", "-t", "fails", context)
        XCTAssertEqual(result.status, 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
        XCTAssertEqual(errors.count, 1, result.stderr)
        let line = String(errors.first ?? "")
        XCTAssertTrue(line.contains("Dockerfile:2: RUN:"), line)
        XCTAssertTrue(line.contains("echo partial > /p && exit 3"), line)
        XCTAssertTrue(line.contains("exit code: 3"), line)
        XCTAssertEqual(try swiftdock.fingerprint(), before)
    }

    func testEnvArgsUserWorkdirNetworkAndMounts() throws {
        try Harness.write("cached", to: context + "/input.txt")
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        ARG GREETING=hello
        ENV TARGET=/out
        WORKDIR /work
        RUN mkdir -p $TARGET && echo "$GREETING $(pwd)" > $TARGET/env.txt
        RUN --mount=type=bind,source=input.txt,target=/mnt/input.txt cp /mnt/input.txt /out/from-bind.txt
        RUN --mount=type=cache,target=/var/cache/demo echo run >> /var/cache/demo/log && cp /var/cache/demo/log /out/cache-log
        RUN --network=none sh -c 'ls /sys/class/net 2>/dev/null | tr "\\n" " " > /out/net.txt; cat /proc/net/dev | wc -l >> /out/net.txt'
        USER jupyter
        RUN id -u > /tmp/uid.txt && cp /tmp/uid.txt /home/jupyter-uid.txt 2>/dev/null || id -u > /tmp/uid-only.txt
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "--build-arg", "GREETING=hi", "-t", "envs", context)
        let rootfs = try unpack("envs")
        let read = { (path: String) in try String(contentsOfFile: rootfs + path, encoding: .utf8) }
        XCTAssertEqual(try read("/out/env.txt"), "hi /work\n")
        XCTAssertEqual(try read("/out/from-bind.txt"), "cached")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/mnt/input.txt"), "bind targets stay out of the layer")
        XCTAssertEqual(try read("/out/cache-log"), "run\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/var/cache/demo/log"), "cache mounts stay out of the layer")
        XCTAssertEqual(try read("/tmp/uid-only.txt").trimmingCharacters(in: .whitespacesAndNewlines), "1000")
        // The cache persists across builds.
        try swiftdock.ok("build", "-t", "envs2", context)
        XCTAssertEqual(try String(contentsOfFile: try unpack("envs2") + "/out/cache-log", encoding: .utf8), "run\nrun\n")
    }

    /// Builds and runs as `user` (switching from root), returning the image's layer listings.
    private func buildAsUser(_ user: String, dockerfile: String, expectRun: String) throws {
        guard getuid() == 0 else { throw XCTSkip("runs the unprivileged case by switching from root") }
        let ids = try Harness.run("/bin/sh", ["-c", "id -u \(user) && id -g \(user)"]).stdout.split(separator: "\n").map(String.init)
        guard ids.count == 2 else { throw XCTSkip("no user \(user)") }
        let home = try Harness.makeTemporaryDirectory("unpriv-home")
        try Harness.write(dockerfile, to: context + "/Dockerfile")
        try Harness.sh("cp -a '\(Harness.packageRoot.path)/Fixtures/base/rootfs' '\(context!)/rootfs'")
        try Harness.sh("chown -R \(ids[0]):\(ids[1]) '\(home)' '\(context!)' && chmod 755 '\(home)' '\(context!)'")
        let binary = Harness.binary
        try Harness.sh("d='\(binary)'; chmod o+rx \"$d\"; while [ \"$d\" != / ]; do d=$(dirname \"$d\"); chmod o+x \"$d\" 2>/dev/null || true; done")
        let prefix = ["--reuid=\(ids[0])", "--regid=\(ids[1])", "--clear-groups",
                      "env", "HOME=\(home)", "TMPDIR=\(home)", "SWIFTDOCK_HOME=\(home)/store", binary]
        let build = try Harness.run("/usr/bin/setpriv", prefix + ["build", "-t", "unprivileged", context])
        XCTAssertEqual(build.status, 0, "\(user): \(build.stderr)")
        let run = try Harness.run("/usr/bin/setpriv", prefix + ["run", "unprivileged", "cat", "/made.txt"])
        XCTAssertEqual(run.status, 0, "\(user): \(run.stderr)")
        XCTAssertEqual(run.stdout, expectRun, user)
    }

    /// An unprivileged user without subordinate ids: container root is the user, one id only.
    func testRunAsAnUnprivilegedUser() throws {
        try buildAsUser("nobody", dockerfile: "FROM scratch\nCOPY rootfs/ /\nRUN echo made by $(id -u) > /made.txt && rm /etc/hostname\n",
                        expectRun: "made by 0\n")
    }

    /// The test script's user with /etc/subuid and /etc/subgid ranges: newuidmap maps the
    /// image's other users, so USER jupyter (1000:100) runs and owns what it writes.
    func testRunAsAnUnprivilegedUserWithSubordinateIDs() throws {
        guard let user = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        try buildAsUser(user, dockerfile: "FROM scratch\nCOPY rootfs/ /\nUSER jupyter\nRUN echo made by $(id -u):$(id -g) > /tmp/made.txt\nUSER root\nRUN cp -p /tmp/made.txt /made.txt\n",
                        expectRun: "made by 1000:100\n")
    }
}

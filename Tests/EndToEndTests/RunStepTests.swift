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
    func unpack(_ image: String) throws -> String {
        let out = try Harness.makeTemporaryDirectory("run-oci")
        try swiftdock.ok("save", image, "--format", "oci", "-o", out + "/oci")
        try Harness.sh("cd '\(out)' && umoci unpack --rootless --image oci:latest bundle >/dev/null")
        return out + "/bundle/rootfs"
    }

    private func layerListings(_ image: String, verbose: Bool = true) throws -> [String] {
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", image).stdout
        let manifest = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
        return try (manifest["layers"] as! [[String: Any]]).map { layer in
            let digest = (layer["digest"] as! String).dropFirst(7)
            return try Harness.sh("tar --numeric-owner -t\(verbose ? "v" : "")zf '\(swiftdock.home)/blobs/sha256/\(digest)'")
        }
    }

    /// Forces copy-and-compare RUN steps instead of overlayfs.
    static let copyIsolation = ["SWIFTDOCK_RUN_ISOLATION": "copy"]

    /// Paths in each layer of `image` (directories without their trailing slash), as tar lists them.
    private func layerPaths(_ image: String) throws -> [[String]] {
        try layerListings(image, verbose: false).map { listing in
            listing.split(separator: "\n").map { $0.hasSuffix("/") ? String($0.dropLast()) : String($0) }.sorted()
        }
    }

    func testCreateModifyDeleteWithWhiteoutsAndOpaqueDirectories() throws {
        try createModifyDelete(tag: "changes")
    }

    /// The same RUN steps copying the root instead of overlaying it give the same layers.
    func testCreateModifyDeleteWithCopyIsolation() throws {
        try createModifyDelete(tag: "copied", environment: Self.copyIsolation)
        try createModifyDelete(tag: "overlaid", environment: ["SWIFTDOCK_RUN_ISOLATION": "overlay"])
        XCTAssertEqual(try layerPaths("copied"), try layerPaths("overlaid"), "copy mode and overlay give the same paths and whiteouts")
        // And the copy really is what RUN ran in: its root is no overlay mount.
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN awk '$2 == \"/\" { print $3 }' /proc/mounts > /root-fs\n",
                          to: context + "/Dockerfile")
        for (tag, environment) in [("fs-copy", Self.copyIsolation), ("fs-overlay", ["SWIFTDOCK_RUN_ISOLATION": "overlay"])] {
            try swiftdock.ok("build", "--no-cache", "-t", tag, context, environment: environment)
        }
        XCTAssertEqual(try String(contentsOfFile: try unpack("fs-overlay") + "/root-fs", encoding: .utf8), "overlay\n")
        XCTAssertNotEqual(try String(contentsOfFile: try unpack("fs-copy") + "/root-fs", encoding: .utf8), "overlay\n")
    }

    private func createModifyDelete(tag: String, environment: [String: String] = [:]) throws {
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
        RUN test -d /sys/devices && ! touch /sys/swiftdock 2>/dev/null && echo read-only > /app/sys.txt
        """, to: context + "/Dockerfile")
        let build = try swiftdock.ok("build", "--no-cache", "-t", tag, context, environment: environment)
        XCTAssertTrue(build.stderr.contains("RUN mkdir -p /app/keep"), build.stderr)
        let rootfs = try unpack(tag)
        let read = { (path: String) in try String(contentsOfFile: rootfs + path, encoding: .utf8) }
        XCTAssertEqual(try read("/app/keep/a"), "1\n2\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/app/gone"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootfs + "/app/replaced"), ["new"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/etc/hostname"))
        XCTAssertEqual(try read("/app/exec.txt"), "exec-form\n")
        XCTAssertEqual(try read("/app/heredoc.txt"), "heredoc\n")
        XCTAssertEqual(try read("/app/cat.txt"), "from cat\n")
        XCTAssertEqual(try read("/app/home.txt"), "/root\n", "HOME from the image's passwd, as docker sets it")
        XCTAssertEqual(try read("/app/sys.txt"), "read-only\n", "/sys is there, read-only, as in docker")
        XCTAssertEqual(try swiftdock.ok("run", "-u", "jupyter", tag, "sh", "-c", "echo $HOME", environment: environment).stdout, "/home/jupyter\n")

        let layers = try layerListings(tag)
        let second = layers[2]
        XCTAssertTrue(second.contains("app/.wh.gone"), "deleted directory → whiteout:\n\(second)")
        XCTAssertTrue(second.contains("etc/.wh.hostname"), "deleted base file → whiteout:\n\(second)")
        XCTAssertTrue(second.contains("app/replaced/.wh..wh..opq") || second.contains("app/replaced/.wh.old"),
                      "a directory removed and made again hides the old content:\n\(second)")
        XCTAssertTrue(second.contains("1000/100") && second.contains("app/keep/a"), second)
        XCTAssertFalse(layers.joined().contains("etc/resolv.conf") || layers.joined().contains(" dev/") || layers.joined().contains(" proc/")
                       || layers.joined().contains(" sys/"),
                       "no stray mount points in layers:\n\(layers.joined())")
    }

    func testFailingRunGivesOneLineWithLineCommandAndExitCode() throws {
        try failingRun(environment: [:])
    }

    /// Copy mode: the same one line, the store unchanged, and the copied root gone.
    func testFailingRunWithCopyIsolation() throws {
        try failingRun(environment: Self.copyIsolation)
        XCTAssertEqual(try Harness.sh("find '\(swiftdock.home)/tmp' -mindepth 1 | wc -l").trimmingCharacters(in: .whitespacesAndNewlines), "0",
                       "no copy left in the store's temp area")
    }

    func testUnknownIsolationIsNamedInTheError() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN true\n", to: context + "/Dockerfile")
        let result = try swiftdock.run(["build", "-t", "never", context], environment: ["SWIFTDOCK_RUN_ISOLATION": "chroot"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("SWIFTDOCK_RUN_ISOLATION=chroot is not one of auto, overlay, copy"), result.stderr)
    }

    private func failingRun(environment: [String: String]) throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nRUN echo partial > /p && exit 3\n", to: context + "/Dockerfile")
        let before = try swiftdock.fingerprint()
        let result = try swiftdock.run(["build", "-t", "fails", context], environment: environment)
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
        try envArgsUserWorkdirNetworkAndMounts(environment: [:])
    }

    func testEnvArgsUserWorkdirNetworkAndMountsWithCopyIsolation() throws {
        try envArgsUserWorkdirNetworkAndMounts(environment: Self.copyIsolation)
        let layers = try layerPaths("envs").dropFirst().joined()  // the layers the RUN steps made
        XCTAssertFalse(layers.contains { $0.hasPrefix("mnt") || $0.hasPrefix("var/cache/demo") || $0.hasPrefix("proc") || $0.hasPrefix("dev") },
                       "no mount points in copy-mode layers: \(layers)")
    }

    private func envArgsUserWorkdirNetworkAndMounts(environment: [String: String]) throws {
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
        try swiftdock.ok("build", "--build-arg", "GREETING=hi", "-t", "envs", context, environment: environment)
        let rootfs = try unpack("envs")
        let read = { (path: String) in try String(contentsOfFile: rootfs + path, encoding: .utf8) }
        XCTAssertEqual(try read("/out/env.txt"), "hi /work\n")
        XCTAssertEqual(try read("/out/from-bind.txt"), "cached")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/mnt/input.txt"), "bind targets stay out of the layer")
        XCTAssertEqual(try read("/out/cache-log"), "run\n")
        XCTAssertTrue(try read("/out/net.txt").hasPrefix("lo "), "--network=none: only loopback, in a sysfs of its own")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootfs + "/var/cache/demo/log"), "cache mounts stay out of the layer")
        XCTAssertEqual(try read("/tmp/uid-only.txt").trimmingCharacters(in: .whitespacesAndNewlines), "1000")
        // The cache persists across builds.
        try swiftdock.ok("build", "-t", "envs2", context, environment: environment)
        XCTAssertEqual(try String(contentsOfFile: try unpack("envs2") + "/out/cache-log", encoding: .utf8), "run\nrun\n")
    }

    /// Builds and runs as `user` (switching from root), returning the image's layer listings.
    func buildAsUser(_ user: String, dockerfile: String, expectRun: String, environment: [String: String] = [:]) throws {
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
                      "env", "HOME=\(home)", "TMPDIR=\(home)", "SWIFTDOCK_HOME=\(home)/store"]
            + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [binary]
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

    static let subordinateIDsDockerfile = """
        FROM scratch
        COPY rootfs/ /
        USER jupyter
        RUN echo made by $(id -u):$(id -g) > /tmp/made.txt
        USER root
        RUN cp -p /tmp/made.txt /made.txt && stat -c %u:%g /tmp/made.txt >> /made.txt

        """

    /// The test script's user with /etc/subuid and /etc/subgid ranges: newuidmap maps the
    /// image's other users, so USER jupyter (1000:100) runs and owns what it writes.
    func testRunAsAnUnprivilegedUserWithSubordinateIDs() throws {
        guard let user = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        try buildAsUser(user, dockerfile: Self.subordinateIDsDockerfile, expectRun: "made by 1000:100\n1000:100\n")
    }

    /// Copy mode as an unprivileged user without subordinate ids.
    func testCopyIsolationAsAnUnprivilegedUser() throws {
        try buildAsUser("nobody", dockerfile: "FROM scratch\nCOPY rootfs/ /\nRUN echo made by $(id -u) > /made.txt && rm /etc/hostname\nRUN test ! -e /etc/hostname && cat /made.txt > /again.txt\n",
                        expectRun: "made by 0\n", environment: Self.copyIsolation)
    }

    /// Copy mode with subordinate ids: what USER jupyter wrote in one step is still its own in
    /// the next one's copy (the owner is set inside the sandbox's user namespace).
    func testCopyIsolationAsAnUnprivilegedUserWithSubordinateIDs() throws {
        guard let user = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        try buildAsUser(user, dockerfile: Self.subordinateIDsDockerfile, expectRun: "made by 1000:100\n1000:100\n",
                        environment: Self.copyIsolation)
    }
}

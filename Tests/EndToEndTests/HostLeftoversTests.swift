import Foundation
import XCTest

/// What the swiftdock binary leaves outside its store on a normal run: nothing. Each command
/// runs with a private, empty TMPDIR and HOME; afterwards both are still empty (a sandbox
/// probe's directory, a RUN script, an atomic write's temp file, an ssh-agent's socket
/// directory: each is removed by the command that made it, or made in the store).
final class HostLeftoversTests: XCTestCase {
    private func entries(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    func testBuildWithRunPushPullAndRunLeaveNothingInTmpdirOrHome() throws {
        guard let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        let tmp = try Harness.makeTemporaryDirectory("leftovers-tmp")
        let home = try Harness.makeTemporaryDirectory("leftovers-home")
        let environment = ["TMPDIR": tmp, "HOME": home]
        let swiftdock = try Swiftdock()
        let context = try Harness.makeTemporaryDirectory("leftovers-context")
        try Harness.write("copied\n", to: context + "/a.txt")
        try Harness.write("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            COPY a.txt /a.txt
            RUN echo ran > /ran.txt && cat /a.txt >> /ran.txt
            RUN <<EOF
            echo from a heredoc script >> /ran.txt
            EOF
            RUN --mount=type=cache,target=/cache echo cached > /cache/c && cp /cache/c /cached.txt

            """, to: context + "/Dockerfile")
        let reference = "\(registry)/leftovers/app:\(UUID().uuidString.prefix(8).lowercased())"
        let other = try Swiftdock()
        let steps: [(what: String, run: () throws -> Void)] = [
            ("build the base", { try swiftdock.buildBase(environment: environment) }),
            ("build with RUN", { try swiftdock.ok("build", "-q", "-t", "leftovers", context, environment: environment) }),
            ("push", { try swiftdock.ok("push", "leftovers", reference, environment: environment) }),
            ("build --push", { try swiftdock.ok("build", "-q", "--push", "-t", reference + "-b", context, environment: environment) }),
            ("pull", { try other.ok("pull", "-q", reference, environment: environment) }),
            ("run", {
                let ran = try other.ok("run", "--rm", reference, "cat", "/ran.txt", "/cached.txt", environment: environment)
                XCTAssertEqual(ran.stdout, "ran\ncopied\nfrom a heredoc script\ncached\n")
            }),
        ]
        for step in steps {
            try step.run()
            XCTAssertEqual(try entries(tmp), [], "\(step.what) left these in TMPDIR")
            XCTAssertEqual(try entries(home), [], "\(step.what) left these in HOME")
        }
    }

    /// The same for an unprivileged user (nobody, switched to from root as RunStepTests does): its
    /// sandbox probe's overlay leaves mode-000 directories that only a chmod lets it remove. What
    /// it keeps on purpose is the probe's answer for this boot, in its runtime directory
    /// (`SandboxProbeCache`: `$XDG_RUNTIME_DIR/swiftdock`, as podman keeps its runroot there).
    func testAnUnprivilegedBuildWithRunLeavesNothingInTmpdir() throws {
        guard getuid() == 0 else { throw XCTSkip("runs the unprivileged case by switching from root") }
        let ids = try Harness.run("/bin/sh", ["-c", "id -u nobody && id -g nobody"]).stdout.split(separator: "\n").map(String.init)
        guard ids.count == 2 else { throw XCTSkip("no user nobody") }
        let tmp = try Harness.makeTemporaryDirectory("leftovers-unpriv-tmp")
        let home = try Harness.makeTemporaryDirectory("leftovers-unpriv-home")
        let runtime = try Harness.makeTemporaryDirectory("leftovers-unpriv-runtime")
        let context = try Harness.makeTemporaryDirectory("leftovers-unpriv-context")
        try Harness.write("FROM scratch\nCOPY rootfs/ /\nRUN echo ran > /ran.txt\n", to: context + "/Dockerfile")
        try Harness.sh("cp -a '\(Harness.packageRoot.path)/Fixtures/base/rootfs' '\(context)/rootfs'")
        try Harness.sh("chown -R \(ids[0]):\(ids[1]) '\(tmp)' '\(home)' '\(runtime)' '\(context)'; chmod 700 '\(runtime)'")
        let binary = Harness.binary
        try Harness.sh("d='\(binary)'; chmod o+rx \"$d\"; while [ \"$d\" != / ]; do d=$(dirname \"$d\"); chmod o+x \"$d\" 2>/dev/null || true; done")
        let build = try Harness.run("/usr/bin/setpriv", ["--reuid=\(ids[0])", "--regid=\(ids[1])", "--clear-groups", "env",
                                                         "HOME=\(home)", "TMPDIR=\(tmp)", "XDG_RUNTIME_DIR=\(runtime)", "SWIFTDOCK_HOME=\(home)/store",
                                                         binary, "build", "-q", "-t", "leftovers-unprivileged", context])
        XCTAssertEqual(build.status, 0, build.stderr)
        XCTAssertEqual(try entries(tmp), [], "an unprivileged build left these in TMPDIR")
        XCTAssertEqual(try entries(runtime), ["swiftdock"], "the runtime directory should hold only the probe's answer")
    }
}

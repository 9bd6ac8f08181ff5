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
}

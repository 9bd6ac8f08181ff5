import Foundation
import XCTest

/// `push`/`pull` with skopeo's archive transports (issue 12): `oci-archive:FILE[:NAME]` and
/// `docker-archive:FILE[:REF]` both ways, skopeo as the independent reader and writer, a round
/// trip store → archive → store with the same digests, and a hostile archive refused in one line.
final class PushArchiveTests: XCTestCase {
    func testArchivesBothWaysAgainstSkopeo() throws {
        guard (try? Harness.sh("command -v skopeo")) != nil else { throw XCTSkip("skopeo is not installed") }
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        let dir = try Harness.makeTemporaryDirectory("archives")
        let digest = try swiftdock.ok("images", "--digests", "--format", "json").stdout
        let pushed = try swiftdock.ok("push", "-q", "swiftdock.local/busybox-base", "oci-archive:\(dir)/base.tar:v1").stdout
        XCTAssertTrue(pushed.hasPrefix("v1: digest: sha256:"), pushed)
        let manifest = String(pushed.split(separator: " ")[2])
        XCTAssertTrue(digest.contains(manifest), "the archive holds the stored manifest: \(pushed)")
        try swiftdock.ok("push", "-q", "swiftdock.local/busybox-base", "docker-archive:\(dir)/base-docker.tar:team/base:v2")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }, [], "no staging left")

        // skopeo reads both.
        let ociDigest = try sh("skopeo inspect --format '{{.Digest}}' oci-archive:\(dir)/base.tar:v1")
        XCTAssertEqual(ociDigest, manifest)
        let layers = try sh("skopeo inspect --format '{{len .Layers}}' docker-archive:\(dir)/base-docker.tar")
        XCTAssertEqual(layers, "1")

        // skopeo writes both (docker's legacy layout with symlinked layer.tar); swiftdock reads them.
        try Harness.sh("skopeo copy -q --insecure-policy oci-archive:\(dir)/base.tar:v1 docker-archive:\(dir)/skopeo.tar:sk/base:v3")
        try Harness.sh("skopeo copy -q --insecure-policy oci-archive:\(dir)/base.tar:v1 oci-archive:\(dir)/skopeo-oci.tar:v4")
        try swiftdock.ok("push", "-q", "docker-archive:\(dir)/skopeo.tar:sk/base:v3", "oci:\(dir)/from-docker:v3")
        XCTAssertEqual(try sh("skopeo inspect --format '{{len .Layers}}' oci:\(dir)/from-docker:v3"), "1")
        let fromSkopeo = try swiftdock.ok("push", "-q", "oci-archive:\(dir)/skopeo-oci.tar:v4", "oci:\(dir)/from-oci:v4").stdout
        XCTAssertTrue(fromSkopeo.contains(manifest), "skopeo's oci-archive keeps the manifest: \(fromSkopeo)")

        // To a registry from an archive; skopeo copies an archive into the registry too.
        if let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty {
            let target = "\(registry)/archive/base-\(UUID().uuidString.prefix(8).lowercased())"
            let sent = try swiftdock.ok("push", "-q", "oci-archive:\(dir)/base.tar:v1", target + ":v1").stdout
            XCTAssertTrue(sent.hasPrefix("v1: digest: \(manifest)"), sent)
            try Harness.sh("skopeo copy -q --insecure-policy --dest-tls-verify=false docker-archive:\(dir)/base-docker.tar docker://\(target):v2")
            XCTAssertEqual(try sh("skopeo inspect --tls-verify=false --format '{{len .Layers}}' docker://\(target):v2"), "1")
        }

        // Round trip into a fresh store: the same manifest digest from both formats.
        let other = try Swiftdock()
        let fromOCI = try other.ok("pull", "-q", "oci-archive:\(dir)/base.tar:v1").stdout
        XCTAssertEqual(fromOCI, "swiftdock.local/busybox-base:latest\n")
        let fromDocker = try other.ok("pull", "-q", "docker-archive:\(dir)/base-docker.tar").stdout
        XCTAssertEqual(fromDocker, "docker.io/team/base:v2\n")
        let listed = try other.ok("images", "--digests").stdout
        XCTAssertEqual(listed.components(separatedBy: manifest).count - 1, 2, listed)

        // A hostile archive: one line, exit 1, the store unchanged, nothing left in tmp/.
        try Harness.sh("cd '\(dir)' && mkdir -p evil && echo x > evil/x && tar cf evil.tar -P --transform 's,^evil/x,../../escape,' evil/x")
        let before = try other.fingerprint()
        let refused = try other("pull", "oci-archive:\(dir)/evil.tar")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("escapes the archive"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertEqual(try other.fingerprint(), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: other.home + "/tmp"), [])
    }

    /// A shell command's output without its trailing newline.
    func sh(_ command: String) throws -> String {
        try Harness.sh(command).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

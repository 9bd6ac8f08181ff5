import Foundation
import XCTest

/// `inspect` prints docker's `image inspect` shape and runs Go templates as docker does.
final class InspectFormatTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("inspect")
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        ENV GREETING="hello world"
        LABEL maintainer=me org.example.version=2
        EXPOSE 8080
        WORKDIR /srv
        CMD ["sh", "-c", "echo hi"]
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", "shaped:1", context)
    }

    func testDefaultOutputIsDockersArrayShape() throws {
        let text = try swiftdock.ok("inspect", "shaped:1").stdout
        XCTAssertTrue(text.hasPrefix("[\n    {\n        \"Id\": \"sha256:"), "docker's 4-space layout: \(text.prefix(80))")
        let array = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
        XCTAssertEqual(array.count, 1)
        let image = array[0]
        for key in ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion", "Author", "Config",
                    "Architecture", "Os", "Size", "RootFS", "Metadata"] {
            XCTAssertNotNil(image[key], key)
        }
        XCTAssertEqual(image["RepoTags"] as? [String], ["shaped:1"])
        let config = try XCTUnwrap(image["Config"] as? [String: Any])
        XCTAssertEqual(config["Cmd"] as? [String], ["sh", "-c", "echo hi"])
        XCTAssertEqual(config["WorkingDir"] as? String, "/srv")
        XCTAssertTrue(config["Entrypoint"] is NSNull, "a nil slice is null, as docker prints it")
        XCTAssertEqual((config["Labels"] as? [String: String])?["maintainer"], "me")
        XCTAssertNotNil((config["ExposedPorts"] as? [String: Any])?["8080/tcp"])
        let rootfs = try XCTUnwrap(image["RootFS"] as? [String: Any])
        XCTAssertEqual(rootfs["Type"] as? String, "layers")
        XCTAssertFalse((rootfs["Layers"] as? [String] ?? []).isEmpty)
    }

    func testTemplatesPrintAsDockersDo() throws {
        let cases: [(String, String)] = [
            ("{{.Config.Cmd}}", "[sh -c echo hi]"),
            ("{{json .Config.Cmd}}", #"["sh","-c","echo hi"]"#),
            ("{{.Config.Entrypoint}}", "[]"),
            ("{{json .Config.Entrypoint}}", "null"),
            ("{{index .Config.Labels \"org.example.version\"}}", "2"),
            ("{{.Config.ExposedPorts}}", "map[8080/tcp:{}]"),
            ("{{range .Config.Env}}{{if eq . \"GREETING=hello world\"}}found{{end}}{{end}}", "found"),
            ("{{.Os}}/{{len .RootFS.Layers}}", "linux/\(try layerCount())"),
            ("{{range .RepoTags}}tag={{.}};{{end}}", "tag=shaped:1;"),
        ]
        for (template, expected) in cases {
            XCTAssertEqual(try swiftdock.ok("inspect", "--format", template, "shaped:1").stdout, expected + "\n", template)
        }
    }

    private func layerCount() throws -> Int {
        let raw = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "shaped:1").stdout
        return ((try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any])?["layers"] as? [Any])?.count ?? -1
    }

    func testTemplateErrorsAreOneLineAndExitOne() throws {
        let unknown = try swiftdock("inspect", "--format", "{{.Config.Nope}}", "shaped:1")
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.stderr, "Error: template parsing error: template: :1:2: executing \"\" at <.Config.Nope>: map has no entry for key \"Nope\"\n")
        let syntax = try swiftdock("inspect", "-f", "{{.Id", "shaped:1")
        XCTAssertEqual(syntax.status, 1)
        XCTAssertEqual(syntax.stderr, "Error: template parsing error: template: :1: unclosed action\n")
        XCTAssertEqual(syntax.stdout, "", "nothing is printed before the template is known to parse")
    }

    func testRemoteInspectReadsTheRegistryWithoutPulling() throws {
        guard let registry = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_REGISTRY_OPEN"], !registry.isEmpty else {
            throw XCTSkip("SWIFTDOCK_TEST_REGISTRY_OPEN is not set: start the fixtures with scripts/registries.sh (scripts/test.sh does)")
        }
        let remote = "\(registry)/habits/shaped-\(UUID().uuidString.prefix(8).lowercased()):1"
        try swiftdock.ok("push", "shaped:1", remote)
        let local = try swiftdock.ok("inspect", "--format", "{{.Id}} {{.Digest}} {{.Config.Cmd}}", "shaped:1").stdout
        let other = try Swiftdock()
        let fetched = try other.ok("inspect", "--remote", "--format", "{{.Id}} {{.Digest}} {{.Config.Cmd}}", remote).stdout
        XCTAssertEqual(fetched, local)
        XCTAssertEqual(try other.ok("images", "-q").stdout, "", "nothing was stored")
        let missing = try other("inspect", "--remote", "\(registry)/habits/nosuch:1")
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, missing.stderr)
    }
}

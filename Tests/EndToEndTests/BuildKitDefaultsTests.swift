import Foundation
import XCTest

/// Config and parsing defaults where swiftdock once differed from BuildKit (issue 10).
final class BuildKitDefaultsTests: XCTestCase {
    func testScratchWorkingDirAndDuplicateStageNames() throws {
        let swiftdock = try Swiftdock()
        let context = try Harness.makeTemporaryDirectory("defaults")
        try Harness.write("one\n", to: context + "/a")
        // Two stages called `build`: BuildKit warns and the last one is the one `--from` means.
        try Harness.write("""
            FROM scratch AS build
            COPY a /first
            FROM scratch AS build
            COPY a /second
            FROM scratch
            COPY --from=build / /
            ENV A hello\\\\
            LABEL after=continuation
            """, to: context + "/Dockerfile")
        let result = try swiftdock.ok("build", "-t", "defaults", context)
        XCTAssertTrue(result.stderr.contains("Dockerfile:3: DuplicateStageName: Duplicate stage name \"build\", stage names should be unique"),
                      result.stderr)
        let text = try swiftdock.ok("inspect", "--format", "{{json .ImageConfig}}", "defaults").stdout
        let image = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let config = image["config"] as! [String: Any]
        XCTAssertEqual(config["WorkingDir"] as? String, "/", "BuildKit writes WorkingDir \"/\" for scratch")
        // `ENV A hello\\` ends its line; the LABEL is an instruction of its own.
        XCTAssertTrue((config["Env"] as? [String] ?? []).contains("A=hello\\"), "\(config)")
        XCTAssertEqual((config["Labels"] as? [String: String])?["after"], "continuation")
        let manifest = try swiftdock.ok("inspect", "--format", "{{json .Manifest}}", "defaults").stdout
        let layers = (try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as! [String: Any])["layers"] as! [[String: Any]]
        let digest = (layers[0]["digest"] as! String).dropFirst(7)
        XCTAssertEqual(try Harness.sh("tar -tzf '\(swiftdock.home)/blobs/sha256/\(digest)'"), "second\n")
    }
}

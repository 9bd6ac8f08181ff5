import Foundation
import XCTest

/// Images named as docker names them, through the binary: untagged builds kept as `<none>`,
/// IDs and short IDs everywhere an image is taken (inspect, tag, save, rmi, FROM, COPY --from),
/// dangling images listed, filtered and pruned.
final class ImageReferenceTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        context = try Harness.makeTemporaryDirectory("refs")
    }

    private func rows(_ arguments: String...) throws -> [[String]] {
        try swiftdock.run(arguments).stdout.split(separator: "\n").dropFirst()
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
    }

    func testUntaggedBuildIsKeptAndTakenByIDEverywhere() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nLABEL built=untagged\n", to: context + "/Dockerfile")
        let id = try swiftdock.ok("build", "-q", context).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(id.hasPrefix("sha256:"), id)
        let hex = String(id.dropFirst(7)), short = String(hex.prefix(12))

        let untagged = try rows("images").filter { $0.first == "<none>" }
        XCTAssertEqual(untagged.count, 1, "\(untagged)")
        XCTAssertEqual(untagged.first?[1], "<none>")
        XCTAssertEqual(untagged.first?[2], short)
        XCTAssertEqual(try swiftdock.ok("images", "-q", "--filter", "dangling=true").stdout, short + "\n")
        XCTAssertFalse(try swiftdock.ok("images", "-q", "--filter", "dangling=false").stdout.contains(short))
        XCTAssertEqual(try swiftdock.ok("images", "-a", "-q", "--no-trunc").stdout.split(separator: "\n").filter { $0 == id }.count, 1)
        let badFilter = try swiftdock("images", "--filter", "label=x")
        XCTAssertEqual(badFilter.status, 125, badFilter.stderr)

        for name in [id, hex, short, "sha256:" + short, String(hex.prefix(5))] {
            XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{.Id}} {{index .Config.Labels \"built\"}}", name).stdout,
                           "\(id) untagged\n", name)
        }
        let absent = try swiftdock("inspect", "sha256:" + String(repeating: "0", count: 64))
        XCTAssertEqual(absent.status, 1)
        XCTAssertTrue(absent.stderr.contains("image not found"), absent.stderr)

        // FROM and COPY --from take the ID as well.
        try Harness.write("""
        FROM \(short)
        COPY --from=\(id) /bin/busybox /copied
        LABEL child=yes
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-q", "-t", "child", context)
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{index .Config.Labels \"built\"}} {{index .Config.Labels \"child\"}}", "child").stdout,
                       "untagged yes\n")

        // save by ID writes it untagged; tag by short ID names it, and it is no longer dangling.
        let out = try Harness.makeTemporaryDirectory("refs-save")
        try swiftdock.ok("save", short, "-o", out + "/image.tar")
        XCTAssertTrue(try Harness.sh("tar -tf '\(out)/image.tar'").contains("manifest.json"))
        try swiftdock.ok("tag", short, "named:1")
        XCTAssertEqual(try swiftdock.ok("images", "-q", "--filter", "dangling=true").stdout, "")
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{.RepoTags}}", short).stdout, "[named:1]\n")

        // rmi by ID removes every name of it.
        try swiftdock.ok("tag", "named:1", "named:2")
        let rmi = try swiftdock.ok("rmi", short).stdout
        XCTAssertTrue(rmi.contains("Untagged: named:1") && rmi.contains("Untagged: named:2") && rmi.contains("Deleted: \(id)"), rmi)
        XCTAssertEqual(try swiftdock("inspect", short).status, 1)
    }

    func testRebuildingATagLeavesTheOldImageDanglingUntilSystemPrune() throws {
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nLABEL v=1\n", to: context + "/Dockerfile")
        let first = try swiftdock.ok("build", "-q", "-t", "app", context).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\nLABEL v=2\n", to: context + "/Dockerfile")
        let second = try swiftdock.ok("build", "-q", "-t", "app", context).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try swiftdock.ok("images", "-q", "--no-trunc", "--filter", "dangling=true").stdout, first + "\n")
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{.Id}}", "app").stdout, second + "\n")

        let prune = try swiftdock.ok("system", "prune", "-f").stdout
        XCTAssertTrue(prune.contains("Deleted Images:\ndeleted: \(first)"), prune)
        XCTAssertEqual(try swiftdock.ok("images", "-q", "--filter", "dangling=true").stdout, "")
        XCTAssertEqual(try swiftdock("inspect", first).status, 1)
        XCTAssertEqual(try swiftdock.ok("inspect", "--format", "{{index .Config.Labels \"v\"}}", "app").stdout, "2\n", "the tagged image is whole")
    }
}

import ImageModel
import Sandbox
import XCTest
@testable import ImageBuilder

/// `--chown` with numeric IDs outside 0…2³²−2 is an error, not a trap (issue 10); NumericID's
/// own tests are in SandboxTests.
final class ChownIDRangeTests: XCTestCase {
    func testOutOfRangeOwners() throws {
        let db = UserDatabase(passwd: Array("root:x:0:0:root:/root:/bin/sh\n".utf8), group: nil)
        for spec in ["-1", "4294967296", "0:-5", "-1:-1"] {
            XCTAssertThrowsError(try db.resolveOwner(spec), spec) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
        }
    }
}

final class WorkingDirDefaultTests: XCTestCase {
    /// docker runs RUN in `/` when the base's config has `"WorkingDir": ""` (or none).
    func testEmptyInheritedWorkingDirMeansRoot() {
        for dir: String? in [nil, ""] {
            var config = ImageConfiguration(platform: Platform.host)
            config.config.workingDir = dir
            XCTAssertEqual(StageState(name: "s", config: config).workdir, "/")
        }
        var config = ImageConfiguration(platform: Platform.host)
        config.config.workingDir = "/srv"
        XCTAssertEqual(StageState(name: "s", config: config).workdir, "/srv")
    }
}

import Foundation
import XCTest

/// A context file dated past 2262 (beyond Int64 nanoseconds; `touch -d 2400-01-01` makes one)
/// is hostile input the cold COPY's folded read crashed on (arithmetic overflow). It builds,
/// and the rebuild hits the step cache: the walk's stamp and the writer's agree.
final class FarTimeContextTests: XCTestCase {
    func testAFileDatedPast2262BuildsAndIsCachedNextTime() throws {
        let context = try Harness.makeTemporaryDirectory("far-time")
        try Harness.write("FROM scratch\nCOPY far.txt /far.txt\n", to: context + "/Dockerfile")
        try Harness.write("far\n", to: context + "/far.txt")
        try Harness.sh("touch -d '2400-01-01 00:00:00 UTC' '\(context)/far.txt'")
        let swiftdock = try Swiftdock()
        let first = try swiftdock.run(["build", "-t", "far", context])
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try swiftdock.run(["build", "-t", "far", context])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("#2 CACHED"), "the COPY hits: \(again.stderr)")
    }
}

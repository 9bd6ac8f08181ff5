import XCTest
@testable import DockerfileSyntax

final class SyntaxTests: XCTestCase {
    func testErrorNamesFileLineAndInstruction() {
        let error = DockerfileError(SourceLocation(file: "Dockerfile", line: 3), "COPY", "requires at least two arguments")
        XCTAssertEqual(error.description, "Dockerfile:3: COPY: requires at least two arguments")
        XCTAssertEqual(DockerfileError(SourceLocation(file: "x/Dockerfile", line: 1), nil, "bad").description, "x/Dockerfile:1: bad")
    }
}

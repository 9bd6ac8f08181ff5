import Foundation
import XCTest

/// Issue 13: a cold build plans and writes a COPY while the RUN before it runs (`EarlyCopy`).
/// Whatever that RUN does to the COPY's destination — nothing, `mkdir -m 700` its parent,
/// make the parent a symlink, create the destination, remove a parent the base had — the
/// image and every step's cache key are those of the sequential build (a store whose lookups
/// are never certain to miss, which plans every COPY at its step and hashes it up front); a
/// failing RUN or COPY fails as it did, at its own line, leaving the store as it was.
final class EarlyCopyBuildTests: XCTestCase {
    private var early: Swiftdock!
    private var sequential: Swiftdock!
    private var context = ""
    private static let epoch = ["SOURCE_DATE_EPOCH": "1700000000"]
    /// A record no prefix marker covers: that store never folds nor streams a COPY, nor plans one early.
    private static let stray = String(repeating: "0", count: 64)

    override func setUpWithError() throws {
        early = try Swiftdock()
        try early.buildBase(environment: Self.epoch)
        sequential = try Swiftdock()
        try Harness.sh("rm -rf '\(sequential.home)' && cp -a '\(early.home)' '\(sequential.home)'")
        try Harness.write("{}", to: sequential.home + "/cache/steps/" + Self.stray)
        context = try Harness.makeTemporaryDirectory("early-copy")
        for (name, text) in [("tree/a.txt", "a\n"), ("tree/sub/b.txt", "b\n"), ("tree/sub/deeper/c", "c"), ("tree/.hidden", "h")] {
            try Harness.write(text, to: context + "/" + name)
        }
        try Harness.sh("cd '\(context)/tree' && ln -s a.txt link && mkdir empty && chmod 750 sub")
    }

    override func tearDownWithError() throws {
        for path in [context, early?.home, sequential?.home].compactMap({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }

    func testRunThenCopyShapesBuildTheImageAndKeysOfTheSequentialOrder() throws {
        let shapes: [(name: String, steps: String)] = [
            ("RUN elsewhere, then a RUN reading the copy", """
                RUN echo prepared > /prepared
                COPY tree /opt/sp
                RUN find /opt/sp | sort > /opt/listing
                """),
            ("RUN mkdir -m 700 of the parent", "RUN cd / && mkdir -m 700 opt\nCOPY tree /opt/sp"),
            ("RUN makes the parent a symlink", "RUN cd / && mkdir x && ln -s /x opt\nCOPY tree /opt/sp\nRUN ls /x/sp > /listing"),
            ("RUN makes the destination", "RUN cd / && mkdir -p opt/sp && echo was > opt/sp/here\nCOPY tree/ /opt/sp/"),
            ("RUN removes a parent the base has", "RUN cd / && rm -rf home\nCOPY tree /home/app"),
            ("RUN names the destination", "RUN mkdir -p /opt/sp\nCOPY --chown=7:8 --chmod=640 tree /opt/sp"),
            ("RUN swaps the WORKDIR for a relative symlink", """
                WORKDIR /w
                RUN cd / && rm -rf w && mkdir w2 && ln -s w2 w
                COPY tree sub/
                """),
            ("one file after a RUN made its name a directory", "RUN cd / && mkdir opt\nCOPY tree/a.txt /opt"),
        ]
        for (index, shape) in shapes.enumerated() {
            try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\n\(shape.steps)\n", to: context + "/Dockerfile")
            let tag = "early.example/shape:\(index)"
            var digests: [String] = []
            for store in [early!, sequential!] {
                try store.ok("build", "-q", "-t", tag, context, environment: Self.epoch)
                digests.append(try store.ok("inspect", "-f", "{{.Digest}}", tag).stdout)
            }
            XCTAssertEqual(digests[0], digests[1], "\(shape.name): the image")
            XCTAssertEqual(try stepKeys(early), try stepKeys(sequential), "\(shape.name): the steps' cache keys")
        }
        XCTAssertEqual(try Harness.sh("ls -A '\(early.home)/tmp'"), "", "no temp file left")
    }

    /// A RUN that fails while the COPY after it is planned early: the RUN's error, exit 1, the
    /// store as it was (the early layer write's temp file gone). A COPY whose source is
    /// missing fails at its own line with the error the sequential build gives.
    func testAFailingRunOrCopyFailsAsInTheSequentialOrder() throws {
        let cases: [(steps: String, line: Int, text: String)] = [
            ("RUN cd / && exit 3\nCOPY tree /opt/sp", 2, "exit code: 3"),
            ("RUN echo fine\nCOPY missing /opt/sp", 3, "missing"),
        ]
        for c in cases {
            try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\n\(c.steps)\n", to: context + "/Dockerfile")
            var errors: [String] = []
            for store in [early!, sequential!] {
                let before = try store.fingerprint()
                let result = try store.run(["build", "-q", "-t", "early.example/failing", context], environment: Self.epoch)
                XCTAssertEqual(result.status, 1, result.stderr)
                XCTAssertEqual(try store.fingerprint(), before, "the store as it was")
                errors.append(result.stderr)
            }
            XCTAssertEqual(errors[0], errors[1])
            XCTAssertTrue(errors[0].contains("Dockerfile:\(c.line)") && errors[0].contains(c.text), errors[0])
            XCTAssertEqual(try Harness.sh("ls -A '\(early.home)/tmp'"), "", "no temp file left")
        }
    }

    /// The names of the store's step-cache records (the keys), the stray one left out.
    private func stepKeys(_ store: Swiftdock) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: store.home + "/cache/steps").filter { $0 != Self.stray }.sorted()
    }
}

import XCTest
@testable import ImageModel

final class ReferenceTests: XCTestCase {
    func testNormalisation() throws {
        let cases: [(input: String, full: String, familiar: String)] = [
            ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
            ("python-docker", "docker.io/library/python-docker:latest", "python-docker:latest"),
            ("user/app:1.0", "docker.io/user/app:1.0", "user/app:1.0"),
            ("index.docker.io/library/alpine:3", "docker.io/library/alpine:3", "alpine:3"),
            ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
            ("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t"),
            ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
            ("[::1]:5000/x:v", "[::1]:5000/x:v", "[::1]:5000/x:v"),
            ("gcr.io/deeplearning-platform-release/base-cpu", "gcr.io/deeplearning-platform-release/base-cpu:latest",
             "gcr.io/deeplearning-platform-release/base-cpu:latest"),
            ("europe-west3-docker.pkg.dev/p/r/python-docker:v1", "europe-west3-docker.pkg.dev/p/r/python-docker:v1",
             "europe-west3-docker.pkg.dev/p/r/python-docker:v1"),
            ("a__b/c.d/e-f---g", "docker.io/a__b/c.d/e-f---g:latest", "a__b/c.d/e-f---g:latest"),
        ]
        for c in cases {
            let ref = try Reference(parsing: c.input)
            XCTAssertEqual(ref.description, c.full, c.input)
            XCTAssertEqual(ref.familiarDescription, c.familiar, c.input)
        }
    }

    func testDigestReferences() throws {
        let hex = String(repeating: "a", count: 64)
        let ref = try Reference(parsing: "busybox@sha256:\(hex)")
        XCTAssertNil(ref.tag)
        XCTAssertEqual(ref.digest?.encoded, hex)
        let both = try Reference(parsing: "busybox:1@sha256:\(hex)")
        XCTAssertEqual(both.tag, "1")
        XCTAssertEqual(both.description, "docker.io/library/busybox:1@sha256:\(hex)")
    }

    func testInvalid() {
        let bad = ["", "Upper/Case", "a//b", "-a", "a-", "a:b:c", "a@sha256:xyz", "a:-tag", "host:port:1/a",
                   "a/b_c__d___e", "a..b", ":tag", "a/", String(repeating: "a", count: 256)]
        for text in bad {
            XCTAssertThrowsError(try Reference(parsing: text), text)
        }
    }

    func testLoopback() throws {
        let table: [(String, Bool)] = [
            ("localhost:5000/a", true), ("localhost/a", true), ("127.0.0.1:5000/a", true), ("127.1.2.3/a", true),
            ("[::1]:5000/a", true), ("gcr.io/a", false), ("10.0.0.1:5000/a", false), ("127.example.com/a", false),
        ]
        for (text, expected) in table {
            XCTAssertEqual(try Reference(parsing: text).isLoopbackRegistry, expected, text)
        }
    }

    func testRegistryHost() throws {
        XCTAssertEqual(try Reference(parsing: "busybox").registryHost, "registry-1.docker.io")
        XCTAssertEqual(try Reference(parsing: "gcr.io/x/y").registryHost, "gcr.io")
    }
}

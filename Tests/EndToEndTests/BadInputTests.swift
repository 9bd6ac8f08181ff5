import Foundation
import XCTest

/// Bad input of every kind: one line on stderr naming what and where, a non-zero exit, and a
/// store exactly as it was.
final class BadInputTests: XCTestCase {
    /// The busybox base `buildBase` tags (it has /etc/passwd).
    static let base = "gcr.io/deeplearning-platform-release/base-cpu:latest"

    struct Case {
        var name: String
        /// Files of the context (path → content); nil content makes a directory.
        var files: [String: String?]
        var dockerfile: String?
        var extraArguments: [String] = []
        /// Override of the context path (relative to the test dir) to point at nothing.
        var contextPath: String? = nil
        /// Text the one error line must contain.
        var expected: [String]
        var setup: ((String) throws -> Void)? = nil
        var exitCode: Int32 = 1
    }

    func testBadInputGivesOneLineAndLeavesTheStoreUnchanged() throws {
        let cases: [Case] = [
            Case(name: "missing context", files: [:], dockerfile: nil, contextPath: "nope",
                 expected: ["unable to prepare context", "nope"]),
            Case(name: "missing Dockerfile", files: ["a.txt": "a"], dockerfile: nil,
                 expected: ["failed to read dockerfile", "Dockerfile"]),
            Case(name: "unknown instruction", files: [:], dockerfile: "FROM scratch\nFROBNICATE x\n",
                 expected: ["Dockerfile:2", "FROBNICATE"]),
            Case(name: "instruction before FROM", files: [:], dockerfile: "COPY a /a\nFROM scratch\n",
                 expected: ["Dockerfile:1"]),
            Case(name: "COPY with one argument", files: [:], dockerfile: "FROM scratch\nCOPY onlyone\n",
                 expected: ["Dockerfile:2", "COPY"]),
            Case(name: "unterminated heredoc", files: [:], dockerfile: "FROM scratch\nCOPY <<EOF /x\nhello\n",
                 expected: ["Dockerfile:2"]),
            Case(name: "source outside the context", files: ["a.txt": "a"], dockerfile: "FROM scratch\nCOPY ../secret /x\n",
                 expected: ["Dockerfile:2", "COPY", "../secret"]),
            Case(name: "source missing", files: ["a.txt": "a"], dockerfile: "FROM scratch\nCOPY b.txt /x\n",
                 expected: ["Dockerfile:2", "COPY", "b.txt", "not found"]),
            Case(name: "source ignored", files: ["a.txt": "a", ".dockerignore": "a.txt\n"],
                 dockerfile: "FROM scratch\nCOPY a.txt /x\n", expected: ["Dockerfile:2", "a.txt", "excluded by .dockerignore"]),
            Case(name: "symlink escaping the context", files: ["a.txt": "a"], dockerfile: "FROM scratch\nCOPY link /x\n",
                 expected: ["Dockerfile:2", "link"], setup: { dir in try Harness.sh("ln -s /etc/passwd '\(dir)/link'") }),
            Case(name: "unreadable source (symlink loop)", files: ["a.txt": "a"], dockerfile: "FROM scratch\nCOPY loop /x\n",
                 expected: ["Dockerfile:2", "loop"], setup: { dir in try Harness.sh("ln -s loop '\(dir)/loop'") }),
            Case(name: "several sources, destination not a directory", files: ["a": "a", "b": "b"],
                 dockerfile: "FROM scratch\nCOPY a b /x\n", expected: ["Dockerfile:2", "must be a directory and end with a /"]),
            Case(name: "base image in a registry that is down", files: [:], dockerfile: "FROM 127.0.0.1:9/nothing:1\n",
                 expected: ["Dockerfile:1", "FROM", "127.0.0.1:9", "connection refused"]),
            Case(name: "ADD of a URL nobody serves", files: [:], dockerfile: "FROM scratch\nADD http://127.0.0.1:9/x /x\n",
                 expected: ["Dockerfile:2", "ADD", "http://127.0.0.1:9/x"]),
            Case(name: "bad --chmod", files: ["a": "a"], dockerfile: "FROM scratch\nCOPY --chmod=999 a /a\n",
                 expected: ["Dockerfile:2", "999"]),
            Case(name: "unknown --chown user", files: ["a": "a"], dockerfile: "FROM scratch\nCOPY --chown=nobody a /a\n",
                 expected: ["Dockerfile:2", "nobody"]),
            Case(name: "bad .dockerignore pattern", files: ["a": "a", ".dockerignore": "[\n"], dockerfile: "FROM scratch\nCOPY a /a\n",
                 expected: [".dockerignore"]),
            Case(name: "unknown target", files: [:], dockerfile: "FROM scratch AS one\n", extraArguments: ["--target", "two"],
                 expected: ["two"]),
            Case(name: "bad reference", files: [:], dockerfile: "FROM scratch\n", extraArguments: ["-t", "Bad:Name"],
                 expected: ["invalid reference format"], exitCode: 125),
            Case(name: "bad --run", files: [:], dockerfile: "FROM scratch\n", extraArguments: ["--run", "maybe"],
                 expected: ["--run"], exitCode: 125),
            // Inputs that crashed the builder (issue 10): each is now one error line at its instruction.
            Case(name: "COPY source starting with NUL", files: ["a.txt": "a"], dockerfile: "FROM scratch\nCOPY \0a.txt /x\n",
                 expected: ["Dockerfile:2", "COPY", "NUL"]),
            Case(name: "COPY source with a NUL inside", files: ["a": "a"], dockerfile: "FROM scratch\nCOPY a\0.txt /x\n",
                 expected: ["Dockerfile:2", "COPY", "NUL"]),
            Case(name: "50,000 nested ${A:-…}", files: [:],
                 dockerfile: "FROM scratch\nENV A=" + String(repeating: "${A:-", count: 50_000) + "x" + String(repeating: "}", count: 50_000) + "\n",
                 expected: ["Dockerfile:2", "ENV", "nested"]),
            Case(name: "USER -1", files: [:], dockerfile: "FROM \(Self.base)\nUSER -1\nRUN true\n",
                 expected: ["Dockerfile:2", "USER", "-1", "out of range"]),
            Case(name: "USER 4294967296", files: [:], dockerfile: "FROM \(Self.base)\nUSER 4294967296\nRUN true\n",
                 expected: ["Dockerfile:2", "USER", "4294967296", "out of range"]),
            Case(name: "USER 0:-5", files: [:], dockerfile: "FROM \(Self.base)\nUSER 0:-5\nRUN true\n",
                 expected: ["Dockerfile:2", "USER", "-5", "out of range"]),
            Case(name: "COPY --chown=-1:-1", files: ["a": "a"], dockerfile: "FROM scratch\nCOPY --chown=-1:-1 a /a\n",
                 expected: ["Dockerfile:2", "COPY", "-1", "out of range"]),
        ]
        let swiftdock = try Swiftdock()
        // Give the store some content so "unchanged" means something.
        try swiftdock.buildBase()
        let before = try swiftdock.fingerprint()
        for c in cases {
            let dir = try Harness.makeTemporaryDirectory("bad")
            for (path, content) in c.files {
                if let content {
                    try Harness.write(content, to: dir + "/" + path)
                } else {
                    try FileManager.default.createDirectory(atPath: dir + "/" + path, withIntermediateDirectories: true)
                }
            }
            if let dockerfile = c.dockerfile { try Harness.write(dockerfile, to: dir + "/Dockerfile") }
            try c.setup?(dir)
            let context = dir + "/" + (c.contextPath ?? "")
            let result = try swiftdock.run(["build", "-t", "bad-input"] + c.extraArguments + [context])
            XCTAssertEqual(result.status, c.exitCode, "\(c.name): \(result.stderr)")
            let errorLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }
            XCTAssertEqual(errorLines.count, 1, "\(c.name): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasSuffix("\n") && result.stderr.split(separator: "\n").last?.hasPrefix("Error:") == true,
                          "\(c.name): the error is the last line: \(result.stderr)")
            for text in c.expected {
                XCTAssertTrue(errorLines.first?.contains(text) == true, "\(c.name): expected \"\(text)\" in \(result.stderr)")
            }
            XCTAssertEqual(result.stdout, "", c.name)
            XCTAssertEqual(try swiftdock.fingerprint(), before, "\(c.name): store changed")
        }
    }

    func testUnknownCommandsAreNamedAsDockerDoes() throws {
        let swiftdock = try Swiftdock()
        let cases: [([String], String)] = [
            (["biuld", "."], "Error: 'biuld' is not a swiftdock command. See 'swiftdock --help'\n"),
            (["vertex", "rn", "x"], "Error: 'rn' is not a swiftdock vertex command. See 'swiftdock vertex --help'\n"),
            (["vertex", "workbench", "craete", "nb"], "Error: 'craete' is not a swiftdock vertex workbench command. See 'swiftdock vertex workbench --help'\n"),
        ]
        for (arguments, expected) in cases {
            let result = try swiftdock.run(arguments)
            XCTAssertEqual(result.status, 125, arguments.joined(separator: " "))
            XCTAssertEqual(result.stderr, expected)
        }
    }
}

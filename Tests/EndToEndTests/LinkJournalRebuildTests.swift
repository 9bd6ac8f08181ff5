import Foundation
import XCTest

/// Issue 13: a RUN above a COPY gets the COPY's context files hard-linked into its lower
/// directory, and our link and unlink change those files' ctime. The journal of our own links
/// (`LinkJournal`, `FileDigestIndex.restamp`) lets the next build, run right after, read none
/// of them — counted from the `openat` calls strace sees — while a same-size edit with its
/// mtime put back is still read and misses. Root with overlay, copy isolation, and an
/// unprivileged user (`SWIFTDOCK_TEST_SUBID_USER`).
final class LinkJournalRebuildTests: XCTestCase {
    static let dockerfile = """
        FROM BASE
        RUN echo before > /before
        COPY tree /opt/tree
        RUN find /opt/tree -type f | wc -l > /count
        COPY app.txt /app/

        """

    /// How to call swiftdock (argv before the subcommand) and the environment to add.
    struct Caller {
        var argv: [String]
        var environment: [String: String]
        var owner: String?
    }

    func testRootOverlay() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        try rebuildReadsNoLinkedFile(Caller(argv: [Harness.binary], environment: ["SWIFTDOCK_HOME": swiftdock.home], owner: nil),
                                     base: "gcr.io/deeplearning-platform-release/base-cpu:latest")
    }

    func testRootCopyIsolation() throws {
        let swiftdock = try Swiftdock()
        try swiftdock.buildBase()
        try rebuildReadsNoLinkedFile(Caller(argv: [Harness.binary], environment: ["SWIFTDOCK_HOME": swiftdock.home,
                                                                                    "SWIFTDOCK_RUN_ISOLATION": "copy"], owner: nil),
                                     base: "gcr.io/deeplearning-platform-release/base-cpu:latest")
    }

    func testUnprivileged() throws {
        let user = try SubordinateUser(environment: [:])
        try user.buildBase()
        try rebuildReadsNoLinkedFile(Caller(argv: ["/usr/bin/setpriv"] + user.prefix, environment: [:], owner: "\(user.uid):\(user.gid)"),
                                     base: "owners-base")
    }

    private func rebuildReadsNoLinkedFile(_ caller: Caller, base: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let context = try Harness.makeTemporaryDirectory("linkjournal")
        defer { try? FileManager.default.removeItem(atPath: context) }
        try Harness.write(Self.dockerfile.replacingOccurrences(of: "BASE", with: base), to: context + "/Dockerfile")
        try Harness.write("app\n", to: context + "/app.txt")
        for d in 0..<3 {
            for f in 0..<12 { try Harness.write("file \(d)/\(f) of the tree\n", to: context + "/tree/d\(d)/f\(f)") }
        }
        if let owner = caller.owner { try Harness.sh("chown -R \(owner) '\(context)' && chmod 755 '\(context)'") }

        func run(_ arguments: [String], traced: Bool = false) throws -> (result: CommandResult, opened: [String]) {
            let log = NSTemporaryDirectory() + "linkjournal-strace-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: log) }
            let argv = caller.argv + arguments
            let result = traced
                ? try Harness.run("/usr/bin/strace", ["-f", "-qq", "-e", "trace=open,openat,openat2", "-o", log] + argv,
                                  environment: caller.environment)
                : try Harness.run(argv[0], Array(argv.dropFirst()), environment: caller.environment)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)", file: file, line: line)
            // Regular files of the tree opened by absolute path (the walk opens directories only).
            let opened = traced
                ? try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
                    .filter { $0.contains("\"\(context)/tree/") && !$0.contains("O_DIRECTORY") }.map(String.init)
                : []
            return (result, opened)
        }
        func cached(_ result: CommandResult) -> [Int] {
            result.stderr.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("#"), line.hasSuffix(" CACHED") else { return nil }
                return Int(line.dropFirst().dropLast(" CACHED".count))
            }
        }
        func digest() throws -> String { try run(["inspect", "-f", "{{.Digest}}", "linked"]).result.stdout }

        let cold = try run(["build", "-t", "linked", context]).result
        XCTAssertEqual(cached(cold), [], cold.stderr, file: file, line: line)
        let coldDigest = try digest()

        let again = try run(["build", "-t", "linked", context], traced: true)
        XCTAssertEqual(cached(again.result), [2, 3, 4, 5], "every step hits", file: file, line: line)
        XCTAssertEqual(again.opened, [], "no file of the COPY read again after our own links", file: file, line: line)
        XCTAssertEqual(try digest(), coldDigest, "the same image", file: file, line: line)

        // Same size, other bytes, mtime put back: only ctime tells, and it must be read.
        let edited = context + "/tree/d1/f5"
        try Harness.sh("cp -p '\(edited)' '\(context)/ref' && printf 'FILE 1/5 OF THE TREE\\n' > '\(edited)' && touch -r '\(context)/ref' '\(edited)' && rm '\(context)/ref'")
        let afterEdit = try run(["build", "-t", "linked", context], traced: true)
        XCTAssertEqual(cached(afterEdit.result), [2], "the edited COPY and everything after it run", file: file, line: line)
        XCTAssertTrue(afterEdit.opened.contains { $0.contains("\"\(edited)\"") }, "the edited file is read: \(afterEdit.opened)",
                      file: file, line: line)
        XCTAssertNotEqual(try digest(), coldDigest, file: file, line: line)
    }
}

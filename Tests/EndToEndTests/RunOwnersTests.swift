import Foundation
import XCTest

/// A rootless RUN (an unprivileged user with subordinate ids, `SWIFTDOCK_TEST_SUBID_USER`)
/// sees the owners the image gives its files, as with docker/BuildKit and rootless buildah:
/// files of base layers (a RUN's chown, a COPY --chown, a name that is not UTF-8), of a COPY
/// --chown in this build and of an earlier RUN's chown; and `USER app` can write in its own
/// home (0755, writable by app only; a directory the real user cannot read at all, 0700, still stops the layer diff, which
/// reads a RUN's output as the real user). Each in overlay and in copy isolation. What such a build leaves (trees owned by
/// subordinate ids) goes with `system prune -a` and with the healing after `kill -9`.
final class RunOwnersTests: XCTestCase {
    static let baseDockerfile = #"""
        FROM scratch
        COPY rootfs/ /
        RUN echo 'app:x:1001:1001::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1001:' >> /etc/group \
            && mkdir -p /home/app /shared && chown 1001:1001 /home/app && chmod 755 /home/app \
            && echo latin1 > "/shared/$(printf 'caf\351')" && chown 42:43 "/shared/$(printf 'caf\351')"
        COPY --chown=7:8 f /copied-in-base

        """#

    static let appDockerfile = #"""
        FROM owners-base
        COPY --chown=42:43 f /f
        RUN mkdir /d && chown 44:45 /d
        RUN stat -c %u:%g /copied-in-base "/shared/$(printf 'caf\351')" /home/app /f /d > /owners.txt
        USER app
        RUN touch /home/app/x && id -u > /home/app/who

        """#

    /// base COPY --chown, base RUN chown (non-UTF-8 name), base RUN chown (app's home), this
    /// build's COPY --chown, this build's earlier RUN chown.
    static let expectedOwners = "7:8\n42:43\n1001:1001\n42:43\n44:45\n"

    func testOwnersInOverlayIsolation() throws {
        try ownersAreTheImages(isolation: "overlay")
    }

    func testOwnersInCopyIsolation() throws {
        try ownersAreTheImages(isolation: "copy")
    }

    private func ownersAreTheImages(isolation: String) throws {
        let user = try SubordinateUser(environment: ["SWIFTDOCK_RUN_ISOLATION": isolation])
        try user.buildBase()
        try user.ok("build", "-t", "owners-app", user.context(Self.appDockerfile))
        XCTAssertEqual(try user.ok("run", "owners-app", "cat", "/owners.txt").stdout, Self.expectedOwners, isolation)
        XCTAssertEqual(try user.ok("run", "owners-app", "cat", "/home/app/who").stdout, "1001\n", isolation)
        // `swiftdock run` sees them too.
        XCTAssertEqual(try user.ok("run", "owners-app", "stat", "-c", "%u:%g", "/copied-in-base", "/home/app", "/f").stdout,
                       "7:8\n1001:1001\n42:43\n", isolation)
        // The build's temp trees (owned by subordinate ids) went with it.
        XCTAssertEqual(try user.leftovers(in: "tmp"), "", isolation)
        // A second build over the same cached base, and the step cache: the same owners.
        try user.ok("build", "--no-cache", "-t", "owners-again", user.context(Self.appDockerfile))
        XCTAssertEqual(try user.ok("run", "owners-again", "cat", "/owners.txt").stdout, Self.expectedOwners, isolation)

        // system prune -a as that user removes the cached root file systems, whoever owns their files.
        try user.ok("rmi", "owners-app", "owners-again", "owners-base")
        try user.ok("system", "prune", "-a", "-f")
        XCTAssertEqual(try user.leftovers(in: "cache/rootfs"), "")
        XCTAssertEqual(try user.leftovers(in: "tmp"), "")
        XCTAssertEqual(try user.notOwnedByTheUser(), "", "prune leaves no file owned by a subordinate id")
    }

    /// A build killed while a RUN runs leaves trees owned by subordinate ids in the store's
    /// tmp/ (the COPY --chown layer under the RUN, the RUN's own upper dir); the next command
    /// heals them.
    func testKilledBuildLeftoversAreHealed() throws {
        let user = try SubordinateUser(environment: [:])
        try user.buildBase()
        let context = try user.context("""
            FROM owners-base
            COPY --chown=42:43 dir/ /x/
            RUN mkdir -p /y/z && touch /y/z/f && chown -R 44:45 /y && chmod 555 /y && touch /started && sleep 60

            """)
        try Harness.sh("mkdir -p '\(context)/dir/sub' && echo a > '\(context)/dir/sub/a' && chown -R \(user.uid):\(user.gid) '\(context)/dir'")
        let script = """
            \(user.command(["build", "-t", "killed", context])) >/dev/null 2>&1 & pid=$!
            for i in $(seq 1 600); do
              find '\(user.store)/tmp' -name started 2>/dev/null | grep -q . && break
              sleep 0.1
            done
            find '\(user.store)/tmp' -uid +\(user.uid) 2>/dev/null | grep -q . && echo subordinate-owned
            kill -9 $pid; wait $pid; echo "status=$?"
            """
        let outcome = try Harness.sh(script)
        XCTAssertTrue(outcome.contains("subordinate-owned"), "the killed build had left trees owned by subordinate ids: \(outcome)")
        XCTAssertTrue(outcome.contains("status=137"), outcome)
        try user.ok("images")
        XCTAssertEqual(try user.leftovers(in: "tmp"), "", "the next command removed the killed build's temp trees")
        XCTAssertEqual(try user.notOwnedByTheUser(in: "tmp"), "")
    }
}

/// `SWIFTDOCK_TEST_SUBID_USER` (scripts/test.sh gives it /etc/subuid and /etc/subgid ranges)
/// with a home, a store and contexts of its own; swiftdock runs as it through setpriv.
struct SubordinateUser {
    let uid: String
    let gid: String
    let home: String
    var store: String { home + "/store" }
    let environment: [String: String]

    init(environment: [String: String]) throws {
        guard getuid() == 0 else { throw XCTSkip("runs the unprivileged case by switching from root") }
        guard let name = ProcessInfo.processInfo.environment["SWIFTDOCK_TEST_SUBID_USER"] else {
            throw XCTSkip("SWIFTDOCK_TEST_SUBID_USER is not set (scripts/test.sh sets it up)")
        }
        _ = try Swiftdock()
        let ids = try Harness.run("/bin/sh", ["-c", "id -u \(name) && id -g \(name)"]).stdout.split(separator: "\n").map(String.init)
        guard ids.count == 2 else { throw XCTSkip("no user \(name)") }
        uid = ids[0]
        gid = ids[1]
        home = try Harness.makeTemporaryDirectory("owners-home")
        self.environment = environment
        try Harness.sh("chown \(uid):\(gid) '\(home)' && chmod 755 '\(home)'")
        let binary = Harness.binary
        try Harness.sh("d='\(binary)'; chmod o+rx \"$d\"; while [ \"$d\" != / ]; do d=$(dirname \"$d\"); chmod o+x \"$d\" 2>/dev/null || true; done")
    }

    /// A context of the user's holding the busybox root file system, a file `f` and `dockerfile`.
    func context(_ dockerfile: String) throws -> String {
        let context = try Harness.makeTemporaryDirectory("owners-context")
        let rootfs = Harness.packageRoot.appendingPathComponent("Fixtures/base/rootfs").path
        if !FileManager.default.fileExists(atPath: rootfs + "/bin/busybox") {
            try Harness.sh("bash '\(Harness.packageRoot.path)/Fixtures/base/make-rootfs.sh' >/dev/null")
        }
        try Harness.write(dockerfile, to: context + "/Dockerfile")
        try Harness.write("content\n", to: context + "/f")
        try Harness.sh("cp -a '\(rootfs)' '\(context)/rootfs' && chown -R \(uid):\(gid) '\(context)' && chmod 755 '\(context)'")
        return context
    }

    /// `owners-base`: base layers whose files belong to other users than root.
    func buildBase() throws {
        try ok("build", "-t", "owners-base", context(RunOwnersTests.baseDockerfile))
    }

    var prefix: [String] {
        ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "env", "HOME=\(home)", "TMPDIR=\(home)", "SWIFTDOCK_HOME=\(store)"]
            + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } + [Harness.binary]
    }

    /// The shell command running swiftdock with `arguments` as the user.
    func command(_ arguments: [String]) -> String {
        (["/usr/bin/setpriv"] + prefix + arguments).map { "'\($0)'" }.joined(separator: " ")
    }

    @discardableResult
    func ok(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        let result = try Harness.run("/usr/bin/setpriv", prefix + arguments)
        XCTAssertEqual(result.status, 0, "swiftdock \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    /// What is left in a directory of the store (names, one a line).
    func leftovers(in directory: String) throws -> String {
        try Harness.sh("ls -A '\(store)/\(directory)' 2>/dev/null || true")
    }

    /// Paths below the store (or one of its directories) that are not the user's own.
    func notOwnedByTheUser(in directory: String = "") throws -> String {
        try Harness.sh("find '\(store)/\(directory)' ! -uid \(uid) 2>/dev/null | head -5")
    }
}

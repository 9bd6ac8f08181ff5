import Foundation
import XCTest

/// docker's exit codes for `run` and RUN, progress lines and errors that read like the user's
/// Dockerfile, `version`, and shell completion.
final class DockerHabitsTests: XCTestCase {
    var swiftdock: Swiftdock!
    var context: String!

    override func setUpWithError() throws {
        swiftdock = try Swiftdock()
        context = try Harness.makeTemporaryDirectory("habits")
    }

    func testRunExitCodesAreDockers() throws {
        try swiftdock.buildBase()
        let base = "gcr.io/deeplearning-platform-release/base-cpu:latest"
        let cases: [([String], Int32, String?)] = [
            (["run", base, "sh", "-c", "exit 3"], 3, nil),
            (["run", base, "nosuchcmd"], 127, "nosuchcmd"),
            (["run", base, "/no/such/path"], 127, "/no/such/path"),
            (["run", base, "/etc/passwd"], 126, "/etc/passwd"),
            (["run", "sha256:" + String(repeating: "0", count: 64)], 125, "image not found"),
            (["run", "--network", "bogus", base, "true"], 125, "--network"),
        ]
        for (arguments, status, message) in cases {
            let result = try swiftdock.run(arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)")
            if let message {
                XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
                XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            }
        }
    }

    /// RUN and `run` resolve the process the same way, by docker's rules (ProcessModel): a USER
    /// name brings the groups that list it; `-u uid:gid` none; HOME from passwd, else `/`; `-e K`
    /// takes this process's K; `--entrypoint ""` drops CMD; `-w` must be absolute.
    /// (`id -G` lists the primary group, then the rest as the kernel keeps them: sorted.)
    func testRunAndRunStepShareDockersProcessRules() throws {
        try swiftdock.buildBase()
        try Harness.write("""
        FROM gcr.io/deeplearning-platform-release/base-cpu:latest
        RUN echo "docker:x:999:jupyter,other" >> /etc/group && echo "staff:x:50:jupyter" >> /etc/group
        USER jupyter
        RUN echo "$(id -u) $(id -g) $(id -G) $HOME" > /tmp/as-jupyter
        USER 4242
        RUN echo "$(id -u) $(id -g) $(id -G) $HOME" > /tmp/as-4242
        USER root
        CMD ["echo", "from-cmd"]
        """, to: context + "/Dockerfile")
        try swiftdock.ok("build", "-t", "procrules", context)
        let cases: [(arguments: [String], status: Int32, stdout: String)] = [
            (["procrules", "cat", "/tmp/as-jupyter", "/tmp/as-4242"], 0, "1000 100 100 50 999 /home/jupyter\n4242 0 0 /\n"),
            (["-u", "jupyter", "procrules", "sh", "-c", "echo $(id -u) $(id -g) $(id -G) $HOME"], 0, "1000 100 100 50 999 /home/jupyter\n"),
            (["-u", "1000:50", "procrules", "sh", "-c", "echo $(id -G) $HOME"], 0, "50 /home/jupyter\n"),
            (["-u", "jupyter:staff", "procrules", "id", "-G"], 0, "50\n"),
            (["-e", "FROM_HOST", "-e", "SET=v", "procrules", "sh", "-c", "echo $FROM_HOST $SET"], 0, "host-value v\n"),
            (["-w", "/srv/../opt/app", "procrules", "pwd"], 0, "/opt/app\n"),
            (["procrules"], 0, "from-cmd\n"),
            (["procrules", "sh", "-c", "test \"$HOSTNAME\" = \"$(hostname)\" && echo same"], 0, "same\n"),
            (["--entrypoint", "echo", "procrules"], 0, "\n"),
            (["-t", "procrules", "sh", "-c", "echo ${TERM-unset}"], 0, "xterm\n"),
            (["-t", "-e", "TERM=dumb", "procrules", "sh", "-c", "echo ${TERM-unset}"], 0, "dumb\n"),
            (["procrules", "sh", "-c", "echo ${TERM-unset}"], 0, "unset\n"),
            (["--entrypoint", "", "procrules", "echo", "given"], 0, "given\n"),
            (["--entrypoint", "", "procrules"], 125, ""),
            (["-w", "relative", "procrules", "pwd"], 125, ""),
            (["-u", "ghost", "procrules", "true"], 125, ""),
            (["-e", "=x", "procrules", "true"], 125, ""),
        ]
        for c in cases {
            let result = try swiftdock.run(["run"] + c.arguments, environment: ["FROM_HOST": "host-value"])
            XCTAssertEqual(result.status, c.status, "\(c.arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, c.stdout, "\(c.arguments): \(result.stderr)")
            if c.status != 0 { XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr) }
        }
    }

    func testRunStepFailuresNameTheExitCode() throws {
        try swiftdock.buildBase()
        let cases: [(String, String)] = [
            ("RUN nosuchcmd", #"process "/bin/sh -c nosuchcmd" did not complete successfully: exit code: 127"#),
            (#"RUN ["/no/such/tool"]"#, #"process "/no/such/tool" did not complete successfully: exit code: 127"#),
            (#"RUN ["/etc/passwd"]"#, #"process "/etc/passwd" did not complete successfully: exit code: 126"#),
        ]
        for (line, message) in cases {
            try Harness.write("FROM gcr.io/deeplearning-platform-release/base-cpu:latest\n\(line)\n", to: context + "/Dockerfile")
            let result = try swiftdock("build", "-t", "fails", context)
            XCTAssertEqual(result.status, 1, line)
            let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
            XCTAssertTrue(last.hasPrefix("Error: ") && last.contains(message), "\(line): \(last)")
        }
    }

    func testProgressShowsExpandedFromLinesAndTargetErrorsListStages() throws {
        try swiftdock.buildBase()
        try Harness.write("""
        ARG BASE=gcr.io/deeplearning-platform-release/base-cpu:latest
        FROM ${BASE} AS builder
        LABEL stage=builder
        FROM builder AS final
        LABEL stage=final
        """, to: context + "/Dockerfile")
        let build = try swiftdock.ok("build", "--run", "record", "-t", "staged", context)
        XCTAssertTrue(build.stderr.contains("[builder 1/4] FROM gcr.io/deeplearning-platform-release/base-cpu:latest AS builder\n"), build.stderr)
        XCTAssertTrue(build.stderr.contains("[final 3/4] FROM builder AS final\n"), build.stderr)
        XCTAssertFalse(build.stderr.contains("${BASE}"), build.stderr)

        let before = try swiftdock.fingerprint()
        let target = try swiftdock("build", "--target", "nosuch", "-t", "x", context)
        XCTAssertEqual(target.status, 1)
        XCTAssertEqual(target.stderr, "Error: target stage \"nosuch\" could not be found; stages: builder, final\n")
        XCTAssertEqual(try swiftdock.fingerprint(), before)
    }

    func testVersionNamesTheCommitItWasBuiltFrom() throws {
        let version = try swiftdock.ok("--version").stdout
        XCTAssertTrue(version.hasPrefix("swiftdock version "), version)
        let commit = try swiftdock.ok("version").stdout
        XCTAssertTrue(commit.contains("Version:    "), commit)
        let log = try Harness.run("/usr/bin/git", ["-C", Harness.packageRoot.path, "log", "-n", "50", "--format=%H"])
        guard log.status == 0 else { throw XCTSkip("not a git checkout: the commit reads unknown") }
        let built = commit.split(separator: "\n").first { $0.hasPrefix("Git commit: ") }.map { String($0.dropFirst("Git commit: ".count)) } ?? ""
        XCTAssertTrue(built.range(of: "^[0-9a-f]{12}(-dirty)?$", options: .regularExpression) != nil, commit)
        XCTAssertTrue(version.contains(", build \(built)"), version)
        // Built from this checkout: one of its recent commits (the binary may predate the last one).
        let sha = String(built.prefix(12))
        XCTAssertTrue(log.stdout.split(separator: "\n").contains { $0.hasPrefix(sha) }, "\(sha) is not a commit of this checkout")
    }

    func testCompletionScripts() throws {
        let cases: [(String, String)] = [("bash", "-F _swiftdock swiftdock"), ("zsh", "#compdef swiftdock"), ("fish", "complete -c 'swiftdock'")]
        for (shell, marker) in cases {
            let script = try swiftdock.ok("--generate-completion-script", shell).stdout
            XCTAssertTrue(script.contains(marker), "\(shell): \(script.prefix(200))")
            XCTAssertTrue(script.contains("inspect") && script.contains("--remote"), "\(shell) completes subcommands and their flags")
        }
        let bad = try swiftdock("--generate-completion-script", "tcsh")
        XCTAssertNotEqual(bad.status, 0)
    }
}

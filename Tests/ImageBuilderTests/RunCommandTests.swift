import DockerfileSyntax
import XCTest
@testable import ImageBuilder

final class RunCommandTests: XCTestCase {
    let shell = ["/bin/sh", "-c"]

    func testPlans() {
        let cases: [(RunInstruction, RunCommand.Plan)] = [
            (RunInstruction(flags: [], command: .shell("mkdir -p /Sourcecode"), heredocs: []),
             .init(argv: ["/bin/sh", "-c", "mkdir -p /Sourcecode"], script: nil)),
            (RunInstruction(flags: [], command: .exec(["/bin/echo", "hi"]), heredocs: []),
             .init(argv: ["/bin/echo", "hi"], script: nil)),
            (RunInstruction(flags: [], command: .shell("<<EOF"), heredocs: [Heredoc(name: "EOF", content: "echo a\necho b\n", expand: true)]),
             .init(argv: ["/bin/sh", "-c", "echo a\necho b\n"], script: nil)),
            (RunInstruction(flags: [], command: .shell("<<'EOF'"), heredocs: [Heredoc(name: "EOF", content: "#!/usr/bin/env python3\nprint(1)\n", expand: false)]),
             .init(argv: ["/.swiftdock-run-script"], script: "#!/usr/bin/env python3\nprint(1)\n")),
            (RunInstruction(flags: [], command: .shell("cat <<EOF > /x"), heredocs: [Heredoc(name: "EOF", content: "hello\n", expand: true)]),
             .init(argv: ["/bin/sh", "-c", "cat <<EOF > /x\nhello\nEOF\n"], script: nil)),
            (RunInstruction(flags: [], command: .shell("cat <<A <<B"), heredocs: [Heredoc(name: "A", content: "1\n", expand: true),
                                                                              Heredoc(name: "B", content: "2\n", expand: true)]),
             .init(argv: ["/bin/sh", "-c", "cat <<A <<B\n1\nA\n2\nB\n"], script: nil)),
        ]
        for (run, expected) in cases {
            XCTAssertEqual(RunCommand.plan(run, shell: shell), expected, "\(run.command)")
        }
    }

    func testMounts() throws {
        let cases: [(String, RunMount)] = [
            ("type=cache,target=/root/.cache/pip", RunMount(kind: .cache, target: "/root/.cache/pip", source: nil, from: nil, readOnly: false, id: nil)),
            ("type=cache,target=/c,id=pip,ro", RunMount(kind: .cache, target: "/c", source: nil, from: nil, readOnly: true, id: "pip")),
            ("type=bind,source=req.txt,target=/tmp/req.txt", RunMount(kind: .bind, target: "/tmp/req.txt", source: "req.txt", from: nil, readOnly: true, id: nil)),
            ("target=/src,from=build,rw", RunMount(kind: .bind, target: "/src", source: nil, from: "build", readOnly: false, id: nil)),
            ("type=tmpfs,dst=/scratch", RunMount(kind: .tmpfs, target: "/scratch", source: nil, from: nil, readOnly: false, id: nil)),
        ]
        for (text, expected) in cases { XCTAssertEqual(try RunMount.parse(text), expected, text) }
        for bad in ["type=nfs,target=/x", "type=cache", "type=secret"] {
            XCTAssertThrowsError(try RunMount.parse(bad), bad)
        }
    }
}

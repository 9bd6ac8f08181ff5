import XCTest
@testable import DockerfileSyntax

final class HeredocTests: XCTestCase {
    func testRunHeredocs() throws {
        let cases: [(String, CommandForm, [Heredoc])] = [
            ("RUN <<EOF\necho $HOME\nEOF\n", .shell("<<EOF"), [Heredoc(name: "EOF", content: "echo $HOME\n", expand: true)]),
            ("RUN python3 <<'PY'\nprint(1)\nPY\n", .shell("python3 <<'PY'"), [Heredoc(name: "PY", content: "print(1)\n", expand: false)]),
            ("RUN cat <<\"A\"\nx\nA\n", .shell("cat <<\"A\""), [Heredoc(name: "A", content: "x\n", expand: false)]),
            ("RUN <<-EOT\n\t\techo tab\n\tEOT\n", .shell("<<-EOT"), [Heredoc(name: "EOT", content: "echo tab\n", expand: true)]),
            ("RUN <<EOT\n\techo tab\n\tEOT\nEOT\n", .shell("<<EOT"), [Heredoc(name: "EOT", content: "\techo tab\n\tEOT\n", expand: true)]),
            ("RUN cat <<A 3<<B > /out\na\nA\nb1\nb2\nB\n", .shell("cat <<A 3<<B > /out"),
             [Heredoc(name: "A", content: "a\n", expand: true), Heredoc(name: "B", content: "b1\nb2\n", expand: true, fileDescriptor: 3)]),
            ("RUN <<EOF\nEOF\n", .shell("<<EOF"), [Heredoc(name: "EOF", content: "", expand: true)]),
            ("RUN echo a<<b\n", .shell("echo a<<b"), []),
            ("RUN echo '<<EOF'\n", .shell("echo '<<EOF'"), []),
            ("RUN [\"cat\", \"<<EOF\"]\n", .exec(["cat", "<<EOF"]), []),
        ]
        for (body, command, heredocs) in cases {
            let file = try parse("FROM x\n" + body)
            XCTAssertEqual(file.stages[0].instructions.count, 1, body)
            XCTAssertEqual(file.stages[0].instructions[0].kind, .run(RunInstruction(flags: [], command: command, heredocs: heredocs)), body)
        }
    }

    func testHeredocLocationsAndOriginal() throws {
        let file = try parse("FROM x\nRUN <<EOF\na\nb\nEOF\nRUN next\n")
        let instructions = file.stages[0].instructions
        XCTAssertEqual(instructions[0].original, "RUN <<EOF")
        XCTAssertEqual(instructions[0].location, SourceLocation(file: "Dockerfile", line: 2, endLine: 5))
        XCTAssertEqual(instructions[1].location, SourceLocation(file: "Dockerfile", line: 6))
    }

    func testCopyHeredocs() throws {
        let file = try parse("FROM x\nCOPY --chmod=755 <<-EOF <<'RAW' /dst/\n\t#!/bin/sh\n\techo $A\n\tEOF\n$B\nRAW\n")
        XCTAssertEqual(file.stages[0].instructions[0].kind, .copy(CopyInstruction(
            sources: ["<<EOF", "<<RAW"], destination: "/dst/",
            heredocs: [Heredoc(name: "EOF", content: "#!/bin/sh\necho $A\n", expand: true), Heredoc(name: "RAW", content: "$B\n", expand: false)],
            chmod: "755")))
        let add = try parse("FROM x\nADD <<EOF /f\nhi\nEOF\n")
        XCTAssertEqual(add.stages[0].instructions[0].kind, .add(CopyInstruction(
            sources: ["<<EOF"], destination: "/f", heredocs: [Heredoc(name: "EOF", content: "hi\n", expand: true)])))
    }

    func testOnbuildHeredoc() throws {
        let file = try parse("FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\n")
        XCTAssertEqual(file.stages[0].instructions[0].kind, .onbuild("RUN <<EOF\necho hi\nEOF"))
        XCTAssertEqual(file.stages[0].instructions[0].location.endLine, 4)
    }

    func testHeredocsNotForOtherInstructions() throws {
        XCTAssertEqual(try kinds("ENV a=<<EOF\nRUN b\n"),
                       [.env([KeyValue(key: "a", value: "<<EOF")]), .run(RunInstruction(flags: [], command: .shell("b"), heredocs: []))])
    }
}

import XCTest
@testable import DockerfileSyntax

func parse(_ text: String) throws -> Dockerfile { try DockerfileParser.parse(text) }

/// The kinds of the instructions in the first stage of `FROM x` + `body`.
func kinds(_ body: String) throws -> [InstructionKind] {
    try parse("FROM x\n" + body).stages[0].instructions.map(\.kind)
}

func kind(_ body: String) throws -> InstructionKind {
    let all = try kinds(body)
    guard all.count == 1 else { throw DockerfileError(SourceLocation(file: "test", line: 0), nil, "\(all.count) instructions") }
    return all[0]
}

final class ParserTests: XCTestCase {
    func testTutorialDockerfile() throws {
        let file = try parse("""
            FROM gcr.io/deeplearning-platform-release/base-cpu:latest
            RUN mkdir -p /Sourcecode
            COPY /Sourcecode /Sourcecode

            """)
        XCTAssertEqual(file.stages.count, 1)
        XCTAssertEqual(file.globalArgs, [])
        XCTAssertEqual(file.warnings, [])
        let stage = file.stages[0]
        XCTAssertEqual(stage.index, 0)
        XCTAssertNil(stage.name)
        XCTAssertEqual(stage.baseName, "gcr.io/deeplearning-platform-release/base-cpu:latest")
        XCTAssertEqual(stage.location, SourceLocation(file: "Dockerfile", line: 1))
        XCTAssertEqual(stage.instructions, [
            Instruction(location: SourceLocation(file: "Dockerfile", line: 2), keyword: "RUN", original: "RUN mkdir -p /Sourcecode",
                        kind: .run(RunInstruction(flags: [], command: .shell("mkdir -p /Sourcecode"), heredocs: []))),
            Instruction(location: SourceLocation(file: "Dockerfile", line: 3), keyword: "COPY", original: "COPY /Sourcecode /Sourcecode",
                        kind: .copy(CopyInstruction(sources: ["/Sourcecode"], destination: "/Sourcecode"))),
        ])
    }

    func testDirectives() throws {
        let cases: [(String, Character, String?, String?)] = [
            ("# escape=`\nFROM x\n", "`", nil, nil),
            ("#ESCAPE = \\\nFROM x\n", "\\", nil, nil),
            ("# syntax=docker/dockerfile:1\n# check=skip=JSONArgsRecommended\nFROM x\n", "\\", "docker/dockerfile:1", "skip=JSONArgsRecommended"),
            ("  # Syntax = a  \nFROM x\n", "\\", "a", nil),
            ("# comment\n# escape=`\nFROM x\n", "\\", nil, nil),          // after a comment: not a directive
            ("\n# escape=`\nFROM x\n", "\\", nil, nil),                   // after a blank line
            ("# unknown=1\n# escape=`\nFROM x\n", "\\", nil, nil),        // unknown key ends scanning
            ("FROM x\n# escape=`\n", "\\", nil, nil),                     // after an instruction
            ("\u{FEFF}# escape=`\nFROM x\n", "`", nil, nil),              // BOM stripped
        ]
        for (text, escape, syntax, check) in cases {
            let file = try parse(text)
            XCTAssertEqual(file.directives.escape, escape, text)
            XCTAssertEqual(file.directives.syntax, syntax, text)
            XCTAssertEqual(file.directives.check, check, text)
        }
    }

    func testBacktickEscapeContinuation() throws {
        let file = try parse("# escape=`\nFROM x\nRUN echo a `\n  b\nCOPY C:\\src C:\\dst\n")
        XCTAssertEqual(file.stages[0].instructions.map(\.kind), [
            .run(RunInstruction(flags: [], command: .shell("echo a   b"), heredocs: [])),
            .copy(CopyInstruction(sources: ["C:\\src"], destination: "C:\\dst")),
        ])
    }

    func testContinuationsAndComments() throws {
        let file = try parse("""
              # leading comment with whitespace
            \u{20}\u{20}FROM x AS Build
            RUN apt-get update && \\
            # inner comment
              # indented inner comment
                apt-get install -y a \\ \t
                b
            RUN echo \\

                done
            RUN echo #not a comment
            RUN a \\
            """)
        let stage = file.stages[0]
        XCTAssertEqual(stage.name, "build")
        XCTAssertEqual(stage.original, "FROM x AS Build")
        let instructions = stage.instructions
        XCTAssertEqual(instructions[0].original, "RUN apt-get update &&     apt-get install -y a     b")
        XCTAssertEqual(instructions[0].location, SourceLocation(file: "Dockerfile", line: 3, endLine: 7))
        XCTAssertEqual(instructions[1].original, "RUN echo     done")
        XCTAssertEqual(instructions[1].location, SourceLocation(file: "Dockerfile", line: 8, endLine: 10))
        XCTAssertEqual(instructions[2].kind, .run(RunInstruction(flags: [], command: .shell("echo #not a comment"), heredocs: [])))
        XCTAssertEqual(instructions[3].original, "RUN a ")
        XCTAssertEqual(file.warnings, [
            DockerfileWarning(SourceLocation(file: "Dockerfile", line: 2), rule: "StageNameCasing", "Stage name 'Build' should be lowercase"),
            DockerfileWarning(SourceLocation(file: "Dockerfile", line: 8, endLine: 10), rule: "EmptyContinuationLine",
                              "Empty continuation line found in: RUN echo     done"),
        ])
    }

    func testCRLFAndKeywordCase() throws {
        let file = try parse("from x\r\nrun echo hi\r\nCoPy a b\r\n")
        XCTAssertEqual(file.stages[0].instructions.map(\.keyword), ["RUN", "COPY"])
        XCTAssertEqual(file.stages[0].instructions[0].kind, .run(RunInstruction(flags: [], command: .shell("echo hi"), heredocs: [])))
    }

    func testGlobalArgsAndStages() throws {
        let file = try parse("""
            ARG BASE=alpine
            ARG A B=2
            FROM --platform=$BUILDPLATFORM ${BASE} as builder
            RUN true
            FROM scratch
            COPY --from=builder /a /b
            """)
        XCTAssertEqual(file.globalArgs.map(\.kind), [
            .arg([ArgDeclaration(name: "BASE", defaultValue: "alpine")]),
            .arg([ArgDeclaration(name: "A", defaultValue: nil), ArgDeclaration(name: "B", defaultValue: "2")]),
        ])
        XCTAssertEqual(file.stages.map(\.name), ["builder", nil])
        XCTAssertEqual(file.stages.map(\.baseName), ["${BASE}", "scratch"])
        XCTAssertEqual(file.stages.map(\.platform), ["$BUILDPLATFORM", nil])
        XCTAssertEqual(file.stages.map(\.index), [0, 1])
        XCTAssertEqual(file.stages[1].instructions.count, 1)
    }

    func testCommandForms() throws {
        let cases: [(String, InstructionKind)] = [
            ("RUN echo hi", .run(RunInstruction(flags: [], command: .shell("echo hi"), heredocs: []))),
            ("RUN [\"echo\", \"hi there\"]", .run(RunInstruction(flags: [], command: .exec(["echo", "hi there"]), heredocs: []))),
            ("RUN [\"echo\", \"hi\"", .run(RunInstruction(flags: [], command: .shell("[\"echo\", \"hi\""), heredocs: []))),
            ("RUN [ 'single' ]", .run(RunInstruction(flags: [], command: .shell("[ 'single' ]"), heredocs: []))),
            ("RUN []", .run(RunInstruction(flags: [], command: .exec([]), heredocs: []))),
            ("CMD [\"a\"]", .cmd(.exec(["a"]))),
            ("CMD", .cmd(.shell(""))),
            ("ENTRYPOINT [\"/bin/sh\", \"-c\"]", .entrypoint(.exec(["/bin/sh", "-c"]))),
            ("SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]", .shell(["/bin/bash", "-o", "pipefail", "-c"])),
            ("RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure --device=/dev/x go build",
             .run(RunInstruction(flags: [Flag(name: "mount", value: "type=cache,target=/root/.cache"), Flag(name: "network", value: "none"),
                                         Flag(name: "security", value: "insecure"), Flag(name: "device", value: "/dev/x")],
                                 command: .shell("go build"), heredocs: []))),
            ("RUN --mount=\"type=bind,source=$SRC\" -- --not-a-flag",
             .run(RunInstruction(flags: [Flag(name: "mount", value: "type=bind,source=$SRC")], command: .shell("--not-a-flag"), heredocs: []))),
        ]
        for (line, expected) in cases { XCTAssertEqual(try kind(line), expected, line) }
    }

    func testJSONArgsRecommended() throws {
        let file = try parse("FROM x\nCMD echo hi\nENTRYPOINT run it\nCMD [\"ok\"]\n")
        XCTAssertEqual(file.warnings, [
            DockerfileWarning(SourceLocation(file: "Dockerfile", line: 2), rule: "JSONArgsRecommended",
                              "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals"),
            DockerfileWarning(SourceLocation(file: "Dockerfile", line: 3), rule: "JSONArgsRecommended",
                              "JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals"),
        ])
        XCTAssertEqual(try parse("# check=skip=JSONArgsRecommended\nFROM x\nCMD echo hi\n").warnings, [])
        XCTAssertEqual(try parse("# check=skip=all\nFROM x\nMAINTAINER me\n").warnings, [])
    }

    func testKeyValueInstructions() throws {
        let cases: [(String, InstructionKind)] = [
            ("ENV a=1 b=\"v 2\" c='x y' d=e\\ f", .env([KeyValue(key: "a", value: "1"), KeyValue(key: "b", value: "\"v 2\""),
                                                      KeyValue(key: "c", value: "'x y'"), KeyValue(key: "d", value: "e\\ f")])),
            ("ENV PATH /usr/bin:$PATH", .env([KeyValue(key: "PATH", value: "/usr/bin:$PATH")])),
            ("ENV ONE TWO= THREE=world", .env([KeyValue(key: "ONE", value: "TWO= THREE=world")])),
            ("ENV a=", .env([KeyValue(key: "a", value: "")])),
            ("LABEL \"com.example.v\"=\"1 0\" b=c", .label([KeyValue(key: "\"com.example.v\"", value: "\"1 0\""), KeyValue(key: "b", value: "c")])),
            ("LABEL legacy form here", .label([KeyValue(key: "legacy", value: "form here")])),
            ("ARG a", .arg([ArgDeclaration(name: "a", defaultValue: nil)])),
            ("ARG a=b c d=\"e f\"", .arg([ArgDeclaration(name: "a", defaultValue: "b"), ArgDeclaration(name: "c", defaultValue: nil),
                                        ArgDeclaration(name: "d", defaultValue: "\"e f\"")])),
            ("ARG a=", .arg([ArgDeclaration(name: "a", defaultValue: "")])),
        ]
        for (line, expected) in cases { XCTAssertEqual(try kind(line), expected, line) }
    }

    func testSimpleInstructions() throws {
        let cases: [(String, InstructionKind)] = [
            ("EXPOSE 80 443/tcp $PORT", .expose(["80", "443/tcp", "$PORT"])),
            ("VOLUME /a /b", .volume(["/a", "/b"])),
            ("VOLUME [\"/a b\", \"/c\"]", .volume(["/a b", "/c"])),
            ("USER app:app", .user("app:app")),
            ("USER a b", .user("a b")),
            ("WORKDIR /app/$DIR", .workdir("/app/$DIR")),
            ("STOPSIGNAL SIGKILL", .stopSignal("SIGKILL")),
            ("MAINTAINER Jane <j@example.com>", .maintainer("Jane <j@example.com>")),
            ("ONBUILD RUN echo hi", .onbuild("RUN echo hi")),
            ("onbuild   copy a b", .onbuild("copy a b")),
        ]
        for (line, expected) in cases { XCTAssertEqual(try kind(line), expected, line) }
        let file = try parse("FROM x\nMAINTAINER me\n")
        XCTAssertEqual(file.warnings, [DockerfileWarning(SourceLocation(file: "Dockerfile", line: 2), rule: "MaintainerDeprecated",
                                                         "Maintainer instruction is deprecated in favor of using label")])
    }

    func testHealthcheck() throws {
        let cases: [(String, HealthcheckInstruction)] = [
            ("HEALTHCHECK NONE", .none),
            ("HEALTHCHECK none", .none),
            ("HEALTHCHECK CMD curl -f http://localhost/", .check(command: .shell("curl -f http://localhost/"), interval: nil, timeout: nil,
                                                               startPeriod: nil, startInterval: nil, retries: nil)),
            ("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --start-interval=1ms --retries=3 cmd [\"true\"]",
             .check(command: .exec(["true"]), interval: 30_000_000_000, timeout: 90_000_000_000, startPeriod: 500_000_000,
                    startInterval: 1_000_000, retries: 3)),
            ("HEALTHCHECK --interval=0s --retries=0 CMD x", .check(command: .shell("x"), interval: nil, timeout: nil, startPeriod: nil,
                                                                   startInterval: nil, retries: 0)),
        ]
        for (line, expected) in cases { XCTAssertEqual(try kind(line), .healthcheck(expected), line) }
    }

    func testCopyAndAdd() throws {
        let cases: [(String, InstructionKind)] = [
            ("COPY a b /dst/", .copy(CopyInstruction(sources: ["a", "b"], destination: "/dst/"))),
            ("COPY [\"a b\", \"/dst/\"]", .copy(CopyInstruction(sources: ["a b"], destination: "/dst/"))),
            ("COPY --from=build --chown=1:2 --chmod=755 --link --parents --exclude=*.md --exclude=.git src/ /app",
             .copy(CopyInstruction(sources: ["src/"], destination: "/app", from: "build", chown: "1:2", chmod: "755", link: true,
                                   parents: true, excludes: ["*.md", ".git"]))),
            ("COPY --link=false a b", .copy(CopyInstruction(sources: ["a"], destination: "b", link: false))),
            ("COPY --chown=$USER a b", .copy(CopyInstruction(sources: ["a"], destination: "b", chown: "$USER"))),
            ("ADD --checksum=sha256:abc --keep-git-dir=true --unpack=false --chmod=644 https://x/y.tgz /z",
             .add(CopyInstruction(sources: ["https://x/y.tgz"], destination: "/z", chmod: "644", checksum: "sha256:abc",
                                  keepGitDir: true, unpack: false))),
            ("ADD --unpack a.tar /", .add(CopyInstruction(sources: ["a.tar"], destination: "/", unpack: true))),
        ]
        for (line, expected) in cases { XCTAssertEqual(try kind(line), expected, line) }
    }

    func testOriginalAndLocations() throws {
        let file = try parse("FROM x\n\nRUN a \\\n  b\nENV k=v   \n")
        let instructions = file.stages[0].instructions
        XCTAssertEqual(instructions.map(\.original), ["RUN a   b", "ENV k=v   "])
        XCTAssertEqual(instructions.map(\.location.line), [3, 5])
        XCTAssertEqual(instructions.map(\.location.endLine), [4, 5])
    }
}

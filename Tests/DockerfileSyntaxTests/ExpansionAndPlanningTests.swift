import XCTest
@testable import DockerfileSyntax

final class InstructionExpansionTests: XCTestCase {
    let env: [String: String] = ["A": "1", "U": "app", "D": "/data", "P": "80 443", "E": "", "F": "*.md", "S": "build"]

    func expand(_ body: String, escape: Character = "\\") throws -> (InstructionKind, Set<String>) {
        let instruction = try parse("FROM x\n" + body).stages[0].instructions[0]
        let result = try instruction.expanded(escape: escape, lookup: { self.env[$0] })
        return (result.instruction.kind, result.usedNames)
    }

    func testExpandedInstructions() throws {
        let cases: [(String, InstructionKind, Set<String>)] = [
            ("ENV a=1 b=$a", .env([KeyValue(key: "a", value: "1"), KeyValue(key: "b", value: "")]), ["a"]),
            ("ENV k_$A=\"v $A\" q='$A'", .env([KeyValue(key: "k_1", value: "v 1"), KeyValue(key: "q", value: "$A")]), ["A"]),
            ("ENV PATH /bin:$D", .env([KeyValue(key: "PATH", value: "/bin:/data")]), ["D"]),
            ("LABEL \"l $A\"=\"v \\$A\"", .label([KeyValue(key: "l 1", value: "v $A")]), ["A"]),
            ("ARG x=${A}0 y", .arg([ArgDeclaration(name: "x", defaultValue: "10"), ArgDeclaration(name: "y", defaultValue: nil)]), ["A"]),
            ("EXPOSE $P 8080/udp", .expose(["80", "443", "8080/udp"]), ["P"]),
            ("VOLUME $D /x", .volume(["/data", "/x"]), ["D"]),
            ("VOLUME [\"$D/a b\"]", .volume(["/data/a b"]), ["D"]),
            ("USER $U:${G:-$U}", .user("app:app"), ["U", "G"]),
            ("WORKDIR $D/$E", .workdir("/data/"), ["D", "E"]),
            ("STOPSIGNAL SIG${SIG:-TERM}", .stopSignal("SIGTERM"), ["SIG"]),
            ("COPY --from=$S --chown=$U --chmod=${M:-755} --exclude=$F $D/a b$E /dst/$A/",
             .copy(CopyInstruction(sources: ["/data/a", "b"], destination: "/dst/1/", from: "build", chown: "app", chmod: "755",
                                   excludes: ["*.md"])), ["S", "U", "M", "F", "D", "E", "A"]),
            ("ADD --checksum=$E http://x/$A /d", .add(CopyInstruction(sources: ["http://x/1"], destination: "/d", checksum: "")), ["E", "A"]),
            ("RUN --mount=type=bind,from=$S,target=/t echo $A",
             .run(RunInstruction(flags: [Flag(name: "mount", value: "type=bind,from=build,target=/t")], command: .shell("echo $A"), heredocs: [])),
             ["S"]),
            ("CMD echo $A", .cmd(.shell("echo $A")), []),
            ("ENTRYPOINT [\"$A\"]", .entrypoint(.exec(["$A"])), []),
            ("SHELL [\"$A\"]", .shell(["$A"]), []),
            ("ONBUILD RUN $A", .onbuild("RUN $A"), []),
            ("MAINTAINER $A", .maintainer("$A"), []),
            ("HEALTHCHECK CMD $A", .healthcheck(.check(command: .shell("$A"), interval: nil, timeout: nil, startPeriod: nil,
                                                        startInterval: nil, retries: nil)), []),
        ]
        for (body, expected, used) in cases {
            let (kind, names) = try expand(body)
            XCTAssertEqual(kind, expected, body)
            XCTAssertEqual(names, used, body)
        }
    }

    func testHeredocBodies() throws {
        let (kind, used) = try expand("COPY <<EOF <<'RAW' /d\n\"$A\" \\$A ${U}\nEOF\n$A\nRAW\n")
        XCTAssertEqual(kind, .copy(CopyInstruction(sources: ["<<EOF", "<<RAW"], destination: "/d", heredocs: [
            Heredoc(name: "EOF", content: "\"1\" $A app\n", expand: true), Heredoc(name: "RAW", content: "$A\n", expand: false),
        ])))
        XCTAssertEqual(used, ["A", "U"])
        // RUN heredocs are left to the shell.
        let (run, _) = try expand("RUN <<EOF\necho $A\nEOF\n")
        XCTAssertEqual(run, .run(RunInstruction(flags: [], command: .shell("<<EOF"), heredocs: [Heredoc(name: "EOF", content: "echo $A\n", expand: true)])))
    }

    func testBacktickEscapeExpansion() throws {
        let instruction = try parse("# escape=`\nFROM x\nWORKDIR C:\\`$A\n").stages[0].instructions[0]
        XCTAssertEqual(try instruction.expanded(escape: "`", lookup: { self.env[$0] }).instruction.kind, .workdir("C:\\$A"))
    }

    func testExpansionErrors() {
        let cases: [(String, String)] = [
            ("ENV a=${X:?required}", "Dockerfile:2: ENV: failed to process \"${X:?required}\": X: required"),
            ("ENV a=\"${X:?must be set}\"", "Dockerfile:2: ENV: failed to process \"\\\"${X:?must be set}\\\"\": X: must be set"),
            ("COPY \"b c\" /d", "Dockerfile:2: COPY: failed to process \"\\\"b\": unexpected end of statement while looking for matching double-quote"),
            ("WORKDIR ${E:?}", "Dockerfile:2: WORKDIR: failed to process \"${E:?}\": E: is not allowed to be empty"),
            ("COPY a ${D", "Dockerfile:2: COPY: failed to process \"${D\": syntax error: missing '}'"),
            ("EXPOSE \"80", "Dockerfile:2: EXPOSE: failed to process \"\\\"80\": unexpected end of statement while looking for matching double-quote"),
            ("RUN --mount=from=${S:#x} true", "Dockerfile:2: RUN: failed to process \"from=${S:#x}\": unsupported modifier (:#) in substitution"),
        ]
        for (body, message) in cases {
            XCTAssertThrowsError(try expand(body), body) { XCTAssertEqual("\($0)", message, body) }
        }
    }
}

final class StagePlanningTests: XCTestCase {
    let file = """
        ARG BASE=alpine
        ARG TOOLS=tools
        FROM $BASE AS base
        FROM golang AS ${TOOLS}x
        FROM base AS build
        COPY --from=1 /a /a
        FROM scratch AS unused
        FROM build AS final
        RUN --mount=type=cache,from=unused,target=/c true
        COPY --from=$TOOLS /t /t
        COPY --from=docker.io/library/busybox /bin/sh /sh
        """

    func testRequiredStages() throws {
        let dockerfile = try parse(file.replacingOccurrences(of: "${TOOLS}x", with: "tools"))
        XCTAssertEqual(try dockerfile.requiredStages(target: nil, globalArgs: { _ in nil }), [0, 1, 2, 3, 4])
        XCTAssertEqual(try dockerfile.requiredStages(target: "BUILD", globalArgs: { _ in nil }), [0, 1, 2])
        XCTAssertEqual(try dockerfile.requiredStages(target: "unused", globalArgs: { _ in nil }), [3])
        XCTAssertEqual(try dockerfile.requiredStages(target: "tools", globalArgs: { _ in nil }), [1])
        // --build-arg overrides change which stages are referenced.
        XCTAssertEqual(try dockerfile.requiredStages(target: "final", globalArgs: { $0 == "TOOLS" ? "none" : nil }), [0, 1, 2, 3, 4])
    }

    func testFromLaterOrOwnNameIsAnImage() throws {
        let dockerfile = try parse("FROM later AS first\nFROM first AS later\nFROM x AS self\nFROM self AS other\n")
        XCTAssertEqual(try dockerfile.requiredStages(target: "later", globalArgs: { _ in nil }), [0, 1])
        XCTAssertEqual(try dockerfile.requiredStages(target: "first", globalArgs: { _ in nil }), [0])
        XCTAssertEqual(try dockerfile.requiredStages(target: "other", globalArgs: { _ in nil }), [2, 3])
    }

    func testGlobalArgsAndPlatformArgs() throws {
        let dockerfile = try parse("ARG V=1\nARG IMG=base$V\nFROM x AS base1\nFROM x AS base2\nFROM $IMG AS a\nFROM ${TARGETOS} AS b\nFROM $UNDECLARED AS c\n")
        XCTAssertEqual(try dockerfile.requiredStages(target: "a", globalArgs: { _ in nil }), [0, 2])
        XCTAssertEqual(try dockerfile.requiredStages(target: "a", globalArgs: { $0 == "V" ? "2" : nil }), [1, 2])
        XCTAssertEqual(try dockerfile.requiredStages(target: "a", globalArgs: { $0 == "IMG" ? "base2" : nil }), [1, 2])
        XCTAssertEqual(try dockerfile.requiredStages(target: "b", globalArgs: { $0 == "TARGETOS" ? "base1" : nil }), [0, 3])
        XCTAssertThrowsError(try dockerfile.requiredStages(target: "c", globalArgs: { _ in "base1" })) {
            XCTAssertEqual("\($0)", "Dockerfile:7: FROM: base name ($UNDECLARED) should not be blank")
        }
    }

    func testPlanningErrors() throws {
        let cases: [(String, String?, String)] = [
            ("FROM x AS a\n", "nope", "target stage \"nope\" could not be found; stages: a"),
            ("FROM x AS a\nFROM y AS b\n", "0", "target stage \"0\" could not be found; stages: a, b"),
            ("FROM x\n", "a", "target stage \"a\" could not be found; the Dockerfile names no stage (name one with FROM … AS NAME)"),
            ("FROM $NONE\n", nil, "Dockerfile:1: FROM: base name ($NONE) should not be blank"),
            ("FROM ${A:?nobase}\n", nil, "Dockerfile:1: FROM: failed to process \"${A:?nobase}\": A: nobase"),
            ("ARG A=${B:?}\nFROM x\n", nil, "Dockerfile:1: ARG: failed to process \"${B:?}\": B: is not allowed to be unset"),
            ("FROM x\nCOPY --from=${Z:?} a b\n", nil, "Dockerfile:2: COPY: failed to process \"${Z:?}\": Z: is not allowed to be unset"),
            ("FROM x AS a\nCOPY --from=a / /\n", nil, "Dockerfile:1: circular dependency detected on stage: a"),
            ("FROM x AS a\nCOPY --from=b / /\nFROM x AS b\nCOPY --from=a / /\n", nil, "Dockerfile:3: circular dependency detected on stage: b"),
            ("FROM x\nRUN --mount=from=1 true\nFROM x\nCOPY --from=0 / /\n", nil, "Dockerfile:3: circular dependency detected on stage: 1"),
        ]
        for (text, target, message) in cases {
            let dockerfile = try parse(text)
            XCTAssertThrowsError(try dockerfile.requiredStages(target: target, globalArgs: { _ in nil }), text) {
                XCTAssertEqual("\($0)", message, text)
            }
        }
    }

    func testStageIndex() throws {
        let dockerfile = try parse(file.replacingOccurrences(of: "${TOOLS}x", with: "tools"))
        XCTAssertEqual(dockerfile.stageIndex(named: "BASE"), 0)
        XCTAssertEqual(dockerfile.stageIndex(named: "final"), 4)
        XCTAssertEqual(dockerfile.stageIndex(named: "2"), 2)
        XCTAssertNil(dockerfile.stageIndex(named: "5"))
        XCTAssertNil(dockerfile.stageIndex(named: "-1"))
        XCTAssertNil(dockerfile.stageIndex(named: "alpine"))
    }

    func testAutomaticArgs() {
        XCTAssertEqual(Dockerfile.automaticPlatformArgs(buildOS: "linux", buildArch: "amd64", buildVariant: nil,
                                                        targetOS: "linux", targetArch: "arm", targetVariant: "v7"), [
            "BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
            "TARGETPLATFORM": "linux/arm/v7", "TARGETOS": "linux", "TARGETARCH": "arm", "TARGETVARIANT": "v7",
        ])
        XCTAssertEqual(Dockerfile.proxyArgNames.count, 10)
        XCTAssertTrue(Dockerfile.proxyArgNames.contains("no_proxy"))
    }
}

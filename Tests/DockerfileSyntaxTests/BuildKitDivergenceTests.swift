import XCTest
@testable import DockerfileSyntax

/// Places where the parser once differed from BuildKit, or crashed (issue 10).
final class BuildKitDivergenceTests: XCTestCase {
    /// BuildKit: a final escape continues the line only when the character before it is not the
    /// escape character too (its `lineContinuationRegex`).
    func testEscapedEscapeAtLineEndIsNotAContinuation() throws {
        let cases: [(String, Int, String)] = [
            // Dockerfile body, instructions in the stage, keyword sequence
            ("ENV A hello\\\\\nRUN true\n", 2, "ENV RUN"),
            ("ENV A hello\\\\  \t\nRUN true\n", 2, "ENV RUN"),
            ("ENV A hello\\\nRUN true\n", 1, "ENV"),
            ("RUN a \\\n  b\n", 1, "RUN"),
            ("RUN a \\\n\\\n  b\n", 1, "RUN"),              // an escape alone on a line continues
            ("RUN a \\\\\\\nRUN b\n", 2, "RUN RUN"),         // BuildKit's regex: `\\\` does not continue
            ("# comment \\\\\nRUN b\n", 1, "RUN"),
        ]
        for (body, count, keywords) in cases {
            let stage = try parse("FROM x\n" + body).stages[0]
            XCTAssertEqual(stage.instructions.count, count, body.debugDescription)
            XCTAssertEqual(stage.instructions.map(\.keyword).joined(separator: " "), keywords, body.debugDescription)
        }
        let env = try parse("FROM x\nENV A hello\\\\\nRUN true\n").stages[0].instructions[0]
        let expanded = try env.expanded(escape: "\\", lookup: { _ in nil }).instruction
        XCTAssertEqual(expanded.kind, .env([KeyValue(key: "A", value: "hello\\")]))
    }

    func testEscapedEscapeWithBacktickDirective() throws {
        let text = "# escape=`\nFROM x\nENV A hello``\nRUN true\nRUN a `\n  b\n"
        let stage = try parse(text).stages[0]
        XCTAssertEqual(stage.instructions.map(\.keyword), ["ENV", "RUN", "RUN"])
        // A backslash is an ordinary character under the backtick escape.
        XCTAssertEqual(try parse("# escape=`\nFROM x\nRUN a\\\\\nRUN b\n").stages[0].instructions.count, 2)
    }

    /// BuildKit warns (DuplicateStageName) and a name means the last stage so called.
    func testDuplicateStageNamesWarnAndTheLastWins() throws {
        let file = try parse("FROM a AS b\nFROM c AS B\nFROM b\nCOPY --from=b x y\n")
        XCTAssertEqual(file.stages.count, 3)
        XCTAssertEqual(file.warnings.map(\.rule), ["StageNameCasing", "DuplicateStageName"])
        XCTAssertEqual(file.warnings.last?.description,
                       "Dockerfile:2: DuplicateStageName: Duplicate stage name \"b\", stage names should be unique")
        XCTAssertEqual(file.stageIndex(named: "b"), 1)
        XCTAssertEqual(file.stageIndex(named: "b", before: 2), 1)
        XCTAssertEqual(file.stageIndex(named: "b", before: 1), 0)
        XCTAssertNil(file.stageIndex(named: "b", before: 0))
        XCTAssertEqual(try file.requiredStages(target: "b", globalArgs: { _ in nil }), [1])
        XCTAssertEqual(try file.requiredStages(target: nil, globalArgs: { _ in nil }), [1, 2])
    }

    /// ~50,000 nested `${A:-…}` overflowed the stack; past the bound it is a typed error.
    func testSubstitutionNestingIsBounded() throws {
        func nested(_ depth: Int) -> String {
            String(repeating: "${A:-", count: depth) + "x" + String(repeating: "}", count: depth)
        }
        let expander = ShellWordExpander()
        XCTAssertEqual(try expander.expand(nested(ShellWordExpander.maxNesting), lookup: { _ in nil }).value, "x")
        for depth in [ShellWordExpander.maxNesting + 1, 50_000] {
            XCTAssertThrowsError(try expander.expand(nested(depth), lookup: { _ in nil })) { error in
                XCTAssertTrue(error is ExpansionError)
                XCTAssertTrue("\(error)".contains("nested"), "\(error)")
            }
        }
        // Through an instruction: an error at its line.
        let env = try parse("FROM x\nENV A=" + nested(50_000) + "\n").stages[0].instructions[0]
        XCTAssertThrowsError(try env.expanded(escape: "\\", lookup: { _ in nil })) { error in
            XCTAssertTrue("\(error)".hasPrefix("Dockerfile:2: ENV: "), "\(error)")
        }
    }

    /// A NUL byte would be cut (or crash) in the C calls that take the text.
    func testNULBytesAreErrorsAtTheInstruction() throws {
        for body in ["COPY \0a.txt /x", "COPY a\0.txt /x", "RUN echo \0", "WORKDIR /a\0b"] {
            let instruction = try parse("FROM x\n" + body + "\n").stages[0].instructions[0]
            XCTAssertThrowsError(try instruction.expanded(escape: "\\", lookup: { _ in nil })) { error in
                XCTAssertTrue("\(error)".hasPrefix("Dockerfile:2: "), "\(error)")
                XCTAssertTrue("\(error)".contains("NUL"), "\(error)")
                XCTAssertFalse("\(error)".contains("\0"))
            }
        }
        // A NUL from a variable (say, a base image's Env) is refused too.
        let copy = try parse("FROM x\nCOPY $V /x\n").stages[0].instructions[0]
        XCTAssertThrowsError(try copy.expanded(escape: "\\", lookup: { $0 == "V" ? "a\0b" : nil })) { error in
            XCTAssertTrue("\(error)".contains("NUL"), "\(error)")
        }
    }
}

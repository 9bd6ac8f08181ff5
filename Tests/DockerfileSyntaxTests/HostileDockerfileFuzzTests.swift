import TestSupport
import XCTest
@testable import DockerfileSyntax

/// Seeded property tests over the Dockerfile parser and the word expander: hostile inputs (deep
/// nesting, huge lines, NULs, invalid UTF-8, unbalanced quotes and braces, heredocs, directives)
/// must never crash and may only fail with the module's typed errors. Bounded in time for CI;
/// see `FuzzBudget` for a longer local run.
final class HostileDockerfileFuzzTests: XCTestCase {
    static let keywords = ["FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "USER", "WORKDIR", "CMD",
                           "ENTRYPOINT", "SHELL", "HEALTHCHECK", "ONBUILD", "EXPOSE", "VOLUME", "STOPSIGNAL",
                           "MAINTAINER", "from", "Run", "BOGUS", ""]
    static let flags = ["--from=", "--chown=", "--chmod=", "--link", "--parents", "--exclude=", "--checksum=",
                        "--mount=type=cache,target=", "--mount=type=bind,from=", "--network=", "--platform=",
                        "--interval=", "--retries=", "--keep-git-dir=", "--security=", "--"]
    static let directives = ["# syntax=docker/dockerfile:1", "# escape=`", "# escape=\\", "# check=skip=all",
                             "# check=error=true", "# escape=x", "#escape=\\", "# syntax =", "# ESCAPE=`"]

    /// One random Dockerfile.
    static func dockerfile(_ rng: inout SeededGenerator) -> String {
        var lines: [String] = []
        for _ in 0..<Int.random(in: 0...2, using: &rng) { lines.append(directives.randomElement(using: &rng)!) }
        if Bool.random(using: &rng) { lines.append("FROM " + HostileText.word(&rng) + " AS " + HostileText.word(&rng)) }
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            var line = keywords.randomElement(using: &rng)!
            if Int.random(in: 0..<3, using: &rng) == 0 {
                line += " " + flags.randomElement(using: &rng)! + HostileText.word(&rng)
            }
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:  // heredoc, terminated or not
                let name = ["EOF", "\"EOT\"", "'X'", "-EOF", ""].randomElement(using: &rng)!
                line += " <<" + name + " " + HostileText.word(&rng) + "\n" + HostileText.line(&rng, fragments: 4)
                if Bool.random(using: &rng) { line += "\n" + name.trimmingCharacters(in: CharacterSet(charactersIn: "\"'-")) }
            case 1:  // JSON form, well-formed or not
                line += " [\"" + HostileText.word(&rng) + "\", " + HostileText.fragment(&rng) + (Bool.random(using: &rng) ? "]" : "")
            case 2:  // continuation, escaped escape, or escape on its own
                line += " " + HostileText.word(&rng) + ["\\", "\\\\", "\\\\\\", "`", "\\  \t", ""].randomElement(using: &rng)!
            case 3:  // a huge line
                line += " " + String(repeating: HostileText.fragment(&rng), count: Int.random(in: 1000...5000, using: &rng))
            case 4:  // deep ${…} nesting (the bound is 200)
                line += " " + HostileText.substitution(&rng, depth: Int.random(in: 150...400, using: &rng))
            default:
                line += " " + HostileText.line(&rng, fragments: Int.random(in: 0...6, using: &rng))
            }
            lines.append(line)
        }
        let separator = ["\n", "\r\n", "\r", "\n\n"].randomElement(using: &rng)!
        return lines.joined(separator: separator)
    }

    static func lookup(_ name: String) -> String? {
        ["A": "a b", "B": "${A}", "x": "", "HOME": "/root", "PATH": "/bin"][name]
    }

    /// Parses, then expands every instruction and plans the stages as a build would.
    static func exercise(_ text: String) throws {
        let dockerfile: Dockerfile
        do {
            dockerfile = try DockerfileParser.parse(text)
        } catch is DockerfileError {
            return
        }
        _ = try? dockerfile.requiredStages(target: dockerfile.stages.last?.name, globalArgs: lookup)
        for stage in dockerfile.stages {
            _ = dockerfile.stageIndex(named: stage.baseName, before: stage.index)
            for instruction in stage.instructions {
                do {
                    _ = try instruction.expanded(escape: dockerfile.directives.escape, lookup: lookup)
                } catch is DockerfileError {}
            }
        }
    }

    func testParserSurvivesHostileDockerfiles() throws {
        let budget = FuzzBudget(defaultSeconds: 6, defaultIterations: 20_000, defaultSeed: 0x5EED_D0C)
        let runs = budget.run { rng, trace in
            let text = Self.dockerfile(&rng)
            trace(text)
            do {
                try Self.exercise(text)
            } catch {
                XCTFail("untyped error \(type(of: error)) \(error) for \(text.debugDescription.prefix(300))")
            }
        }
        XCTAssertGreaterThan(runs, 0)
    }

    func testParserSurvivesRandomBytes() throws {
        let budget = FuzzBudget(defaultSeconds: 3, defaultIterations: 20_000, defaultSeed: 0xB17E5)
        budget.run { rng, trace in
            // Random bytes, decoded as the builder reads a Dockerfile (invalid UTF-8 repaired).
            let text = (Bool.random(using: &rng) ? "FROM a\n" : "") + HostileText.bytes(&rng, count: Int.random(in: 0...400, using: &rng))
            trace(text)
            do {
                try Self.exercise(text)
            } catch {
                XCTFail("untyped error \(type(of: error)) \(error) for \(text.debugDescription.prefix(300))")
            }
        }
    }

    func testExpanderSurvivesHostileWords() throws {
        let budget = FuzzBudget(defaultSeconds: 5, defaultIterations: 50_000, defaultSeed: 0xE4BA4D)
        budget.run { rng, trace in
            var word = HostileText.line(&rng, fragments: Int.random(in: 1...8, using: &rng))
            if Int.random(in: 0..<8, using: &rng) == 0 {
                word += HostileText.substitution(&rng, depth: Int.random(in: 100...5000, using: &rng))
            }
            trace(word)
            var expander = ShellWordExpander(escape: Bool.random(using: &rng) ? "\\" : "`")
            expander.skipProcessQuotes = Bool.random(using: &rng)
            expander.skipUnsetEnv = Bool.random(using: &rng)
            expander.rawQuotes = Bool.random(using: &rng)
            expander.rawEscapes = Bool.random(using: &rng)
            do {
                _ = try expander.expand(word, lookup: Self.lookup)
            } catch is ExpansionError {
            } catch {
                XCTFail("untyped error \(type(of: error)) \(error) for \(word.debugDescription.prefix(300))")
            }
        }
    }
}

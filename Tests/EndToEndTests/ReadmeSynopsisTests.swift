import Foundation
import XCTest

/// The README's Commands section and `--help` say the same, word for word.
final class ReadmeSynopsisTests: XCTestCase {
    /// The synopsis lines of the README's Commands block: continuation lines joined, `# …`
    /// comments dropped, white space collapsed.
    static func readmeSynopses() throws -> [String] {
        let readme = try String(contentsOf: Harness.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "\n## Commands\n") else { return [] }
        var lines: [String] = []
        for line in readme[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("    ") else { continue }
            let text = line.trimmingCharacters(in: .whitespaces)
            let code = text.range(of: " # ").map { String(text[..<$0.lowerBound]) } ?? text
            if code.hasPrefix("swiftdock ") { lines.append(code) } else if !lines.isEmpty { lines[lines.count - 1] += " " + code }
        }
        return lines.map(collapse)
    }

    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// The command path a synopsis names: its leading lower-case words (`vertex schedule run`).
    static func commandPath(_ words: [String]) -> [String] {
        Array(words.dropFirst().prefix { word in
            word.first.map { $0.isLowercase && $0.isLetter } == true && word.allSatisfy { ($0.isLowercase && $0.isLetter) || $0 == "-" }
        })
    }

    func testReadmeSynopsisIsTheHelpUsage() throws {
        let synopses = try Self.readmeSynopses()
        XCTAssertGreaterThanOrEqual(synopses.count, 32, "\(synopses)")
        XCTAssertGreaterThanOrEqual(synopses.filter { $0.hasPrefix("swiftdock vertex ") }.count, 17, "every vertex subcommand")
        for synopsis in synopses {
            let words = synopsis.split(separator: " ").map(String.init)
            let command = Self.commandPath(words)
            let help = try Harness.run(Harness.binary, command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command): \(help.stderr)")
            let blocks = help.stdout.components(separatedBy: "\n\n")
            let usage = blocks.first { $0.hasPrefix("USAGE: ") }.map { Self.collapse(String($0.dropFirst(7))) }
            XCTAssertEqual(usage, synopsis, "README vs swiftdock \(command.joined(separator: " ")) --help")
            // Every option the synopsis names is one the command takes: listed under OPTIONS
            // (the default subcommand's, for `vertex schedule NAME …`).
            var options = blocks.filter { !$0.hasPrefix("USAGE: ") }.joined(separator: "\n")
            if let line = options.split(separator: "\n").first(where: { $0.contains("(default)") }),
               let sub = line.split(separator: " ").first {
                options += try Harness.run(Harness.binary, command + [String(sub), "--help"]).stdout
            }
            for word in words where (word.hasPrefix("[-") || word.hasPrefix("-")) && word != "--" {
                // `[--provenance[=mode=min|max]]` names `--provenance`.
                let flag = String(word.drop { $0 == "[" }.prefix { $0 == "-" || $0.isLetter || $0.isNumber })
                XCTAssertTrue(options.contains(flag), "\(synopsis): \(flag) is not in --help's options")
            }
        }
    }
}

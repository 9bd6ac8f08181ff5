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

    func testReadmeSynopsisIsTheHelpUsage() throws {
        let synopses = try Self.readmeSynopses()
        // `vertex` commands print the parser's generated usage; their README lines are prose-shaped.
        let checked = synopses.filter { !$0.hasPrefix("swiftdock vertex ") }
        XCTAssertGreaterThanOrEqual(checked.count, 13, "\(synopses)")
        for synopsis in checked {
            let words = synopsis.split(separator: " ").map(String.init)
            let command = words[1] == "system" ? [words[1], words[2]] : [words[1]]
            let help = try Harness.run(Harness.binary, command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command): \(help.stderr)")
            let usage = help.stdout.components(separatedBy: "\n\n").first { $0.hasPrefix("USAGE: ") }.map { Self.collapse(String($0.dropFirst(7))) }
            XCTAssertEqual(usage, synopsis, "README vs swiftdock \(command.joined(separator: " ")) --help")
            // Every option the synopsis names is one the command takes.
            for word in words where word.hasPrefix("[-") || word.hasPrefix("-") {
                let flag = word.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: " ").first.map(String.init) ?? word
                XCTAssertTrue(help.stdout.contains(flag), "\(synopsis): \(flag) is not in --help")
            }
        }
    }
}

import TestSupport
import XCTest
@testable import BuildContext

/// Seeded property tests over the `.dockerignore` reader and the pattern matcher: hostile
/// patterns and paths must never crash, hang, or fail other than with `ContextError`.
final class HostileIgnoreFileFuzzTests: XCTestCase {
    static let pieces = ["**", "*", "?", "[", "]", "[!a-z]", "[^", "[a-", "\\", "\\*", "!", "/", "//", ".", "..",
                         "#", " ", "\t", "\r", "a", "dir", "日本", "\0", "\u{FEFF}", "[]a]", "[-]", "{a,b}", "**/"]

    static func pattern(_ rng: inout SeededGenerator) -> String {
        if Int.random(in: 0..<10, using: &rng) == 0 { return HostileText.bytes(&rng, count: Int.random(in: 1...20, using: &rng)) }
        return (0..<Int.random(in: 0...8, using: &rng)).map { _ in
            Bool.random(using: &rng) ? pieces.randomElement(using: &rng)! : HostileText.word(&rng, maxLength: 4)
        }.joined()
    }

    static func path(_ rng: inout SeededGenerator) -> String {
        (0..<Int.random(in: 1...6, using: &rng)).map { _ in
            ["a", "dir", "b.txt", ".git", "日本", "x*y", "[x]", "..", ".", "", "\\"].randomElement(using: &rng)!
        }.joined(separator: "/")
    }

    func testIgnoreFileAndMatcherSurviveHostilePatterns() throws {
        let budget = FuzzBudget(defaultSeconds: 5, defaultIterations: 30_000, defaultSeed: 0x1D0C1E)
        let runs = budget.run { rng, trace in
            var lines = (0..<Int.random(in: 0...10, using: &rng)).map { _ in Self.pattern(&rng) }
            if Int.random(in: 0..<20, using: &rng) == 0 {  // a huge pattern
                lines.append(String(repeating: "*a", count: Int.random(in: 1000...20_000, using: &rng)))
            }
            let text = lines.joined(separator: Bool.random(using: &rng) ? "\n" : "\r\n")
            trace(text)
            let started = Date()
            do {
                let patterns = try IgnoreFile.parse(text)
                let matcher = try PatternMatcher(patterns: patterns)
                for _ in 0..<8 {
                    let path = Self.path(&rng)
                    _ = matcher.isExcluded(path)
                    _ = matcher.canPrune(excludedDirectory: path)
                }
            } catch is ContextError {
            } catch {
                XCTFail("untyped error \(type(of: error)) \(error) for \(text.debugDescription.prefix(300))")
            }
            // Matching is linear in Go (regexp); a case taking seconds is a backtracking blow-up.
            XCTAssertLessThan(Date().timeIntervalSince(started), 2, "slow case: \(text.debugDescription.prefix(300))")
        }
        XCTAssertGreaterThan(runs, 0)
    }
}

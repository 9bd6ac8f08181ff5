import Foundation

/// A seeded pseudo-random generator (SplitMix64): the same seed gives the same inputs on every
/// machine, so a failure found in CI is reproduced by its seed.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How long a property test runs: until `seconds` have passed or `iterations` cases ran,
/// whichever comes first. CI keeps the defaults (a few seconds per target); a longer local hunt
/// sets `SWIFTDOCK_FUZZ_SECONDS` / `SWIFTDOCK_FUZZ_ITERATIONS`, and `SWIFTDOCK_FUZZ_SEED` picks
/// another sequence. `SWIFTDOCK_FUZZ_TRACE=FILE` writes each input there before running it, so the
/// input that crashed the process is in FILE.
public struct FuzzBudget {
    public let seed: UInt64
    public let seconds: Double
    public let iterations: Int
    let trace: String?

    public init(defaultSeconds: Double, defaultIterations: Int, defaultSeed: UInt64) {
        let env = ProcessInfo.processInfo.environment
        seconds = env["SWIFTDOCK_FUZZ_SECONDS"].flatMap(Double.init) ?? defaultSeconds
        iterations = env["SWIFTDOCK_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
        seed = env["SWIFTDOCK_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
        trace = env["SWIFTDOCK_FUZZ_TRACE"]
    }

    /// Calls `body` with a generator for each case (case `i` uses seed `seed + i`, so one case is
    /// replayed alone with `SWIFTDOCK_FUZZ_SEED=seed+i SWIFTDOCK_FUZZ_ITERATIONS=1`). Returns the
    /// number of cases run.
    @discardableResult
    public func run(_ body: (inout SeededGenerator, (String) -> Void) throws -> Void) rethrows -> Int {
        let start = Date()
        var count = 0
        while count < iterations && Date().timeIntervalSince(start) < seconds {
            var rng = SeededGenerator(seed: seed &+ UInt64(count))
            try body(&rng) { input in
                if let trace { try? Data(input.utf8).write(to: URL(fileURLWithPath: trace)) }
            }
            count += 1
        }
        return count
    }
}

/// Building blocks of hostile text: the characters and shapes that have broken parsers.
public enum HostileText {
    /// Single characters chosen for their meaning to shells, globs, tar and JSON.
    public static let specials: [String] = [
        "\\", "`", "$", "{", "}", "(", ")", "[", "]", "'", "\"", "#", "!", "*", "?", "^", "-", ":", "=", ",",
        "/", ".", "..", "~", "%", "+", "@", "<<", "<<-", " ", "\t", "\r", "\n", "\0", "\u{FEFF}", "\u{FFFD}",
        "\u{7F}", "\u{85}", "\u{2028}", "Ü", "日本", "😀", "\u{10FFFF}", "\u{301}",
    ]

    /// Text that decodes from random bytes (as files are read: invalid UTF-8 repaired).
    public static func bytes(_ rng: inout SeededGenerator, count: Int) -> String {
        String(decoding: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, as: UTF8.self)
    }

    /// A short random word mixing letters, digits and specials.
    public static func word(_ rng: inout SeededGenerator, maxLength: Int = 8) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5: s.append(Character(Unicode.Scalar(UInt8.random(in: 97...122, using: &rng))))
            case 5: s += String(Int.random(in: 0...9, using: &rng))
            case 6: s += ["A", "B", "HOME", "PATH", "x_1", "UNSET"].randomElement(using: &rng)!
            default: s += specials.randomElement(using: &rng)!
            }
        }
        return s
    }

    /// A `${…}` expression nested `depth` deep, with random modifiers.
    public static func substitution(_ rng: inout SeededGenerator, depth: Int) -> String {
        let modifiers = [":-", "-", ":+", "+", ":?", "?", "#", "##", "%", "%%", "/", "//", ":", ""]
        var inner = word(&rng, maxLength: 3)
        for _ in 0..<depth {
            let name = ["A", "B", "UNSET", "x", ""].randomElement(using: &rng)!
            let modifier = modifiers.randomElement(using: &rng)!
            let close = Int.random(in: 0..<20, using: &rng) == 0 ? "" : "}"  // now and then unbalanced
            inner = "${\(name)\(modifier)\(inner)\(close)"
        }
        return inner
    }

    /// Random mixtures of the above joined together.
    public static func fragment(_ rng: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return substitution(&rng, depth: Int.random(in: 1...6, using: &rng))
        case 1: return "$" + word(&rng, maxLength: 3)
        case 2: return "'" + word(&rng) + (Bool.random(using: &rng) ? "'" : "")
        case 3: return "\"" + word(&rng) + (Bool.random(using: &rng) ? "\"" : "")
        case 4: return bytes(&rng, count: Int.random(in: 1...6, using: &rng))
        case 5: return String(repeating: specials.randomElement(using: &rng)!, count: Int.random(in: 1...40, using: &rng))
        default: return word(&rng)
        }
    }

    /// A line of `count` fragments separated by spaces (or not).
    public static func line(_ rng: inout SeededGenerator, fragments count: Int) -> String {
        (0..<count).map { _ in fragment(&rng) }.joined(separator: Bool.random(using: &rng) ? " " : "")
    }
}

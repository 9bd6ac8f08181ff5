#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PathEncoding

/// Reading `.dockerignore` files the way BuildKit does (`ignorefile.ReadAll` + file selection).
public enum IgnoreFile {
    /// A parsed pattern with its 1-based line number in the file.
    struct Line {
        let pattern: String
        let line: Int
    }

    /// Parses ignore-file text into cleaned patterns (exceptions keep their `!`).
    ///
    /// Per line: strip a UTF-8 BOM (first line), skip it if column 1 is `#`, trim white space,
    /// skip blanks; a leading `!` marks an exception and spaces after it are trimmed; the rest is
    /// `filepath.Clean`ed and one leading `/` dropped. Lines end at `\n` (a trailing `\r` is
    /// dropped). A `!` with nothing after it throws `ContextError.badIgnoreFile`.
    public static func parse(_ text: String) throws -> [String] {
        try parseLines(text, path: ".dockerignore").map(\.pattern)
    }

    static func parseLines(_ text: String, path: String) throws -> [Line] {
        var result: [Line] = []
        var lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() } // text ended with a newline
        for (index, rawLine) in lines.enumerated() {
            var bytes = rawLine[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if index == 0 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            if bytes.first == UInt8(ascii: "#") { continue }
            var pattern = GoPath.trimSpace(String(decoding: bytes, as: UTF8.self))
            if pattern.isEmpty { continue }
            let invert = pattern.utf8.first == UInt8(ascii: "!")
            if invert {
                pattern = GoPath.trimSpace(String(pattern.unicodeScalars.dropFirst()))
            }
            if !pattern.isEmpty {
                pattern = GoPath.clean(pattern)
                if pattern.utf8.count > 1 && pattern.utf8.first == UInt8(ascii: "/") {
                    pattern = String(pattern.unicodeScalars.dropFirst())
                }
            } else if invert {
                throw ContextError.badIgnoreFile(path: path, line: index + 1,
                                                 reason: "illegal exclusion pattern: \"!\"")
            }
            result.append(Line(pattern: invert ? "!" + pattern : pattern, line: index + 1))
        }
        return result
    }

    /// The ignore file BuildKit would use: `<dockerfilePath>.dockerignore` when it exists, else
    /// `<contextDirectory>/.dockerignore`; nil when neither exists. The two are never merged.
    public static func locate(contextDirectory: String, dockerfilePath: String) -> String? {
        let specific = dockerfilePath + ".dockerignore"
        if isFile(specific) { return specific }
        let generic = contextDirectory.hasSuffix("/") ? contextDirectory + ".dockerignore"
                                                      : contextDirectory + "/.dockerignore"
        if isFile(generic) { return generic }
        return nil
    }

    /// Reads, parses and compiles an ignore file; every failure is a `badIgnoreFile` naming `path`.
    static func load(path: String) throws -> PatternMatcher {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ContextError.badIgnoreFile(path: path, line: nil, reason: "cannot read file")
        }
        // Decoded losslessly, so a pattern holding bytes that are not UTF-8 matches names with
        // exactly those bytes (Go compares the raw bytes of both).
        let lines = try parseLines(PathBytes.string(data), path: path)
        for line in lines {
            do {
                _ = try IgnorePattern(raw: line.pattern)
            } catch let ContextError.badPattern(pattern, reason) {
                throw ContextError.badIgnoreFile(path: path, line: line.line,
                                                 reason: "invalid pattern \"\(pattern)\": \(reason)")
            }
        }
        return try PatternMatcher(patterns: lines.map(\.pattern))
    }

    private static func isFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) != S_IFDIR
    }
}

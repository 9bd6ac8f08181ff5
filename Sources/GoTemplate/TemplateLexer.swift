import Foundation

/// Splits a template into text and actions, and an action into tokens, as Go's
/// `text/template/parse` lexer does for the subset supported here.
struct TemplateLexer {
    enum Kind: Equatable {
        case field(String)       // .Name
        case dot                 // .
        case variable(String)    // $ or $name
        case string(String)      // "…" or `…`, unquoted
        case number(TemplateValue)
        case identifier(String)  // function names and keywords
        case leftParen, rightParen, pipe, declare, assign, comma
    }

    struct Token: Equatable {
        var kind: Kind
        var position: Int
        var end: Int
        /// True when a space came before the token (a field right after a term chains onto it).
        var spaced: Bool
    }

    /// A span of the template: literal text, or an action's body with its byte offset.
    enum Piece: Equatable {
        case text(String)
        case action(body: String, position: Int)
    }

    /// Cuts the template into text and actions; `{{-` and `-}}` trim the adjacent white space
    /// and `{{/* … */}}` comments vanish.
    static func pieces(_ template: String) throws -> [Piece] {
        let bytes = Array(template.utf8)
        var pieces: [Piece] = []
        var text: [UInt8] = []
        var i = 0
        var trimNext = false
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "{"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "{") else {
                text.append(bytes[i]); i += 1; continue
            }
            if trimNext { while let f = text.first, isSpace(f) { text.removeFirst() } }
            var start = i + 2
            if start + 1 < bytes.count, bytes[start] == UInt8(ascii: "-"), isSpace(bytes[start + 1]) {
                while let l = text.last, isSpace(l) { text.removeLast() }
                start += 2
            }
            if !text.isEmpty { pieces.append(.text(String(decoding: text, as: UTF8.self))) }
            text = []
            // Find the closing delimiter outside quotes.
            var j = start
            var quote: UInt8? = nil
            var close: Int? = nil
            while j < bytes.count {
                let b = bytes[j]
                if let q = quote {
                    if b == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") { j += 2; continue }
                    if b == q { quote = nil }
                    if b == 10 && q == UInt8(ascii: "\"") { throw TemplateError.parse(template, at: j, "unterminated quoted string") }
                } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "`") {
                    quote = b
                } else if b == UInt8(ascii: "}"), j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "}") {
                    close = j
                    break
                }
                j += 1
            }
            guard let end = close else { throw TemplateError.parse(template, at: i, "unclosed action") }
            var bodyEnd = end
            trimNext = false
            if bodyEnd - 2 >= start, bytes[bodyEnd - 1] == UInt8(ascii: "-"), isSpace(bytes[bodyEnd - 2]) {
                bodyEnd -= 2
                trimNext = true
            }
            let body = String(decoding: bytes[start..<max(start, bodyEnd)], as: UTF8.self)
            let trimmed = body.trimmingCharacters(in: .whitespaces)
            if !(trimmed.hasPrefix("/*") && trimmed.hasSuffix("*/")) {
                pieces.append(.action(body: body, position: start))
            }
            i = end + 2
        }
        if trimNext { while let f = text.first, isSpace(f) { text.removeFirst() } }
        if !text.isEmpty { pieces.append(.text(String(decoding: text, as: UTF8.self))) }
        return pieces
    }

    /// The tokens of one action body starting at byte `offset` of `template`.
    static func tokens(_ body: String, offset: Int, template: String) throws -> [Token] {
        let bytes = Array(body.utf8)
        var tokens: [Token] = []
        var i = 0
        var spaced = true
        func isIdent(_ b: UInt8) -> Bool {
            (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b == 95 || b >= 0x80
        }
        func add(_ kind: Kind, _ start: Int) {
            tokens.append(Token(kind: kind, position: offset + start, end: offset + i, spaced: spaced))
            spaced = false
        }
        while i < bytes.count {
            let b = bytes[i]
            let start = i
            switch b {
            case 32, 9, 10, 13:
                i += 1; spaced = true; continue
            case UInt8(ascii: "."):
                i += 1
                if i < bytes.count, bytes[i] >= 48, bytes[i] <= 57 {
                    throw TemplateError.parse(template, at: offset + start, "bad number syntax: \".\(Character(UnicodeScalar(bytes[i])))\"")
                }
                while i < bytes.count, isIdent(bytes[i]) { i += 1 }
                if i == start + 1 { add(.dot, start) } else { add(.field(String(decoding: bytes[(start + 1)..<i], as: UTF8.self)), start) }
            case UInt8(ascii: "$"):
                i += 1
                while i < bytes.count, isIdent(bytes[i]) { i += 1 }
                add(.variable(String(decoding: bytes[start..<i], as: UTF8.self)), start)
            case UInt8(ascii: "\""):
                i += 1
                var value: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        i += 1
                        switch bytes[i] {
                        case UInt8(ascii: "n"): value.append(10)
                        case UInt8(ascii: "t"): value.append(9)
                        case UInt8(ascii: "r"): value.append(13)
                        case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): value.append(bytes[i])
                        default: throw TemplateError.parse(template, at: offset + start, "invalid syntax")
                        }
                    } else {
                        value.append(bytes[i])
                    }
                    i += 1
                }
                guard i < bytes.count else { throw TemplateError.parse(template, at: offset + start, "unterminated quoted string") }
                i += 1
                add(.string(String(decoding: value, as: UTF8.self)), start)
            case UInt8(ascii: "`"):
                i += 1
                while i < bytes.count, bytes[i] != UInt8(ascii: "`") { i += 1 }
                guard i < bytes.count else { throw TemplateError.parse(template, at: offset + start, "unterminated raw quoted string") }
                i += 1
                add(.string(String(decoding: bytes[(start + 1)..<(i - 1)], as: UTF8.self)), start)
            case UInt8(ascii: "("): i += 1; add(.leftParen, start)
            case UInt8(ascii: ")"): i += 1; add(.rightParen, start)
            case UInt8(ascii: "|"): i += 1; add(.pipe, start)
            case UInt8(ascii: ","): i += 1; add(.comma, start)
            case UInt8(ascii: "="): i += 1; add(.assign, start)
            case UInt8(ascii: ":"):
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "=") else {
                    throw TemplateError.parse(template, at: offset + start, "expected :=")
                }
                i += 2; add(.declare, start)
            case UInt8(ascii: "-"), UInt8(ascii: "+"), 48...57:
                i += 1
                while i < bytes.count, isIdent(bytes[i]) || bytes[i] == UInt8(ascii: ".") { i += 1 }
                let text = String(decoding: bytes[start..<i], as: UTF8.self)
                if let n = Int64(text) { add(.number(.int(n)), start) }
                else if let d = Double(text) { add(.number(.double(d)), start) }
                else { throw TemplateError.parse(template, at: offset + start, "bad number syntax: \"\(text)\"") }
            default:
                guard isIdent(b) else {
                    throw TemplateError.parse(template, at: offset + start, "unexpected \"\(Character(UnicodeScalar(b)))\" in command")
                }
                while i < bytes.count, isIdent(bytes[i]) { i += 1 }
                add(.identifier(String(decoding: bytes[start..<i], as: UTF8.self)), start)
            }
        }
        return tokens
    }
}

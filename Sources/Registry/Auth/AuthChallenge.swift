/// One challenge from a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`
/// or `Basic realm="…"` (RFC 7235 `auth-scheme` with `auth-param`s).
public struct AuthChallenge: Equatable, Sendable {
    /// The scheme, lowercased: `bearer`, `basic`.
    public var scheme: String
    /// Parameters by lowercased name, values unquoted and unescaped.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String] = [:]) {
        self.scheme = scheme.lowercased()
        self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    /// The token server's `service`; Artifact Registry sends none.
    public var service: String? { parameters["service"] }
    /// The scope the registry asks for (space-separated when several).
    public var scope: String? { parameters["scope"] }
    /// The registry's reason, e.g. `insufficient_scope`.
    public var error: String? { parameters["error"] }

    public var isBearer: Bool { scheme == "bearer" }
    public var isBasic: Bool { scheme == "basic" }

    /// Every challenge in a header value, in order. Tolerates unquoted values, escapes
    /// (`\"`), commas inside quotes, extra whitespace and several challenges in one header.
    /// A `token68` credential after the scheme is kept under the key `""`.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.unicodeScalars))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip { $0 == " " || $0 == "\t" || $0 == "," }
            let scheme = scanner.token()
            if scheme.isEmpty {
                if scanner.atEnd { break }
                scanner.advance()  // a stray character: skip it
                continue
            }
            var challenge = AuthChallenge(scheme: scheme)
            parameters: while true {
                scanner.skipSpaces()
                let start = scanner.position
                let name = scanner.token()
                if name.isEmpty { break }
                scanner.skipSpaces()
                guard scanner.peek == "=" else {
                    scanner.position = start  // the next challenge's scheme
                    break
                }
                scanner.advance()
                // token68 (`Basic dXNlcg==`): '=' padding, then a separator or the end.
                if scanner.peek == "=" || scanner.peek == nil || scanner.peek == "," {
                    scanner.skip { $0 == "=" }
                    challenge.parameters[""] = name
                } else {
                    scanner.skipSpaces()
                    let value = scanner.peek == "\"" ? scanner.quoted() : scanner.token()
                    let key = name.lowercased()
                    if challenge.parameters[key] == nil { challenge.parameters[key] = value }
                }
                scanner.skipSpaces()
                guard scanner.peek == "," else { break parameters }
                // A comma may separate parameters or challenges: look at what follows.
                scanner.skip { $0 == "," || $0 == " " || $0 == "\t" }
                let next = scanner.position
                let word = scanner.token()
                scanner.skipSpaces()
                let isParameter = !word.isEmpty && scanner.peek == "="
                scanner.position = next
                if !isParameter { break parameters }
            }
            challenges.append(challenge)
        }
        return challenges
    }

    /// The challenge to answer: Bearer when offered, else Basic, else the first one.
    public static func preferred(_ header: String) -> AuthChallenge? {
        let all = parse(header)
        return all.first(where: \.isBearer) ?? all.first(where: \.isBasic) ?? all.first
    }
}

/// A tiny cursor over unicode scalars for `AuthChallenge.parse`.
private struct Scanner {
    let scalars: [Unicode.Scalar]
    var position = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var atEnd: Bool { position >= scalars.count }
    var peek: Unicode.Scalar? { atEnd ? nil : scalars[position] }
    mutating func advance() { position += 1 }

    mutating func skip(while predicate: (Unicode.Scalar) -> Bool) {
        while let c = peek, predicate(c) { position += 1 }
    }

    mutating func skipSpaces() { skip { $0 == " " || $0 == "\t" } }

    /// An RFC 7230 token (and the token68 alphabet but '='): up to a separator.
    mutating func token() -> String {
        var out = String.UnicodeScalarView()
        while let c = peek, !" \t,=\";".unicodeScalars.contains(c) {
            out.append(c)
            position += 1
        }
        return String(out)
    }

    /// A quoted string at the cursor, unescaped; an unterminated one runs to the end.
    mutating func quoted() -> String {
        advance()  // opening quote
        var out = String.UnicodeScalarView()
        while let c = peek {
            position += 1
            if c == "\"" { break }
            if c == "\\", let next = peek {
                position += 1
                out.append(next)
            } else {
                out.append(c)
            }
        }
        return String(out)
    }
}

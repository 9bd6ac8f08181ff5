/// An image reference in Docker's grammar: `[domain/]path[:tag][@digest]`.
///
/// `python-docker` normalises to `docker.io/library/python-docker:latest`; a first component
/// with a `.` or `:`, or exactly `localhost`, is a registry domain.
public struct Reference: Hashable, Sendable, CustomStringConvertible, Codable {
    public static let defaultDomain = "docker.io"
    public static let defaultTag = "latest"

    /// Registry host, with port when given (`docker.io`, `localhost:5000`, `[::1]:5000`).
    public let domain: String
    /// Repository path within the registry (`library/busybox`).
    public let path: String
    /// The tag; nil only when the reference names a digest and no tag.
    public let tag: String?
    public let digest: Digest?

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case uppercase(String)
        case invalidFormat(String)
        case nameTooLong(String)
        case invalidTag(String)
        case invalidDigest(String)

        public var description: String {
            switch self {
            case .empty: return "invalid reference format: empty reference"
            case .uppercase(let r): return "invalid reference format: repository name (\(r)) must be lowercase"
            case .invalidFormat(let r): return "invalid reference format: \"\(r)\""
            case .nameTooLong(let r): return "invalid reference format: repository name \"\(r)\" must not be more than 255 characters"
            case .invalidTag(let r): return "invalid reference format: bad tag in \"\(r)\""
            case .invalidDigest(let r): return "invalid reference format: bad digest in \"\(r)\""
            }
        }
    }

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises a reference; a reference with neither tag nor digest gets `:latest`.
    public init(parsing text: String) throws {
        guard !text.isEmpty else { throw ParseError.empty }
        var remainder = Substring(text)
        var digest: Digest? = nil
        if let at = remainder.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(remainder[remainder.index(after: at)...])) }
            catch { throw ParseError.invalidDigest(text) }
            remainder = remainder[..<at]
        }
        var tag: String? = nil
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            tag = String(remainder[remainder.index(after: colon)...])
            remainder = remainder[..<colon]
            guard Reference.isValidTag(tag!) else { throw ParseError.invalidTag(text) }
        }
        let name = String(remainder)
        guard !name.isEmpty else { throw ParseError.invalidFormat(text) }

        var domain = Reference.defaultDomain
        var path = name
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == "localhost" || first.first == "[" {
                guard Reference.isValidDomain(first) else { throw ParseError.invalidFormat(text) }
                domain = first
                path = String(name[name.index(after: slash)...])
            }
        }
        if domain == "index.docker.io" { domain = Reference.defaultDomain }
        if domain == Reference.defaultDomain && !path.contains("/") { path = "library/" + path }
        if path != path.lowercased() { throw ParseError.uppercase(name) }
        guard path.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ Reference.isValidComponent($0) })
        else { throw ParseError.invalidFormat(text) }
        guard name.count <= 255 else { throw ParseError.nameTooLong(name) }

        self.domain = domain
        self.path = path
        self.tag = (tag == nil && digest == nil) ? Reference.defaultTag : tag
        self.digest = digest
    }

    /// `domain/path`, the fully qualified repository name.
    public var repository: String { "\(domain)/\(path)" }

    /// The repository as docker shows it: without `docker.io/` and `library/`.
    public var familiarRepository: String {
        guard domain == Reference.defaultDomain else { return repository }
        return path.hasPrefix("library/") ? String(path.dropFirst("library/".count)) : path
    }

    /// The fully qualified reference: `docker.io/library/busybox:latest[@sha256:…]`.
    public var description: String {
        var s = repository
        if let tag { s += ":" + tag }
        if let digest { s += "@" + digest.description }
        return s
    }

    /// The reference as docker prints it (`busybox:latest`).
    public var familiarDescription: String {
        var s = familiarRepository
        if let tag { s += ":" + tag }
        if let digest { s += "@" + digest.description }
        return s
    }

    /// The same repository with another tag and no digest.
    public func withTag(_ tag: String) -> Reference {
        Reference(domain: domain, path: path, tag: tag, digest: nil)
    }

    /// The host to send registry API requests to (`docker.io` is served by `registry-1.docker.io`).
    public var registryHost: String {
        domain == Reference.defaultDomain ? "registry-1.docker.io" : domain
    }

    /// True for registries on the loopback interface, which docker reaches over plain HTTP.
    public var isLoopbackRegistry: Bool {
        Reference.isLoopback(domain: domain)
    }

    /// True for `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port.
    public static func isLoopback(domain: String) -> Bool {
        var host = domain
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    // MARK: grammar pieces (distribution/reference)

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
    static func isValidComponent(_ component: Substring) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if isAlnum(b) { i += 1; continue }
            if b == UInt8(ascii: ".") {
                guard i + 1 < bytes.count, isAlnum(bytes[i + 1]) else { return false }
                i += 1
            } else if b == UInt8(ascii: "_") {
                var j = i
                while j < bytes.count, bytes[j] == UInt8(ascii: "_") { j += 1 }
                guard j - i <= 2, j < bytes.count, isAlnum(bytes[j]) else { return false }
                i = j
            } else if b == UInt8(ascii: "-") {
                var j = i
                while j < bytes.count, bytes[j] == UInt8(ascii: "-") { j += 1 }
                guard j < bytes.count, isAlnum(bytes[j]) else { return false }
                i = j
            } else {
                return false
            }
        }
        return true
    }

    static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 48 && b <= 57)
    }

    /// `[\w][\w.-]{0,127}`
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard !bytes.isEmpty, bytes.count <= 128 else { return false }
        func word(_ b: UInt8) -> Bool {
            (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_")
        }
        return word(bytes[0]) && bytes.dropFirst().allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// A host name or `[IPv6]`, optionally with `:port`.
    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.hasPrefix(":") else { return false }
            let port = host.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isNumber)
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy(\.isNumber) else { return false }
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            guard let f = label.first, let l = label.last, f.isLetter || f.isNumber, l.isLetter || l.isNumber else { return false }
            return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}

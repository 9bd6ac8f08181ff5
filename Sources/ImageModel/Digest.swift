/// A content digest such as `sha256:0123…`, as used by OCI descriptors and image references.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// The algorithm, e.g. `sha256`.
    public let algorithm: String
    /// The lower-case hex encoding of the hash.
    public let encoded: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        public var description: String {
            switch self {
            case .malformed(let s): return "invalid digest \"\(s)\": expected sha256:<64 hex digits>"
            }
        }
    }

    /// Creates a SHA-256 digest from its 64-character hex encoding.
    public init(sha256Hex hex: String) throws {
        try self.init(parsing: "sha256:" + hex)
    }

    /// A SHA-256 digest from its 32 raw bytes. Nothing to parse or check, which matters where
    /// tens of thousands are made at once (a build context's file index, `SHA256Stream`).
    public init<C: Collection>(sha256Bytes bytes: C) where C.Element == UInt8 {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        // Contiguous bytes (every caller's) go through the non-generic path: iterating a
        // generic collection across the module boundary cost a call per byte, which was a
        // tenth of a no-change rebuild's file-index lookups (issue 13).
        if let encoded = bytes.withContiguousStorageIfAvailable({ Self.hex(UnsafeRawBufferPointer($0)) }) {
            self.encoded = encoded
        } else {
            encoded = Array(bytes).withUnsafeBytes { Self.hex($0) }
        }
        algorithm = "sha256"
    }

    /// A SHA-256 digest from its 32 raw bytes in memory (see `init(sha256Bytes:)`).
    public init(sha256Raw bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 digest has 32 bytes")
        encoded = Self.hex(bytes)
        algorithm = "sha256"
    }

    /// Lower-case hex of 32 bytes.
    private static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 64) { buffer in
            digits.withUTF8Buffer { hex in
                for at in 0..<32 {
                    let byte = bytes[at]
                    buffer[2 * at] = hex[Int(byte >> 4)]
                    buffer[2 * at + 1] = hex[Int(byte & 0xf)]
                }
            }
            return 64
        }
    }

    /// Parses `algorithm:encoded`. Only sha256 and sha512 are accepted, as the OCI spec registers.
    public init(parsing string: String) throws {
        guard let colon = string.firstIndex(of: ":") else { throw ParseError.malformed(string) }
        let algorithm = String(string[..<colon])
        let encoded = String(string[string.index(after: colon)...])
        let expectedLength: Int
        switch algorithm {
        case "sha256": expectedLength = 64
        case "sha512": expectedLength = 128
        default: throw ParseError.malformed(string)
        }
        guard encoded.utf8.count == expectedLength,
              encoded.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else { throw ParseError.malformed(string) }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    public var description: String { "\(algorithm):\(encoded)" }

    /// The first 12 hex digits, as `docker images` shows an IMAGE ID.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(parsing: try container.decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

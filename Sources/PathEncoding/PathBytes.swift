#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File names as the kernel has them — any bytes but `/` and NUL — carried in a Swift `String`
/// without loss, so the path logic written over strings (Go's `path.Clean`, patternmatcher's
/// `.dockerignore` rules, the image's file-system view, the step-cache key) works unchanged on
/// names that are not UTF-8.
///
/// Why not `[UInt8]` paths throughout: every stage from the context walker to the tar writer,
/// the cache key and the destination resolver is written over `String`; a lossless encoding
/// keeps all of it — and every existing cache key, since a UTF-8 name encodes to itself — while
/// the bytes that reach the kernel and the tar headers are exactly the name's bytes.
///
/// The encoding (in the spirit of PEP 383's surrogateescape, which Swift strings cannot hold):
/// a byte that does not start a well-formed UTF-8 sequence becomes the scalar `U+10FF00 + byte`
/// (only bytes `0x80…0xFF` can be ill-formed, so `U+10FF80…U+10FFFF`, private use of plane 16).
/// A name that really contains one of those 128 scalars has each byte of its UTF-8 form escaped
/// the same way, so decoding is injective and `bytes(string(b)) == b` for all bytes `b`.
/// Strings that did not come from `string(_:)` (a Dockerfile's text) are taken as UTF-8, except
/// that those 128 scalars stand for their bytes.
public enum PathBytes {
    /// The first of the 128 escape scalars: `U+10FF80` stands for byte `0x80`.
    static let escapeBase: UInt32 = 0x10FF00

    /// `bytes` as a string: UTF-8 decoded, ill-formed bytes escaped (see the type's doc).
    public static func string<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        // Fast path: well-formed UTF-8 with no 0xF4 byte (which starts every escape scalar).
        if !bytes.contains(0xF4), let plain = String(validating: bytes, as: UTF8.self) { return plain }
        let b = Array(bytes)
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            if let (scalar, length) = decodeOne(b, at: i), !isEscape(scalar.value) {
                scalars.append(scalar)
                i += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(b[i]))!)
                i += 1
            }
        }
        return String(scalars)
    }

    /// The bytes `name` stands for: its UTF-8, with escape scalars turned back into their bytes.
    public static func bytes(_ name: String) -> [UInt8] {
        guard hasEscapes(name) else { return Array(name.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(name.utf8.count)
        for scalar in name.unicodeScalars {
            if isEscape(scalar.value) {
                out.append(UInt8(scalar.value - escapeBase))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }

    /// True when `name` stands for bytes that are not its own UTF-8 (a name that is not UTF-8).
    public static func hasEscapes(_ name: String) -> Bool {
        // Every escape scalar's UTF-8 starts F4 8F BE/BF. `memchr` on a native string's bytes:
        // this runs for every path compared or handed to the kernel (issue 13).
        let mayHave = name.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.count > 0 && memchr(bytes.baseAddress!, 0xF4, bytes.count) != nil
        } ?? name.utf8.contains(0xF4)
        guard mayHave else { return false }
        return name.unicodeScalars.contains { isEscape($0.value) }
    }

    /// Calls `body` with the NUL-terminated bytes of `name` — what to hand any system call.
    public static func withCString<T>(_ name: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        guard hasEscapes(name) else { return try name.withCString(body) }
        let raw = bytes(name) + [0]
        return try raw.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// `name` for a one-line message: bytes that are not UTF-8 shown as `\xNN`, and control
    /// characters as `\n`, `\t`, `\r` or `\xNN` (as Go's `%q` shows them), so a file named
    /// with a newline cannot break an error message in two; everything else as it is.
    public static func display(_ name: String) -> String {
        guard hasEscapes(name) || name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return name }
        func hex(_ byte: UInt32) -> String {
            let digits = String(byte, radix: 16)
            return "\\x" + (digits.count < 2 ? "0" : "") + digits
        }
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case _ where isEscape(scalar.value): out += hex(scalar.value - escapeBase)
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            case 0x0D: out += "\\r"
            case 0..<0x20, 0x7F: out += hex(scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A NUL-terminated C string (`readdir`'s `d_name`, `readlink`'s buffer, libarchive's names).
    public static func string(cString: UnsafePointer<CChar>) -> String {
        string(UnsafeRawBufferPointer(start: cString, count: strlen(cString)))
    }

    static func isEscape(_ value: UInt32) -> Bool { value >= escapeBase + 0x80 && value <= escapeBase + 0xFF }

    /// One well-formed UTF-8 scalar at `i` (shortest form, no surrogates, at most U+10FFFF).
    private static func decodeOne(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let first = b[i]
        if first < 0x80 { return (Unicode.Scalar(first), 1) }
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch first {
        case 0xC2...0xDF: length = 2; minimum = 0x80; value = UInt32(first & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; value = UInt32(first & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; value = UInt32(first & 0x07)
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(c & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}

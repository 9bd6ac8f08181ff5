import ImageModel

/// The stored form of a `FileDigestIndex`: binary, because the index of a 30k-file context
/// is read and written on every build and Foundation's JSON coders took most of a second of a
/// no-change rebuild doing it (issue 13).
///
/// ```
/// "swiftdock-file-digests 1\n"
/// per entry: u32 path length, path (its String's UTF-8, so PathBytes escapes survive),
///            i64 size, mtime, ctime, u64 inode, device, i64 hashedAt (ns), 32 digest bytes
/// 32 bytes: SHA-256 of everything before
/// ```
/// Integers are little-endian. Anything that does not parse, or whose checksum fails, decodes
/// to nil: the index is only a hint, so the build then reads every file again.
extension FileDigestIndex {
    private static let magic = Array("swiftdock-file-digests 1\n".utf8)

    static func encode(_ entries: [String: Entry]) -> [UInt8] {
        var out = magic
        out.reserveCapacity(magic.count + entries.count * 120 + 32)
        // Sorted, so the same index always gives the same bytes.
        for path in entries.keys.sorted() {
            let entry = entries[path]!
            let name = Array(path.utf8)
            append(UInt32(name.count), to: &out)
            out += name
            let stamp = entry.stamp
            for value in [UInt64(bitPattern: stamp.size), UInt64(bitPattern: stamp.mtime), UInt64(bitPattern: stamp.ctime),
                          stamp.inode, stamp.device, UInt64(bitPattern: entry.hashedAt)] {
                append(value, to: &out)
            }
            out += hexBytes(entry.digest.encoded)
        }
        out += rawDigest(of: out)
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [String: Entry]? {
        guard bytes.count >= magic.count + 32, bytes.starts(with: magic) else { return nil }
        let end = bytes.count - 32
        guard rawDigest(of: bytes[..<end]) == Array(bytes[end...]) else { return nil }
        var entries: [String: Entry] = [:]
        var at = magic.count
        return bytes.withUnsafeBytes { raw -> [String: Entry]? in
            func integer() -> UInt64? {
                guard at + 8 <= end else { return nil }
                defer { at += 8 }
                return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            }
            while at < end {
                guard at + 4 <= end else { return nil }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                at += 4
                guard length <= end - at, let path = String(validating: bytes[at..<(at + length)], as: UTF8.self) else { return nil }
                at += length
                guard let size = integer(), let mtime = integer(), let ctime = integer(), let inode = integer(),
                      let device = integer(), let hashedAt = integer(), at + 32 <= end,
                      let digest = try? Digest(sha256Hex: hexString(bytes[at..<(at + 32)])) else { return nil }
                at += 32
                entries[path] = Entry(size: Int64(bitPattern: size), mtime: Int64(bitPattern: mtime), ctime: Int64(bitPattern: ctime),
                                      inode: inode, device: device, hashedAt: Int64(bitPattern: hashedAt), digest: digest)
            }
            return entries
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private static func rawDigest<C: Collection>(of bytes: C) -> [UInt8] where C.Element == UInt8 {
        hexBytes(SHA256Stream.digest(of: Array(bytes)).encoded)
    }

    /// 64 hex digits → 32 bytes (digests here are always well-formed lower-case hex).
    private static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
    }

    private static func hexString(_ bytes: ArraySlice<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

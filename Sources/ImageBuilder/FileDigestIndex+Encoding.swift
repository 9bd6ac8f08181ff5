import Foundation
import ImageModel

/// The stored form of a `FileDigestIndex`: binary, because the index of a 30k-file context
/// is read and written on every build and Foundation's JSON coders took most of a second of a
/// no-change rebuild doing it (issue 13).
///
/// ```
/// "swiftdock-file-digests 2\n"
/// per entry: u32 path length, path (its String's UTF-8, so PathBytes escapes survive),
///            i64 size, mtime, ctime, u64 inode, device, i64 hashedAt (ns), 32 digest bytes
/// 32 bytes: SHA-256 of everything before
/// ```
/// Entries are written in the order the build used them, so the next build, asking in the
/// same order, finds each at a cursor with one comparison of bytes (see `FileDigestIndex`).
/// Integers are little-endian. Anything that does not parse, or whose checksum fails, decodes
/// to nil: the index is only a hint, so the build then reads every file again.
extension FileDigestIndex {
    /// Version 2: `hashedAt` is read from the coarse clock the kernel stamps files with, which
    /// `isSettled`'s exact rule relies on; a version-1 index (fine clock, trusted after a fixed
    /// 2 s) is not read, so the first build after the change reads every file once.
    private static let magic = Array("swiftdock-file-digests 2\n".utf8)
    private static let fixedBytes = 6 * 8 + 32

    /// Where one entry lies in the stored bytes: the whole record, and its path.
    struct Record {
        var start: Int
        var pathLength: Int
        var pathStart: Int { start + 4 }
        var fieldsStart: Int { pathStart + pathLength }
        var end: Int { fieldsStart + FileDigestIndex.fixedBytes }
    }

    /// Builds the stored form, one record at a time, and closes it with the checksum.
    /// Written straight into one buffer reserved up front (a 32k-entry index is 4 MB): made
    /// with a temporary array per entry, a digest's bytes through `map` and grown by doubling,
    /// it was a fifth of a cold build's serial tail (issue 13).
    struct Writer {
        private(set) var bytes: [UInt8]

        /// `capacity`: the bytes expected after the magic (a hint).
        init(capacity: Int = 0) {
            bytes = []
            bytes.reserveCapacity(FileDigestIndex.magic.count + capacity + 32)
            bytes += FileDigestIndex.magic
        }

        mutating func append(path: String, entry: Entry) {
            var path = path
            path.withUTF8 { name in
                append(UInt32(name.count))
                bytes.append(contentsOf: name)
            }
            let stamp = entry.stamp
            append(UInt64(bitPattern: stamp.size))
            append(UInt64(bitPattern: stamp.mtime))
            append(UInt64(bitPattern: stamp.ctime))
            append(stamp.inode)
            append(stamp.device)
            append(UInt64(bitPattern: entry.hashedAt))
            var hex = entry.digest.encoded
            hex.withUTF8 { digits in
                // 64 hex digits (a digest here always has them) → 32 bytes, appended at once.
                func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { raw in
                    for at in 0..<32 { raw[at] = value(digits[2 * at]) << 4 | value(digits[2 * at + 1]) }
                    bytes.append(contentsOf: raw)
                }
            }
        }

        /// A record of an index read earlier, copied as it was.
        mutating func append(record: Record, of stored: [UInt8]) {
            bytes += stored[record.start..<record.end]
        }

        /// The bytes with their checksum appended (in place: no 4 MB copy).
        mutating func finish() -> [UInt8] {
            let checksum = FileDigestIndex.rawDigest(of: bytes[...])
            bytes += checksum
            return bytes
        }

        private mutating func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }

    /// The stored size of an entry for `pathBytes` bytes of path (for `Writer`'s capacity).
    static func recordSize(pathBytes: Int) -> Int { 4 + pathBytes + fixedBytes }

    /// The stored form of `entries`, in path order (tests; a build writes its order of use).
    static func encode(_ entries: [String: Entry]) -> [UInt8] {
        var writer = Writer()
        for path in entries.keys.sorted() { writer.append(path: path, entry: entries[path]!) }
        return writer.finish()
    }

    /// The entries of a stored index by path; nil when it does not parse.
    static func decode(_ bytes: [UInt8]) -> [String: Entry]? {
        guard let records = parse(bytes) else { return nil }
        var entries: [String: Entry] = [:]
        for record in records {
            guard let entry = entry(record, in: bytes) else { return nil }
            entries[path(of: record, in: bytes)] = entry
        }
        return entries
    }

    /// The records of a stored index, checked (checksum, lengths, UTF-8 paths); nil when
    /// anything is wrong: the index is only a hint.
    static func parse(_ bytes: [UInt8]) -> [Record]? {
        guard bytes.count >= magic.count + 32, bytes.starts(with: magic) else { return nil }
        let end = bytes.count - 32
        guard rawDigest(of: bytes[..<end]) == Array(bytes[end...]) else { return nil }
        var records: [Record] = []
        // Room for every record at once (at least one path byte each), not grown by doubling.
        records.reserveCapacity((end - magic.count) / (4 + 1 + fixedBytes))
        var at = magic.count
        return bytes.withUnsafeBytes { raw -> [Record]? in
            while at < end {
                guard at + 4 <= end else { return nil }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                let record = Record(start: at, pathLength: length)
                guard length <= end - record.pathStart - fixedBytes,
                      isUTF8(bytes[record.pathStart..<record.fieldsStart]) else { return nil }
                records.append(record)
                at = record.end
            }
            return records
        }
    }

    /// ASCII checked without making a String (nearly every path); anything else validated.
    private static func isUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { $0 < 0x80 } || String(validating: bytes, as: UTF8.self) != nil
    }

    static func path(of record: Record, in bytes: [UInt8]) -> String {
        String(decoding: bytes[record.pathStart..<record.fieldsStart], as: UTF8.self)
    }

    /// Whether the record's path is `path`'s bytes (one memcmp, no String made).
    static func path(of record: Record, in bytes: [UInt8], equals path: String) -> Bool {
        var path = path
        return path.withUTF8 { utf8 in
            utf8.count == record.pathLength && bytes.withUnsafeBytes { raw in
                utf8.count == 0 || memcmp(raw.baseAddress! + record.pathStart, utf8.baseAddress!, utf8.count) == 0
            }
        }
    }

    static func entry(_ record: Record, in bytes: [UInt8]) -> Entry? {
        let (stamp, hashedAt) = stamp(record, in: bytes)
        let digest = bytes.withUnsafeBytes { raw in
            Digest(sha256Raw: UnsafeRawBufferPointer(rebasing: raw[(record.fieldsStart + 48)..<(record.fieldsStart + 80)]))
        }
        return Entry(stamp: stamp, hashedAt: hashedAt, digest: digest)
    }

    /// A record's stamp and moment of hashing, without making its digest (`filesToRead`).
    static func stamp(_ record: Record, in bytes: [UInt8]) -> (stamp: Stamp, hashedAt: Int64) {
        bytes.withUnsafeBytes { raw in
            func integer(_ index: Int) -> UInt64 {
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: record.fieldsStart + 8 * index, as: UInt64.self))
            }
            return (Stamp(size: Int64(bitPattern: integer(0)), mtime: Int64(bitPattern: integer(1)), ctime: Int64(bitPattern: integer(2)),
                          inode: integer(3), device: integer(4)), Int64(bitPattern: integer(5)))
        }
    }

    /// Hashed in place (a copy of a 4 MB index first was a fiftieth of a no-change rebuild).
    fileprivate static func rawDigest(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        var stream = SHA256Stream()
        bytes.withUnsafeBytes { stream.update($0) }
        return hexBytes(stream.finalize().encoded)
    }

    /// 64 hex digits → 32 bytes (digests here are always well-formed lower-case hex).
    fileprivate static func hexBytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        func value(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
        return stride(from: 0, to: digits.count - 1, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
    }
}

import CArchive
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Recovers the symlink target libarchive 3.6 drops: a pax `linkpath` record that is not UTF-8
/// (Go's archive/tar — BuildKit's writer — stores any non-ASCII target there, raw). libarchive
/// rejects the value in its UTF-8 check and leaves the entry with no target at all, and it has
/// no call that returns the raw record. So the entry's own headers are read again, from the
/// offset libarchive reports for them, through a second libarchive reader in raw mode (which
/// still undoes gzip, bzip2, xz or zstd), and the record is parsed here. Hand-written because
/// no kept library exposes pax records; it runs only for such entries (rare), at the cost of
/// decompressing the archive up to that entry once more.
enum PaxLinkRecovery {
    /// The raw `linkpath` in the extended headers that start `offset` bytes into the
    /// uncompressed archive at `path`; nil when there is none.
    static func linkpath(archive path: String, offset: Int64) -> [UInt8]? {
        guard let raw = archive_read_new() else { return nil }
        defer { archive_read_free(raw) }
        archive_read_support_filter_gzip(raw)
        archive_read_support_filter_bzip2(raw)
        archive_read_support_filter_xz(raw)
        archive_read_support_filter_zstd(raw)
        archive_read_support_format_raw(raw)
        var entry: OpaquePointer?
        guard PathBytes.withCString(path, { archive_read_open_filename(raw, $0, 1 << 16) }) == ArchiveStatus.ok,
              archive_read_next_header(raw, &entry) == ArchiveStatus.ok else { return nil }
        func read(_ count: Int) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = out.withUnsafeMutableBytes { archive_read_data(raw, $0.baseAddress! + done, count - done) }
                if n <= 0 { return nil }
                done += n
            }
            return out
        }
        var skip = offset
        while skip > 0 {
            let n = Int(min(skip, 1 << 20))
            guard read(n) != nil else { return nil }
            skip -= Int64(n)
        }
        // The entry's special headers ('x' pax, 'g' global, GNU 'L'/'K') up to its own header.
        var linkpath: [UInt8]?
        for _ in 0..<8 {
            guard let header = read(512) else { return nil }
            let flag = header[156]
            guard [UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K")].contains(flag) else { break }
            let sizeField = header[124..<136].prefix { $0 != 0 && $0 != 0x20 }
            guard let size = Int(String(decoding: sizeField, as: UTF8.self), radix: 8), size >= 0, size < 1 << 20,
                  let data = read(size), read((512 - size % 512) % 512) != nil else { return nil }
            if flag == UInt8(ascii: "x") { linkpath = record("linkpath", in: data) ?? linkpath }
        }
        return linkpath
    }

    /// The value of `key` in pax records (`"%d %s=%s\n"` each, the length counting itself).
    static func record(_ key: String, in data: [UInt8]) -> [UInt8]? {
        var i = 0
        var found: [UInt8]?
        while i < data.count {
            guard let space = data[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: data[i..<space], as: UTF8.self)), length > 0, i + length <= data.count,
                  data[i + length - 1] == 0x0A else { return found }
            let body = data[(space + 1)..<(i + length - 1)]
            if let equals = body.firstIndex(of: UInt8(ascii: "=")), Array(body[..<equals]) == Array(key.utf8) {
                found = Array(body[(equals + 1)...])  // a later record for the same key wins
            }
            i += length
        }
        return found
    }
}

import CArchive
import Foundation

/// Streaming reader for tar archives, plain or compressed with gzip, bzip2, xz or zstd
/// (detected by content) — the tar family Docker's ADD extracts. Not thread-safe; one per use.
final class TarReader {
    let path: String
    let archive: OpaquePointer

    /// Opens `path`; fails with a `LayerError` naming it.
    init(path: String) throws {
        self.path = path
        archive = archive_read_new()
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_format_tar(archive)
        if archive_read_open_filename(archive, path, 1 << 20) != ArchiveStatus.ok {
            throw error()  // deinit frees the archive
        }
    }

    deinit { archive_read_free(archive) }

    /// The next entry (owned by the reader, valid until the next call), or nil at the end.
    func next() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        // Under UTF-8 so pax names are read byte for byte whatever the process locale (see `ArchiveLocale`).
        let rc = ArchiveLocale.utf8 { archive_read_next_header(archive, &entry) }
        if rc == ArchiveStatus.eof { return nil }
        if rc < ArchiveStatus.warn { throw error() }
        return entry
    }

    /// The next data block of the current entry as (bytes, count, offset), or nil at its end.
    func nextBlock() throws -> (UnsafeRawPointer, Int, Int64)? {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let rc = archive_read_data_block(archive, &buffer, &size, &offset)
        if rc == ArchiveStatus.eof { return nil }
        if rc < ArchiveStatus.warn { throw error() }
        guard let buffer else { return size == 0 ? (UnsafeRawPointer(bitPattern: 1)!, 0, offset) : nil }
        return (buffer, size, Int64(offset))
    }

    /// The current entry's whole content (for small files such as /etc/passwd).
    func readAll() throws -> [UInt8] {
        var bytes = [UInt8]()
        while let (base, count, offset) = try nextBlock() {
            if offset > Int64(bytes.count) { bytes += [UInt8](repeating: 0, count: Int(offset) - bytes.count) }
            bytes += UnsafeRawBufferPointer(start: base, count: count)
        }
        return bytes
    }

    /// The entry's path as stored. Entries are read under UTF-8 (`next()`), so the raw name is
    /// the header's bytes; the `_utf8` getters would convert through the process locale.
    func entryPath(_ entry: OpaquePointer) -> String {
        archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
    }

    /// The entry's path as clean relative bytes (as `normalize` cleans names) when those bytes
    /// are not valid UTF-8 — a name `entryPath` can only give repaired; nil for UTF-8 names.
    static func nonUTF8Path(_ entry: OpaquePointer, archive: String) throws -> [UInt8]? {
        guard let raw = archive_entry_pathname(entry) else { return nil }
        let bytes = Array(UnsafeBufferPointer(start: raw, count: strlen(raw))).map { UInt8(bitPattern: $0) }
        if String(validating: bytes, as: UTF8.self) != nil { return nil }
        var parts: [ArraySlice<UInt8>] = []
        for part in bytes.split(separator: UInt8(ascii: "/")) where part != [UInt8(ascii: ".")] {
            if part == [UInt8(ascii: "."), UInt8(ascii: ".")] {
                throw LayerError.unsafeEntry(archive: archive, entry: String(decoding: bytes, as: UTF8.self))
            }
            parts.append(part)
        }
        return Array(parts.joined(separator: [UInt8(ascii: "/")]))
    }

    /// The hard-link target of `entry`, if it is a hard link.
    static func hardlink(of entry: OpaquePointer) -> String? {
        archive_entry_hardlink(entry).map { String(cString: $0) }
    }

    /// The symlink target of `entry`, if it is a symlink.
    static func symlink(of entry: OpaquePointer) -> String? {
        archive_entry_symlink(entry).map { String(cString: $0) }
    }

    /// `name` as a clean relative path (no `.`, empty or leading `/` components); nil for the
    /// archive root. Throws for `..` components, which would escape the destination.
    static func normalize(_ name: String, archive: String) throws -> String? {
        var parts: [Substring] = []
        for part in name.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { throw LayerError.unsafeEntry(archive: archive, entry: name) }
            parts.append(part)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    private func error() -> LayerError {
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        if message.contains("No such file") || message.contains("Permission denied") || message.contains("Failed to open") {
            return .unreadable(path: path, reason: message)
        }
        return .archive(path: path, message: message)
    }
}

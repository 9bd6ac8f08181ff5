import CArchive
import FileDescriptorIO
import Foundation
import ImageModel
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Streaming reader for tar archives, plain or compressed with gzip, bzip2, xz or zstd
/// (detected by content) — the tar family Docker's ADD extracts. Not thread-safe; one per use.
///
/// Given the blob's digest, the reader hashes the file's bytes as libarchive pulls them (one
/// pass, no second read) and, at the end of the archive, the bytes libarchive left unread
/// (padding after the end blocks): a blob whose content does not match fails with
/// `LayerError.digestMismatch` instead of ending normally. Callers that act on entries before
/// the end (unpacking) must do so in a place they discard on error.
package final class TarReader {
    package let path: String
    let archive: OpaquePointer
    private let input: BlobInput
    /// False for a stream (a pipe or socket): nothing can be read again from an offset.
    private let seekable: Bool

    /// Opens `path`; fails with a `LayerError` naming it. With `digest`, the content is
    /// verified against it by the time `next()` reports the end.
    package convenience init(path: String, digest: Digest? = nil) throws {
        let fd = PathBytes.withCString(path) { Glibc.open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw LayerError.unreadable(path: path, reason: LayerError.errnoText()) }
        try self.init(fd: fd, name: path, digest: digest, seekable: true)
    }

    /// Reads the archive streaming from `fd` (a pipe or socket, which the reader owns and
    /// closes), in one pass; `name` names it in errors. Nothing is verified here: the bytes
    /// must come from a source that checks them (see `LayerHeaders.read(stream:name:)`).
    package convenience init(stream fd: Int32, name: String) throws {
        try self.init(fd: fd, name: name, digest: nil, seekable: false)
    }

    /// Takes `fd` (closed with the reader).
    private init(fd: Int32, name: String, digest: Digest?, seekable: Bool) throws {
        path = name
        archive = archive_read_new()
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_format_tar(archive)
        input = BlobInput(fd: fd, digest: digest)
        self.seekable = seekable
        let opened = archive_read_open(archive, Unmanaged.passUnretained(input).toOpaque(), nil, { _, data, out in
            let input = Unmanaged<BlobInput>.fromOpaque(data!).takeUnretainedValue()
            return input.read(into: out!)
        }, nil)
        if opened != ArchiveStatus.ok {
            throw error()  // deinit frees the archive and closes the input
        }
    }

    /// Reads what is left of the input after the archive's end (padding), so a writer feeding
    /// a stream can finish.
    func drain() throws {
        if let failure = input.drain() { throw LayerError.unreadable(path: path, reason: failure) }
    }

    deinit {
        archive_read_free(archive)
        input.close()
    }

    /// The next entry (owned by the reader, valid until the next call), or nil at the end.
    package func next() throws -> OpaquePointer? {
        var entry: OpaquePointer?
        // Under C so pax names are read byte for byte, never normalised, whatever the process
        // locale (see `ArchiveLocale.bytes`).
        let rc = ArchiveLocale.bytes { () -> Int32 in
            // libarchive reads a name that fails its UTF-8 check (a pax `path` that is not
            // UTF-8, as Go and GNU tar write one) as a warning, unless errno happens to hold
            // ENOMEM from some earlier call: then it is fatal. Start from a clean errno.
            errno = 0
            return archive_read_next_header(archive, &entry)
        }
        if rc == ArchiveStatus.eof {
            try input.verifyRemainder(path: path)
            return nil
        }
        if rc < ArchiveStatus.warn { throw error() }
        if let entry, archive_entry_filetype(entry) == FileType.symlink,
           archive_entry_symlink(entry) == nil, archive_entry_hardlink(entry) == nil {
            // libarchive 3.6 drops a symlink target given as a pax `linkpath` that is not UTF-8
            // (Go's archive/tar, so BuildKit, writes one for any non-ASCII target): read it
            // from the entry's headers (`PaxLinkRecovery`), or refuse the entry rather than
            // make a symlink to nothing.
            guard seekable else { throw LayerError.linkNeedsRereading(archive: path, entry: PathBytes.display(entryPath(entry))) }
            if let target = PaxLinkRecovery.linkpath(archive: path, offset: archive_read_header_position(archive)) {
                (target + [0]).withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { archive_entry_copy_symlink(entry, $0.baseAddress) }
                }
                return entry
            }
            throw LayerError.archive(path: path, message: "entry \"\(PathBytes.display(entryPath(entry)))\": "
                                     + "its symlink target (a pax linkpath that is not UTF-8) cannot be read")
        }
        return entry
    }

    /// The next data block of the current entry as (bytes, count, offset), or nil at its end.
    package func nextBlock() throws -> (UnsafeRawPointer, Int, Int64)? {
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

    /// The entry's path as stored, byte for byte (as a `PathBytes` string, so a name that is not
    /// UTF-8 survives). Entries are read under UTF-8 (`next()`), so the raw name is the header's
    /// bytes; the `_utf8` getters would convert through the process locale.
    package func entryPath(_ entry: OpaquePointer) -> String {
        archive_entry_pathname(entry).map(PathBytes.string(cString:)) ?? ""
    }

    /// The hard-link target of `entry`, if it is a hard link.
    package static func hardlink(of entry: OpaquePointer) -> String? {
        archive_entry_hardlink(entry).map(PathBytes.string(cString:))
    }

    /// The symlink target of `entry`, if it is a symlink.
    package static func symlink(of entry: OpaquePointer) -> String? {
        archive_entry_symlink(entry).map(PathBytes.string(cString:))
    }

    /// `name` as a clean relative path (no `.`, empty or leading `/` components); nil for the
    /// archive root. Throws for `..` components, which would escape the destination.
    package static func normalize(_ name: String, archive: String) throws -> String? {
        var parts: [String] = []
        for part in PathBytes.components(name) where part != "." {  // split at `/` bytes
            if part == ".." { throw LayerError.unsafeEntry(archive: archive, entry: name) }
            parts.append(part)
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }

    /// What went wrong, as one `LayerError`. When the blob has a digest and libarchive failed,
    /// the rest of the file is hashed first: damaged bytes are reported as the digest mismatch
    /// they are, not as whatever decompression error they caused.
    private func error() -> LayerError {
        if let failure = input.readFailure { return .unreadable(path: path, reason: failure) }
        if let mismatch = input.mismatchAfterReadingRest(path: path) { return mismatch }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        if message.contains("No such file") || message.contains("Permission denied") || message.contains("Failed to open") {
            return .unreadable(path: path, reason: message)
        }
        return .archive(path: path, message: message)
    }
}

/// The file under a `TarReader`: read in 1 MiB blocks for libarchive, hashed on the way when
/// a digest is to be checked.
private final class BlobInput {
    private let fd: Int32
    private let expected: Digest?
    private var hash = SHA256Stream()
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
    private(set) var readFailure: String?
    private var closed = false

    init(fd: Int32, digest: Digest?) {
        self.fd = fd
        self.expected = digest
    }

    deinit { buffer.deallocate() }

    /// libarchive's read callback: the next block, 0 at the end, -1 on error.
    func read(into out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        let n: Int
        do throws(FileDescriptorIOError) {
            n = try FileDescriptorIO.read(fd, into: UnsafeMutableRawBufferPointer(start: buffer, count: 1 << 20))
        } catch {
            readFailure = error.reason
            return -1
        }
        if expected != nil && n > 0 { hash.update(UnsafeRawBufferPointer(start: buffer, count: n)) }
        out.pointee = UnsafeRawPointer(buffer)
        return n
    }

    /// Hashes what libarchive did not read and compares with the expected digest.
    func verifyRemainder(path: String) throws {
        guard expected != nil else { return }
        if let failure = readRest() { throw LayerError.unreadable(path: path, reason: failure) }
        if let mismatch = mismatch(path: path) { throw mismatch }
    }

    /// Reads to the end, keeping nothing; the failure, if any.
    func drain() -> String? { readRest() }

    /// After a failed read: the digest mismatch, if the whole file does not match.
    func mismatchAfterReadingRest(path: String) -> LayerError? {
        guard expected != nil, !finished, readRest() == nil else { return nil }
        return mismatch(path: path)
    }

    private var finished = false

    private func readRest() -> String? {
        var out: UnsafeRawPointer?
        while true {
            let n = read(into: &out)
            if n < 0 { return readFailure ?? "read failed" }
            if n == 0 { return nil }
        }
    }

    private func mismatch(path: String) -> LayerError? {
        finished = true
        guard let expected else { return nil }
        let actual = hash.finalize()
        return actual == expected ? nil : LayerError.digestMismatch(path: path, expected: expected, actual: actual)
    }

    func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }
}

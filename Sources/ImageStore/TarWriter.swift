import Layers
import CArchive
import Foundation
import ImageModel
#if canImport(Glibc)
import Glibc
#endif

/// Writes a POSIX (pax) tar file with libarchive: directories, in-memory files and files
/// streamed from disk. Entries are owned by root, dated the epoch, so the same content
/// always gives the same archive.
final class TarWriter {
    private let archive: OpaquePointer
    private let fd: Int32
    let path: String
    private var closed = false

    /// Creates `path` exclusively and starts an archive in it.
    init(path: String) throws {
        self.path = path
        fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL)
        guard let a = archive_write_new() else {
            Glibc.close(fd)
            throw StoreError.io(path: path, reason: "libarchive: cannot allocate a writer")
        }
        archive = a
        guard archive_write_set_format_pax_restricted(a) == ARCHIVE_OK,
              ArchiveLocale.utf8({ archive_write_set_options(a, "hdrcharset=UTF-8") }) == ARCHIVE_OK,
              archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK,
              archive_write_open_fd(a, fd) == ARCHIVE_OK
        else {
            let reason = TarWriter.message(a)
            archive_write_free(a)
            Glibc.close(fd)
            throw StoreError.io(path: path, reason: "libarchive: \(reason)")
        }
    }

    deinit {
        if !closed {
            archive_write_free(archive)
            Glibc.close(fd)
        }
    }

    private static func message(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
    }

    private func failure(_ what: String) -> StoreError {
        .io(path: path, reason: "\(what): \(TarWriter.message(archive))")
    }

    private func writeHeader(name: String, isDirectory: Bool, size: Int64) throws {
        guard let entry = archive_entry_new() else { throw StoreError.io(path: path, reason: "libarchive: cannot allocate an entry") }
        defer { archive_entry_free(entry) }
        archive_entry_copy_pathname(entry, name)
        archive_entry_set_filetype(entry, isDirectory ? 0o040000 : 0o100000)
        archive_entry_set_perm(entry, isDirectory ? 0o755 : 0o644)
        archive_entry_set_size(entry, isDirectory ? 0 : size)
        archive_entry_set_mtime(entry, 0, 0)
        archive_entry_set_uid(entry, 0)
        archive_entry_set_gid(entry, 0)
        // Under UTF-8 whatever the process locale, so names pass byte for byte (see `ArchiveLocale`).
        guard ArchiveLocale.utf8({ archive_write_header(archive, entry) }) == ARCHIVE_OK else {
            throw failure("cannot write header of \(name)")
        }
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, name: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = archive_write_data(archive, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { throw failure("cannot write \(name)") }
            offset += Int(n)
        }
    }

    /// Adds a directory entry (`name` ends with `/`).
    func addDirectory(_ name: String) throws {
        try writeHeader(name: name, isDirectory: true, size: 0)
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw failure("cannot finish \(name)") }
    }

    /// Adds a regular file with the given content.
    func addFile(_ name: String, _ bytes: [UInt8]) throws {
        try writeHeader(name: name, isDirectory: false, size: Int64(bytes.count))
        try bytes.withUnsafeBytes { try writeData($0, name: name) }
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw failure("cannot finish \(name)") }
    }

    /// Adds a regular file streamed from `source`; returns the SHA-256 of what was written.
    func addFile(_ name: String, contentsOf source: String) throws -> Digest {
        guard let st = FileSystem.status(source) else { throw FileSystem.ioError(source, "cannot read") }
        try writeHeader(name: name, isDirectory: false, size: Int64(st.st_size))
        var hasher = SHA256Stream()
        let written = try FileSystem.forEachChunk(source) { chunk in
            hasher.update(chunk)
            try writeData(chunk, name: name)
        }
        guard written == Int64(st.st_size) else {
            throw StoreError.io(path: source, reason: "changed size while being archived")
        }
        guard archive_write_finish_entry(archive) == ARCHIVE_OK else { throw failure("cannot finish \(name)") }
        return hasher.finalize()
    }

    /// Writes the end-of-archive blocks, fsyncs and closes the file.
    func close() throws {
        guard !closed else { return }
        closed = true
        defer { Glibc.close(fd) }
        let status = archive_write_close(archive)
        let reason = TarWriter.message(archive)
        archive_write_free(archive)
        guard status == ARCHIVE_OK else { throw StoreError.io(path: path, reason: "cannot finish archive: \(reason)") }
        if fsync(fd) != 0 { throw FileSystem.ioError(path, "fsync failed") }
    }
}

import CArchive
import CLinux
import FileDescriptorIO
import Foundation
import ImageModel
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// File-type bits as libarchive spells them (`AE_IF*`, whose casts Swift cannot import).
enum FileType {
    static let mask: UInt32 = 0o170000
    static let regular: UInt32 = 0o100000
    static let directory: UInt32 = 0o040000
    static let symlink: UInt32 = 0o120000
    static let character: UInt32 = 0o020000
    static let block: UInt32 = 0o060000
    static let fifo: UInt32 = 0o010000
}

/// libarchive status codes.
enum ArchiveStatus {
    static let ok: Int32 = 0
    static let eof: Int32 = 1
    static let warn: Int32 = -20
}

/// Serialises layer items as a POSIX pax tar (restricted: pax headers only where ustar cannot
/// express an entry) through libarchive, handing every byte to a `LayerStream`.
final class TarEmitter {
    private let archive: OpaquePointer
    private let entry: OpaquePointer
    fileprivate let stream: LayerStream
    private let sourceDateEpoch: Int64?
    private let outputPath: String
    private let readBuffer: UnsafeMutableRawPointer
    private static let readBufferSize = 1 << 20
    /// An error thrown by the stream inside libarchive's write callback.
    fileprivate var callbackError: Error?
    /// True while an entry with a name that is not UTF-8 is written by hand (`BinaryNameHeader`):
    /// its data goes straight to the stream, libarchive holding no open entry.
    private var writingRawEntry = false
    /// Data bytes written so far for that entry.
    private var rawWritten: Int64 = 0
    /// When set, every source file copied is hashed on the way and recorded here.
    var recording: SourceFileDigests?
    /// Told when a source file was not in the page cache, and how far the reads have come
    /// (see `SourceReadAhead`); nil: no read-ahead.
    var readAhead: SourceReadAhead?
    /// Whether a first read may still ask with `RWF_NOWAIT` (a file system that refuses it
    /// once is not asked again).
    private var asksWithoutWaiting = true

    init(stream: LayerStream, sourceDateEpoch: Int64?, outputPath: String) throws {
        self.stream = stream
        self.sourceDateEpoch = sourceDateEpoch
        self.outputPath = outputPath
        archive = archive_write_new()
        entry = archive_entry_new()
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 64)
        archive_write_set_format_pax_restricted(archive)
        ArchiveLocale.pin(writer: archive)
        archive_write_add_filter_none(archive)
        // No blocking: headers and data reach the callback as produced; the archive ends with
        // the two zero records and no padding to a 10 KiB block (as Docker/Go tar writers do).
        archive_write_set_bytes_per_block(archive, 0)
        let rc = archive_write_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, tarWriteCallback, nil)
        if rc != ArchiveStatus.ok { throw archiveError() }
    }

    deinit {
        archive_write_free(archive)
        archive_entry_free(entry)
        readBuffer.deallocate()
    }

    /// Writes one item: an entry, or every entry of a local archive re-rooted under its destination.
    func emit(_ item: LayerItem) throws {
        switch item {
        case .entry(let e): try emit(e)
        case .archive(let path, let destination, let owner):
            try emitArchive(path: path, destination: destination, owner: owner)
        }
    }

    /// Writes the end-of-archive records.
    func finish() throws {
        let rc = archive_write_close(archive)
        if rc != ArchiveStatus.ok { throw archiveError() }
    }

    /// Entry mtimes are written in whole seconds (as Docker's and BuildKit's tar writers do), so
    /// entries look the same whether or not they need a pax header; `sourceDateEpoch` caps them.
    private func mtime(_ seconds: Int64) -> time_t {
        if let epoch = sourceDateEpoch, seconds > epoch { return time_t(epoch) }
        return time_t(seconds)
    }

    private func emit(_ e: LayerEntry) throws {
        var link: String?
        if case .symlink(let target) = e.kind { link = target }
        if case .hardlink(let target) = e.kind { link = target }
        if PathBytes.hasEscapes(e.path) || link.map(PathBytes.hasEscapes) == true {
            try emitBinaryName(e, link: link ?? "")
            return
        }
        archive_entry_clear(entry)
        archive_entry_copy_pathname(entry, e.path)
        archive_entry_set_perm(entry, mode_t(e.mode & 0o7777))
        archive_entry_set_uid(entry, la_int64_t(e.uid))
        archive_entry_set_gid(entry, la_int64_t(e.gid))
        archive_entry_set_mtime(entry, mtime(e.mtimeSeconds), 0)
        switch e.kind {
        case .directory:
            archive_entry_set_filetype(entry, FileType.directory)
        case .regularFile(let content):
            archive_entry_set_filetype(entry, FileType.regular)
            archive_entry_set_size(entry, content.size)
        case .symlink(let target):
            archive_entry_set_filetype(entry, FileType.symlink)
            archive_entry_copy_symlink(entry, target)
        case .hardlink(let target):
            archive_entry_set_filetype(entry, FileType.regular)
            archive_entry_copy_hardlink(entry, target)
            archive_entry_set_size(entry, 0)
        }
        try writeHeader(e.path)
        if case .regularFile(let content) = e.kind {
            switch content {
            case .bytes(let bytes):
                try bytes.withUnsafeBytes { try writeData($0.baseAddress, $0.count, e.path) }
            case .file(let path, let size):
                try copyFile(path, size: size)
            }
        }
    }

    /// An entry whose name or link target is not UTF-8, with Go's header (see `BinaryNameHeader`).
    private func emitBinaryName(_ e: LayerEntry, link: String) throws {
        let type: BinaryNameHeader.TypeFlag
        var size: Int64 = 0
        switch e.kind {
        case .directory: type = .directory
        case .regularFile(let content): type = .regular; size = content.size
        case .symlink: type = .symlink
        case .hardlink: type = .hardlink
        }
        let header = BinaryNameHeader(path: PathBytes.bytes(e.path), type: type, mode: e.mode, uid: e.uid, gid: e.gid,
                                      size: size, mtime: Int64(mtime(e.mtimeSeconds)), link: PathBytes.bytes(link))
        try writeRaw(header) {
            if case .regularFile(let content) = e.kind {
                switch content {
                case .bytes(let bytes): try bytes.withUnsafeBytes { try writeData($0.baseAddress, $0.count, e.path) }
                case .file(let path, let size): try copyFile(path, size: size)
                }
            }
        }
    }

    /// Writes a hand-made header, then the entry's data through `body`, then the padding to a
    /// 512-byte block — after libarchive has finished (padded) the entry before it.
    private func writeRaw(_ header: BinaryNameHeader, data body: () throws -> Void) throws {
        if archive_write_finish_entry(archive) < ArchiveStatus.warn { throw archiveError(PathBytes.string(header.path)) }
        try header.bytes.withUnsafeBytes { try stream.consume($0) }
        writingRawEntry = true
        rawWritten = 0
        defer { writingRawEntry = false }
        try body()
        if rawWritten > header.size {
            throw LayerError.sizeChanged(path: PathBytes.display(PathBytes.string(header.path)), expected: header.size, actual: rawWritten)
        }
        if rawWritten < header.size { try writeZeros(header.size - rawWritten, PathBytes.string(header.path)) }  // a trailing sparse hole
        let padding = [UInt8](repeating: 0, count: BinaryNameHeader.padding(header.size))
        try padding.withUnsafeBytes { try stream.consume($0) }
    }

    private func writeHeader(_ name: String) throws {
        // Names are given as raw bytes (the `copy_` setters, never the `_utf8` ones, whose
        // conversion crashes libarchive under the C locale); see `ArchiveLocale`.
        let rc = ArchiveLocale.utf8 { archive_write_header(archive, entry) }
        if rc < ArchiveStatus.warn { throw archiveError(name) }
    }

    private func writeData(_ base: UnsafeRawPointer?, _ count: Int, _ name: String) throws {
        guard let base, count > 0 else { return }
        if writingRawEntry {
            rawWritten += Int64(count)
            return try stream.consume(UnsafeRawBufferPointer(start: base, count: count))
        }
        if archive_write_data(archive, base, count) < 0 { throw archiveError(name) }
    }

    /// Streams exactly `size` bytes of `path`, failing if the file is shorter or longer.
    ///
    /// The file's length comes from one `fstat` of the open file, not from a read past its end
    /// (two system calls per file fewer when recording, the same count otherwise: 32k files
    /// in issue 13's cold COPY). A file whose length is not the planned one by then is refused,
    /// as it was; one that shrinks while read is refused at its early end; one that grows while
    /// read gives exactly the `size` bytes written, which the entry's header and the recorded
    /// digest describe. That `fstat` is also the recorded status: the file index needs none
    /// after the read (see `SourceFileDigests.Read`).
    ///
    /// The bytes are read straight into the compressor's input buffer where the sink has one
    /// (`LayerStream.writableRegion`), and go on from there (file digest, diff ID, deflate)
    /// without being copied first from a read buffer: one copy fewer of every layer byte.
    /// The file is opened with `O_NOATIME` where the kernel allows it (our own files, or
    /// root): reading a context file whose ctime our hard link has just changed would
    /// otherwise update its atime (relatime) and dirty 32k inodes for the disk (issue 13).
    private func copyFile(_ path: String, size: Int64) throws {
        // O_NOFOLLOW: the path was resolved when the step was planned; a file swapped for a
        // symlink since then is refused, never read wherever the link points.
        let fd = openForReading(path)
        guard fd >= 0 else { throw LayerError.unreadable(path: path, reason: LayerError.errnoText()) }
        defer { close(fd) }
        var status = stat()
        if fstat(fd, &status) != 0 { throw LayerError.unreadable(path: path, reason: LayerError.errnoText()) }
        if Int64(status.st_size) != size { throw LayerError.sizeChanged(path: path, expected: size, actual: Int64(status.st_size)) }
        // The bytes' own digest (for a step key), from the very buffers written to the tar.
        var hash = recording.map { _ in SHA256Stream() }
        var done: Int64 = 0
        while done < size {
            let region = stream.writableRegion().flatMap { $0.count > 0 ? $0 : nil }
            let target = region?.baseAddress ?? readBuffer
            let want = Int(min(Int64(region?.count ?? Self.readBufferSize), size - done))
            var n = -1
            if done == 0, readAhead != nil, asksWithoutWaiting {
                // The first read asks only for what the page cache holds: EAGAIN says the file
                // is not there (the read-ahead's cue); else it is this file's first read.
                let got = swiftdock_read_cached(fd, target, UInt(want))
                if got >= 0 {
                    n = Int(got)
                    readAhead?.firstRead(cached: true)
                } else if errno == EAGAIN {
                    readAhead?.firstRead(cached: false)
                } else if errno != EINTR {
                    asksWithoutWaiting = false
                }
            }
            if n < 0 {
                do throws(FileDescriptorIOError) {
                    n = try FileDescriptorIO.read(fd, into: UnsafeMutableRawBufferPointer(start: target, count: want))
                } catch {
                    throw LayerError.unreadable(path: path, reason: error.reason)
                }
            }
            if n == 0 { throw LayerError.sizeChanged(path: path, expected: size, actual: done) }
            hash?.update(UnsafeRawBufferPointer(start: target, count: n))
            try writeData(target, n, path)
            done += Int64(n)
        }
        if let recording, let hash {
            recording.append(.init(path: path, digest: hash.finalize(), before: .init(status)))
        }
        readAhead?.passed(size)
    }

    /// Whether `O_NOATIME` is still worth trying: the kernel refuses it (EPERM) for a file
    /// that is neither ours nor opened by root; once refused, files are opened without it.
    private var opensWithoutAtime = true

    /// The source files' parent directories, kept open across a directory's files: items come
    /// in tar order, so a COPY's files are opened by name in their open directory (`openat`)
    /// instead of by a full path the kernel walks again, component by component, for each of
    /// them (32k files, ~7 components each, in issue 13's cold COPY). A parent that cannot be
    /// opened leaves the whole path to the kernel, as before.
    private let sourceDirectories = ParentDirectoryCursor()

    /// Opens `path` for reading, not following a symlink, without updating its atime where
    /// allowed (see `copyFile`).
    private func openForReading(_ path: String) -> Int32 {
        sourceDirectories.at(path) { directory, name in
            if opensWithoutAtime {
                let fd = openat(directory, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | swiftdock_o_noatime())
                if fd >= 0 || errno != EPERM { return fd }
                opensWithoutAtime = false
            }
            return openat(directory, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        }
    }

    // MARK: Archives (ADD auto-extraction)

    private func emitArchive(path: String, destination: String, owner: Owner?) throws {
        let reader = try TarReader(path: path)
        let prefix = destination.split(separator: "/").joined(separator: "/")
        func place(_ relative: String) -> String {
            prefix.isEmpty ? relative : prefix + "/" + relative
        }
        while let source = try reader.next() {
            // Names as their exact bytes (`PathBytes` strings): an archive entry that is not
            // UTF-8 keeps its name instead of a U+FFFD-repaired one.
            guard let relative = try TarReader.normalize(reader.entryPath(source), archive: path) else { continue }
            let name = place(relative)
            PathBytes.withCString(name) { archive_entry_copy_pathname(source, $0) }
            var hardlink: String?
            if let link = TarReader.hardlink(of: source) {
                guard let target = try TarReader.normalize(link, archive: path) else {
                    throw LayerError.unsafeEntry(archive: path, entry: link)
                }
                hardlink = place(target)
                PathBytes.withCString(place(target)) { archive_entry_copy_hardlink(source, $0) }
            }
            if let owner {
                archive_entry_set_uid(source, la_int64_t(owner.uid))
                archive_entry_set_gid(source, la_int64_t(owner.gid))
            }
            let hasData = archive_entry_filetype(source) == FileType.regular && archive_entry_size(source) > 0
            let symlink = hardlink == nil ? TarReader.symlink(of: source) : nil
            if PathBytes.hasEscapes(name) || (hardlink ?? symlink).map(PathBytes.hasEscapes) == true {
                try emitBinaryName(source, name: name, link: hardlink ?? symlink ?? "", reader: reader, hasData: hasData)
                continue
            }
            archive_entry_set_uname(source, nil)
            archive_entry_set_gname(source, nil)
            archive_entry_unset_atime(source)
            archive_entry_unset_ctime(source)
            archive_entry_unset_birthtime(source)
            archive_entry_set_mtime(source, mtime(Int64(archive_entry_mtime(source))), 0)
            archive_entry_sparse_clear(source)
            let rc = ArchiveLocale.utf8 { archive_write_header(archive, source) }
            if rc < ArchiveStatus.warn { throw archiveError(name) }
            if hasData { try copyData(from: reader, entryName: relative) }
        }
    }

    /// An archive entry whose name or link is not UTF-8, with Go's header (`BinaryNameHeader`):
    /// the same fields libarchive would write for it (no owner names, whole-second mtime) and
    /// its extended attributes.
    private func emitBinaryName(_ source: OpaquePointer, name: String, link: String, reader: TarReader, hasData: Bool) throws {
        let type: BinaryNameHeader.TypeFlag
        switch archive_entry_filetype(source) {
        case _ where TarReader.hardlink(of: source) != nil: type = .hardlink
        case FileType.directory: type = .directory
        case FileType.symlink: type = .symlink
        case FileType.character: type = .character
        case FileType.block: type = .block
        case FileType.fifo: type = .fifo
        default: type = .regular
        }
        var header = BinaryNameHeader(path: PathBytes.bytes(name), type: type, mode: UInt32(archive_entry_perm(source)),
                                      uid: Int(archive_entry_uid(source)), gid: Int(archive_entry_gid(source)),
                                      size: hasData ? Int64(archive_entry_size(source)) : 0,
                                      mtime: Int64(mtime(Int64(archive_entry_mtime(source)))), link: PathBytes.bytes(link),
                                      deviceMajor: Int(archive_entry_rdevmajor(source)), deviceMinor: Int(archive_entry_rdevminor(source)))
        archive_entry_xattr_reset(source)
        var xattrName: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var length = 0
        while archive_entry_xattr_next(source, &xattrName, &value, &length) == ArchiveStatus.ok, let xattrName {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) } ?? []
            header.xattrs.append((Array(PathBytes.bytes(PathBytes.string(cString: xattrName))), bytes))
        }
        try writeRaw(header) {
            if hasData { try copyData(from: reader, entryName: name) }
        }
    }

    /// Streams the current entry's data, filling sparse holes with zeros.
    private func copyData(from reader: TarReader, entryName: String) throws {
        var position: Int64 = 0
        while let (base, count, offset) = try reader.nextBlock() {
            if offset > position { try writeZeros(offset - position, entryName) }
            try writeData(base, count, entryName)
            position = offset + Int64(count)
        }
    }

    private func writeZeros(_ count: Int64, _ name: String) throws {
        memset(readBuffer, 0, Self.readBufferSize)
        var left = count
        while left > 0 {
            let n = Int(min(left, Int64(Self.readBufferSize)))
            try writeData(readBuffer, n, name)
            left -= Int64(n)
        }
    }

    private func archiveError(_ name: String? = nil) -> Error {
        if let callbackError { return callbackError }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return LayerError.archive(path: name.map { "\(outputPath) (entry \($0))" } ?? outputPath, message: message)
    }
}

private let tarWriteCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafeRawPointer?, Int) -> Int = {
    _, context, buffer, length in
    let emitter = Unmanaged<TarEmitter>.fromOpaque(context!).takeUnretainedValue()
    do {
        try emitter.stream.consume(UnsafeRawBufferPointer(start: buffer, count: length))
        return length
    } catch {
        emitter.callbackError = error
        return -1
    }
}


import CArchive

/// The entry headers of a layer blob (any compression libarchive detects), read without
/// touching content: how the builder learns which directories already exist below a COPY.
public enum LayerHeaders {
    /// What a header says about one path.
    public struct Header: Hashable, Sendable {
        public enum Kind: Hashable, Sendable { case directory, file, symlink, hardlink, other }
        /// Layer path, no leading `./` or `/`, no trailing `/`.
        public var path: String
        public var kind: Kind
        public var mode: UInt32
        public var uid: Int
        public var gid: Int
        public var mtimeSeconds: Int64

        public init(path: String, kind: Kind, mode: UInt32, uid: Int, gid: Int, mtimeSeconds: Int64) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.mtimeSeconds = mtimeSeconds
        }
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "\(path): cannot read layer: \(reason)" }
    }

    /// Lists every entry of the layer at `blobPath`, in archive order.
    public static func read(blobPath: String) throws -> [Header] {
        guard let archive = archive_read_new() else { throw ReadError(path: blobPath, reason: "out of memory") }
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_tar(archive)
        guard archive_read_open_filename(archive, blobPath, 1 << 16) == ARCHIVE_OK else {
            throw ReadError(path: blobPath, reason: String(cString: archive_error_string(archive)))
        }
        var headers: [Header] = []
        var entry: OpaquePointer?
        while true {
            let status = ArchiveLocale.utf8 { archive_read_next_header(archive, &entry) }
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw ReadError(path: blobPath, reason: String(cString: archive_error_string(archive)))
            }
            var path = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            while path.hasPrefix("./") { path.removeFirst(2) }
            while path.hasPrefix("/") { path.removeFirst() }
            while path.hasSuffix("/") { path.removeLast() }
            let kind: Header.Kind
            if archive_entry_hardlink(entry) != nil {
                kind = .hardlink
            } else {
                switch archive_entry_filetype(entry) {
                case FileType.directory: kind = .directory
                case FileType.regular: kind = .file
                case FileType.symlink: kind = .symlink
                default: kind = .other
                }
            }
            headers.append(Header(path: path, kind: kind, mode: UInt32(archive_entry_perm(entry)) & 0o7777,
                                  uid: Int(archive_entry_uid(entry)), gid: Int(archive_entry_gid(entry)),
                                  mtimeSeconds: Int64(archive_entry_mtime(entry))))
        }
        return headers
    }
}

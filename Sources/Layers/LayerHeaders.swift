import CArchive
import ImageModel

/// The entry headers of a layer blob (any compression `TarReader` detects), read without
/// keeping content: how the builder learns what the lower file systems hold — which
/// directories exist, their owners and modes, where symlinks point — without unpacking them.
public enum LayerHeaders {
    /// What a header says about one path.
    public struct Header: Hashable, Sendable, Codable {
        public enum Kind: String, Hashable, Sendable, Codable { case directory, file, symlink, hardlink, other }
        /// Layer path, no leading `./` or `/`, no trailing `/`.
        public var path: String
        public var kind: Kind
        public var mode: UInt32
        public var uid: Int
        public var gid: Int
        public var mtimeSeconds: Int64
        /// A symlink's target as written, or a hard link's target as a layer path.
        public var linkTarget: String?

        public init(path: String, kind: Kind, mode: UInt32, uid: Int, gid: Int, mtimeSeconds: Int64,
                    linkTarget: String? = nil) {
            self.path = path
            self.kind = kind
            self.mode = mode
            self.uid = uid
            self.gid = gid
            self.mtimeSeconds = mtimeSeconds
            self.linkTarget = linkTarget
        }

        private enum CodingKeys: String, CodingKey {
            case path = "p", kind = "k", mode = "m", uid = "u", gid = "g", mtimeSeconds = "t", linkTarget = "l"
        }
    }

    /// Lists every entry of the layer at `blobPath`, in archive order. With `digest`, the blob
    /// is verified while it streams (`LayerError.digestMismatch` when it does not match).
    public static func read(blobPath: String, digest: Digest? = nil) throws -> [Header] {
        try read(try TarReader(path: blobPath, digest: digest))
    }

    /// Lists every entry of the layer streaming in from `fd` (a pipe or socket, closed here),
    /// in one pass, and then reads the input to its end, so whoever writes it can finish (and
    /// finish verifying it). The bytes are not verified here: the writer must, and what is
    /// read counts only once it has (`ImageStore.layerHeaders(diffID:blob:chunks:)`). Throws
    /// `LayerError.linkNeedsRereading` for the rare entry only a file can give.
    public static func read(stream fd: Int32, name: String) throws -> [Header] {
        let reader = try TarReader(stream: fd, name: name)
        let headers = try read(reader)
        try reader.drain()
        return headers
    }

    private static func read(_ reader: TarReader) throws -> [Header] {
        var headers: [Header] = []
        while let entry = try reader.next() {
            var path = reader.entryPath(entry)
            while path.hasPrefix("./") { path.removeFirst(2) }
            while path.hasPrefix("/") { path.removeFirst() }
            while path.hasSuffix("/") { path.removeLast() }
            let kind: Header.Kind
            var link: String?
            if let hardlink = TarReader.hardlink(of: entry) {
                kind = .hardlink
                link = cleanLink(hardlink)
            } else {
                switch archive_entry_filetype(entry) {
                case FileType.directory: kind = .directory
                case FileType.regular: kind = .file
                case FileType.symlink:
                    kind = .symlink
                    link = TarReader.symlink(of: entry) ?? ""
                default: kind = .other
                }
            }
            headers.append(Header(path: path, kind: kind, mode: UInt32(archive_entry_perm(entry)) & 0o7777,
                                  uid: Int(archive_entry_uid(entry)), gid: Int(archive_entry_gid(entry)),
                                  mtimeSeconds: Int64(archive_entry_mtime(entry)), linkTarget: link))
        }
        return headers
    }

    private static func cleanLink(_ name: String) -> String {
        var path = name
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.hasPrefix("/") { path.removeFirst() }
        return path
    }
}

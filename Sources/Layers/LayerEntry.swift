import Foundation

/// One entry of a layer tarball, described without reading any file content.
public struct LayerEntry: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case directory
        case regularFile(FileContent)
        case symlink(target: String)
        /// A hard link to an entry written earlier in the same layer (`target` is its layer path).
        case hardlink(target: String)
    }

    /// Where a regular file's bytes come from; read once, streaming, when the layer is written.
    public enum FileContent: Hashable, Sendable {
        /// An absolute path on the host.
        case file(path: String, size: Int64)
        /// Bytes known in advance (heredocs, generated files).
        case bytes([UInt8])

        public var size: Int64 {
            switch self {
            case .file(_, let size): return size
            case .bytes(let b): return Int64(b.count)
            }
        }
    }

    /// Path inside the image, relative to `/`, without leading or trailing slash (`app/main.py`).
    public var path: String
    public var kind: Kind
    /// Permission bits including setuid, setgid and sticky (`0o7777` mask).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    /// Modification time in seconds since the epoch, and its nanoseconds.
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int32

    public init(path: String, kind: Kind, mode: UInt32, uid: Int = 0, gid: Int = 0,
                mtimeSeconds: Int64, mtimeNanoseconds: Int32 = 0) {
        self.path = path
        self.kind = kind
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
    }
}

/// What goes into a layer: single entries, or a whole local archive unpacked under a directory
/// (ADD's auto-extraction), streamed straight from the archive into the layer.
public enum LayerItem: Hashable, Sendable {
    case entry(LayerEntry)
    /// Entries of the archive at `archivePath` (tar, optionally gzip/bzip2/xz/zstd), placed under
    /// `destination` (a layer path, `""` for the root). When `owner` is set it replaces each
    /// entry's uid/gid (ADD --chown).
    case archive(archivePath: String, destination: String, owner: Owner?)
}

/// A numeric owner for `--chown`.
public struct Owner: Hashable, Sendable {
    public var uid: Int
    public var gid: Int
    public init(uid: Int, gid: Int) {
        self.uid = uid
        self.gid = gid
    }
}

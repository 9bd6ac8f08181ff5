/// A file-system object found in the build context (or in an unpacked stage root).
public struct ContextEntry: Hashable, Sendable {
    public enum FileType: Hashable, Sendable {
        case regular
        case directory
        case symlink(target: String)
        /// Sockets, devices and FIFOs: never copied into a layer.
        case other
    }

    /// Path relative to the walked root, `/`-separated, no leading `./` (`Sourcecode/input.csv`).
    public var relativePath: String
    /// Absolute host path, for reading content.
    public var absolutePath: String
    public var type: FileType
    /// Permission bits (`0o7777` mask).
    public var mode: UInt32
    public var uid: Int
    public var gid: Int
    public var size: Int64
    public var mtimeSeconds: Int64
    public var mtimeNanoseconds: Int32
    /// Identity for hardlink detection: (device, inode) and the link count.
    public var device: UInt64
    public var inode: UInt64
    public var linkCount: UInt64
    /// Status-change time (ns since the epoch; 0 when unknown). Not content: the build's file
    /// index compares it to tell which files need reading again (`FileDigestIndex`).
    public var ctimeNanosecondsSinceEpoch: Int64

    public init(relativePath: String, absolutePath: String, type: FileType, mode: UInt32, uid: Int, gid: Int,
                size: Int64, mtimeSeconds: Int64, mtimeNanoseconds: Int32, device: UInt64, inode: UInt64, linkCount: UInt64,
                ctimeNanosecondsSinceEpoch: Int64 = 0) {
        self.relativePath = relativePath
        self.absolutePath = absolutePath
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtimeSeconds = mtimeSeconds
        self.mtimeNanoseconds = mtimeNanoseconds
        self.device = device
        self.inode = inode
        self.linkCount = linkCount
        self.ctimeNanosecondsSinceEpoch = ctimeNanosecondsSinceEpoch
    }
}

import Foundation

/// A bind mount into the container (RUN --mount=type=bind/cache).
///
/// The source is `path` inside `root`, resolved there component by component, symlinks
/// included, never leaving `root` (see `MountSource`): a hostile context or stage can point a
/// symlink at `/`, and it then means `root` itself, as in BuildKit. The sandbox binds the
/// opened descriptor, so the kernel never resolves the path again.
public struct SandboxMount: Sendable, Hashable {
    /// A directory swiftdock trusts (the context, an unpacked stage, a cache, a temp dir).
    public var root: String
    /// Relative to `root` ("" is `root` itself); hostile.
    public var path: String
    /// Absolute path in the container.
    public var target: String
    public var readOnly: Bool
    /// Copy-on-write: writes land in this empty scratch directory's overlay upper dir (and are
    /// discarded with it) instead of the source, as BuildKit discards writes to rw binds.
    public var scratch: String?
    public init(root: String, path: String, target: String, readOnly: Bool, scratch: String? = nil) {
        self.root = root
        self.path = path
        self.target = target
        self.readOnly = readOnly
        self.scratch = scratch
    }
    /// `source` itself (a directory or file swiftdock made), bound as it is.
    public init(source: String, target: String, readOnly: Bool) {
        self.init(root: source, path: "", target: target, readOnly: readOnly)
    }

    /// A secret (`RUN --mount=type=secret`): a read-only file on the sandbox's private tmpfs
    /// holding `content`, owned `uid`:`gid` (container ids) with `mode`. Its bytes travel to the
    /// helper in the spec pipe and never touch the host's disk.
    public init(secret content: [UInt8], target: String, mode: UInt32, uid: UInt32, gid: UInt32) {
        self.init(root: "", path: "", target: target, readOnly: true)
        self.secret = SandboxSecretFile(content: content, mode: mode, uid: uid, gid: gid)
    }

    /// Set for a secret mount (see `init(secret:…)`); `root` and `path` are then unused.
    public var secret: SandboxSecretFile?
}

/// The bytes and owner of a secret mount's file. Its description never shows the bytes.
public struct SandboxSecretFile: Sendable, Hashable, CustomStringConvertible {
    public var content: [UInt8]
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var description: String { "secret file (\(content.count) bytes, mode \(String(mode, radix: 8)), \(uid):\(gid))" }
}

import PathEncoding

/// What an unprivileged unpack could not apply to disk: the intended owner and permission bits
/// of every unpacked path, and the entries that were not created at all. Paths are keyed by
/// their bytes (`PathKey`): `é` and `e` + U+0301 are two files with their own owners.
public struct OwnershipTable: Sendable, Hashable {
    /// Intended uid/gid per path (relative to the unpack directory, e.g. `etc/passwd`).
    public var owners: [PathKey: Owner]
    /// Intended permission bits (`0o7777` mask) per path. On disk, directories get `u+rwx` and
    /// regular files `u+rw` added when not running as root, so the tree stays usable.
    public var modes: [PathKey: UInt32]
    /// Paths of entries that were skipped (device nodes), in archive order.
    public var skipped: [String]

    public init(owners: [PathKey: Owner] = [:], modes: [PathKey: UInt32] = [:], skipped: [String] = []) {
        self.owners = owners
        self.modes = modes
        self.skipped = skipped
    }

    /// Forgets `path` and everything below it (after a whiteout removed it).
    mutating func remove(subtree path: String) {
        let key = PathKey(path), prefix = path + "/"
        owners = owners.filter { $0.key != key && !PathBytes.hasPrefix($0.key.path, prefix) }
        modes = modes.filter { $0.key != key && !PathBytes.hasPrefix($0.key.path, prefix) }
    }
}

import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

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

extension OwnershipTable {
    /// The owners an unprivileged builder with subordinate ids must give an unpacked tree:
    /// every path the table gives to someone other than container root, with its mode (the
    /// on-disk one where the table has none, read at `root`). Hard links share their target's
    /// inode: chowning either path gives both. Most trees have none.
    public func nonRootOwners(under root: String) -> [PendingOwner] {
        owners.compactMap { key, owner in
            guard owner.uid != 0 || owner.gid != 0, owner.uid >= 0, owner.gid >= 0,
                  owner.uid <= Int(UInt32.max), owner.gid <= Int(UInt32.max) else { return nil }
            let mode = modes[key] ?? Self.diskMode(root + "/" + key.path)
            return PendingOwner(path: key.path, uid: UInt32(owner.uid), gid: UInt32(owner.gid), mode: mode)
        }.sorted { PathKey($0.path) < PathKey($1.path) }
    }

    private static func diskMode(_ path: String) -> UInt32 {
        var st = stat()
        guard PathBytes.withCString(path, { lstat($0, &st) }) == 0 else { return 0o755 }
        return UInt32(st.st_mode & 0o7777)
    }
}

extension PendingOwner {
    /// The owners of a layer's entries that are not container root, with their modes: what an
    /// unprivileged builder with subordinate ids gives a directory holding those entries
    /// (materialised, or moved out of a copied root), which its own writes left its own. Hard
    /// links share their target's owner and are left out, and so is the layer's root.
    public static func nonRoot(of items: [LayerItem]) -> [PendingOwner] {
        items.compactMap { item in
            guard case .entry(let entry) = item, entry.uid != 0 || entry.gid != 0, !entry.path.isEmpty,
                  entry.uid >= 0, entry.gid >= 0, entry.uid <= Int(UInt32.max), entry.gid <= Int(UInt32.max) else { return nil }
            if case .hardlink = entry.kind { return nil }
            return PendingOwner(path: entry.path, uid: UInt32(entry.uid), gid: UInt32(entry.gid), mode: entry.mode & 0o7777)
        }
    }
}

import ImageStore
import Layers
import PathEncoding
import Sandbox

/// The store's `SubordinateOwnership` for an unprivileged builder with subordinate ids: owners
/// given, and trees removed, inside a user namespace mapped exactly as RUN's sandbox maps it
/// (`UserNamespaceMap`, newuidmap/newgidmap), as rootless podman/buildah keep their storage.
public struct NamespaceOwnership: SubordinateOwnership {
    let map: UserNamespaceMap
    let ids: SubordinateIDs

    /// This process's: nil for root (owners are real) and without subordinate ids (only
    /// container root exists, so no other owner can be represented).
    public static var current: NamespaceOwnership? { NamespaceOwnership(map: .current) }

    public init?(map: UserNamespaceMap) {
        guard case .subordinate(_, _, let ids) = map else { return nil }
        self.map = map
        self.ids = ids
    }

    public var mapping: String {
        guard case .subordinate(let uid, let gid, _) = map else { return "" }
        return "user \(uid):\(gid) subuid \(ids.uids.start):\(ids.uids.count) subgid \(ids.gids.start):\(ids.gids.count)"
    }

    public func applyOwners(_ owners: [PendingOwner], under root: String) throws {
        let list = owners.map(SandboxOwner.init)
        do {
            try Sandbox.applyOwners(list, under: root, idMap: map)
        } catch {
            throw BuildError("giving \(root) its owners in the user namespace: \(error)", underlying: error)
        }
    }

    public func removeTree(_ path: String) throws {
        try Sandbox.removeTree(path, idMap: map)
    }

    /// For a copy-isolated root made from an unpacked rootfs cache entry (which keeps the real
    /// user's owners on disk): the owners to give the copy, for `TreeCopy.materialise(owners:)`.
    public static func copyOwners(of rootfs: UnpackedRootfs) -> [String: [PathKey: PendingOwner]] {
        [rootfs.path: Dictionary(rootfs.owners.nonRootOwners(under: rootfs.path).map { (PathKey($0.path), $0) }, uniquingKeysWith: { $1 })]
    }
}

extension SandboxOwner {
    /// A pending owner, its path as bytes: a name that is not UTF-8 (a `PathBytes` string
    /// here) keeps its owner.
    public init(_ pending: PendingOwner) {
        self.init(pathBytes: PathBytes.bytes(pending.path), uid: pending.uid, gid: pending.gid, mode: pending.mode)
    }
}

extension IDMap {
    /// How ids on disk map to ids in the image under the sandbox's map, turned around to read
    /// what a sandbox wrote back (and, `hostUID`, to give files owners the sandbox will show).
    public init(_ map: UserNamespaceMap) {
        guard let ranges = map.hostToContainer else { self = .identity; return }
        self.init(hostToContainerUID: ranges.uids, hostToContainerGID: ranges.gids)
    }
}

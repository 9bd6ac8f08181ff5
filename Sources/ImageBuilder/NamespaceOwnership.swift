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
        // As bytes: a name that is not UTF-8 (a `PathBytes` string here) keeps its owner.
        let list = owners.map { SandboxOwner(pathBytes: PathBytes.bytes($0.path), uid: $0.uid, gid: $0.gid, mode: $0.mode) }
        do {
            try Sandbox.applyOwners(list, under: root, idMap: map)
        } catch {
            throw BuildError("giving \(root) its owners in the user namespace: \(error)", underlying: error)
        }
    }

    public func removeTree(_ path: String) throws {
        try Sandbox.removeTree(path, idMap: map)
    }
}

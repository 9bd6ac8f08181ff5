import Layers

/// For an unprivileged builder with subordinate ids: gives trees the owners their image says,
/// and removes trees so owned. The store cannot do either as the real user (a file owned by a
/// subordinate id is not its own), so whoever opens the store hands it this — in swiftdock the
/// sandbox's user namespace (`Sandbox.applyOwners`, `Sandbox.removeTree`). Nil for root (who
/// unpacks with real owners) and for an unprivileged user without subordinate ids (only
/// container root exists: files stay the real user's, and RUN sees them as root's).
public protocol SubordinateOwnership: Sendable {
    /// Names the id map owners are given under. Recorded with each rootfs cache entry: one
    /// made under another map, or before owners were given at all, is unpacked again.
    var mapping: String { get }
    /// Gives each path below `root` its container owner and permission bits. `owners` holds
    /// only paths whose owner is not container root (most trees have none).
    func applyOwners(_ owners: [PendingOwner], under root: String) throws
    /// Removes the tree at `path` whatever owns its files.
    func removeTree(_ path: String) throws
}

extension ImageStore {
    /// Gives the tree at `root` (made by this process, not yet shared) the owners its image
    /// says, where the real user cannot: nothing without `ownership`, or when `owners` is empty.
    public func applyOwners(_ owners: [PendingOwner], under root: String) throws {
        guard let ownership, !owners.isEmpty else { return }
        try ownership.applyOwners(owners, under: root)
    }

    /// Removes a tree the store or a build made: as the real user first (directories made
    /// writable where they are its own), then, for what is left, inside the user namespace
    /// (files owned by subordinate ids). A missing path is not an error.
    public func removeOwnedTree(_ path: String) throws {
        do {
            try removeTreeForcibly(path)
        } catch {
            guard let ownership else { throw error }
            try ownership.removeTree(path)
        }
    }
}

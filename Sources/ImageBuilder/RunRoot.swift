import Foundation
import Layers
import PathEncoding
import Sandbox

/// The root file system a RUN changes, and how its changes become the step's layer: an
/// overlay upper dir, or a copy of the layers compared with them afterwards (where overlayfs
/// in a user namespace is refused, or `SWIFTDOCK_RUN_ISOLATION=copy`).
enum RunRoot {
    case overlay(lowers: [String], upper: String, work: String)
    case copy(root: String, copied: CopiedRoot)

    /// Makes the root for a RUN over `lowers` (top first) with `mounts` bound into it.
    static func prepare(_ isolation: SandboxIsolation, lowers: [String], mounts: [SandboxMount],
                        session: BuildSession) throws -> RunRoot {
        switch isolation {
        case .overlay:
            return .overlay(lowers: lowers, upper: try session.temporaryDirectory(), work: try session.temporaryDirectory())
        case .copy:
            let root = try session.temporaryDirectory() + "/root"
            let points = Sandbox.ownMountPoints.map { MountPoint(path: $0.path, isDirectory: $0.isDirectory) } + mounts.map { mount in
                // The source's type inside its own root (where the sandbox will resolve it).
                MountPoint(path: mount.target, isDirectory: (try? MountSource.kind(of: mount.path, in: mount.root)) == .directory)
            }
            do {
                return .copy(root: root, copied: try TreeCopy.materialise(layers: lowers, into: root, mountPoints: points,
                                                                         idMap: session.idMap, owners: session.ownersToGive(in: lowers)))
            } catch {
                TreeCopy.remove(root)
                throw BuildError("copying the root file system for RUN: \(error)", underlying: error)
            }
        }
    }

    var sandboxRoot: SandboxRoot {
        switch self {
        case .overlay(let lowers, let upper, let work):
            return .overlay(lowerDirs: lowers, upperDir: upper, workDir: work)
        case .copy(let root, let copied):
            return .directory(root, owners: copied.pendingOwners.map(SandboxOwner.init))
        }
    }

    /// The step's layer items and the directory to keep as its lower dir for later RUNs (nil
    /// when nothing changed).
    func layer(excluding: Set<PathKey>, session: BuildSession) throws -> (items: [LayerItem], directory: String?) {
        let epoch = session.options.sourceDateEpoch
        switch self {
        case .overlay(_, let upper, _):
            let items = try OverlayDiff.items(upperDir: upper, idMap: session.idMap, excluding: excluding, sourceDateEpoch: epoch)
            return (items, items.isEmpty ? nil : upper)
        case .copy(let root, let copied):
            let changes = try TreeDiff.changes(root: root, snapshot: copied.snapshot, idMap: session.idMap,
                                               excluding: excluding, sourceDateEpoch: epoch)
            guard !changes.items.isEmpty else { return ([], nil) }
            let directory = try session.temporaryDirectory()
            let moved = try changes.moveEntries(from: root, into: directory)
            // Directories made anew for the move are the real user's: the next RUN's copy gives
            // them their owners (files moved whole keep theirs).
            try session.giveOwners(PendingOwner.nonRoot(of: moved), to: directory)
            return (moved, directory)
        }
    }

    /// Removes the copy at once (it is as large as the image); an overlay's dirs go with the
    /// build's other temp files. What files of subordinate ids keep goes inside the namespace.
    func discard(session: BuildSession) {
        guard case .copy(let root, _) = self else { return }
        TreeCopy.remove(root)
        if access(root, F_OK) == 0 { try? session.store.removeOwnedTree(root) }
    }
}

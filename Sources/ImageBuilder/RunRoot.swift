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
                                                                         idMap: session.idMap))
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
            return .directory(root, owners: copied.pendingOwners.map {
                // As bytes: a name that is not UTF-8 (a `PathBytes` string here) keeps its owner.
                SandboxOwner(pathBytes: PathBytes.bytes($0.path), uid: $0.uid, gid: $0.gid, mode: $0.mode)
            })
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
            return (try changes.moveEntries(from: root, into: directory), directory)
        }
    }

    /// Removes the copy at once (it is as large as the image); an overlay's dirs go with the
    /// build's other temp files.
    func discard() {
        if case .copy(let root, _) = self { TreeCopy.remove(root) }
    }
}

import Foundation
import ImageStore
import Layers
import PathEncoding
import Sandbox

/// The owners an image gives the files of a RUN's lower dirs, for an unprivileged builder with
/// subordinate ids, whose own writes leave every file its own (container root). With overlay
/// isolation they are given on disk, once, when the directory is made, inside the user
/// namespace (`ImageStore.applyOwners`), as rootless podman/buildah keep their storage. With
/// copy isolation the directory stays the real user's — it must read every file to copy it, and
/// a directory owned by `app` with mode 0700 would be closed to it — and each RUN's copy gets
/// them instead (`TreeCopy.materialise(owners:)`). Root has real owners already; without
/// subordinate ids no other owner exists (nothing to give).
extension BuildSession {
    func giveOwners(_ owners: [PendingOwner], to directory: String) throws {
        guard store.ownership != nil, !owners.isEmpty else { return }
        if Sandbox.support().isolation == .overlay {
            try store.applyOwners(owners, under: directory)
        } else {
            ownersToGive[directory] = Self.keyed(owners)
        }
    }

    /// The owners for a RUN's copy of `lowers` (top first): per lower dir, by path.
    func ownersToGive(in lowers: [String]) -> [String: [PathKey: PendingOwner]] {
        ownersToGive.filter { lowers.contains($0.key) }
    }

    static func keyed(_ owners: [PendingOwner]) -> [PathKey: PendingOwner] {
        Dictionary(owners.map { (PathKey($0.path), $0) }, uniquingKeysWith: { $1 })
    }
}

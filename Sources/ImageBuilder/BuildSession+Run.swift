import BuildContext
import Foundation
import ImageModel
import ImageStore
import Layers
import Sandbox

extension BuildSession {
    /// A fresh empty temp directory in the store (removed with the build's other temp files).
    func temporaryDirectory() throws -> String {
        let path = try store.makeTemporaryDirectory()
        trackTemporary(path)
        return path
    }

    /// How ids on disk map to ids in the image: the sandbox's own map (`UserNamespaceMap`,
    /// read once and handed to the helper too), turned around to read a RUN's files back.
    var idMap: IDMap { IDMap(UserNamespaceMap.current) }

    /// The stage's layers as overlay lower dirs, top first: the base image unpacked once into
    /// the store's rootfs cache, then each layer this build added (a RUN's upper dir, or a
    /// COPY layer unpacked on first need).
    func lowerDirectories(for state: inout StageState) async throws -> [String] {
        var base: [(digest: Digest, diffID: Digest)] = []
        var directories: [String] = []
        for (index, layer) in state.layers.enumerated() {
            switch layer {
            case .stored(let descriptor, let diffID, _):
                base.append((descriptor.digest, diffID))
            case .pending(let task, let path):
                if let directory = try state.layerDirectories[index] ?? materialisedLayer(index, of: &state) {
                    directories.append(directory)
                    continue
                }
                _ = try await task.value
                let directory = try temporaryDirectory()
                let owners = try LayerUnpacker.unpack(layers: [path], into: directory)
                try giveOwners(owners.nonRootOwners(under: directory), to: directory)
                state.layerDirectories[index] = directory
                directories.append(directory)
            }
        }
        try await ensureLocal(base.map(\.digest), of: "image \(state.imageDescription)")
        let stage = state
        // Owners on disk for overlay; for copy isolation the entry stays the real user's, so
        // it can read every file to copy it, and owners are given in the copy (`giveOwners`).
        let onDisk = Sandbox.support().isolation == .overlay
        let rootfs = try verifying(stage) { try store.rootfs(forLayers: base, givingOwners: onDisk) }
        if !onDisk, store.ownership != nil, ownersToGive[rootfs.path] == nil {
            ownersToGive.merge(NamespaceOwnership.copyOwners(of: rootfs)) { $1 }
        }
        return ([rootfs.path] + directories).reversed()
    }

    /// RUN's network when the Dockerfile does not choose: a namespace of its own with outbound
    /// access, as BuildKit gives it; the host's, with a warning once per build, where
    /// slirp4netns cannot make one.
    func defaultNetwork() -> SandboxNetwork {
        let net = Sandbox.privateNetwork()
        if net.helper != nil { return .private }
        if !warnedHostNetwork {
            warnedHostNetwork = true
            emit(.warning("RUN shares the host's network, its loopback included: \(net.reason ?? "no private network")"))
        }
        return .host
    }

    /// A `RUN --mount` as a bind into the sandbox: a context or stage path, a persistent cache
    /// directory in the store, or an empty scratch directory for tmpfs. Sources are resolved
    /// inside their own root (`MountSource`), never on the host: a symlink to `/` in a hostile
    /// context or stage means that context's or stage's root, as in BuildKit.
    func sandboxMount(_ mount: RunMount, isolation: SandboxIsolation) async throws -> SandboxMount {
        switch mount.kind {
        case .bind:
            let (root, origin) = try await mountRoot(from: mount.from)
            let relative = cleanLayerPath(mount.source ?? "/")
            let kind = try sourceKind(relative, in: root, origin: origin, given: mount.source)
            if mount.readOnly { return SandboxMount(root: root, path: relative, target: mount.target, readOnly: true) }
            // BuildKit discards a rw bind's writes: an overlay over it with a throw-away upper
            // dir, or (copy isolation, no overlayfs) a throw-away copy.
            if isolation == .copy {
                let copy = try temporaryDirectory() + "/copy"
                try MountSource.withDescriptor(of: relative, in: root) { fd in
                    try copyTree("/proc/self/fd/\(fd)", kind: kind, to: copy)
                }
                return SandboxMount(source: copy, target: mount.target, readOnly: false)
            }
            return SandboxMount(root: root, path: relative, target: mount.target, readOnly: false, scratch: try temporaryDirectory())
        case .cache:
            var identity = mount.id ?? mount.target
            if let from = mount.from { identity += "\u{0}from=\(from)\u{0}source=\(cleanLayerPath(mount.source ?? "/"))" }
            let key = SHA256Stream.digest(of: Array(identity.utf8)).encoded
            let directory = store.root + "/cache/run-mounts/" + key
            if !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: store.root + "/cache/run-mounts", withIntermediateDirectories: true)
                // A new cache `from` a stage or image starts as a copy of its `source`, as in
                // BuildKit (whose cache ref is created on top of the `from` ref); else empty.
                let seed = try temporaryDirectory() + "/seed"
                if let from = mount.from {
                    let (root, origin) = try await mountRoot(from: from)
                    let relative = cleanLayerPath(mount.source ?? "/")
                    guard try sourceKind(relative, in: root, origin: origin, given: mount.source) == .directory else {
                        throw BuildError("--mount type=cache source \(mount.source ?? "/") in \(origin) is not a directory")
                    }
                    try MountSource.withDescriptor(of: relative, in: root) { fd in
                        try copyTree("/proc/self/fd/\(fd)", kind: .directory, to: seed)
                    }
                } else if try await !seedCacheMount(identity: identity, into: seed) {
                    try FileManager.default.createDirectory(atPath: seed, withIntermediateDirectories: false)
                }
                // Another build may have made it meanwhile: then that one is kept.
                if rename(seed, directory) != 0 && errno != EEXIST && errno != ENOTEMPTY {
                    throw BuildError("creating the cache \(directory): \(String(cString: strerror(errno)))")
                }
            }
            // Last use, for `system prune --filter until=` (best effort).
            _ = utimensat(AT_FDCWD, directory, nil, 0)
            let source = try lockCacheMount(directory, sharing: mount.sharing)
            return SandboxMount(source: source, target: mount.target, readOnly: mount.readOnly)
        case .tmpfs:
            return SandboxMount(source: try temporaryDirectory(), target: mount.target, readOnly: false)
        case .secret, .ssh:
            // Not binds of a host path: `CredentialMounts` (BuildSession+Secrets) makes them.
            throw BuildError("--mount type=\(mount.kind.rawValue) has no bind source")
        }
    }

    /// The directory a bind's `from` names (a stage or an image, unpacked), else the context.
    func mountRoot(from: String?) async throws -> (root: String, origin: String) {
        guard let from else { return (try context().root, "the build context") }
        return (try await copySource(from: from).directory.root, from)
    }

    /// What `relative` is inside `root`; a one-line error naming the source when it is missing.
    func sourceKind(_ relative: String, in root: String, origin: String, given: String?) throws -> MountSource.Kind {
        let kind: MountSource.Kind
        do { kind = try MountSource.kind(of: relative, in: root) } catch {
            throw BuildError("--mount source \(given ?? "/") not found in \(origin): \(error)")
        }
        guard kind != .other else { throw BuildError("--mount source \(given ?? "/") in \(origin) is neither a directory nor a file") }
        return kind
    }

    /// Copies the directory or file `source` (a /proc/self/fd path: already resolved) to `copy`.
    private func copyTree(_ source: String, kind: MountSource.Kind, to copy: String) throws {
        do {
            if kind == .directory {
                // The trailing "/." walks through the descriptor's magic link to the directory.
                _ = try TreeCopy.materialise(layers: [source + "/."], into: copy)
            } else {
                try Data(contentsOf: URL(fileURLWithPath: source)).write(to: URL(fileURLWithPath: copy))
            }
        } catch {
            TreeCopy.remove(copy)
            throw BuildError("copying a --mount source: \(error)")
        }
    }
}

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

    /// How ids on disk map to ids in the image: identity as root; unprivileged, the sandbox
    /// maps container root to the real user, so the real user's files are root's in the layer.
    var idMap: IDMap {
        let uid = getuid(), gid = getgid()
        guard uid != 0 else { return .identity }
        return IDMap(hostToContainerUID: [(host: uid, container: 0, count: 1)],
                     hostToContainerGID: [(host: gid, container: 0, count: 1)])
    }

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
                if let directory = state.layerDirectories[index] {
                    directories.append(directory)
                    continue
                }
                _ = try await task.value
                let directory = try temporaryDirectory()
                _ = try LayerUnpacker.unpack(layers: [path], into: directory)
                state.layerDirectories[index] = directory
                directories.append(directory)
            }
        }
        try await ensureLocal(base.map(\.digest))
        let rootfs = try store.rootfs(forLayers: base)
        return ([rootfs.path] + directories).reversed()
    }

    /// A `RUN --mount` as a bind into the sandbox: a context or stage path, a persistent cache
    /// directory in the store, or an empty scratch directory for tmpfs.
    func sandboxMount(_ mount: RunMount, stage: StageState) async throws -> SandboxMount {
        switch mount.kind {
        case .bind:
            let root: String
            if let from = mount.from {
                root = try await copySource(from: from).directory.root
            } else {
                root = try context().root
            }
            let relative = cleanLayerPath(mount.source ?? "/")
            let source = relative.isEmpty ? root : root + "/" + relative
            guard FileManager.default.fileExists(atPath: source) else {
                throw BuildError("--mount source \(mount.source ?? "/") not found in \(mount.from ?? "the build context")")
            }
            return SandboxMount(source: source, target: mount.target, readOnly: mount.readOnly)
        case .cache:
            let key = SHA256Stream.digest(of: Array((mount.id ?? mount.target).utf8)).encoded
            let directory = store.root + "/cache/run-mounts/" + key
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            return SandboxMount(source: directory, target: mount.target, readOnly: mount.readOnly)
        case .tmpfs:
            return SandboxMount(source: try temporaryDirectory(), target: mount.target, readOnly: false)
        case .secret, .ssh:
            throw BuildError("--mount type=\(mount.kind.rawValue) is not supported")
        }
    }
}

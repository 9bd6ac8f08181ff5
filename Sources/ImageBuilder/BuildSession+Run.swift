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

    /// How ids on disk map to ids in the image: identity as root; unprivileged, container root
    /// is the real user, and with newuidmap/newgidmap and /etc/subuid|subgid ranges (as the
    /// sandbox then maps them) container ids 1…N are the subordinate range.
    var idMap: IDMap {
        let uid = getuid(), gid = getgid()
        guard uid != 0 else { return .identity }
        var uids: [(host: UInt32, container: UInt32, count: UInt32)] = [(uid, 0, 1)]
        var gids: [(host: UInt32, container: UInt32, count: UInt32)] = [(gid, 0, 1)]
        let name = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        let hasHelpers = ["newuidmap", "newgidmap"].allSatisfy { tool in
            path.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
        if hasHelpers, let u = Self.subordinateRange("/etc/subuid", name: name, id: uid),
           let g = Self.subordinateRange("/etc/subgid", name: name, id: uid) {
            uids.append((u.start, 1, u.count))
            gids.append((g.start, 1, g.count))
        }
        return IDMap(hostToContainerUID: uids, hostToContainerGID: gids)
    }

    /// The first `name:start:count` (or `uid:start:count`) line for this user.
    static func subordinateRange(_ file: String, name: String?, id: UInt32) -> (start: UInt32, count: UInt32)? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":").map(String.init)
            guard f.count == 3, f[0] == name || f[0] == String(id), let start = UInt32(f[1]), let count = UInt32(f[2]), count > 0
            else { continue }
            return (start, count)
        }
        return nil
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
        let stage = state
        let rootfs = try verifying(stage) { try store.rootfs(forLayers: base) }
        return ([rootfs.path] + directories).reversed()
    }

    /// A `RUN --mount` as a bind into the sandbox: a context or stage path, a persistent cache
    /// directory in the store, or an empty scratch directory for tmpfs.
    func sandboxMount(_ mount: RunMount, stage: StageState) async throws -> SandboxMount {
        switch mount.kind {
        case .bind:
            return SandboxMount(source: try await bindMountSource(mount), target: mount.target, readOnly: mount.readOnly)
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

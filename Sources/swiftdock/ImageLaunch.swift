import ArgumentParser
import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Layers
import Registry
import Sandbox

/// One container started from an image in the local store (pulled first when it is missing),
/// thrown away when it exits. `swiftdock run` and `swiftdock vertex run --local` both start
/// their containers here, so the two cannot drift apart in how they build the root, the
/// environment, the user or the working directory.
struct ImageLaunch {
    /// The image as the user named it (reference or ID).
    var image: String
    /// The command line: the image's ENTRYPOINT/CMD with the overrides given.
    var command: ProcessModel.Command
    /// `K=V` overrides the image's `K`; a bare `K` unsets it (`ProcessEnvironment.applying`).
    var environment: [String] = []
    /// Overrides the image's WORKDIR.
    var workingDirectory: String?
    /// Overrides the image's USER (name or uid[:gid]).
    var user: String?
    /// `run -t`: the process is told it has a terminal (`TERM=xterm`, as docker does).
    var terminal = false
    var network: SandboxNetwork = .host
    var mounts: [SandboxMount] = []

    /// Runs the container to its end and returns its exit status. Anything that goes wrong
    /// before the command runs is a `ContainerStartFailure` keeping its cause (docker's codes
    /// 125, 126, 127 are chosen from it: `ExitCode32`).
    func run(store: ImageStore, client: RegistryClient) async throws -> Int32 {
        let scratch = ScratchHolder()
        // Files the container gave to other users are owned by subordinate ids: removed inside.
        defer { if let path = scratch.path { try? store.removeOwnedTree(path) } }
        do {
            let spec = try await prepare(store: store, client: client, scratch: scratch)
            return try await Sandbox.run(spec)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw ContainerStartFailure(cause: error)
        }
    }

    /// Finds (or pulls) the image, prepares its root and builds the container's spec.
    private func prepare(store: ImageStore, client: RegistryClient, scratch holder: ScratchHolder) async throws -> SandboxSpec {
        let support = Sandbox.support()
        guard support.available else { throw ValidationError(support.reason ?? "the sandbox is not available here") }
        let source = RegistryImageSource(client: client, store: store, jobs: 4) { _ in }
        return try await withClient(client) { _ in
            let descriptor: Descriptor
            if let found = try store.lookup(image) {
                descriptor = found.manifest
            } else {
                descriptor = try await source.pull(try parseReference(image), platform: nil)
            }
            let stored = try store.image(descriptor)
            let layers = stored.manifest.layers
            try await source.ensureLocal(layers.map(\.digest))
            let layerBlobs = layers.map { LayerBlob(path: store.blobPath($0.digest), digest: $0.digest) }  // verified as read
            let hostname = String(descriptor.digest.encoded.prefix(12))
            let request = ProcessModel.Request(image: stored.config.config, command: command, environment: environment,
                                               user: user, workingDirectory: workingDirectory, hostname: hostname,
                                               terminal: terminal)
            let process = try ProcessModel(request, users: try ImageUsers.database(layerBlobs))
            let pairs = zip(layers, stored.config.rootfs.diffIDs).map { (digest: $0.0.digest, diffID: $0.1) }
            // Owners on disk for overlay; a copy gets them instead (see BuildSession+Owners).
            let rootfs = try store.rootfs(forLayers: pairs, givingOwners: support.isolation == .overlay)
            // Changes are thrown away: an overlay's upper dir, or the whole copy.
            let scratch = try store.makeTemporaryDirectory()
            holder.path = scratch
            let root: SandboxRoot
            switch support.isolation {
            case .overlay:
                for sub in ["upper", "work"] { try FileManager.default.createDirectory(atPath: scratch + "/" + sub, withIntermediateDirectories: false) }
                root = .overlay(lowerDirs: [rootfs.path], upperDir: scratch + "/upper", workDir: scratch + "/work")
            case .copy:
                let points = Sandbox.ownMountPoints.map { MountPoint(path: $0.path, isDirectory: $0.isDirectory) }
                let copied = try TreeCopy.materialise(layers: [rootfs.path], into: scratch + "/root", mountPoints: points,
                                                      idMap: IDMap(UserNamespaceMap.current),
                                                      owners: store.ownership == nil ? [:] : NamespaceOwnership.copyOwners(of: rootfs))
                root = .directory(scratch + "/root", owners: copied.pendingOwners.map(SandboxOwner.init))
            }
            return SandboxSpec(root: root, process: process, network: network, mounts: mounts,
                               hostname: hostname, stdio: .inherit)
        }
    }
}

/// The container's scratch directory, removed once the container has exited.
private final class ScratchHolder {
    var path: String?
}

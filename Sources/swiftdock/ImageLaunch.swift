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
    /// The command line from the image's config (docker's or Vertex's override rules).
    var argv: (ContainerConfig) throws -> [String]
    /// `K=V` overrides the image's `K`; a bare `K` takes this process's value when it has one.
    var environment: [String] = []
    /// Overrides the image's WORKDIR.
    var workingDirectory: String?
    /// Overrides the image's USER (name or uid[:gid]).
    var user: String?
    var network: SandboxNetwork = .host
    var mounts: [SandboxMount] = []

    /// Runs the container to its end and returns its exit status. As docker: anything that goes
    /// wrong before the container starts is a `CommandFailure` with code 125; a command that
    /// cannot be found is 127, one that cannot be executed 126.
    func run(store: ImageStore, client: RegistryClient) async throws -> Int32 {
        let scratch = ScratchHolder()
        defer { if let path = scratch.path { TreeCopy.remove(path) } }
        let spec: SandboxSpec
        do {
            spec = try await prepare(store: store, client: client, scratch: scratch)
        } catch let error as CommandFailure {
            throw error
        } catch {
            throw CommandFailure(String(describing: error), code: ExitCode32.usage)
        }
        do {
            return try await Sandbox.run(spec)
        } catch let error as SandboxError {
            throw CommandFailure(error.message, code: error.status.flatMap { [126, 127].contains($0) ? $0 : nil } ?? ExitCode32.usage)
        }
    }

    /// Finds (or pulls) the image, prepares its root and builds the container's spec.
    private func prepare(store: ImageStore, client: RegistryClient, scratch holder: ScratchHolder) async throws -> SandboxSpec {
        let support = Sandbox.support()
        guard support.available else { throw ValidationError(support.reason ?? "the sandbox is not available here") }
        let source = RegistryImageSource(client: client, store: store, jobs: 4) { _ in }
        do {
            let descriptor: Descriptor
            if let found = try store.lookup(image) {
                descriptor = found.manifest
            } else {
                descriptor = try await source.pull(try parseReference(image), platform: nil)
            }
            let stored = try store.image(descriptor)
            let layers = stored.manifest.layers
            try await source.ensureLocal(layers.map(\.digest))
            let pairs = zip(layers, stored.config.rootfs.diffIDs).map { (digest: $0.0.digest, diffID: $0.1) }
            let rootfs = try store.rootfs(forLayers: pairs)
            let config = stored.config.config

            let argv = try self.argv(config)
            guard !argv.isEmpty else { throw ValidationError("no command specified: the image has no CMD or ENTRYPOINT") }
            var environment = Self.merge(config.env ?? [], overrides: self.environment)
            if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
                environment.append("PATH=\(SandboxSpec.defaultPath)")
            }
            var uid: UInt32 = 0, gid: UInt32 = 0
            let layerBlobs = layers.map { LayerBlob(path: store.blobPath($0.digest), digest: $0.digest) }  // verified as read
            if let spec = user ?? config.user, !spec.isEmpty {
                let ids = try ImageUsers.resolve(spec, layers: layerBlobs)
                uid = UInt32(ids.uid)
                gid = UInt32(ids.gid)
            }
            if !environment.contains(where: { $0.hasPrefix("HOME=") }) {
                environment.append("HOME=\(try ImageUsers.home(uid: Int(uid), layers: layerBlobs))")
            }
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
                _ = try TreeCopy.materialise(layers: [rootfs.path], into: scratch + "/root", mountPoints: points)
                root = .directory(scratch + "/root", owners: [])
            }
            await client.shutdown()
            return SandboxSpec(
                root: root, argv: argv, environment: environment,
                workingDirectory: workingDirectory ?? config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
                uid: uid, gid: gid, supplementaryGroups: [], network: network,
                mounts: mounts, hostname: String(descriptor.digest.encoded.prefix(12)), stdio: .inherit)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// The image's `K=V` list with each override replacing its name's entry (docker's `-e`).
    static func merge(_ base: [String], overrides: [String]) -> [String] {
        var environment = base
        for entry in overrides {
            let name = String(entry.split(separator: "=", maxSplits: 1).first ?? "")
            let value: String
            if entry.contains("=") { value = String(entry.dropFirst(name.count + 1)) }
            else if let host = ProcessInfo.processInfo.environment[name] { value = host }
            else { continue }
            environment.removeAll { $0.hasPrefix(name + "=") }
            environment.append("\(name)=\(value)")
        }
        return environment
    }
}

/// The container's scratch directory, removed once the container has exited.
private final class ScratchHolder {
    var path: String?
}

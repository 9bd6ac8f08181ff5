import ArgumentParser
import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Layers
import Registry
import Sandbox

/// `swiftdock run [--rm] [-e K=V] [-w DIR] [-u USER] [--entrypoint E] IMAGE [CMD...]`: runs a
/// command in an image's filesystem in the rootless sandbox. Nothing is kept afterwards (there
/// are no containers to list or remove), so `--rm` is accepted and implied.
struct ContainerRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a command in an image (rootless, nothing kept).", usage: Synopsis.run)

    @Flag(help: "Remove the container when it exits (always the case).") var rm = false
    @Flag(name: .customShort("i"), help: "Keep stdin attached (always the case).") var interactive = false
    @Flag(name: .customShort("t"), help: "Accepted for docker compatibility; the terminal is passed through.") var tty = false
    @Option(name: [.customShort("e"), .long], help: "Set an environment variable (K=V, or K to take it from here); repeatable.")
    var env: [String] = []
    @Option(name: [.customShort("w"), .long], help: "Working directory inside the container.") var workdir: String?
    @Option(name: [.customShort("u"), .long], help: "User (name or uid[:gid]).") var user: String?
    @Option(help: "Override the image's ENTRYPOINT.") var entrypoint: String?
    @Option(help: "Network: host (default) or none.") var network: String = "host"
    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions
    @Argument(help: "The image.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "Command and arguments (default: the image's CMD).") var command: [String] = []

    func run() async throws {
        let support = Sandbox.support()
        guard support.available else { throw ValidationError(support.reason ?? "the sandbox is not available here") }
        guard network == "host" || network == "none" else { throw ValidationError("--network must be host or none") }
        let scratchHolder = ScratchHolder()
        defer { if let scratch = scratchHolder.path { TreeCopy.remove(scratch) } }
        let spec: SandboxSpec
        do {
            spec = try await prepare(support: support, scratch: scratchHolder)
        } catch let error as CommandFailure {
            throw error
        } catch {
            // docker: anything that goes wrong before the container starts exits 125.
            throw CommandFailure(String(describing: error), code: ExitCode32.usage)
        }
        let status: Int32
        do {
            status = try await Sandbox.run(spec)
        } catch let error as SandboxError {
            // 127: the command was not found, 126: it could not be executed, as docker.
            throw CommandFailure(error.message, code: error.status.flatMap { [126, 127].contains($0) ? $0 : nil } ?? ExitCode32.usage)
        }
        throw ExitCode(status)
    }

    /// Finds (or pulls) the image, unpacks it and builds the container's spec.
    private func prepare(support: SandboxSupport, scratch holder: ScratchHolder) async throws -> SandboxSpec {
        let store = try self.store.openStore()
        let client = registry.makeClient()
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

            var argv: [String]
            if let entrypoint {
                argv = (entrypoint.isEmpty ? [] : [entrypoint]) + command
            } else {
                argv = (config.entrypoint ?? []) + (command.isEmpty ? (config.cmd ?? []) : command)
            }
            guard !argv.isEmpty else { throw ValidationError("no command specified: the image has no CMD or ENTRYPOINT") }

            var environment = config.env ?? []
            for entry in env {
                let name = String(entry.split(separator: "=", maxSplits: 1)[0])
                let value: String
                if entry.contains("=") { value = String(entry.dropFirst(name.count + 1)) }
                else if let host = ProcessInfo.processInfo.environment[name] { value = host }
                else { continue }
                environment.removeAll { $0.hasPrefix(name + "=") }
                environment.append("\(name)=\(value)")
            }
            if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
                environment.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            }
            var uid: UInt32 = 0, gid: UInt32 = 0
            let layerPaths = layers.map { store.blobPath($0.digest) }
            if let spec = user ?? config.user, !spec.isEmpty {
                let ids = try ImageUsers.resolve(spec, layers: layerPaths)
                uid = UInt32(ids.uid)
                gid = UInt32(ids.gid)
            }
            if !environment.contains(where: { $0.hasPrefix("HOME=") }) {
                environment.append("HOME=\(try ImageUsers.home(uid: Int(uid), layers: layerPaths))")
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
                workingDirectory: workdir ?? config.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/",
                uid: uid, gid: gid, supplementaryGroups: [], network: network == "none" ? .none : .host,
                mounts: [], hostname: String(descriptor.digest.encoded.prefix(12)), stdio: .inherit)
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// The container's scratch directory, removed once the container has exited.
private final class ScratchHolder: @unchecked Sendable {
    var path: String?
}

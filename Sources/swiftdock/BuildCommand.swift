import ArgumentParser
import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Layers
import Registry

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build an image from a Dockerfile and a context directory.", usage: Synopsis.build)

    @Option(name: [.customShort("t"), .long], help: "Name and optionally a tag (name:tag); repeatable.")
    var tag: [String] = []

    @Option(name: [.customShort("f"), .long], help: "Path of the Dockerfile (default: CONTEXT/Dockerfile).")
    var file: String?

    @Option(name: .customLong("build-arg"), help: "Set a build-time variable (KEY=VALUE, or KEY to take it from the environment); repeatable.")
    var buildArg: [String] = []

    @Option(help: "Build only up to this stage.")
    var target: String?

    @Option(help: "Target platform (os/arch[/variant]).")
    var platform: String?

    @Option(help: "RUN handling: exec (default; runs in a sandbox) or record (history only, with a warning).")
    var run: String = "exec"

    @Option(help: "Image format: oci (default) or docker (Docker v2 schema 2).")
    var format: String = "oci"

    @Option(name: .customLong("compression-level"), help: "gzip level for new layers, 0 (store) to 9.")
    var compressionLevel: Int?

    @Option(name: .customLong("source-date-epoch"), help: "Unix time for reproducible builds (default: $SOURCE_DATE_EPOCH).")
    var sourceDateEpoch: Int64?

    @Flag(name: [.customShort("q"), .long], help: "Print only the image ID.")
    var quiet = false

    @Flag(help: "Pull base images even when the local store has them.")
    var pull = false

    @Flag(name: .customLong("no-cache"), help: "Execute every step even when the build cache has it (the cache is still updated).")
    var noCache = false

    @Option(name: .customLong("no-cache-filter"), help: "Execute every step of this stage even when the build cache has it; repeatable.")
    var noCacheFilter: [String] = []

    @Option(name: .customLong("cache-from"), help: "Read build cache from type=registry,ref=REF (or just REF) or type=local,src=DIR; repeatable.")
    var cacheFrom: [String] = []

    @Option(name: .customLong("cache-to"), help: "Write build cache to type=registry,ref=REF[,mode=min|max] or type=local,dest=DIR[,mode=…]; mode=max,mounts=ID[;ID] also exports those RUN cache mounts; repeatable.")
    var cacheTo: [String] = []

    @Flag(help: "Push every tag to its registry: new layers are uploaded while they are built, the manifest last; the image is also kept in the local store.")
    var push = false

    @Option(name: [.customShort("o"), .long], help: "type=registry[,name=REF][,push=true]: push the image (to name=, else to the -t names) without keeping it in the local store (buildx's spelling).")
    var output: String?

    @Flag(help: "Write an SPDX 2.3 SBOM of the image (Debian, Alpine and Python packages) and keep it beside the image as an OCI referrer.")
    var sbom = false

    @Flag(help: "Write SLSA v1 provenance of the build (in-toto statement) and keep it beside the image as an OCI referrer; also --provenance=true|false|mode=min|max[,builder-id=URI].")
    var provenance = false

    /// `--provenance=VALUE`, which `BuildCommand.rewritingProvenanceValue` turns into this.
    @Option(name: .customLong("provenance-value"), help: .hidden)
    var provenanceValue: String?

    @Option(help: "Blobs to transfer in parallel (pull and push).")
    var jobs: Int = 4

    @Option(help: "A secret for RUN --mount=type=secret: id=ID[,src=FILE|env=VAR][,type=file|env|google-token]; repeatable.")
    var secret: [String] = []

    @Option(help: "An SSH agent for RUN --mount=type=ssh: default|ID[=SOCKET|KEY[,KEY…]]; repeatable.")
    var ssh: [String] = []

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions

    @Argument(help: "The build context directory.")
    var context: String

    func run() async throws {
        let tags = try tag.map(parseReference)
        guard let runMode = BuildOptions.RunMode(rawValue: run) else {
            throw ValidationError("invalid --run value \"\(run)\": expected exec or record")
        }
        guard let imageFormat = ImageFormat(rawValue: format) else {
            throw ValidationError("invalid --format value \"\(format)\": expected oci or docker")
        }
        var compression = LayerCompression.defaultGzip
        if let level = compressionLevel {
            guard (0...9).contains(level) else { throw ValidationError("--compression-level must be between 0 and 9") }
            compression = .gzip(level: level)
        }
        var epoch = sourceDateEpoch
        if epoch == nil, let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !text.isEmpty {
            guard let value = Int64(text) else { throw ValidationError("invalid SOURCE_DATE_EPOCH \"\(text)\": expected a Unix time") }
            epoch = value
        }
        var args: [String: String] = [:]
        for entry in buildArg {
            if let eq = entry.firstIndex(of: "=") {
                args[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
            } else if let value = ProcessInfo.processInfo.environment[entry] {
                args[entry] = value  // docker: `--build-arg NAME` takes the value from the environment
            }
        }
        var options = BuildOptions(
            contextDirectory: context, dockerfilePath: file, tags: tags, buildArgs: args, target: target,
            platform: try platform.map { p in
                do { return try Platform(parsing: p) } catch { throw ValidationError("\(error)") }
            },
            runMode: runMode, format: imageFormat, compression: compression, sourceDateEpoch: epoch)
        options.alwaysPull = pull
        options.sbom = sbom
        if let setting = try ProvenanceSetting(flag: provenance, value: provenanceValue) {
            options.provenance = setting.mode
            if let id = setting.builderID { options.builderID = id }
            options.builderVersion = ["swiftdock": "\(Swiftdock.version)+\(gitCommit)"]
        }
        options.noCache = noCache
        options.noCacheStages = Set(noCacheFilter.map { $0.lowercased() })
        let cacheImports = try cacheFrom.map { try BuildCacheSpec(parsing: $0, flag: "--cache-from") }
        let cacheExports = try cacheTo.map { try BuildCacheSpec(parsing: $0, flag: "--cache-to") }
        options.cacheMountExports = Array(Set(cacheExports.flatMap(\.mounts))).sorted()
        let registryOutput = try output.map(BuildOutput.init(parsing:))
        // `--output type=registry` pushes to its name= (else the -t names) and keeps no store entry.
        let pushTargets = registryOutput.map { $0.names.isEmpty ? tags : $0.names } ?? (push ? tags : [])
        if push && pushTargets.isEmpty { throw ValidationError("--push needs at least one -t/--tag") }
        if registryOutput != nil {
            guard !pushTargets.isEmpty else { throw ValidationError("--output type=registry needs name=REF or a -t/--tag") }
            options.tags = []
        }
        let environment = ProcessInfo.processInfo.environment
        let secrets: [BuildSecret]
        do {
            secrets = try secret.map { try BuildSecret.parse($0, environment: environment) }
            options.ssh = try ssh.map(SSHSpec.parse)
            // Checked now (exit 125 for a bad path); the agents start with the build.
            for spec in options.ssh { _ = try spec.source(environment: environment) }
            for secret in secrets where secret.source != .googleToken {
                options.secrets[secret.id] = try secret.read(environment: environment)
            }
        } catch let error as BuildSecretError {
            throw ValidationError(error.description)
        }

        let quiet = self.quiet
        let imageStore = try store.openStore()
        let client = registry.makeClient()
        for secret in secrets where secret.source == .googleToken {
            do {
                options.secrets[secret.id] = try await GoogleTokenSecret.mint(id: secret.id, client: client, environment: environment)
            } catch {
                await client.shutdown()
                throw error
            }
        }
        let source = RegistryImageSource(client: client, store: imageStore, jobs: jobs) { text in
            if !quiet { printError(text) }
        }
        let cache = BuildCacheTransfer(client: client, store: imageStore, jobs: jobs) { printError("WARNING: \($0)") }
        options.cacheImports = await cache.importCaches(cacheImports)
        // `build --push`: the final stage's new layers stream into the first destination while
        // they are written; the other destinations mount or copy them from there.
        let uploader = pushTargets.first.map { target in
            RegistryLayerUploader(client: client, target: target, store: imageStore, jobs: jobs) {
                printError("WARNING: \($0)")
            }
        }
        if let uploader {
            // --cache-to exports read the layers from the store, so they are kept for it.
            options.layerPush = LayerPush(uploader: uploader, keepInStore: registryOutput == nil || !cacheExports.isEmpty)
        }
        let builder = ImageBuilder(store: imageStore, source: source) { event in
            switch event {
            case .step(let stage, let number, let total, let text):
                if !quiet { printError("[\(stage.isEmpty ? "" : stage + " ")\(number)/\(total)] \(text)") }
            case .warning(let text):
                printError("WARNING: \(text)")
            case .layerWritten(let digest, let size, let uncompressed):
                if !quiet { printError("layer \(digest) \(formatSize(size)) (\(formatSize(uncompressed)) uncompressed)") }
            case .cached(let number):
                // BuildKit's plain progress: `#5 CACHED` under the step's line.
                if !quiet { printError("#\(number) CACHED") }
            case .note(let text), .output(let text):
                if !quiet { printError(text) }
            }
        }
        let result: BuildResult
        do {
            result = try await builder.build(options)
        } catch {
            await uploader?.cancelBaseLayers()
            await client.shutdown()
            throw error
        }
        if !quiet {
            printError("writing manifest \(result.manifest.digest) done")
            if let sbom = result.sbom { printError("writing SBOM \(sbom.digest) done") }
            if let provenance = result.provenance { printError("writing provenance \(provenance.digest) done") }
            for tag in result.tags { printError("naming to \(tag.description) done") }
        }
        do {
            // As BuildKit, a cache that cannot be written fails the build (the image is kept).
            for line in try await cache.exportCaches(cacheExports, result: result, source: source) where !quiet {
                printError(line)
            }
        } catch {
            await uploader?.cancelBaseLayers()
            await client.shutdown()
            throw error
        }
        if let uploader, !result.streamedLayers.isEmpty {
            // Recorded like a lazily pulled layer: a later push to the same registry mounts it.
            do {
                try imageStore.recordRemoteSource(RemoteSource(registry: uploader.repository.registry,
                                                               repository: uploader.repository.name), for: result.streamedLayers)
            } catch {
                printError("WARNING: cannot record where the streamed layers went: \(error)")
            }
        }
        // Streams whose registry answer was left to finish beside the build's tail.
        await uploader?.finishUploads()
        if let uploader, !quiet, uploader.streamedCount > 0 {
            printError("streamed \(uploader.streamedCount) layer(s) to \(uploader.repository.registry)/\(uploader.repository.name) while building")
        }
        if !pushTargets.isEmpty {
            for (index, tag) in pushTargets.enumerated() {
                let renderer = ProgressRenderer(quiet: quiet, pulling: false)
                do {
                    var pusher = ImagePusher(jobs: jobs, onEvent: renderer.observer)
                    // The first destination got the new layers, its base layers and the config
                    // during the build, and the manifest too once they were all confirmed.
                    if index == 0, let uploader { (pusher.settled, pusher.placedManifest) = await uploader.settled() }
                    let pushed = try await pusher.push(result.manifest, from: imageStore, to: tag, client: client)
                    renderer.finish()
                    recordPush(pushed, as: tag, in: imageStore)
                    try await PushCommand.pushAttestations(of: result.manifest, from: imageStore, to: tag, client: client,
                                                           jobs: jobs, quiet: quiet)
                    printError(pushed.summary)
                } catch {
                    renderer.finish()
                    await client.shutdown()
                    throw error
                }
            }
        }
        await client.shutdown()
        print(result.imageID.description)
    }
}

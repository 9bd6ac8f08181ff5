import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore
import Layers
import Sandbox

/// Builds an image from a Dockerfile and a context into the local store, without a daemon.
///
/// Parse → plan (only the stages the target needs) → run each stage's instructions → write
/// config and manifest → tag. Nothing reaches the store's index unless the whole build
/// succeeds; layers are written to temp files and only then renamed to their digests.
public struct ImageBuilder {
    public let store: ImageStore
    /// Registries, for bases and layers the store lacks; nil means local only.
    public let source: ImageSource?
    public let events: @Sendable (BuildEvent) -> Void

    public init(store: ImageStore, source: ImageSource? = nil, events: @escaping @Sendable (BuildEvent) -> Void = { _ in }) {
        self.store = store
        self.source = source
        self.events = events
    }

    public func build(_ options: BuildOptions) async throws -> BuildResult {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: options.contextDirectory, isDirectory: &isDirectory) else {
            throw BuildError("unable to prepare context: path \"\(options.contextDirectory)\" not found")
        }
        guard isDirectory.boolValue else {
            throw BuildError("unable to prepare context: path \"\(options.contextDirectory)\" is not a directory")
        }
        let dockerfilePath = options.dockerfilePath ?? (options.contextDirectory as NSString).appendingPathComponent("Dockerfile")
        guard let data = fm.contents(atPath: dockerfilePath) else {
            let reason = fm.fileExists(atPath: dockerfilePath) ? "permission denied" : "no such file or directory"
            throw BuildError("failed to read dockerfile: open \(dockerfilePath): \(reason)")
        }
        let dockerfile = try DockerfileParser.parse(String(decoding: data, as: UTF8.self), fileName: dockerfilePath)
        for warning in dockerfile.warnings { events(.warning(warning.description)) }

        let session = BuildSession(options: options, store: store, source: source, events: events, dockerfile: dockerfile,
                                   contextRoot: options.contextDirectory, dockerfilePath: dockerfilePath)
        session.dockerfileDigest = SHA256Stream.digest(of: Array(data))
        if !options.ssh.isEmpty {
            session.sshForwarding = try SSHForwarding.start(options.ssh, environment: ProcessInfo.processInfo.environment)
        }
        // The agents swiftdock started for key files live exactly as long as the build.
        defer { session.sshForwarding?.stop() }
        do {
            // Every layer write has ended when this returns, also after an error: temp files
            // are removed only then.
            let result = try await LayerWriteQueue.withLayerWrites { writes in
                session.layerWrites = writes
                defer { session.layerWrites = nil }
                do {
                    return try await run(session)
                } catch {
                    // Its layer write waits for items: failed before the queue waits for it.
                    await session.dropEarlyCopy()
                    throw error
                }
            }
            await session.flushCacheRecords()
            await session.finishFileIndex()
            await session.cleanUp()
            return result
        } catch {
            await session.flushCacheRecords()
            await session.finishFileIndex()
            await session.cleanUp()
            throw error
        }
    }

    private func run(_ session: BuildSession) async throws -> BuildResult {
        let options = session.options
        let dockerfile = session.dockerfile
        let host = Platform.host
        let target = options.platform ?? host
        session.automaticArgs = Dockerfile.automaticPlatformArgs(
            buildOS: host.os, buildArch: host.architecture, buildVariant: host.variant,
            targetOS: target.os, targetArch: target.architecture, targetVariant: target.variant)
        try resolveGlobalArgs(session)

        let globalLookup: (String) -> String? = { session.globalArgs[$0] ?? session.automaticArgs[$0] }
        let order = try dockerfile.requiredStages(target: options.target, globalArgs: globalLookup)
        // BuildKit ignores a --no-cache-filter that names no stage; a warning says so here.
        for name in options.noCacheStages.sorted() where !dockerfile.stages.contains(where: { $0.name == name }) {
            if let index = Int(name), dockerfile.stages.indices.contains(index) { continue }
            session.emit(.warning("--no-cache-filter \(name): no stage of that name"))
        }
        let totalSteps = order.reduce(0) { $0 + dockerfile.stages[$1].instructions.count + 1 }
        var step = 0
        var last: StageState?
        for index in order {
            let stage = dockerfile.stages[index]
            let (base, fromLine) = try await baseState(for: stage, session: session)
            var executor = StageExecutor(session: session, escape: dockerfile.directives.escape,
                                         state: base, stepNumber: step, totalSteps: totalSteps)
            executor.stageIndex = index
            executor.cacheDisabled = options.noCache || options.noCacheStages.contains(stage.name ?? "\u{0}")
                || options.noCacheStages.contains(String(index))
            executor.state.runsCommands = session.options.runMode == .exec && stage.instructions.contains {
                if case .run = $0.kind { return true } else { return false }
            }
            executor.prepareFirstRun(of: stage)
            if index == order.last, let push = options.layerPush {
                executor.layerPush = push
                push.uploader.sendBaseLayers(executor.state.layers.compactMap {
                    if case .stored(let descriptor, _, _) = $0 { descriptor } else { nil }
                })
                // The SBOM reads the layers from the store; the base's ONBUILD triggers may RUN.
                executor.keepsLayerFiles = push.keepInStore || options.sbom || options.provenance != nil
                    || StageExecutor.stageReadsItsLayers(stage) || !(executor.state.config.config.onBuild ?? []).isEmpty
            }
            session.emit(.step(stage: executor.state.name, number: step + 1, total: totalSteps, text: fromLine))
            executor.stepNumber += 1
            for trigger in try onBuildTriggers(of: executor.state, stage: stage) {
                try await executor.execute(trigger)
            }
            executor.state.config.config.onBuild = nil
            for (position, instruction) in stage.instructions.enumerated() {
                executor.nextInstruction = stage.instructions.dropFirst(position + 1).first
                try await executor.execute(instruction)
            }
            step = executor.stepNumber
            session.finishedStages[index] = executor.state
            last = executor.state
        }
        guard let final = last, let finalIndex = order.last else { throw BuildError("the Dockerfile has no stage to build") }
        warnUnusedBuildArgs(session)
        // No RUN is left: the lower directories made from COPYs go while the last layers are written.
        session.removeMaterialisedLayersInBackground()
        // Nor a COPY: the file index is finished beside the commit.
        session.startFileIndexTail()
        var result = try await commit(final, session: session)
        result.cacheSteps = try await session.resolvedCacheSteps().map { .init(key: $0.key, isFinalStage: $0.stage == finalIndex) }
        result.cacheMounts = try session.exportCacheMounts(options.cacheMountExports)
        return result
    }

    /// Global ARGs: `--build-arg` overrides the default; defaults may use earlier global ARGs.
    private func resolveGlobalArgs(_ session: BuildSession) throws {
        let dockerfile = session.dockerfile
        for instruction in dockerfile.globalArgs {
            let lookup: (String) -> String? = { session.globalArgs[$0] ?? session.automaticArgs[$0] }
            let expanded: Instruction
            do {
                expanded = try instruction.expanded(escape: dockerfile.directives.escape, lookup: lookup).instruction
            } catch {
                throw BuildError.wrap(error, at: instruction.location, instruction: instruction.keyword)
            }
            guard case .arg(let declarations) = expanded.kind else { continue }
            for d in declarations {
                if let value = session.options.buildArgs[d.name] ?? d.defaultValue {
                    session.globalArgs[d.name] = value
                }
                session.markUsed([d.name])
            }
        }
    }

    /// The starting state of a stage: `scratch`, an earlier stage, or an image in the store;
    /// with the FROM line as progress shows it, ARGs expanded (`FROM busybox AS builder`, not
    /// `FROM ${BASE} AS builder`), as BuildKit names the step.
    private func baseState(for stage: Stage, session: BuildSession) async throws -> (StageState, String) {
        var platformText: String?
        let state = try await baseState(for: stage, session: session, platformText: &platformText)
        var line = "FROM"
        if let platformText { line += " --platform=\(platformText)" }
        line += " " + state.fromName
        if let name = stage.name { line += " AS \(name)" }
        return (state.state, line)
    }

    private func baseState(for stage: Stage, session: BuildSession,
                           platformText: inout String?) async throws -> (state: StageState, fromName: String) {
        let dockerfile = session.dockerfile
        let lookup: (String) -> String? = { session.globalArgs[$0] ?? session.automaticArgs[$0] }
        let expander = ShellWordExpander(escape: dockerfile.directives.escape)
        let baseName: String
        var platform: Platform? = session.options.platform
        do {
            let expansion = try expander.expand(stage.baseName, lookup: lookup)
            session.markUsed(expansion.usedNames)
            baseName = expansion.value
            if let p = stage.platform {
                let expandedPlatform = try expander.expand(p, lookup: lookup)
                session.markUsed(expandedPlatform.usedNames)
                platform = try Platform(parsing: expandedPlatform.value)
                platformText = expandedPlatform.value
            }
        } catch {
            throw BuildError.wrap(error, at: stage.location, instruction: "FROM")
        }
        let name = stage.name ?? ""

        if baseName.lowercased() == "scratch" {
            var config = ImageConfiguration(platform: platform ?? Platform.host)
            // BuildKit gives images built from scratch a default PATH and WorkingDir "/".
            config.config.env = ["PATH=\(ProcessModel.defaultPath)"]
            config.config.workingDir = "/"
            return (StageState(name: name, config: config), baseName)
        }
        if let index = dockerfile.stageIndex(named: baseName, before: stage.index), let parent = session.finishedStages[index] {
            var state = parent
            state.name = name
            state.cacheKey = StepCacheKey.stageParent(parent.cacheKey)
            state.cmdSet = false
            state.args = [:]
            state.declaredArgs = []
            return (state, baseName)
        }
        let found: ImageLookup
        do {
            found = try await session.baseImage(named: baseName, platform: platform)
        } catch let error as Reference.ParseError {
            throw BuildError("\(error)", at: stage.location, instruction: "FROM", underlying: error)
        } catch {
            throw BuildError.wrap(error, at: stage.location, instruction: "FROM")
        }
        let descriptor = found.manifest
        let image = try store.image(descriptor)
        if let wanted = platform, wanted.os != image.config.os || wanted.architecture != image.config.architecture {
            session.emit(.warning("\(stage.location): FROM: base image \(baseName) is \(image.config.platform), not the requested \(wanted)"))
        }
        var state = StageState(name: name, config: image.config)
        state.cacheKey = .known(StepCacheKey.imageParent(manifest: descriptor.digest))
        // A base named by image ID has no name to record.
        state.base = found.reference.map { ($0, descriptor.digest) }
        state.config.created = nil
        state.config.author = image.config.author
        let format = session.options.format
        for (i, layer) in image.manifest.layers.enumerated() {
            var converted = layer
            converted.mediaType = format.layerMediaType(converting: layer.mediaType)
            let diffID = i < image.config.rootfs.diffIDs.count ? image.config.rootfs.diffIDs[i] : layer.digest
            let path = store.blobPath(layer.digest)
            state.layers.append(.stored(descriptor: converted, diffID: diffID, path: path))
            state.unreadBaseLayers.append((layer.digest, diffID))
        }
        if let shell = image.config.config.shell { state.shell = shell }
        return (state, baseName)
    }

    /// The base image's ONBUILD triggers, parsed as instructions of this stage's FROM line.
    private func onBuildTriggers(of state: StageState, stage: Stage) throws -> [Instruction] {
        guard let triggers = state.config.config.onBuild, !triggers.isEmpty else { return [] }
        return try triggers.map { trigger in
            do {
                let parsed = try DockerfileParser.parse("FROM scratch\n" + trigger + "\n", fileName: stage.location.file)
                guard var instruction = parsed.stages.first?.instructions.first else {
                    throw BuildError("empty ONBUILD trigger", at: stage.location, instruction: "ONBUILD")
                }
                instruction.location = stage.location
                return instruction
            } catch let error as DockerfileError {
                throw BuildError("ONBUILD trigger \"\(trigger)\" of the base image: \(error.message)", at: stage.location, instruction: "FROM")
            }
        }
    }

    private func warnUnusedBuildArgs(_ session: BuildSession) {
        let unused = session.options.buildArgs.keys
            .filter { !session.consumedArgs.contains($0) && !Dockerfile.proxyArgNames.contains($0) && session.automaticArgs[$0] == nil }
            .sorted()
        if !unused.isEmpty {
            session.emit(.warning("One or more build-args [\(unused.joined(separator: " "))] were not consumed"))
        }
    }

    /// Waits for the final stage's layers, makes config and manifest, moves the layers into
    /// the store, writes config and manifest there, and only then tags.
    ///
    /// `build --push` hands config and manifest to the uploader as soon as the layers' digests
    /// are known (`LayerUploader.sendImage`), before any of that store work: the config goes
    /// up beside the layers' closing answers, the manifest once they are confirmed — beside
    /// the fsync of the layers' files, not after it. With an SBOM or provenance (which may
    /// still fail the build, and read the layers from the store) they are handed over once
    /// those are written.
    private func commit(_ final: StageState, session: BuildSession) async throws -> BuildResult {
        let format = session.options.format
        var config = final.config
        // Without SOURCE_DATE_EPOCH the image is as new as its newest step: a rebuild taken
        // entirely from the step cache is then the same image, as BuildKit's is.
        config.created = session.options.sourceDateEpoch == nil ? final.lastStepCreated ?? session.created : session.created
        var descriptors: [Descriptor] = []
        var diffIDs: [Digest] = []
        var written: [(layer: WrittenLayer, path: String, uploaded: Bool)] = []
        for layer in final.layers {
            switch layer {
            case .stored(let descriptor, let diffID, _):
                descriptors.append(descriptor)
                diffIDs.append(diffID)
            case .pending(let task, let path):
                let layer = try await task.value
                written.append((layer, path, task.uploads))
                session.emit(.layerWritten(digest: layer.digest, size: layer.size, uncompressedSize: layer.uncompressedSize))
                descriptors.append(Descriptor(mediaType: session.options.newLayerMediaType, digest: layer.digest, size: layer.size))
                diffIDs.append(layer.diffID)
            }
        }
        config.rootfs = RootFS(diffIDs: diffIDs)
        // Docker's schema 2 has no annotations; OCI manifests name their base as buildah's do.
        let annotations = final.base.flatMap { base in
            format == .oci ? [ImageManifest.baseNameAnnotation: base.name.description,
                              ImageManifest.baseDigestAnnotation: base.digest.description] : nil
        }
        let documents = try ImageDocuments(config: config, configMediaType: format.configMediaType, manifest: {
            ImageManifest(mediaType: format.manifestMediaType, config: $0, layers: descriptors, annotations: annotations)
        }, manifestMediaType: format.manifestMediaType)
        let attested = session.options.sbom || session.options.provenance != nil
        if !attested { session.options.layerPush?.uploader.sendImage(documents) }
        var streamedOnly: [Digest] = []
        for (layer, path, uploaded) in written {
            // A layer `build --push` uploaded goes into the store only when the user wants a
            // store entry; with `--output type=registry` its file (if any) is a temp file.
            if !uploaded || session.options.layerPush?.keepInStore ?? true {
                try store.ingest(temporaryFile: path, digest: layer.digest)
            } else if !store.hasBlob(layer.digest) {
                streamedOnly.append(layer.digest)
            }
        }
        try store.writeBlob(documents.configBytes)
        try store.writeBlob(documents.manifestBytes)
        let configDescriptor = documents.config
        let manifestDescriptor = documents.manifest
        // Before tagging: a build whose SBOM cannot be written leaves no tag behind.
        var final = final
        let sbom = session.options.sbom
            ? try await session.writeSBOM(of: &final, layers: descriptors, manifest: manifestDescriptor) : nil
        let provenance = try session.options.provenance.map {
            try session.writeProvenance(mode: $0, manifest: manifestDescriptor, platform: config.platform)
        }
        if attested { session.options.layerPush?.uploader.sendImage(documents) }
        for tag in session.options.tags {
            try store.tag(tag, manifest: manifestDescriptor)
        }
        // Without -t the image is kept untagged (`<none>:<none>`), as docker keeps it — unless
        // it goes only to a registry (`--output type=registry`).
        if session.options.tags.isEmpty, session.options.layerPush?.keepInStore ?? true {
            try store.keepUntagged(manifest: manifestDescriptor)
        }
        var built = BuildResult(manifest: manifestDescriptor, config: configDescriptor, tags: session.options.tags,
                                warnings: session.warnings, sbom: sbom, provenance: provenance)
        built.streamedLayers = streamedOnly
        return built
    }
}

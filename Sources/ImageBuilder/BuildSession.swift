import BlockingWork
import BuildContext
import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore
import Layers
import PathEncoding

/// State shared by all stages of one build: options, the store, temp files to clean up,
/// finished stages (for `COPY --from`), build-arg bookkeeping.
final class BuildSession {
    let options: BuildOptions
    let store: ImageStore
    let source: ImageSource?
    let events: @Sendable (BuildEvent) -> Void
    let layerWriter: LayerWriter
    let dockerfile: Dockerfile
    let contextRoot: String
    let dockerfilePath: String
    /// `created` of the image and its history entries (RFC 3339).
    let created: String
    /// Seconds since the epoch for entries that have no source file.
    let nowSeconds: Int64

    /// Values of the global ARGs (before the first FROM), after `--build-arg`.
    var globalArgs: [String: String] = [:]
    /// Names of build args consumed by an ARG or a variable reference.
    private(set) var consumedArgs = Set<String>()
    var automaticArgs: [String: String] = [:]
    /// Finished stages by index.
    var finishedStages: [Int: StageState] = [:]
    private var temporaryPaths: [String] = []
    /// Where this build's layer writes run (bounded, structured: see `LayerWriteQueue`); set
    /// by `ImageBuilder.build` for the duration of the build.
    var layerWrites: LayerWriteQueue?
    private var unpackedSources: [String: CopyPlanner.Source] = [:]
    private var contextDirectory: ContextDirectory?
    private(set) var warnings: [String] = []
    /// Whether this build already said that RUN copies the root instead of overlaying it.
    var notedCopyIsolation = false
    /// Whether the build already warned that RUN shares the host's network (no slirp4netns).
    var warnedHostNetwork = false
    /// Lower dirs whose files' owners exist only here (copy isolation, unprivileged with
    /// subordinate ids): given in each RUN's copy instead (`giveOwners`). Keyed by directory.
    var ownersToGive: [String: [PathKey: PendingOwner]] = [:]
    /// Layer steps to record in the step cache once their layers are written.
    var pendingCacheRecords: [PendingCacheRecord] = []
    /// The context's file digests by stat (see `fileDigests()`).
    var fileDigestIndex: FileDigestIndex?
    /// The index finished beside the commit (`startFileIndexTail`): while set, its tasks own the index.
    var fileIndexTail: FileIndexTail?
    /// Every step applied, in order: its cache key and stage index (see `BuildResult.cacheSteps`).
    var cacheSteps: [(key: StepCacheKey.Reference, stage: Int)] = []
    /// COPY steps whose keys wait for their layer writes, in build order (see `FoldedContent`).
    var foldedContents: [FoldedContent] = []
    /// Key prefixes of steps hashed up front below a folded COPY (with `build --push`): marked
    /// once that COPY settles.
    var deferredPrefixes: [StepCacheKey] = []
    /// Whether a missing step-prefix marker means a certain miss in this store (see
    /// `ImageStore.stepPrefixesCoverRecords`); decided before this build records anything.
    lazy var stepPrefixesTrusted: Bool = store.stepPrefixesCoverRecords()
    /// Set when a step prefix could not be marked: no record is written after that.
    var stepCacheWritesStopped = false
    /// Whether a prefix marker was made without its fsync (`markStepPrefix(_:durably:)`).
    var unsyncedPrefixes = false
    /// RUN lower directories materialised from COPY layers (`materialisedLayer`), and their
    /// removal once every stage has run (`removeMaterialisedLayersInBackground`).
    var materialisedDirectories: [String] = []
    var materialisedRemoval: BackgroundRemoval?
    /// Every hard link the materialised lower directories make to context files, unlinked
    /// through it before the file index is saved (see `saveFileDigestsAfterUnlinking`).
    let linkJournal = LinkJournal()
    /// `flock`ed descriptors of the cache mounts the current step uses (see `lockCacheMount`).
    var cacheMountLocks: [Int32] = []
    /// When the build started (provenance's `startedOn`; real time, whatever SOURCE_DATE_EPOCH says).
    let startedOn = Date()
    /// SHA-256 of the Dockerfile's bytes as parsed.
    var dockerfileDigest: Digest?
    /// Every image FROM or COPY --from resolved, in order, for provenance.
    var resolvedBases: [ResolvedBase] = []
    /// Every `ADD <URL>` download and the digest of its bytes (only with `--provenance`).
    var resolvedDownloads: [(url: String, digest: Digest)] = []
    /// The `--ssh` agents' sockets (and the agents started for key files).
    var sshForwarding: SSHForwarding?
    /// A COPY planned and written beside the RUN before it, until its step adopts it (`EarlyCopy`).
    var earlyCopy: EarlyCopy?
    /// What stages' first RUNs wait for, started with the stage (`prepareFirstRun`).
    var runPreparations: [DedicatedThread<Void, Never>] = []
    /// Files read from stored layers by `lowerFile`, by layer digest and path.
    var storedLayerFiles: [String: [UInt8]?] = [:]

    init(options: BuildOptions, store: ImageStore, source: ImageSource?, events: @escaping @Sendable (BuildEvent) -> Void,
         dockerfile: Dockerfile, contextRoot: String, dockerfilePath: String) {
        self.options = options
        self.store = store
        self.source = source
        self.events = events
        self.dockerfile = dockerfile
        self.contextRoot = contextRoot
        self.dockerfilePath = dockerfilePath
        self.layerWriter = LayerWriter(compression: options.compression, sourceDateEpoch: options.sourceDateEpoch)
        let now = options.sourceDateEpoch.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        self.created = Timestamp.rfc3339(now)
        self.nowSeconds = Int64(now.timeIntervalSince1970)
    }

    func emit(_ event: BuildEvent) {
        if case .warning(let text) = event { warnings.append(text) }
        events(event)
    }

    func markUsed(_ names: Set<String>) {
        consumedArgs.formUnion(names)
    }

    /// The value an `ARG name[=default]` inside a stage takes: `--build-arg` first, then the
    /// declared default, then the global ARG or automatic platform arg of the same name.
    func stageArgValue(name: String, default defaultValue: String?) -> String? {
        consumedArgs.insert(name)
        if let value = options.buildArgs[name] { return value }
        if let defaultValue { return defaultValue }
        return globalArgs[name] ?? automaticArgs[name]
    }

    /// The build context, opened (and its ignore file read) on first use.
    func context() throws -> ContextDirectory {
        if let contextDirectory { return contextDirectory }
        let opened = try ContextDirectory.buildContext(root: contextRoot, dockerfilePath: dockerfilePath)
        contextDirectory = opened
        return opened
    }

    /// Removes `path` with the build's other temp files.
    func trackTemporary(_ path: String) {
        temporaryPaths.append(path)
    }

    /// A fresh temp file in the store (same file system, so the final rename is atomic).
    func temporaryFile() throws -> String {
        let path = try store.makeTemporaryFile()
        temporaryPaths.append(path)
        return path
    }

    /// The root a `COPY --from=X` reads: a finished stage (by name or index) or an image in the
    /// local store, unpacked once into a temp directory.
    func copySource(from: String) async throws -> CopyPlanner.Source {
        if let cached = unpackedSources[from] { return cached }
        let blobs: [LayerBlob]
        let image: String
        if let index = dockerfile.stageIndex(named: from) {
            guard let stage = finishedStages[index] else {
                throw BuildError("--from=\(from): stage \(from) is not built before this step")
            }
            // Base layers still in their registry are fetched (verified) into the store first.
            try await ensureLocal(stage.storedLayerDigests, of: "image \(stage.imageDescription)")
            blobs = try await stage.layerBlobs()
            image = stage.imageDescription
        } else {
            let base: ImageLookup
            do { base = try await baseImage(named: from, platform: options.platform) } catch let error as Reference.ParseError {
                throw BuildError("--from=\(from): not a stage name or index, and not an image reference: \(error)",
                                 underlying: error)
            }
            let stored = try store.image(base.manifest)
            image = base.reference?.familiarDescription ?? from
            try await ensureLocal(stored.manifest.layers.map(\.digest), of: "image \(image)")
            blobs = stored.manifest.layers.map { LayerBlob(path: store.blobPath($0.digest), digest: $0.digest) }
        }
        let directory = try temporaryDirectory()
        let table: OwnershipTable
        do {
            table = try LayerUnpacker.unpack(blobs: blobs, into: directory)
        } catch let LayerError.digestMismatch(_, expected, actual) {
            throw BuildError(Self.corruptLayerMessage(image: image, layer: expected, actual: actual))
        }
        var root = try ContextDirectory(root: directory)
        root.isImageRoot = true
        let source = CopyPlanner.Source(directory: root, owners: table.owners)
        unpackedSources[from] = source
        return source
    }

    /// The image `FROM` or `COPY --from` names, as every command takes one (`ImageStore.lookup`:
    /// image ID, short ID, `name`, `name:tag`, `name@digest`): from the store first, as docker
    /// does, else — for a reference — pulled through `source`. With `--pull` a name is pulled
    /// again; an image ID can only come from the store.
    func baseImage(named name: String, platform: Platform?) async throws -> ImageLookup {
        if let found = try store.lookup(name), !(options.alwaysPull && found.reference != nil) {
            resolvedBases.append(ResolvedBase(name: name, lookup: found))
            return found
        }
        let reference = try Reference(parsing: name)
        let found = ImageLookup(manifest: try await baseImage(reference, platform: platform), reference: reference)
        resolvedBases.append(ResolvedBase(name: name, lookup: found))
        return found
    }

    /// An image from the store (local first, as docker does), else pulled through `source`.
    func baseImage(_ reference: Reference, platform: Platform?) async throws -> Descriptor {
        if !options.alwaysPull, let descriptor = try store.resolve(reference) { return descriptor }
        guard let source else {
            throw BuildError("image \(reference.familiarDescription) is not in the local store (swiftdock pull it first)")
        }
        emit(.note("pulling \(reference.familiarDescription)"))
        return try await source.pull(reference, platform: platform)
    }

    /// Makes blobs local (base layers stay in their registry until a step reads them).
    /// `owner` says whose layers they are (`image NAME`, `cache mount ID`): a layer whose
    /// fetched bytes do not match its digest is reported as that owner's layer, not as the
    /// temporary file the source wrote it to.
    func ensureLocal(_ digests: [Digest], of owner: String) async throws {
        let missing = try digests.filter { try !store.claimBlob($0) }
        guard !missing.isEmpty else { return }
        guard let source else {
            throw BuildError("\(owner): layer \(missing[0]) is not in the local store and no registry is available to fetch it")
        }
        do {
            try await source.ensureLocal(missing)
        } catch {
            guard let (expected, actual) = Self.digestMismatch(in: error) else { throw error }
            throw BuildError("\(owner): layer \(expected) fetched from its source is corrupt (its bytes hash to \(actual))",
                             underlying: error)
        }
    }

    /// The expected and actual digests of a blob digest mismatch, whichever layer reported it.
    static func digestMismatch(in error: Error) -> (expected: Digest, actual: Digest)? {
        switch error {
        case StoreError.digestMismatch(_, let expected, let actual): return (expected, actual)
        case LayerError.digestMismatch(_, let expected, let actual): return (expected, actual)
        case ContentError.digestMismatch(let expected, let actual): return (expected, actual)
        default: return nil
        }
    }

    /// `ADD <URL>`: the file downloaded into a temp file, checked against `--checksum`, as an
    /// entry with BuildKit's mode 0600 and the server's Last-Modified time.
    func download(_ url: String, checksum: String?) async throws -> ContextEntry {
        guard let source else { throw BuildError("ADD \(url): downloading needs network access, which this build has not got") }
        let path = try temporaryFile()
        let lastModified = try await source.download(url, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        if let checksum {
            guard checksum.hasPrefix("sha256:") else {
                throw BuildError("ADD \(url): unsupported --checksum \"\(checksum)\": expected sha256:<hex>")
            }
            let actual = try SHA256Stream.digest(ofFile: path)
            guard actual.description == checksum else {
                throw BuildError("ADD \(url): checksum mismatch: expected \(checksum), got \(actual)")
            }
        }
        // Provenance lists each download by the digest of what arrived, as BuildKit's does.
        if options.provenance != nil { resolvedDownloads.append((url, try SHA256Stream.digest(ofFile: path))) }
        var name = URL(string: url)?.lastPathComponent ?? ""
        if name.isEmpty || name == "/" { name = "__unnamed__" }
        let mtime = Int64(lastModified?.timeIntervalSince1970 ?? TimeInterval(nowSeconds))
        var info = stat()
        _ = lstat(path, &info)
        return ContextEntry(relativePath: name, absolutePath: path, type: .regular, mode: 0o600, uid: 0, gid: 0, size: size,
                            mtimeSeconds: mtime, mtimeNanoseconds: 0, device: UInt64(info.st_dev), inode: UInt64(info.st_ino),
                            linkCount: 1)
    }

    /// Queues a layer write beside the build's later steps (see `LayerWriteQueue`).
    func submitLayerWrite(uploads: Bool = false, _ work: @escaping LayerWriteQueue.Work) throws -> PendingLayerWrite {
        guard let layerWrites else { throw BuildError("internal error: a layer write outside a build") }
        return layerWrites.submit(uploads: uploads, work)
    }

    /// Removes every temp file and directory this build made (on success after ingesting),
    /// once a background removal of materialised layers has ended.
    func cleanUp() async {
        for preparation in runPreparations { await preparation.value }
        await materialisedRemoval?.wait()
        materialisedRemoval = nil
        for path in temporaryPaths {
            try? FileManager.default.removeItem(atPath: path)
            // Lower dirs and RUN output may hold files owned by subordinate ids: removed inside.
            var st = stat()
            if lstat(path, &st) == 0 { try? store.removeOwnedTree(path) }
        }
        temporaryPaths.removeAll()
    }
}

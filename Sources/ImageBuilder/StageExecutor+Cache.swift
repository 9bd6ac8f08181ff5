import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore
import Layers
import Sandbox

/// The step cache around executing one instruction (see `StepCacheKey`, `StepCacheRecord`).
///
/// Layer steps (COPY, ADD, RUN, WORKDIR creating directories) look their key up before doing
/// the work and on a hit reuse the stored layer and history entries without running; every
/// other instruction is re-applied (it only edits the config) and takes the stored history
/// entries' `created`, so a rebuild from cache yields the same image byte for byte.
extension StageExecutor {
    /// The key of `instruction` before any step-specific content is added; `parent`: the
    /// previous step's key when it is not the stage's yet (an early COPY's, see `EarlyCopy`).
    func baseStepKey(_ instruction: Instruction, expanded: Instruction, parent: StepCacheKey.Reference? = nil) -> StepCacheKey {
        var key = StepCacheKey(parent: parent ?? state.cacheKey)
        key.add("instruction", instruction.original)
        key.add("expanded", String(reflecting: expanded.kind))
        key.add("escape", String(escape))
        // The ARGs the step sees (as RUN's environment and in expansion); proxy args are left
        // out, as BuildKit leaves them out of its cache keys.
        key.add("args", state.args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value ?? "\u{0}")" }.joined(separator: "\n"))
        key.add("platform", state.config.platform.description)
        let options = session.options
        key.add("output", "\(options.format.rawValue) \(options.compression) \(options.sourceDateEpoch.map(String.init) ?? "-") \(options.runMode.rawValue)")
        return key
    }

    /// The record for the current key if this step may reuse it: not with `--no-cache` or a
    /// `--no-cache-filter` naming the stage, and only while every layer of the stage is already
    /// a blob (a hit then never sits above a layer this build is still writing). The local
    /// step cache first, then each `--cache-from` in order.
    func cachedRecord() -> StepCacheRecord? {
        guard !cacheDisabled else { return nil }
        // Below a folded COPY: its key is new, so nothing was ever recorded under it.
        guard stepKey.isKnown else { return nil }
        for layer in state.layers {
            if case .pending = layer { return nil }
        }
        let key = stepKey.value
        if let record = session.store.stepCacheRecord(key: key) {
            session.store.markStepCacheRecordUsed(key: key)
            return record
        }
        return session.importedRecord(key: key)
    }

    /// Applies a hit: the stored layer (read lazily like a base layer: its headers only when a
    /// later step reads the file system, so a hit that nothing reads above — the last RUN —
    /// costs no layer bytes; one left in a registry by `--cache-from` is only indexed then, and
    /// fetched when a RUN needs its files) and history entries.
    ///
    /// `plannedItems`: the items a COPY/ADD/WORKDIR planned to write, from which the key was
    /// made. When they are all plain entries the view takes them instead of the stored layer's
    /// headers: the key covers every field the view uses (path, type, mode, owner, link
    /// target), so they describe the stored layer — and a no-change rebuild then reads no
    /// layer bytes nor a 30k-entry header index (issue 13). Only mtimes may differ, which no
    /// step reads from the view. Archive items (ADD's extraction) need the real headers.
    mutating func reuse(_ record: StepCacheRecord, plannedItems: [LayerItem]? = nil, viewHasItems: Bool = false) async throws {
        if let layer = record.layer {
            let index = state.layers.count
            let digest = layer.descriptor.digest
            state.layers.append(.stored(descriptor: layer.descriptor, diffID: layer.diffID, path: session.store.blobPath(digest)))
            if viewHasItems {
                // `ViewApplication` applied them already (under the condition just below).
            } else if Self.viewTakesPlannedItems(plannedItems, of: state) {
                state.view.apply(plannedItems!, layer: index)
            } else {
                // On top of the unread layers (the stage's top ones): `loadBaseView` reads them in order.
                state.unreadBaseLayers.append((digest, layer.diffID))
            }
        }
        state.config.history += record.history
        stepUsedCache = true
        session.emit(.cached(number: stepNumber))
    }

    /// Whether a hit on a step that planned `items` applies them to the view (see `reuse`):
    /// they are all plain entries, and every layer below is in the view already.
    static func viewTakesPlannedItems(_ items: [LayerItem]?, of state: StageState) -> Bool {
        guard state.unreadBaseLayers.isEmpty, !state.layers.isEmpty, let items, !items.isEmpty else { return false }
        return items.allSatisfy { if case .entry = $0 { true } else { false } }
    }

    /// `addLayer`, unless a record for the same content exists: then that layer is reused.
    /// `stamps`: aligned with `items`, each source file's `lstat` from the context walk
    /// (`CopyPlanner.plannedStamps`), so the file index need not stat it again.
    mutating func addLayerOrReuse(_ items: [LayerItem], createdBy: String, stamps: [FileDigestIndex.Stamp?] = []) async throws {
        if FoldedContent.canFold(items), session.lookupCertainToMiss(prefix: stepKey) {
            return try addFoldedLayer(items, createdBy: createdBy)
        }
        // Marked before anything below the step is recorded; a prefix still waiting for a
        // folded COPY above it is marked when that settles (`settleFoldedContent`).
        if stepKey.isKnown { session.markStepPrefix(stepKey.value) } else { session.deferredPrefixes.append(stepKey) }
        // Hit or miss, the view takes these items as the stage's next layer (`reuse`,
        // `addLayer`): applied on another core while the file index is read and the key formed.
        let applying = ViewApplication.start(items, on: &state)
        let digest: String
        do {
            let index = try session.fileDigests()
            index.prehash(Self.sourceFiles(items, stamps: stamps), jobs: ProcessInfo.processInfo.activeProcessorCount)
            digest = try StepCacheKey.contentDigest(of: items) { position, path in
                try index.digest(ofFile: path, stamp: position < stamps.count ? stamps[position] : nil)
            }
        } catch {
            if let applying { state.view = await applying.view() }
            throw error
        }
        if let applying { state.view = await applying.view() }
        stepKey.add("content", digest)
        if let record = cachedRecord() {
            try await reuse(record, plannedItems: items, viewHasItems: applying != nil)
            return
        }
        try addLayer(items, createdBy: createdBy, viewHasItems: applying != nil)
        if !items.isEmpty { state.layerItems[state.layers.count - 1] = items }
    }

    /// The source files `contentDigest` will ask the file index for, in its order, with the
    /// walk's stamps (files without one are left to be statted when asked).
    static func sourceFiles(_ items: [LayerItem], stamps: [FileDigestIndex.Stamp?]) -> [(path: String, stamp: FileDigestIndex.Stamp)] {
        zip(items, stamps).compactMap { item, stamp in
            guard case .entry(let entry) = item, case .regularFile(.file(let path, _)) = entry.kind, let stamp else { return nil }
            return (path, stamp)
        }
    }

    /// After a step succeeded: the stage's key moves on, and what the step produced is recorded
    /// (a new layer once it is written, see `BuildSession.flushCacheRecords`); a step that only
    /// edited the config takes the `created` of an earlier identical step.
    mutating func finishStep(historyBefore: Int, layersBefore: Int) {
        let key = stepKey.reference
        state.cacheKey = key
        session.cacheSteps.append((key, stageIndex))
        defer {
            if state.config.history.count > historyBefore { state.lastStepCreated = state.config.history.last?.created }
        }
        if stepUsedCache { return }
        let added = Array(state.config.history[historyBefore...])
        if state.layers.count == layersBefore + 1, case .pending(let task, let path) = state.layers[layersBefore] {
            session.pendingCacheRecords.append(.init(key: key, task: task, path: path, history: added))
            return
        }
        guard state.layers.count == layersBefore else { return }
        guard let key = key.knownValue else {
            // Below a folded COPY: recorded once the key is known.
            session.pendingCacheRecords.append(.init(key: key, task: nil, path: "", history: added))
            return
        }
        if !cacheDisabled, let record = session.store.stepCacheRecord(key: key) ?? session.importedRecord(key: key), record.layer == nil,
           record.history.map(\.createdBy) == added.map(\.createdBy) {
            for (offset, entry) in record.history.enumerated() {
                state.config.history[historyBefore + offset].created = entry.created
            }
            session.store.markStepCacheRecordUsed(key: key)
            return
        }
        session.writeCacheRecord(StepCacheRecord(layer: nil, history: added), key: key)
    }
}

/// A layer step whose record is written once its layer is in the store.
struct PendingCacheRecord {
    var key: StepCacheKey.Reference
    /// The step's layer write; nil for a step that only edited the config.
    var task: PendingLayerWrite?
    var path: String
    var history: [History]
}

extension BuildSession {
    /// Writes a record; the cache is an optimisation, so failing to write one is a warning.
    func writeCacheRecord(_ record: StepCacheRecord, key: String) {
        // Decided before the first record (see `stepPrefixesTrusted`).
        _ = stepPrefixesTrusted
        guard !stepCacheWritesStopped else { return }
        do {
            try store.writeStepCacheRecord(record, key: key)
        } catch {
            emit(.warning("could not write build cache record: \(error)"))
        }
    }

    /// Records every layer step that finished (also when a later step failed): its layer moves
    /// into the store (layers of the final stage are already there) and its record is written.
    /// A step whose layer failed to write is not recorded.
    func flushCacheRecords() async {
        await settleFoldedContent()
        let records = pendingCacheRecords
        pendingCacheRecords.removeAll()
        for pending in records {
            // A key below a folded COPY whose write failed cannot be known: not recorded.
            guard let key = try? pending.key.resolved() else { continue }
            guard let task = pending.task else {
                writeCacheRecord(StepCacheRecord(layer: nil, history: pending.history), key: key)
                continue
            }
            guard let written = try? await task.value else { continue }
            // `--output type=registry`: an uploaded layer is not kept, so neither is its record.
            if task.uploads, !(options.layerPush?.keepInStore ?? true) { continue }
            if !store.hasBlob(written.digest) {
                guard FileManager.default.fileExists(atPath: pending.path),
                      (try? store.ingest(temporaryFile: pending.path, digest: written.digest)) != nil
                else { continue }
            }
            let descriptor = Descriptor(mediaType: options.newLayerMediaType, digest: written.digest, size: written.size)
            writeCacheRecord(StepCacheRecord(layer: .init(descriptor: descriptor, diffID: written.diffID), history: pending.history),
                             key: key)
        }
    }

    /// The context's file-digest index, read from the store on first use.
    func fileDigests() throws -> FileDigestIndex {
        if let fileDigestIndex { return fileDigestIndex }
        let root = try context().root
        let index = FileDigestIndex(root: root, encoded: store.fileDigestIndex(name: Self.indexName(root)))
        fileDigestIndex = index
        return index
    }

    /// Keeps the file-digest index for the next build of this context (best effort).
    func saveFileDigests() {
        guard let index = fileDigestIndex, index.changed else { return }
        do {
            try store.writeFileDigestIndex(index.encoded(), name: Self.indexName(index.root))
        } catch {
            emit(.warning("could not write the build context's file index: \(error)"))
        }
    }

    static func indexName(_ root: String) -> String {
        SHA256Stream.digest(of: Array(root.utf8)).encoded
    }

    /// The content digest of a RUN bind mount's source, read through a descriptor opened inside
    /// its root exactly as the sandbox binds it, so a symlink cannot make the key read the host.
    func bindMountDigest(_ mount: RunMount) async throws -> String {
        let (root, origin) = try await mountRoot(from: mount.from)
        let relative = cleanLayerPath(mount.source ?? "/")
        let kind = try sourceKind(relative, in: root, origin: origin, given: mount.source)
        return try MountSource.withDescriptor(of: relative, in: root) { fd in
            // "/." walks through the descriptor's magic link into the directory itself.
            kind == .directory
                ? try StepCacheKey.treeDigest(of: "/proc/self/fd/\(fd)/.")
                : try StepCacheKey.treeDigest(of: "/proc/self/fd/\(fd)", followRoot: true)
        }
    }
}

extension StageExecutor {
    /// A RUN's record, after adding its bind mounts' content to the key (cache and tmpfs
    /// mounts start from whatever they hold and do not invalidate, as in BuildKit).
    mutating func cachedRunRecord(_ run: RunInstruction) async throws -> StepCacheRecord? {
        for flag in run.flags where flag.name == "mount" {
            let mount = try RunMount.parse(flag.value ?? "")
            if mount.kind == .bind {
                stepKey.add("bind " + mount.target, try await session.bindMountDigest(mount))
            }
        }
        return cachedRecord()
    }
}

import Foundation
import ImageModel
import Layers

/// The content part of a COPY/ADD step's key when the step's lookup was certain to miss
/// (`BuildSession.lookupCertainToMiss`): its source files were not hashed before the step
/// ran; the layer write hashed each one in the same read that put it into the tarball
/// (`SourceFileDigests`), and once that write has ended `BuildSession.settleFoldedContent`
/// forms the content digest from those digests — the very value `StepCacheKey.contentDigest`
/// computes up front — so the step's record, and the keys of the steps after it, come out
/// exactly as on the hash-first path (issue 13: a cold build reads each source file once).
final class FoldedContent: @unchecked Sendable {
    // @unchecked: `outcome`, `formed` and `inIndex` are read and written under `lock`; the
    // rest is immutable.
    let items: [LayerItem]
    let recording: SourceFileDigests
    let write: PendingLayerWrite
    /// The step's key without its content: what the store's prefix marker names.
    let prefix: StepCacheKey
    private let lock = NSLock()
    private var outcome: Result<String, any Error>?
    /// The content digest once formed (`formDigest`), before the step settles.
    private var formed: Result<String, any Error>?
    /// Whether the reads went into the context's file index already (`FileIndexTail`).
    private var inIndex = false

    init(items: [LayerItem], write: PendingLayerWrite, prefix: StepCacheKey, recording: SourceFileDigests) {
        self.items = items
        self.recording = recording
        self.write = write
        self.prefix = prefix
    }

    /// Whether `items` can be folded: plain entries with at least one file to hash (an
    /// archive that ADD extracts is hashed as a whole, up front, as before).
    static func canFold(_ items: [LayerItem]) -> Bool {
        var hasFile = false
        for item in items {
            guard case .entry(let entry) = item else { return false }
            if case .regularFile(.file) = entry.kind { hasFile = true }
        }
        return hasFile
    }

    var isSettled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return outcome != nil
    }

    /// The content digest; throws when the write failed or it is not settled yet.
    func digest() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        guard let outcome else { throw BuildError("internal error: a folded COPY's key was read before its layer was written") }
        return try outcome.get()
    }

    /// Waits for the layer write and forms the content digest from its reads; the same
    /// result however often, and from whichever task asks first (the build's, or the file
    /// index's tail beside the commit, see `FileIndexTail`).
    func formDigest() async -> Result<String, any Error> {
        if let formed = lock.withLock({ formed }) { return formed }
        let result: Result<String, any Error>
        do {
            _ = try await write.value
            result = .success(try contentDigest(from: recording.reads))
        } catch {
            result = .failure(error)
        }
        return lock.withLock {
            if formed == nil { formed = result }
            return formed!
        }
    }

    /// Marks the reads as given to the file index; false when they were already.
    func takeForIndex() -> Bool {
        lock.withLock {
            defer { inIndex = true }
            return !inIndex
        }
    }

    func settle(_ result: Result<String, any Error>) {
        lock.lock()
        if outcome == nil { outcome = result }
        lock.unlock()
    }

    /// `StepCacheKey.contentDigest(of:)` over `items` with the digests the writer recorded,
    /// taken in order: the writer copies exactly the regular-file items, in item order.
    func contentDigest(from reads: [SourceFileDigests.Read]) throws -> String {
        var next = 0
        let digest = try StepCacheKey.contentDigest(of: items) { path in
            guard next < reads.count, reads[next].path == path else {
                throw BuildError("internal error: the layer writer's file digests do not match the step's files at \(path)")
            }
            next += 1
            return reads[next - 1].digest
        }
        guard next == reads.count else { throw BuildError("internal error: the layer writer read files the step does not list") }
        return digest
    }
}

extension BuildSession {
    /// Whether no step-cache record can match a layer step whose key so far is `prefix`,
    /// whatever its content: with `--no-cache` (nothing is looked up), below a step whose own
    /// key is still deferred (a folded COPY's key is new, so nothing was ever recorded under
    /// it), or when the store has never marked the prefix (`ImageStore.markStepPrefix`) and
    /// no `--cache-from` cache (whose prefixes are unknown) takes part.
    func lookupCertainToMiss(prefix: StepCacheKey) -> Bool {
        if options.noCache { return true }
        guard options.cacheImports.isEmpty else { return false }
        guard prefix.isKnown else { return true }
        return stepPrefixesTrusted && !store.hasStepPrefix(prefix.value)
    }

    /// Marks a layer step's prefix in the store before anything at or below the step is
    /// recorded (see `ImageStore.markStepPrefix`). Failing to is a warning, and this build
    /// then records nothing more (a record whose prefix is not marked could be missed).
    /// `durably: false`: the caller syncs the markers before any record (see
    /// `ImageStore.markStepPrefix(_:durably:)`); `unsyncedPrefixes` says whether one waits.
    @discardableResult
    func markStepPrefix(_ prefix: String, durably: Bool = true) -> Bool {
        guard !stepCacheWritesStopped else { return false }
        do {
            if try store.markStepPrefix(prefix, durably: durably), !durably { unsyncedPrefixes = true }
            return true
        } catch {
            stepCacheWritesStopped = true
            emit(.warning("could not write build cache record: \(error)"))
            return false
        }
    }

    /// Settles every folded COPY in build order: waits for its layer write, forms its content
    /// digest, marks its prefix, and gives its files' digests to the context's file index;
    /// then marks the prefixes that waited for them (`deferredPrefixes`).
    /// A step whose write failed settles with that error: its key, and those of the steps after
    /// it, cannot be resolved, so none of them is recorded.
    func settleFoldedContent() async {
        // The tail may be giving the reads to the file index: the index is its until then.
        await fileIndexTail?.recorded.value
        for folded in foldedContents where !folded.isSettled {
            do {
                let digest = try await folded.formDigest().get()
                let prefix = try folded.prefix.resolved()
                guard markStepPrefix(prefix, durably: false) else { throw BuildError("the step's prefix is not marked") }
                if folded.takeForIndex() { try fileDigests().record(folded.recording.reads, hashedAt: folded.recording.startedAt) }
                folded.settle(.success(digest))
            } catch {
                folded.settle(.failure(error))
            }
        }
        // A prefix that cannot be resolved belongs to a step that is not recorded either.
        for prefix in deferredPrefixes {
            if let value = try? prefix.resolved() { markStepPrefix(value, durably: false) }
        }
        deferredPrefixes.removeAll()
        // One fsync for every marker made here, before any record below them is written.
        if unsyncedPrefixes {
            store.syncStepPrefixes()
            unsyncedPrefixes = false
        }
    }
}

extension BuildSession {
    /// `cacheSteps` with every key resolved (waiting for folded COPYs' layer writes).
    func resolvedCacheSteps() async throws -> [(key: String, stage: Int)] {
        await settleFoldedContent()
        return try cacheSteps.map { (try $0.key.resolved(), $0.stage) }
    }
}

extension StageExecutor {
    /// `addLayerOrReuse` for a step whose lookup is certain to miss: the layer is queued at
    /// once, its writer hashing the sources as it copies them, and the step's key waits for
    /// that write (`FoldedContent`).
    mutating func addFoldedLayer(_ items: [LayerItem], createdBy: String) throws {
        let recording = SourceFileDigests()
        try addLayer(items, createdBy: createdBy, recording: recording)
        guard case .pending(let task, _) = state.layers.last else { throw BuildError("internal error: a folded COPY queued no layer") }
        foldContent(items, write: task, recording: recording)
    }

    /// The step's key waits for its layer's `write`, which hashes its sources (`recording`).
    mutating func foldContent(_ items: [LayerItem], write task: PendingLayerWrite, recording: SourceFileDigests) {
        let folded = FoldedContent(items: items, write: task, prefix: stepKey, recording: recording)
        session.foldedContents.append(folded)
        stepKey.add("content", folded)
        state.layerItems[state.layers.count - 1] = items
    }
}

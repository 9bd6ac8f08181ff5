import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Layers
import Registry

/// `build --push`'s uploads into the first destination repository: streamed while each
/// layer is written (`RegistryClient.uploadStreamed`). After a streamed upload fails — a
/// registry or front end that refuses bodies of unknown length — the rest of the build
/// uploads each layer from its file in one monolithic PUT, and says so once. The final
/// stage's base layers are brought over (HEAD, mount, or copy) beside the build; the config
/// goes up as soon as the build has made it, and the manifest as soon as every blob it names
/// is confirmed, beside the build's own commit.
final class RegistryLayerUploader: LayerUploader, @unchecked Sendable {
    // @unchecked: `refused`, `streamed`, `sentDigests`, `baseTask`, `tails` and `imageTask`
    // are read and written under `lock`; the rest is immutable.
    let client: RegistryClient
    /// The push target whose repository gets the layers; its tag names the manifest.
    let target: Reference
    let repository: RegistryRepository
    let store: ImageStore
    let jobs: Int
    let warn: @Sendable (String) -> Void
    private let lock = NSLock()
    private var refused = false
    private var streamed = 0
    private var sentDigests: Set<Digest> = []
    private var baseTask: Task<[Digest: BlobPushOutcome], Never>?
    private var tails: [Task<Void, Never>] = []
    /// `sendImage`'s work: the config's outcome, and whether the manifest was put.
    private var imageTask: Task<SentImage, Never>?

    /// What `sendImage` did: the config's outcome (nil when it failed), and the manifest
    /// when it was put.
    private struct SentImage: Sendable {
        var config: (digest: Digest, outcome: BlobPushOutcome)?
        var placedManifest: Digest?
    }

    init(client: RegistryClient, target: Reference, store: ImageStore, jobs: Int,
         warn: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.target = target
        repository = RegistryRepository(target)
        self.store = store
        self.jobs = max(1, jobs)
        self.warn = warn
        // Every build --push sends: the HTTP client is made beside the build's start, not
        // before its first layer's first byte.
        client.transport.prepareInBackground()
    }

    var streams: Bool { lock.withLock { !refused } }

    func uploadStreamed(awaitingRegistry: Bool, file: String?,
                        _ write: @escaping @Sendable (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        if awaitingRegistry { return try await stream(file: file, write) }
        // The stream runs as a task of its own that outlives this call: the layer is handed
        // back when `write` returns, and `finishUploads` (before the push after the build)
        // awaits the registry's answer. A failure after the hand-off only leaves the layer
        // out of `settled()`, so that push uploads it from the store.
        let handoff = WrittenLayerHandoff()
        let task = Task {
            do {
                _ = try await stream(file: file) { sink in
                    let written = try await write(sink)
                    handoff.deliver(.success(written))
                    return written
                }
            } catch {
                handoff.deliver(.failure(error))
            }
        }
        lock.withLock { tails.append(task) }
        return try await handoff.value
    }

    /// Waits for the streamed uploads whose registry answer was left to finish beside the
    /// build (`awaitingRegistry: false`). Ended ones stay listed (awaiting them again costs
    /// nothing), so every caller waits for all of them.
    func finishUploads() async {
        for task in lock.withLock({ tails }) { await task.value }
    }

    private func stream(file: String?, _ write: (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        do {
            let kept = try file.map { (sink: try FileBlobSink(path: $0) as any BlobSink, path: $0) }
            let written = try await client.uploadStreamed(to: repository, keeping: kept, producing: write,
                                                          digest: { ($0.digest, $0.size) })
            lock.withLock {
                streamed += 1
                sentDigests.insert(written.digest)
            }
            return written
        } catch let error as RegistryError {
            let first = lock.withLock {
                defer { refused = true }
                return !refused
            }
            if first {
                warn("\(repository.registry)/\(repository.name): a streamed layer upload failed (\(error)); "
                     + "uploading layers from files instead")
            }
            throw LayerUploadFailed(underlying: error)
        }
    }

    func upload(file: String, layer: WrittenLayer) async throws {
        if try await client.blobSize(layer.digest, in: repository) != nil { return }
        guard case .session(let session) = try await client.startUpload(to: repository) else {
            throw RegistryError(.invalidResponse, registry: repository.registry, repository: repository.name,
                                "start blob upload: unexpected answer")
        }
        try await client.finishUpload(session, digest: layer.digest, body: .file(path: file, size: layer.size), to: repository)
        lock.withLock { _ = sentDigests.insert(layer.digest) }
    }

    /// Starts the base layers' way to `repository` as `push` would take it (present, mounted,
    /// streamed from the store or from the registry a lazily pulled base lives in), `jobs` at
    /// a time, without progress lines (the build's own lines are being printed). A layer that
    /// fails here is left out of `settled()`, so the push after the build tries it again and
    /// reports its error.
    func sendBaseLayers(_ layers: [Descriptor]) {
        guard !layers.isEmpty else { return }
        let source = LazyStoreContent(store: store, client: client)
        let destination = RegistryContent(client: client, repository: repository)
        let pusher = ImagePusher(jobs: jobs)
        let task = Task {
            let outcomes = Locked([Digest: BlobPushOutcome]())
            try? await forEachConcurrently(layers, limit: pusher.jobs) { layer in
                guard !Task.isCancelled,
                      let outcome = try? await pusher.pushBlob(layer, isLayer: true, from: source, to: destination) else { return }
                outcomes.withLock { $0[layer.digest] = outcome }
            }
            return outcomes.withLock { $0 }
        }
        lock.withLock {
            baseTask?.cancel()
            baseTask = task
        }
    }

    /// The config goes up now, from the bytes the build made (as `push` sends a blob: HEAD,
    /// then POST and PUT), beside the layers' closing answers; then, once the layers' streams
    /// and the base layers' work have ended, the manifest — only when every blob it names is
    /// confirmed here (`ImagePusher.putManifestIfSettled`). Anything that fails is left to
    /// the push after the build, which tries it again and reports it.
    func sendImage(_ image: ImageDocuments) {
        let pusher = ImagePusher(jobs: jobs)
        let destination = RegistryContent(client: client, repository: repository)
        let target = self.target
        let task = Task { [self] () -> SentImage in
            let source = MemoryContent(blobs: [image.config.digest: image.configBytes])
            var sent = SentImage()
            if let outcome = try? await pusher.pushBlob(image.config, isLayer: false, from: source, to: destination) {
                sent.config = (image.config.digest, outcome)
            }
            var settling = pusher
            settling.settled = await settledBlobs()
            if let config = sent.config { settling.settled[config.digest] = config.outcome }
            guard !Task.isCancelled, let tag = try? ImagePusher.tag(pushing: image.manifest, to: target) else { return sent }
            if (try? await settling.putManifestIfSettled(image.manifestBytes, as: image.manifest, to: destination, tag: tag)) == true {
                sent.placedManifest = image.manifest.digest
            }
            return sent
        }
        lock.withLock {
            imageTask?.cancel()
            imageTask = task
        }
    }

    /// Streamed layer uploads that reached the registry.
    var streamedCount: Int { lock.withLock { streamed } }

    /// What the build already did for the push to `repository`, once its work has ended:
    /// each layer it uploaded (`Pushed`, streamed or from a file), each base layer brought
    /// over beside it and the config — for `ImagePusher.settled` — and the manifest when it
    /// was put (`ImagePusher.placedManifest`).
    func settled() async -> (blobs: [Digest: BlobPushOutcome], placedManifest: Digest?) {
        let image = await lock.withLock({ imageTask })?.value
        var outcomes = await settledBlobs()
        if let config = image?.config { outcomes[config.digest] = config.outcome }
        return (outcomes, image?.placedManifest)
    }

    /// The layers' and the base layers' outcomes, once their work has ended.
    private func settledBlobs() async -> [Digest: BlobPushOutcome] {
        await finishUploads()
        var outcomes = await lock.withLock({ baseTask })?.value ?? [:]
        for digest in lock.withLock({ sentDigests }) { outcomes[digest] = .pushed(attempts: 1) }
        return outcomes
    }

    /// Stops the base layers' work, the streams still finishing and the config and manifest
    /// not yet sent (the build failed) and waits for them to end, so nothing still uses the
    /// client when it shuts down.
    func cancelBaseLayers() async {
        let (running, image) = lock.withLock { (tails, imageTask) }
        for task in running { task.cancel() }
        image?.cancel()
        await finishUploads()
        _ = await image?.value
        guard let task = lock.withLock({ baseTask }) else { return }
        task.cancel()
        _ = await task.value
    }
}

/// The layer a background stream hands back once its writer has returned (or the error that
/// ended it first): delivered once, awaited once. `@unchecked Sendable`: both fields are used
/// under `lock` only.
private final class WrittenLayerHandoff: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<WrittenLayer, any Error>?
    private var waiter: CheckedContinuation<WrittenLayer, any Error>?

    /// The first delivery wins; later ones (the stream's own end after the hand-off) are dropped.
    func deliver(_ outcome: Result<WrittenLayer, any Error>) {
        let waiting: CheckedContinuation<WrittenLayer, any Error>? = lock.withLock {
            guard result == nil else { return nil }
            result = outcome
            defer { waiter = nil }
            return waiter
        }
        waiting?.resume(with: outcome)
    }

    var value: WrittenLayer {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<WrittenLayer, any Error>? = lock.withLock {
                    if result == nil { waiter = continuation }
                    return result
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}

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
/// stage's base layers are brought over (HEAD, mount, or copy) beside the build.
final class RegistryLayerUploader: LayerUploader, @unchecked Sendable {
    // @unchecked: `refused`, `streamed`, `sentDigests` and `baseTask` are read and written
    // under `lock`; the rest is immutable.
    let client: RegistryClient
    let repository: RegistryRepository
    let store: ImageStore
    let jobs: Int
    let warn: @Sendable (String) -> Void
    private let lock = NSLock()
    private var refused = false
    private var streamed = 0
    private var sentDigests: Set<Digest> = []
    private var baseTask: Task<[Digest: BlobPushOutcome], Never>?

    init(client: RegistryClient, repository: RegistryRepository, store: ImageStore, jobs: Int,
         warn: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.repository = repository
        self.store = store
        self.jobs = max(1, jobs)
        self.warn = warn
    }

    var streams: Bool { lock.withLock { !refused } }

    func uploadStreamed(_ write: (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        do {
            let written = try await client.uploadStreamed(to: repository, producing: write, digest: { ($0.digest, $0.size) })
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

    /// Streamed layer uploads that reached the registry.
    var streamedCount: Int { lock.withLock { streamed } }

    /// What the build already did for the push to `repository`, once the base layers' work
    /// has ended: each layer it uploaded (`Pushed`, streamed or from a file) and each base
    /// layer brought over beside it — for `ImagePusher.settled`.
    func settled() async -> [Digest: BlobPushOutcome] {
        var outcomes = await lock.withLock({ baseTask })?.value ?? [:]
        for digest in lock.withLock({ sentDigests }) { outcomes[digest] = .pushed(attempts: 1) }
        return outcomes
    }

    /// Stops the base layers' work (the build failed) and waits for it to end, so nothing
    /// still uses the client when it shuts down.
    func cancelBaseLayers() async {
        guard let task = lock.withLock({ baseTask }) else { return }
        task.cancel()
        _ = await task.value
    }
}

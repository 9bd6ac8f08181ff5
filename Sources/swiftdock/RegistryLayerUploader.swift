import Foundation
import ImageBuilder
import ImageModel
import Layers
import Registry

/// `build --push`'s uploads into the first destination repository: streamed while each
/// layer is written (`RegistryClient.uploadStreamed`). After a streamed upload fails — a
/// registry or front end that refuses bodies of unknown length — the rest of the build
/// uploads each layer from its file in one monolithic PUT, and says so once.
final class RegistryLayerUploader: LayerUploader, @unchecked Sendable {
    // @unchecked: `refused` is read and written under `lock`; the rest is immutable.
    let client: RegistryClient
    let repository: RegistryRepository
    let warn: @Sendable (String) -> Void
    private let lock = NSLock()
    private var refused = false
    /// Streamed layer uploads that reached the registry.
    private(set) var streamedCount = 0

    init(client: RegistryClient, repository: RegistryRepository, warn: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.repository = repository
        self.warn = warn
    }

    var streams: Bool { lock.withLock { !refused } }

    func uploadStreamed(_ write: (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer {
        do {
            let written = try await client.uploadStreamed(to: repository, producing: write, digest: { ($0.digest, $0.size) })
            lock.withLock { streamedCount += 1 }
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
    }
}

import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Registry

/// What `build` uses when the store lacks something: bases pulled lazily (manifest and config
/// only), layers fetched from where the store recorded them when a step reads them, and
/// `ADD <URL>` downloads.
struct RegistryImageSource: ImageSource {
    let client: RegistryClient
    let store: ImageStore
    let jobs: Int
    let report: @Sendable (String) -> Void

    func pull(_ reference: Reference, platform: Platform?) async throws -> Descriptor {
        let result = try await ImagePuller(client: client, store: store, platform: platform, jobs: jobs).pull(reference)
        report("\(reference.familiarDescription): pulled \(result.digest) (\(result.remoteLayers.count) layers left in the registry until needed)")
        return result.manifest
    }

    func ensureLocal(_ digests: [Digest]) async throws {
        try await forEachConcurrently(try digests.filter { try !store.claimBlob($0) }, limit: jobs) { digest in
            try await fetch(digest, into: store)
        }
    }

    /// The first recorded source that opens; a failure mid-stream is the stream's error.
    func openBlob(_ digest: Digest) async throws -> ContentChunks {
        var lastError: Error = StoreError.blobNotFound(digest)
        for source in try store.remoteSources(of: digest) {
            do {
                return try await client.blobChunks(digest, from: source)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Fetches `digest` from the sources the store recorded for it, most recent first.
    private func fetch(_ digest: Digest, into destination: ImageStore) async throws {
        let sources = try store.remoteSources(of: digest)
        var lastError: Error = StoreError.blobNotFound(digest)
        for source in sources {
            do {
                try await client.fetchBlob(digest, from: source, into: destination)
                return
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    func download(_ url: String, to path: String) async throws -> Date? {
        try await client.download(url, to: path)
    }
}

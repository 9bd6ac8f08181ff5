import Foundation
import ImageModel

/// Where the builder gets what the local store does not have: base images from registries,
/// base layer bytes when a step needs them, and files for `ADD <URL>`. The CLI provides one
/// backed by the registry client; without one, such steps fail with a clear error.
public protocol ImageSource: Sendable {
    /// Fetches the image's manifest and config into the store (layers may stay remote, with
    /// their source recorded), tags `reference` there, and returns the manifest descriptor.
    func pull(_ reference: Reference, platform: Platform?) async throws -> Descriptor
    /// Makes these blobs local in the store, fetching them from where the store recorded
    /// they live; verified against their digests before they are stored.
    func ensureLocal(_ digests: [Digest]) async throws
    /// One blob's bytes as they arrive, from where the store recorded it lives, verified as
    /// they stream (the stream throws instead of ending when they do not match the digest):
    /// for indexing a base layer's headers in one streamed read while the store keeps it remote.
    func openBlob(_ digest: Digest) async throws -> ContentChunks
    /// Downloads `url` to the file at `path`; returns the response's Last-Modified time.
    func download(_ url: String, to path: String) async throws -> Date?
}

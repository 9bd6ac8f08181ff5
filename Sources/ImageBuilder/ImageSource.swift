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
    /// Fetches one blob, verified against its digest, into a scratch OCI layout at
    /// `directory` (an empty directory; not the store) and returns the blob file's path: for
    /// streaming a base layer once to index its headers while the store keeps it remote.
    func fetchTransiently(_ digest: Digest, into directory: String) async throws -> String
    /// Downloads `url` to the file at `path`; returns the response's Last-Modified time.
    func download(_ url: String, to path: String) async throws -> Date?
}

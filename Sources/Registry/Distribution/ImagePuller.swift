import Foundation
import ImageModel
import ImageStore

/// What `ImagePuller.pull` did.
public struct PullResult: Sendable {
    /// The reference pulled, normalised (`docker.io/library/alpine:latest`).
    public var reference: Reference
    /// The digest the reference resolved to at the registry: the index's for a multi-platform
    /// image (what docker prints as `Digest:`), else the manifest's.
    public var digest: Digest
    /// The platform manifest stored (and tagged, unless the reference is digest-only).
    public var manifest: Descriptor
    /// The platform of the stored image (from its config).
    public var platform: Platform
    /// What the tag pointed to before; equal to `manifest` when the image was up to date.
    public var previous: Descriptor?
    /// Layers downloaded into the store by this pull.
    public var downloadedLayers: [Digest]
    /// Layers left in the registry, recorded as remote sources.
    public var remoteLayers: [Digest]

    /// True when the tag already pointed to this manifest (`Image is up to date`).
    public var isUpToDate: Bool { previous?.digest == manifest.digest }
}

/// Pulls images into the local store.
///
/// By default only the manifest and config are fetched (as ko and crane do); each layer the
/// store lacks is recorded as living in the pulled repository (`RemoteSource`), which lets the
/// store tag the image and `ImagePusher` mount or stream the layer later. `allLayers`, or
/// `fetchLayers` when the content is needed, downloads them.
public struct ImagePuller: Sendable {
    public var client: RegistryClient
    public var store: ImageStore
    /// The platform chosen from an index. Nil: linux and the host's architecture, and a
    /// single-platform image is taken whatever its platform; set (`--platform`), a
    /// single-platform image must match it too, as docker requires.
    public var platform: Platform?
    /// Concurrent layer downloads.
    public var jobs: Int
    public var onEvent: TransferObserver?

    public init(client: RegistryClient, store: ImageStore, platform: Platform? = nil, jobs: Int = 4,
                onEvent: TransferObserver? = nil) {
        self.client = client
        self.store = store
        self.platform = platform
        self.jobs = jobs
        self.onEvent = onEvent
    }

    /// Fetches `reference`'s manifest (choosing the platform from an index), verifies and
    /// stores it and its config with the exact bytes received, records remote sources for
    /// absent layers (or downloads them with `allLayers`), and records the reference (a tag,
    /// or for a digest-only reference `repository@digest`).
    public func pull(_ reference: Reference, allLayers: Bool = false) async throws -> PullResult {
        let repository = RegistryRepository(reference)
        let (top, manifestBytes) = try await client.fetchPlatformManifest(reference, platform: self.platform ?? .host, in: repository)
        let manifest = try decode(ImageManifest.self, manifestBytes.bytes, "manifest \(manifestBytes.digest)", repository)

        // Config: small, always fetched and verified (the store needs it to list and build).
        try await client.fetchBlob(manifest.config.digest, size: manifest.config.size, from: repository, into: store)
        let configBytes = try store.readBlob(manifest.config.digest)
        let config = try decode(ImageConfiguration.self, configBytes, "config \(manifest.config.digest)", repository)
        if let wanted = self.platform, !MediaType.isIndex(top.mediaType),
           PlatformMatcher.choose([Descriptor(mediaType: manifestBytes.mediaType, digest: manifestBytes.digest, size: 0,
                                              platform: config.platform)], for: wanted) == nil {
            throw repository.error(.notFound, "image \(reference.tag ?? top.digest.description) is for \(config.platform), "
                                   + "which does not match the requested platform \(wanted)")
        }

        var downloaded: [Digest] = []
        let missing = try manifest.layers.filter { try !store.claimBlob($0.digest) && ($0.urls ?? []).isEmpty }
        if allLayers {
            try await client.fetchBlobs(missing, from: repository, into: store, jobs: jobs, onEvent: onEvent)
            downloaded = missing.map(\.digest)
        } else {
            for layer in manifest.layers {
                onEvent?(TransferEvent(digest: layer.digest, isLayer: true, state: store.hasBlob(layer.digest) ? .alreadyExists : .remote))
            }
        }
        // Record the source of every layer, present or not: it also tells push where to mount from.
        try store.recordRemoteSource(repository, for: manifest.layers.map(\.digest))
        try store.writeBlob(manifestBytes.bytes)
        // Kept so a digest-only reference to the index can be recorded (the store checks that
        // the digest names the manifest); unreferenced, it goes with the next prune.
        if reference.tag == nil, MediaType.isIndex(top.mediaType) { try store.writeBlob(top.bytes) }

        var descriptor = manifestBytes.descriptor
        descriptor.platform = config.platform
        // A digest-only reference is recorded as `repository@digest` (listed with tag <none>).
        let previous = try store.tag(reference, manifest: descriptor)
        return PullResult(reference: reference, digest: top.digest, manifest: descriptor, platform: config.platform,
                          previous: previous, downloadedLayers: downloaded,
                          remoteLayers: allLayers ? [] : missing.map(\.digest))
    }

    /// Downloads the layers of `manifest` the store lacks, from their recorded remote sources
    /// (first one that works), `jobs` at a time. Call before reading layer content.
    /// Returns the digests downloaded.
    @discardableResult
    public func fetchLayers(of manifest: ImageManifest) async throws -> [Digest] {
        var seen = Set<Digest>()
        let missing = try manifest.layers.filter { try !store.claimBlob($0.digest) && seen.insert($0.digest).inserted }
        let sources = try store.remoteSources()
        try await forEachConcurrently(missing, limit: jobs) { layer in
            let candidates = sources[layer.digest] ?? []
            guard !candidates.isEmpty else { throw StoreError.blobNotFound(layer.digest) }
            var lastError: Error?
            for source in candidates {
                do {
                    try await client.fetchBlob(layer.digest, size: layer.size, from: source, into: store) { done, total in
                        onEvent?(TransferEvent(digest: layer.digest, isLayer: true, state: .downloading(completed: done, total: total)))
                    }
                    onEvent?(TransferEvent(digest: layer.digest, isLayer: true, state: .downloaded))
                    return
                } catch let error as RegistryError where error.kind != .digestMismatch {
                    lastError = error
                }
            }
            throw lastError!
        }
        return missing.map(\.digest)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ what: String,
                                      _ repository: RegistryRepository) throws -> T {
        try RegistryClient.decode(type, bytes, what, repository)
    }
}

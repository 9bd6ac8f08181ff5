import Foundation
import ImageModel
import ImageStore

/// What `ImagePusher.push` did.
public struct PushResult: Sendable {
    /// Where the image went (with `:latest` when no tag was given).
    public var destination: Reference
    /// The manifest (or index) digest at the destination.
    public var digest: Digest
    /// The manifest's size in bytes.
    public var size: Int64
    public var mediaType: String
    /// How each blob got there.
    public var blobs: [Digest: BlobPushOutcome]
    /// The registry's `OCI-Subject` answer to the manifest put: the subject it indexed for the
    /// referrers API (nil when it sent none, or the manifest has no subject).
    public var ociSubject: Digest? = nil

    /// Docker's last line: `latest: digest: sha256:… size: 528`.
    public var summary: String {
        "\(destination.tag ?? digest.description): digest: \(digest) size: \(size)"
    }
}

/// Pushes images from the local store to a registry.
///
/// Blobs go first, each digest once, `jobs` at a time (layers, then configs); then child
/// manifests of an index by digest; the tagged manifest last, with its own media type as
/// Content-Type. Each blob is HEAD-checked, so pushing again — or after an interruption —
/// sends only what is missing. Layers the store only knows remotely (a lazily pulled base)
/// are mounted when they live in the destination registry, else streamed from their source
/// registry without touching disk.
public struct ImagePusher: Sendable {
    public var client: RegistryClient
    public var store: ImageStore
    /// Concurrent blob transfers (`--jobs`, default 4).
    public var jobs: Int
    public var onEvent: TransferObserver?

    public init(client: RegistryClient, store: ImageStore, jobs: Int = 4, onEvent: TransferObserver? = nil) {
        self.client = client
        self.store = store
        self.jobs = jobs
        self.onEvent = onEvent
    }

    /// Pushes the stored image `source` to `destination` (default: `source` itself).
    public func push(_ source: Reference, to destination: Reference? = nil) async throws -> PushResult {
        guard let descriptor = try store.resolve(source) else {
            throw StoreError.imageNotFound(source.familiarDescription)
        }
        return try await push(manifest: descriptor, to: destination ?? source)
    }

    /// Pushes the stored manifest or index `manifest` and everything it references to
    /// `destination`, tagged with its tag (or, for a digest reference, by digest).
    public func push(manifest: Descriptor, to destination: Reference) async throws -> PushResult {
        let repository = RegistryRepository(destination)
        if let pinned = destination.digest, destination.tag == nil, pinned != manifest.digest {
            throw repository.error(.digestMismatch, "cannot push \(manifest.digest) as \(pinned): a digest reference must name the image's own digest")
        }
        let plan = try makePlan(manifest)
        let sources = try store.remoteSources()
        let blobPusher = BlobPusher(client: client, store: store, destination: repository, sources: sources, onEvent: onEvent)
        for layer in plan.layers { onEvent?(TransferEvent(digest: layer.digest, isLayer: true, state: .preparing)) }

        let outcomes = Locked([Digest: BlobPushOutcome]())
        for (blobs, isLayer) in [(plan.layers, true), (plan.configs, false)] {
            try await forEachConcurrently(blobs, limit: jobs) { blob in
                let outcome = try await blobPusher.push(blob, isLayer: isLayer)
                outcomes.withLock { $0[blob.digest] = outcome }
            }
        }
        for child in plan.children {
            let bytes = try store.readBlob(child.digest)
            try await client.pushManifest(bytes: bytes, mediaType: child.mediaType, digest: child.digest,
                                          as: child.digest.description, to: repository)
        }
        let bytes = try store.readBlob(manifest.digest)
        let headers = try await client.pushManifest(bytes: bytes, mediaType: manifest.mediaType, digest: manifest.digest,
                                                    as: destination.tag ?? manifest.digest.description, to: repository)
        return PushResult(destination: destination, digest: manifest.digest, size: Int64(bytes.count),
                          mediaType: manifest.mediaType, blobs: outcomes.withLock { $0 },
                          ociSubject: headers.first(name: "OCI-Subject").flatMap { try? Digest(parsing: $0) })
    }

    /// The unique layers and configs of a manifest — or of every child of an index — in
    /// manifest order, and the child manifests to put before the index.
    struct Plan {
        var layers: [Descriptor] = []
        var configs: [Descriptor] = []
        var children: [Descriptor] = []
    }

    func makePlan(_ top: Descriptor) throws -> Plan {
        var plan = Plan()
        var seen = Set<Digest>()
        func add(manifest descriptor: Descriptor) throws {
            let manifest = try decode(ImageManifest.self, descriptor.digest)
            if seen.insert(manifest.config.digest).inserted { plan.configs.append(manifest.config) }
            for layer in manifest.layers where (layer.urls ?? []).isEmpty && seen.insert(layer.digest).inserted {
                plan.layers.append(layer)
            }
        }
        if MediaType.isIndex(top.mediaType) {
            let index = try decode(ImageIndex.self, top.digest)
            for child in index.manifests {
                guard MediaType.isManifest(child.mediaType) else {
                    throw StoreError.unsupportedMediaType(child.mediaType, digest: child.digest)
                }
                guard store.hasBlob(child.digest) else { throw StoreError.blobNotFound(child.digest) }
                try add(manifest: child)
                plan.children.append(child)
            }
        } else if MediaType.isManifest(top.mediaType) {
            try add(manifest: top)
        } else {
            throw StoreError.unsupportedMediaType(top.mediaType, digest: top.digest)
        }
        return plan
    }

    private func decode<T: Decodable>(_ type: T.Type, _ digest: Digest) throws -> T {
        let bytes = try store.readBlob(digest)
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw StoreError.corrupt(path: store.blobPath(digest), reason: "cannot decode \(T.self): \(error)")
        }
    }
}

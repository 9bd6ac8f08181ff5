import Foundation
import ImageModel
import ImageStore

/// The local store as a push source, layers it only knows remotely included: a lazily
/// pulled base's layers are offered for mounting from where they live (`StoreContent`) and,
/// when the destination cannot mount them, streamed from that registry — never through disk.
public struct LazyStoreContent: ContentSource {
    public let local: StoreContent
    public let client: RegistryClient

    public init(store: ImageStore, client: RegistryClient) {
        local = StoreContent(store: store)
        self.client = client
    }

    public func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        try await local.read(descriptor)
    }

    /// The stored file; else the first recorded registry that serves the blob.
    public func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        let store = local.store
        if store.hasBlob(descriptor.digest) { return try await local.open(descriptor) }
        var lastError: Error?
        for source in try store.remoteSources(of: descriptor.digest) {
            do {
                return try await RegistryContent(client: client, repository: source).open(descriptor)
            } catch let error as RegistryError {
                lastError = error  // This source cannot serve it: try the next.
            }
        }
        throw lastError ?? StoreError.blobNotFound(descriptor.digest)
    }

    public func mountOrigins(of descriptor: Descriptor) async throws -> [String] {
        try await local.mountOrigins(of: descriptor)
    }
}

extension ImagePusher {
    /// Pushes the stored manifest or index `image` — layers the store only knows remotely
    /// included — to `reference`, named by its tag (by digest for a digest reference, which
    /// must then be the image's own digest).
    public func push(_ image: Descriptor, from store: ImageStore, to reference: Reference,
                     client: RegistryClient) async throws -> PushResult {
        let tag = try Self.tag(pushing: image, to: reference)
        return try await push(image, from: LazyStoreContent(store: store, client: client),
                              to: RegistryContent(client: client, repository: RegistryRepository(reference)), tag: tag)
    }

    /// The tag a push of `image` to `reference` puts it under: the reference's tag, or none for
    /// a digest reference — which must then name the image's own digest.
    public static func tag(pushing image: Descriptor, to reference: Reference) throws -> String? {
        if let pinned = reference.digest, reference.tag == nil, pinned != image.digest {
            throw RegistryRepository(reference).error(.digestMismatch,
                "cannot push \(image.digest) as \(pinned): a digest reference must name the image's own digest")
        }
        return reference.tag
    }
}

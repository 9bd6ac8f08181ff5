import Foundation
import ImageModel

/// The local store as a content source and destination. As a source it hands out what is
/// stored; a layer the store only knows remotely (a lazily pulled base) is offered for
/// mounting from where it lives and otherwise reported missing. As a destination, blobs are
/// verified and ingested (temp file, then rename) and a tagged manifest is tagged as
/// `repository:tag`.
public struct StoreContent: ContentSource, ContentDestination {
    public let store: ImageStore
    /// The repository a tagged manifest is recorded under when the store is the destination.
    public let repository: Reference?

    public init(store: ImageStore, repository: Reference? = nil) {
        self.store = store
        self.repository = repository
    }

    public func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        try store.readBlob(descriptor.digest)
    }

    public func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        try FileContentChunks.open(store.blobPath(descriptor.digest), digest: descriptor.digest)
    }

    public func mountOrigins(of descriptor: Descriptor) async throws -> [String] {
        try store.remoteSources(of: descriptor.digest).map { "\($0.registry)/\($0.repository)" }
    }

    public func blobSize(_ descriptor: Descriptor) async throws -> Int64? {
        FileSystem.status(store.blobPath(descriptor.digest)).map { Int64($0.st_size) }
    }

    /// The store fetches remote blobs itself when a build needs them; it takes no mounts.
    public func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool { false }

    public func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        let temporary = try store.makeTemporaryFile()
        do {
            try FileSystem.removeFile(temporary)
            try await ChunkFileWriter.write(chunks, to: temporary)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
        try store.ingest(temporaryFile: temporary, digest: descriptor.digest, verify: true)
    }

    /// The store keeps referrers by subject itself (`ImageStore.referrers(of:)`): nil.
    public func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws -> Digest? {
        let written = try store.writeBlob(bytes)
        guard written == descriptor.digest else {
            throw ContentError.digestMismatch(descriptor.digest, actual: written)
        }
        if let tag, let repository {
            try store.tag(try Reference(parsing: "\(repository.repository):\(tag)"), manifest: descriptor)
        }
        return nil
    }
}

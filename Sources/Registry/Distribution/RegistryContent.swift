import Foundation
import HTTPTransport
import ImageModel
import NIOCore

/// A registry repository as a content source and destination (go-containerregistry's
/// `remote.Image` and `remote.Write` in one). Reads verify what the registry sends (the
/// copier checks digest and size again); writes are one monolithic `PUT` per blob, streamed
/// (Artifact Registry refuses chunked uploads), the manifest with its own media type.
public struct RegistryContent: ContentSource, ContentDestination {
    public let client: RegistryClient
    public let repository: RegistryRepository

    public init(client: RegistryClient, repository: RegistryRepository) {
        self.client = client
        self.repository = repository
    }

    // MARK: ContentSource

    public func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        if MediaType.isManifest(descriptor.mediaType) || MediaType.isIndex(descriptor.mediaType) {
            return try await client.fetchManifest(descriptor.digest.description, in: repository).bytes
        }
        guard descriptor.size <= RegistryClient.maxManifestSize else {
            throw repository.error(.invalidResponse, "blob \(descriptor.digest): \(descriptor.size) bytes is too large to read whole")
        }
        var bytes: [UInt8] = []
        for try await chunk in try await open(descriptor) { bytes += chunk }
        return bytes
    }

    public func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        let (body, _) = try await client.openResumableBlob(descriptor.digest, in: repository, expectedSize: descriptor.size)
        return ContentChunks(unfolding: { try await body.next().map { Array($0.readableBytesView) } })
    }

    /// Its own repository: another repository of the same registry can mount from it.
    public func mountOrigins(of descriptor: Descriptor) async throws -> [String] {
        [repository.description]
    }

    // MARK: ContentDestination

    public func blobSize(_ descriptor: Descriptor) async throws -> Int64? {
        try await client.blobSize(descriptor.digest, in: repository)
    }

    /// A cross-repository mount (`POST …/uploads/?mount=&from=`) from a repository of this
    /// registry; false for another registry, the same repository, or a registry that answers
    /// with an upload session instead.
    public func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool {
        let parts = origin.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == repository.registry, parts[1] != repository.name else { return false }
        if case .mounted = try await client.startUpload(to: repository, mounting: descriptor.digest, from: parts[1]) {
            return true
        }
        return false
    }

    public func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        guard case .session(let session) = try await client.startUpload(to: repository) else {
            throw repository.error(.invalidResponse, "push blob \(descriptor.digest): the registry answered a plain upload as a mount")
        }
        let body = ByteBufferChunks(chunks)
        try await client.finishUpload(session, digest: descriptor.digest,
                                      body: .stream(length: descriptor.size, makeStream: { body.makeStream() }),
                                      to: repository)
    }

    public func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws {
        try await client.pushManifest(bytes: bytes, mediaType: descriptor.mediaType, digest: descriptor.digest,
                                      as: tag ?? descriptor.digest.description, to: repository)
    }
}

/// `ContentChunks` as the once-only `ByteBuffer` stream an upload body takes.
private struct ByteBufferChunks: Sendable {
    let chunks: ContentChunks

    init(_ chunks: ContentChunks) {
        self.chunks = chunks
    }

    func makeStream() -> AsyncThrowingStream<ByteBuffer, Error> {
        let iterator = Iterator(chunks.makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { try await iterator.next() })
    }

    /// Pulled by one consumer (the upload) at a time, so it needs no lock.
    private final class Iterator: @unchecked Sendable {
        var base: ContentChunks.AsyncIterator
        init(_ base: ContentChunks.AsyncIterator) { self.base = base }
        func next() async throws -> ByteBuffer? {
            try await base.next().map { ByteBuffer(bytes: $0) }
        }
    }
}

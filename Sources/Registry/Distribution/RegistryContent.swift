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
    /// Upload sessions a mount request opened instead of mounting (202), kept for the upload
    /// that follows so a registry that never mounts (Artifact Registry) costs no extra POST.
    private let mountSessions = Locked([Digest: UploadSession]())
    /// Blobs `put` here whose upload the registry answered naming the same digest: their size
    /// is known without asking (the pusher's check after each put costs no `HEAD` for them).
    private let confirmed = Locked([Digest: Int64]())

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
        if let size = confirmed.withLock({ $0[descriptor.digest] }) { return size }
        return try await client.blobSize(descriptor.digest, in: repository)
    }

    /// A cross-repository mount (`POST …/uploads/?mount=&from=`) from a repository of this
    /// registry; false for another registry, the same repository, a registry that answers with
    /// an upload session instead (kept for `put`), or one that refuses the mount (no pull right
    /// on `from`, say) — the blob is then uploaded.
    public func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool {
        let parts = origin.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[0] == repository.registry, parts[1] != repository.name else { return false }
        do {
            switch try await client.startUpload(to: repository, mounting: descriptor.digest, from: parts[1]) {
            case .mounted:
                return true
            case .session(let session):
                mountSessions.withLock { $0[descriptor.digest] = session }
                return false
            }
        } catch let error as RegistryError where error.kind != .transport {
            return false
        }
    }

    /// POST (unless a mount attempt left a session), then one monolithic PUT streaming the chunks.
    public func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws {
        let session: UploadSession
        if let left = mountSessions.withLock({ $0.removeValue(forKey: descriptor.digest) }) {
            session = left
        } else {
            guard case .session(let opened) = try await client.startUpload(to: repository) else {
                throw repository.error(.invalidResponse, "push blob \(descriptor.digest): the registry answered a plain upload as a mount")
            }
            session = opened
        }
        let body = ByteBufferChunks(chunks)
        do {
            if try await client.finishUpload(session, digest: descriptor.digest,
                                             body: .stream(length: descriptor.size, makeStream: { body.makeStream() }),
                                             to: repository) {
                // The length was sent as Content-Length and the registry hashed what it got.
                confirmed.withLock { $0[descriptor.digest] = descriptor.size }
            }
        } catch let error as RegistryError {
            // The body ended with the source's own failure (wrong bytes, an unreadable file):
            // that, not "cannot reach the registry", is what happened.
            if case .unreachable(_, let cause)? = error.cause(as: TransportError.self), cause is ContentError {
                throw cause
            }
            throw error
        }
    }

    /// The manifest with its own media type as Content-Type; returns the registry's
    /// `OCI-Subject` answer (it indexed the manifest's subject for the referrers API).
    public func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws -> Digest? {
        let headers = try await client.pushManifest(bytes: bytes, mediaType: descriptor.mediaType, digest: descriptor.digest,
                                                    as: tag ?? descriptor.digest.description, to: repository)
        return headers.first(name: "OCI-Subject").flatMap { try? Digest(parsing: $0) }
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

import AsyncHTTPClient
import FileDescriptorIO
import Foundation
import HTTPTransport
import ImageModel
import ImageStore
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Downloading blobs into the local store.
extension RegistryClient {
    /// Downloads a blob from `repository` into `store`: streamed to a temporary file under the
    /// store's `tmp/`, hashed while written, and ingested only when digest (and size, when
    /// known) match — never a half-stored blob. A blob already in the store is not fetched.
    /// A connection lost mid-body, or a body cut short, is resumed with a `Range` request (up to
    /// `options.transport.maxAttempts` times), the digest checked over the whole resumed stream.
    /// - Parameters:
    ///   - size: the descriptor's size, checked against what arrives; nil to trust Content-Length.
    ///   - onProgress: bytes received so far and the total (0 when unknown).
    public func fetchBlob(_ digest: Digest, size: Int64? = nil, from repository: RegistryRepository,
                          into store: ImageStore,
                          onProgress: (@Sendable (_ completed: Int64, _ total: Int64) -> Void)? = nil) async throws {
        if try store.claimBlob(digest) { return }
        try await mappingErrors(pulling: digest, from: repository) {
            try await fetchBlobOnce(digest, size: size, from: repository, into: store, onProgress: onProgress)
        }
    }

    /// A blob's bytes as chunks, verified as they stream — for reading a blob once without
    /// storing it (the header index of a base layer that stays remote). SHA-256 and length are
    /// checked on the way and the last chunk is held back until they match, so a consumer
    /// never sees the complete bytes of a wrong blob: the stream throws a `.digestMismatch`
    /// `RegistryError` instead of ending. Dropped connections resume as in `fetchBlob`.
    /// - Parameter size: the descriptor's size, checked against what arrives; nil to trust
    ///   Content-Length.
    public func blobChunks(_ digest: Digest, size: Int64? = nil, from repository: RegistryRepository) async throws -> ContentChunks {
        let stream = try await mappingErrors(pulling: digest, from: repository) { () -> VerifyingBlobStream in
            let (body, announced) = try await openResumableBlob(digest, in: repository, expectedSize: size)
            return VerifyingBlobStream(body, digest: digest, size: size ?? announced, origin: repository)
        }
        return ContentChunks(unfolding: {
            try await self.mappingErrors(pulling: digest, from: repository) { try await stream.next().map { Array($0.readableBytesView) } }
        })
    }

    /// `body`'s errors as one-line `RegistryError`s naming the repository (store errors as they are).
    private func mappingErrors<T>(pulling digest: Digest, from repository: RegistryRepository,
                                  _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RegistryError {
            throw error
        } catch let error as StoreError {
            throw error
        } catch let error as TransportError {
            throw Self.registryError(error, registry: repository.registry, repository: repository.name)
        } catch {
            throw repository.error(.transport, "pull blob \(digest): \(Self.describe(error))", underlying: error)
        }
    }

    private func fetchBlobOnce(_ digest: Digest, size: Int64?, from repository: RegistryRepository, into store: ImageStore,
                               onProgress: (@Sendable (Int64, Int64) -> Void)?) async throws {
        let (body, announced) = try await openResumableBlob(digest, in: repository, expectedSize: size)
        let expected = size ?? announced
        if let size, let announced, size != announced {
            throw repository.error(.digestMismatch, "pull blob \(digest): the registry announces \(announced) bytes, the manifest says \(size)")
        }
        let progress = onProgress.map { report in ByteProgress(total: expected ?? 0) { report($0, $1) } }
        let stream = VerifyingBlobStream(body, digest: digest, size: expected, origin: repository,
                                         onBytes: progress.map { p in { @Sendable in p.add($0) } })
        let temporary = try store.makeTemporaryFile()
        do {
            let fd = open(temporary, O_WRONLY | O_TRUNC | O_CLOEXEC)
            guard fd >= 0 else {
                throw StoreError.io(path: temporary, reason: "cannot open for writing: \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            while let chunk = try await stream.next() {
                try chunk.withUnsafeReadableBytes { buffer in
                    do throws(FileDescriptorIOError) {
                        try FileDescriptorIO.writeAll(fd, buffer)
                    } catch {
                        throw StoreError.io(path: temporary, reason: "cannot write: \(error.reason)")
                    }
                }
            }
        } catch {
            unlink(temporary)
            throw error
        }
        try store.ingest(temporaryFile: temporary, digest: digest)
    }

    /// Downloads several blobs, at most `jobs` at a time; each digest once.
    /// - Parameter onEvent: `downloading` progress and `downloaded` per blob.
    public func fetchBlobs(_ descriptors: [Descriptor], from repository: RegistryRepository, into store: ImageStore,
                           jobs: Int = 4, onEvent: TransferObserver? = nil) async throws {
        var seen = Set<Digest>()
        let unique = descriptors.filter { seen.insert($0.digest).inserted }
        try await forEachConcurrently(unique, limit: jobs) { descriptor in
            let isLayer = !(descriptor.mediaType.contains("config"))
            try await self.fetchBlob(descriptor.digest, size: descriptor.size, from: repository, into: store) { done, total in
                onEvent?(TransferEvent(digest: descriptor.digest, isLayer: isLayer,
                                       state: .downloading(completed: done, total: total)))
            }
            onEvent?(TransferEvent(digest: descriptor.digest, isLayer: isLayer, state: .downloaded))
        }
    }
}

/// A few blobs held in memory as a content source: an image's config and manifest as a build
/// has just made them, pushed from its bytes before (or while) the store writes them, so no
/// store write, fsync or read sits between the build and the registry.
public struct MemoryContent: ContentSource {
    public let blobs: [Digest: [UInt8]]
    /// Repositories each blob may be mounted from (none for a blob just made).
    public let origins: [Digest: [String]]

    public init(blobs: [Digest: [UInt8]], origins: [Digest: [String]] = [:]) {
        self.blobs = blobs
        self.origins = origins
    }

    public func read(_ descriptor: Descriptor) async throws -> [UInt8] {
        guard let bytes = blobs[descriptor.digest] else { throw ContentError.notFound(descriptor.digest) }
        return bytes
    }

    /// The bytes in parts of 1 MiB, as a file would be read.
    public func open(_ descriptor: Descriptor) async throws -> ContentChunks {
        let bytes = try await read(descriptor)
        return ContentChunks { continuation in
            for start in stride(from: 0, to: bytes.count, by: 1 << 20) {
                continuation.yield(Array(bytes[start..<min(start + (1 << 20), bytes.count)]))
            }
            continuation.finish()
        }
    }

    public func mountOrigins(of descriptor: Descriptor) async throws -> [String] { origins[descriptor.digest] ?? [] }
}

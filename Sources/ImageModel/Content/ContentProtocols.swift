/// A blob's bytes in order, as chunks: a layer is never whole in memory.
public typealias ContentChunks = AsyncThrowingStream<[UInt8], any Error>

/// Something an image's content can be read from: the local store, an OCI image-layout
/// directory, a registry repository. Addressed by descriptor, so a source may check what it
/// hands out; `ContentCopier` checks it again (digest and size) either way.
///
/// Shaped after go-containerregistry's `remote.Write(ref, img)` reading from a `v1.Image`
/// and apple/containerization's `ContentClient`: the copier, not the source or destination,
/// decides order, skipping and mounting.
public protocol ContentSource: Sendable {
    /// The whole bytes of a small blob: a manifest, an index, a config.
    func read(_ descriptor: Descriptor) async throws -> [UInt8]
    /// A blob's bytes as chunks, for copying.
    func open(_ descriptor: Descriptor) async throws -> ContentChunks
    /// Repositories (`registry/name`) the blob is known to live in, which a destination in
    /// the same registry can mount from without a copy; empty when there are none.
    func mountOrigins(of descriptor: Descriptor) async throws -> [String]
}

/// Somewhere an image's content can be put: the local store, an OCI image-layout directory,
/// a registry repository, an archive. A destination commits a blob only when its whole stream
/// arrived without error (the pusher ends the stream with an error when digest or size disagree).
public protocol ContentDestination: Sendable {
    /// The size of the blob the destination holds, or nil when it has none.
    func blobSize(_ descriptor: Descriptor) async throws -> Int64?
    /// Asks for the blob to be taken from `origin` (a `registry/name` of `mountOrigins`)
    /// without a copy; false when the destination cannot or will not.
    func mount(_ descriptor: Descriptor, from origin: String) async throws -> Bool
    /// Stores a blob from its chunks.
    func put(_ descriptor: Descriptor, chunks: ContentChunks) async throws
    /// Stores a manifest or index, named by `tag` when there is one (else by digest only).
    /// Returns the subject the destination says it indexed for its referrers list (a
    /// registry's `OCI-Subject` answer, distribution-spec v1.1), nil when it says nothing.
    @discardableResult
    func putManifest(_ bytes: [UInt8], as descriptor: Descriptor, tag: String?) async throws -> Digest?
}

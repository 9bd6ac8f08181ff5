/// Where a layer writer's finished (compressed) bytes go: a file today, an upload to a
/// registry for `build --push`, or both. The writer hashes and counts the bytes itself, so a
/// sink only moves them; the digest it reports is of exactly what the sink was given.
///
/// Why a protocol here and not `ContentDestination`: a destination is handed a descriptor
/// (digest and size) before the bytes, and a layer's digest is known only after its last
/// byte. It lives here, beside the content protocols, so Layers (which writes) and Registry (which
/// uploads) meet without importing each other: the file sinks are in Layers, the upload sink
/// in Registry.
///
/// Calls come from the writer's own thread, one at a time and in order: `write`… then
/// `close`, or `abandon` after a failure (also after a failed `close`). A sink may block in
/// `write` (an upload applying back-pressure); it must not hold on to `bytes` after returning.
public protocol BlobSink: AnyObject, Sendable {
    /// Takes the next bytes of the blob.
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// All bytes are written: make them durable (flush, close) or hand them on.
    func close() throws
    /// The write failed: drop what was written (remove the partial file, end the upload).
    func abandon()
    /// How errors name where the bytes went (a path, an upload).
    var name: String { get }
    /// True when the sink gathers small writes into parts of its own (an upload filling the
    /// request's buffers): the writer then hands it every write as it comes instead of
    /// copying it into a buffer first, so each byte is copied once on its way out.
    var buffersWrites: Bool { get }
}

extension BlobSink {
    /// A file or a plain sink wants few, large writes: the writer buffers for it.
    public var buffersWrites: Bool { false }
}

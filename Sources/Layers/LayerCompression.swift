import ImageModel

/// How a layer's tar stream is compressed.
public enum LayerCompression: Sendable, Hashable {
    /// Deterministic gzip (one member; header with mtime 0, no name, OS byte 255).
    ///
    /// Levels 1–3 use ISA-L's igzip engine (its levels 1–3: ratio of level 1 is close to
    /// `gzip -1`, level 3 close to `gzip -4`–`-6`, several times faster than zlib); level 0 stores
    /// (zlib level 0); levels 4–9 use zlib at that level. All levels compress on every core,
    /// pigz-style (fixed-size blocks with the previous 32 KiB as dictionary), so the output bytes
    /// depend only on the input and the level.
    case gzip(level: Int)
    /// Plain tar; the blob digest equals the diff ID.
    case none

    /// The default: gzip level 1 (ISA-L). Chosen from `Benchmarks/layer-writer.sh`: on 2 cores it
    /// runs several times faster than `pigz -1` with a similar ratio; levels 2–3 cost roughly
    /// 1.5–2× the time for a few percent smaller output (figures in the report / script).
    public static let defaultGzip = LayerCompression.gzip(level: 1)

    /// The OCI layer media type of blobs written with this compression.
    public var ociMediaType: String {
        switch self {
        case .gzip: return MediaType.ociLayerGzip
        case .none: return MediaType.ociLayer
        }
    }
}

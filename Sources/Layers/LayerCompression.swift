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

    /// The default: gzip level 2 (ISA-L), chosen with `Benchmarks/layer-writer.sh` on 2 cores
    /// (492 MB tar of 32 000 mixed files; other builds were sharing the cores):
    /// ISA-L level 1 ≈ 1.2 CPU-s/492 MB, 287.5 MB out; level 2 ≈ 1.25 CPU-s, 275.4 MB out;
    /// level 3 ≈ 2.2 CPU-s, 274.6 MB; zlib level 6 ≈ 9 s wall, 269.3 MB; `pigz -1` ≈ 7.1 CPU-s,
    /// 282.5 MB. Level 2 costs about the same as level 1, beats `pigz -1` on size, and the whole
    /// write runs at 200–370 MB/s against 70 MB/s for `tar | pigz -p2 -1 | sha256sum`.
    public static let defaultGzip = LayerCompression.gzip(level: 2)

    /// The OCI layer media type of blobs written with this compression.
    public var ociMediaType: String {
        switch self {
        case .gzip: return MediaType.ociLayerGzip
        case .none: return MediaType.ociLayer
        }
    }
}

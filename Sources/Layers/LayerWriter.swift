import BlockingWork
import Foundation
import ImageModel

/// The digests and sizes of a layer blob written by `LayerWriter`.
public struct WrittenLayer: Sendable, Hashable {
    /// SHA-256 of the uncompressed tar stream (the image config's `rootfs.diff_ids` entry).
    public var diffID: Digest
    /// SHA-256 of the bytes written to the file (the manifest's layer descriptor digest).
    public var digest: Digest
    /// Bytes written to the file.
    public var size: Int64
    /// Bytes of the uncompressed tar stream.
    public var uncompressedSize: Int64

    public init(diffID: Digest, digest: Digest, size: Int64, uncompressedSize: Int64) {
        self.diffID = diffID
        self.digest = digest
        self.size = size
        self.uncompressedSize = uncompressedSize
    }
}

/// Turns layer items into a (compressed) OCI layer blob in one streaming pass:
/// tar (libarchive) → diff ID hash → compressor → digest hash and count → sink (a file, an
/// upload, or both: see `BlobSink`).
///
/// Memory stays bounded (fixed-size buffers, ~9 MB per write on 2 cores, more with more cores)
/// whatever the layer size; each source file is read once. Compression runs on every core
/// (see `ParallelGzipSink`), while the calling write's own thread produces the tar stream and
/// hashes it. Independent `write` calls may run concurrently.
public struct LayerWriter: Sendable {
    public var compression: LayerCompression
    /// When set, entry mtimes later than this (seconds since the epoch) are clamped to it.
    public var sourceDateEpoch: Int64?
    /// Bytes of tar stream per parallel gzip block (tuning knob). Part of the output's identity:
    /// the same input gives the same bytes only with the same block size. 512 KiB measured
    /// fastest (vs 256 KiB and 1 MiB) with ratios within 0.2 %.
    public var gzipBlockSize: Int = 512 * 1024
    /// Whether file data is read straight into the compressor's input (`TarSink.writableRegion`);
    /// off only in tests, which compare the output with the copying path's byte for byte.
    var readsIntoCompressorInput = true

    /// - Parameters:
    ///   - compression: default gzip level 2 (ISA-L), chosen by `Benchmarks/layer-writer.sh`
    ///     (see `LayerCompression.defaultGzip`).
    ///   - sourceDateEpoch: clamp for entry mtimes (`SOURCE_DATE_EPOCH`).
    public init(compression: LayerCompression = .defaultGzip, sourceDateEpoch: Int64? = nil) {
        self.compression = compression
        self.sourceDateEpoch = sourceDateEpoch
    }

    /// Writes `items` in the given order (parents first; the caller sorts) as a tar layer to
    /// `temporaryFile` (created or truncated; removed again on failure) and returns the digests
    /// of the bytes actually written. The work runs on a dedicated thread. With `recording`,
    /// each source file is also hashed in the same read that copies it into the tar stream
    /// (see `SourceFileDigests`): a step whose cache key needs those digests reads its
    /// sources once.
    public func write(_ items: [LayerItem], to temporaryFile: String, recording: SourceFileDigests? = nil) async throws -> WrittenLayer {
        try await write(items, to: try FileBlobSink(path: temporaryFile), recording: recording)
    }

    /// Writes `items` as a layer blob into `sink` (a file, an upload, both) and returns the
    /// digests of the bytes the sink was given. On failure the sink is abandoned. The work
    /// runs on a dedicated thread, so a sink may block (back-pressure) without holding up
    /// Swift's cooperative pool.
    public func write(_ items: [LayerItem], to sink: any BlobSink, recording: SourceFileDigests? = nil) async throws -> WrittenLayer {
        try await write(LayerItemStream(items), to: sink, recording: recording)
    }

    /// `write(_:to:recording:)` for items still being planned: the tar stream starts with the
    /// first chunk and waits for the next (see `LayerItemStream`); when the stream fails, the
    /// write throws its error and the sink is abandoned.
    public func write(_ items: LayerItemStream, to sink: any BlobSink, recording: SourceFileDigests? = nil) async throws -> WrittenLayer {
        // Named, so a profile or `perf sched` tells the tar thread (the critical path of a cold
        // COPY) from the pool threads whose name it would otherwise keep.
        try await DedicatedThread.run(name: "swiftdock-layer", stackSize: 1 << 20) { try self.writeBlocking(items, to: sink, recording: recording) }
    }

    /// The synchronous form of `write(_:to:)`, running on the caller's thread.
    public func writeBlocking(_ items: [LayerItem], to temporaryFile: String) throws -> WrittenLayer {
        try writeBlocking(items, to: try FileBlobSink(path: temporaryFile))
    }

    /// The synchronous form of `write(_:to:)` for any sink, running on the caller's thread;
    /// with `recording`, source files are hashed as they are copied (see `SourceFileDigests`).
    public func writeBlocking(_ items: [LayerItem], to blobSink: any BlobSink, recording: SourceFileDigests? = nil) throws -> WrittenLayer {
        try writeBlocking(LayerItemStream(items), to: blobSink, recording: recording)
    }

    /// The synchronous form of `write(_:to:recording:)` for a stream of items.
    public func writeBlocking(_ items: LayerItemStream, to blobSink: any BlobSink, recording: SourceFileDigests? = nil) throws -> WrittenLayer {
        let compressing = compression != .none
        let output = BlobOutput(sink: blobSink, hashing: compressing)
        do {
            let sink: TarSink
            switch compression {
            case .none: sink = PlainSink(output: output)
            case .gzip(let level):
                sink = try ParallelGzipSink(output: output, level: level, blockSize: gzipBlockSize, offersInput: readsIntoCompressorInput)
            }
            let stream = LayerStream(sink: sink)
            let emitter = try TarEmitter(stream: stream, sourceDateEpoch: sourceDateEpoch, outputPath: blobSink.name)
            recording?.begin()
            emitter.recording = recording
            // Started only once reads miss the page cache (see `SourceReadAhead`).
            let readAhead = SourceReadAhead()
            emitter.readAhead = readAhead
            defer { readAhead.stop() }
            try items.forEachChunk { chunk in
                readAhead.add(chunk)
                for item in chunk { try emitter.emit(item) }
            }
            try emitter.finish()
            try sink.finish()
            try output.close()
            let diffID = stream.finalizeDiffID()
            return WrittenLayer(diffID: diffID, digest: compressing ? output.hash.finalize() : diffID,
                                size: output.count, uncompressedSize: stream.count)
        } catch {
            output.abandon()
            throw error
        }
    }
}

import Foundation
import ImageModel
import Layers

/// Where `build --push` sends the final stage's new layers while they are written; the CLI
/// implements it over the registry client (ImageBuilder does not import Registry).
public protocol LayerUploader: Sendable {
    /// Whether to try a streamed upload: false once the destination refused one, so later
    /// layers go to a file and up in one request without a failed attempt each.
    var streams: Bool { get }
    /// Uploads the bytes `write` puts into the sink it is given, as they come. With `file`,
    /// that sink also writes them to `file` (created or truncated), completely even when the
    /// upload fails, and the upload reads them back from there behind the writer, so the
    /// writer never waits on the network. With `awaitingRegistry`, returns once the registry
    /// holds them under the layer's digest;
    /// without, as soon as `write` has returned (every byte handed to the upload), leaving the
    /// registry's closing answer — the end of the stream, the `PUT ?digest=` — to finish
    /// beside the build's own tail, awaited by the push after the build, which uploads the
    /// layer again from the store if the stream failed there. A refused or broken upload
    /// noticed before returning throws `LayerUploadFailed`; errors of `write` itself come out
    /// as they are.
    func uploadStreamed(awaitingRegistry: Bool, file: String?,
                        _ write: @escaping @Sendable (any BlobSink) async throws -> WrittenLayer) async throws -> WrittenLayer
    /// Uploads a finished layer file in one request (the fallback).
    func upload(file: String, layer: WrittenLayer) async throws
    /// The final stage's base layers, once its FROM is resolved: the uploader starts bringing
    /// them to the destination (present, mounted, or copied registry to registry) beside the
    /// build, so the push after the build finds them settled instead of starting on them
    /// then. Returns at once; a failure there is left for that push to meet and report.
    func sendBaseLayers(_ layers: [Descriptor])
    /// The image is made — its config and manifest, once every new layer's digest is known,
    /// before the store writes them: the uploader sends the config at once (it needs only the
    /// diff IDs, so it goes up beside the layers' closing answers) and puts the manifest as
    /// soon as every blob it names is confirmed at the destination, beside the build's own
    /// commit (the layers' ingest into the store, the tag, the cache records, the file index).
    /// Returns at once. A blob not confirmed there (a stream that failed) leaves the manifest
    /// to the push after the build, which sends that blob first and reports any error.
    func sendImage(_ image: ImageDocuments)
}

extension LayerUploader {
    /// An uploader that leaves config and manifest to the push after the build.
    public func sendImage(_ image: ImageDocuments) {}
}

/// An image's config and manifest as the build made them: the bytes the store then keeps
/// and the registry gets, with their descriptors.
public struct ImageDocuments: Sendable {
    public var config: Descriptor
    public var configBytes: [UInt8]
    public var manifest: Descriptor
    public var manifestBytes: [UInt8]

    /// `config` and `manifest` as canonical JSON, described with their media types.
    public init(config: ImageConfiguration, configMediaType: String, manifest: (Descriptor) -> ImageManifest,
                manifestMediaType: String) throws {
        configBytes = Array(try CanonicalJSON.encode(config))
        self.config = Descriptor(mediaType: configMediaType, digest: SHA256Stream.digest(of: configBytes), size: Int64(configBytes.count))
        manifestBytes = Array(try CanonicalJSON.encode(manifest(self.config)))
        self.manifest = Descriptor(mediaType: manifestMediaType, digest: SHA256Stream.digest(of: manifestBytes),
                                   size: Int64(manifestBytes.count))
    }
}

/// A streamed layer upload failed for a reason of the upload's own (refused, connection
/// lost): the layer is then uploaded from a file.
public struct LayerUploadFailed: Error, CustomStringConvertible {
    public var underlying: any Error
    public init(underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }
}

/// `build --push` (`BuildOptions.layerPush`): the final stage's new layers are compressed
/// once and uploaded while they are produced; the manifest goes up after the build.
public struct LayerPush: Sendable {
    public var uploader: any LayerUploader
    /// Keep every layer in the store too (`build --push -t REF`); false for
    /// `--output type=registry`, where a layer is written to disk only when a later step of
    /// the stage may read it back (see `StageExecutor.stageReadsItsLayers`).
    public var keepInStore: Bool

    public init(uploader: any LayerUploader, keepInStore: Bool) {
        self.uploader = uploader
        self.keepInStore = keepInStore
    }

    /// Writes `items` with `writer` and uploads the layer: streamed (and, with `keepFile`,
    /// written to `file` at the same time, the upload reading it back), else — when the registry refuses the stream or
    /// has refused one before — into `file` first and up in one request. Without `keepFile`
    /// the file of a fallback is removed once uploaded, so nothing of the layer stays on disk.
    /// `recording`: the sources' digests from the same read (a folded COPY, see `FoldedContent`);
    /// a write that is done again after a refused stream records them afresh.
    ///
    /// With `keepInStore` the layer is done here once its file is complete: the stream's
    /// end and the registry's answer go on beside the build's own tail (the store ingest, the
    /// cache records, the file-digest index), which would otherwise wait for them — the layer
    /// is in the store, so the push after the build can still send it if the stream fails
    /// (see `LayerUploader.uploadStreamed`). Without a store copy the build waits for the
    /// registry, as only this write can still fall back.
    /// `items` may still be being planned (a streamed COPY, see `LayerItemStream`).
    func write(_ items: LayerItemStream, with writer: LayerWriter, file: String, keepFile: Bool,
               recording: SourceFileDigests? = nil) async throws -> WrittenLayer {
        if uploader.streams {
            let teed = Locked<WrittenLayer?>(nil)
            do {
                return try await uploader.uploadStreamed(awaitingRegistry: !(keepInStore && keepFile),
                                                         file: keepFile ? file : nil) { sink in
                    let written = try await writer.write(items, to: sink, recording: recording)
                    if keepFile { teed.withLock { $0 = written } }
                    return written
                }
            } catch is LayerUploadFailed {
                if let teed = teed.withLock({ $0 }) {
                    try await uploader.upload(file: file, layer: teed)
                    return teed
                }
            }
        }
        let written = try await writer.write(items, to: try FileBlobSink(path: file), recording: recording)
        try await uploader.upload(file: file, layer: written)
        if !keepFile { unlink(file) }
        return written
    }
}

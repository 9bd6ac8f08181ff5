import Foundation
import ImageModel
import NIOCore

/// What `RegistryClient.uploadStreamed` hands the producer (a `BlobSink`) and sends as the
/// streamed request's body: bytes held in memory (`StreamedBlobUpload`) or read back from the
/// file the producer also writes (`FileFollowingUpload`).
protocol StreamedUploadSource: BlobSink {
    /// The request body: the blob's bytes as they come, ending when the producer closes.
    func makeStream() -> AsyncThrowingStream<ByteBuffer, any Error>
    /// The request ended with `error`: the body stops, and a producer waiting on it wakes.
    func fail(_ error: any Error)
    /// The upload's error when the producer's writes saw it (so a producer's failure was the
    /// upload's); nil when they did not.
    var failed: (any Error)? { get }
}

/// The sink a blob being produced is uploaded through when no file of it is kept (see
/// `RegistryClient.uploadStreamed`): each write is copied into a buffer and handed to the
/// request body, blocking the producer while four 1 MiB chunks wait unsent, so memory stays
/// bounded whatever the blob's size.
final class StreamedBlobUpload: StreamedUploadSource, @unchecked Sendable {
    // @unchecked: `channel` is thread-safe; `name` is immutable.
    let channel = BlockingByteChannel(capacity: 4)
    let name: String

    init(name: String) { self.name = name }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        try channel.send(ByteBuffer(bytes: bytes))
    }

    func close() throws { channel.finish() }

    func abandon() { channel.fail(CancellationError()) }

    func makeStream() -> AsyncThrowingStream<ByteBuffer, any Error> { channel.makeStream() }

    func fail(_ error: any Error) { channel.fail(error) }

    var failed: (any Error)? { channel.failed }
}

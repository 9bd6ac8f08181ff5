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
/// `RegistryClient.uploadStreamed`): writes are gathered straight into 1 MiB request buffers
/// (`buffersWrites`: the layer writer does not buffer them first, so each byte is copied once
/// in user space), and each full buffer is handed to the request body, blocking the producer
/// while four wait unsent, so memory stays bounded whatever the blob's size.
final class StreamedBlobUpload: StreamedUploadSource, @unchecked Sendable {
    // @unchecked: `channel` is thread-safe; `pending` is used by the producer's thread only
    // (the `BlobSink` contract); `name` is immutable.
    let channel = BlockingByteChannel(capacity: 4)
    let name: String
    static let partSize = 1 << 20
    /// Mutated in place (never copied while filled, so no copy-on-write), sent when full.
    private var pending = ByteBufferAllocator().buffer(capacity: partSize)

    init(name: String) { self.name = name }

    var buffersWrites: Bool { true }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, Self.partSize - pending.readableBytes)
            pending.writeBytes(UnsafeRawBufferPointer(rebasing: rest[..<n]))
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if pending.readableBytes == Self.partSize { try sendPending() }
        }
    }

    func close() throws {
        if pending.readableBytes > 0 { try sendPending() }
        channel.finish()
    }

    func abandon() {
        pending.clear()
        channel.fail(CancellationError())
    }

    func makeStream() -> AsyncThrowingStream<ByteBuffer, any Error> { channel.makeStream() }

    func fail(_ error: any Error) { channel.fail(error) }

    var failed: (any Error)? { channel.failed }

    private func sendPending() throws {
        let part = pending
        pending = ByteBufferAllocator().buffer(capacity: Self.partSize)
        try channel.send(part)
    }
}

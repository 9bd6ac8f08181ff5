import Foundation
import ImageModel
import NIOCore

/// The sink a blob being produced is uploaded through (see `RegistryClient.uploadStreamed`):
/// each write is copied into a buffer and handed to the request body, blocking the producer
/// while four 1 MiB chunks wait unsent, so memory stays bounded whatever the blob's size.
final class StreamedBlobUpload: BlobSink, @unchecked Sendable {
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
}

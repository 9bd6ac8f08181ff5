import FileDescriptorIO
import Foundation
import ImageModel

/// The blob as a file: created (or truncated) at `path`; removed again on `abandon`. The
/// store then renames it to its digest (temp then rename), as before sinks existed.
public final class FileBlobSink: BlobSink, @unchecked Sendable {
    // @unchecked: the descriptor is used by one thread at a time (the protocol's contract:
    // the writer hands the sink to its thread once and calls it only from there).
    public let path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LayerError.writeFailed(path: path, reason: LayerError.errnoText()) }
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    public var name: String { path }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        do throws(FileDescriptorIOError) {
            try FileDescriptorIO.writeAll(fd, bytes)
        } catch {
            throw LayerError.writeFailed(path: path, reason: error.reason)
        }
    }

    public func close() throws {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw LayerError.writeFailed(path: path, reason: LayerError.errnoText()) }
    }

    public func abandon() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        unlink(path)
    }
}

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
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, base + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw LayerError.writeFailed(path: path, reason: LayerError.errnoText())
            }
            done += n
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

/// The same bytes to a file and to a second sink (an upload) at once. The file is the copy
/// that must be complete: when the second sink fails, it is abandoned and remembered in
/// `secondaryError`, and the file goes on — so the caller can still upload from the file.
public final class TeeBlobSink: BlobSink, @unchecked Sendable {
    // @unchecked: used from the writer's thread only (see `BlobSink`).
    public let primary: any BlobSink
    public let secondary: any BlobSink
    /// Why the second sink was dropped, if it was.
    public private(set) var secondaryError: (any Error)?

    public init(primary: any BlobSink, secondary: any BlobSink) {
        self.primary = primary
        self.secondary = secondary
    }

    public var name: String { primary.name }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        try primary.write(bytes)
        guard secondaryError == nil else { return }
        do { try secondary.write(bytes) } catch { dropSecondary(error) }
    }

    public func close() throws {
        try primary.close()
        guard secondaryError == nil else { return }
        do { try secondary.close() } catch { dropSecondary(error) }
    }

    public func abandon() {
        primary.abandon()
        if secondaryError == nil { secondary.abandon() }
    }

    private func dropSecondary(_ error: any Error) {
        secondaryError = error
        secondary.abandon()
    }
}

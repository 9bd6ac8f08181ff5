import FileDescriptorIO
import Foundation
import HTTPTransport
import ImageModel
import NIOCore

/// The sink of a streamed upload whose blob is also kept as a file (`build --push -t`): the
/// writer writes the file at its own pace, and the upload reads the file back behind it.
///
/// Why not a memory channel (`StreamedBlobUpload`) beside the file: a channel of a few MiB
/// makes the compressor wait whenever the registry falls behind, so on a busy machine a core
/// idles while the registry (a single request, on one core) catches up, and the registry idles
/// again during the build's own tail. Reading the file back lets the upload lag by as much as
/// it needs — the lag is in the page cache the file is written to anyway, not in our memory —
/// so compression never waits on the network and the upload's backlog drains beside the
/// build's tail. It also moves each byte once in user space (the `pread` into the buffer the
/// request sends) instead of twice (the writer's buffer, then a channel chunk).
///
/// The writer is never slowed or failed by the upload: when the request fails, `fail` ends
/// the reading side only, and the file is completed as if there were no upload (the caller
/// then uploads it in one request). `abandon` (the writer failed) removes the file and ends
/// the upload with an error, so a partial blob is never finished.
final class FileFollowingUpload: StreamedUploadSource, @unchecked Sendable {
    // @unchecked: `written`, `ended`, `failure`, `waiter` and `abandoned` are used under
    // `lock`; `offset` only by the one reader (the request body); the rest is immutable.
    let file: any BlobSink
    let path: String
    /// The request body's parts: as soon as `minimumPart` bytes are ready beyond what was
    /// sent (or the file ended), up to `maximumPart` at once — big parts when the upload lags
    /// (fewer reads and event-loop hops), prompt small ones when it keeps up.
    let minimumPart: Int
    let maximumPart: Int
    private let readFD: Int32
    private let lock = NSLock()
    private var written: Int64 = 0
    private var ended = false
    private var abandoned = false
    private var failure: (any Error)?
    private var waiter: (continuation: CheckedContinuation<Void, any Error>, until: Int64)?
    private var offset: Int64 = 0

    /// `file` writes the blob to `path` (created by it, before this is made); the upload
    /// opens `path` for reading now, so it keeps reading the same file after a rename.
    init(file: any BlobSink, path: String, minimumPart: Int = 256 << 10, maximumPart: Int = 4 << 20) throws {
        self.file = file
        self.path = path
        self.minimumPart = max(1, minimumPart)
        self.maximumPart = max(self.minimumPart, maximumPart)
        readFD = open(path, O_RDONLY | O_CLOEXEC)
        guard readFD >= 0 else {
            throw TransportError.unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
    }

    deinit { Glibc.close(readFD) }

    var name: String { file.name }

    // MARK: BlobSink (the writer's thread)

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes)
        publish { written += Int64(bytes.count) }
    }

    func close() throws {
        try file.close()
        publish { ended = true }
    }

    func abandon() {
        let first = lock.withLock {
            defer { abandoned = true }
            return !abandoned
        }
        guard first else { return }
        file.abandon()
        fail(CancellationError())
    }

    // MARK: StreamedUploadSource (the request's side)

    /// The writer never sees the upload's errors (see the type's doc).
    var failed: (any Error)? { nil }

    func fail(_ error: any Error) {
        let waiting: CheckedContinuation<Void, any Error>? = lock.withLock {
            if failure == nil { failure = error }
            defer { waiter = nil }
            return waiter?.continuation
        }
        waiting?.resume(throwing: error)
    }

    func makeStream() -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { try await self.next() })
    }

    /// The next part of the file, nil once the writer closed it and all of it was read.
    func next() async throws -> ByteBuffer? {
        let (available, done) = try await waitFor(offset + Int64(minimumPart))
        guard available > offset else {
            if done { return nil }
            throw TransportError.unreadableFile(path: path, reason: "the upload's reader woke with nothing to read")
        }
        let count = Int(min(available - offset, Int64(maximumPart)))
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            let done: Int
            do throws(FileDescriptorIOError) {
                done = try FileDescriptorIO.preadFully(readFD, into: UnsafeMutableRawBufferPointer(rebasing: target[..<count]), at: offset)
            } catch {
                throw TransportError.unreadableFile(path: path, reason: error.reason)
            }
            guard done == count else {
                throw TransportError.unreadableFile(path: path, reason: "the file is shorter than was written to it")
            }
            return done
        }
        offset += Int64(count)
        return buffer
    }

    /// Waits until the file holds `target` bytes or has ended; returns how much it holds and
    /// whether it ended. Throws once the upload failed or the writer abandoned the file.
    private func waitFor(_ target: Int64) async throws -> (Int64, Bool) {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            lock.lock()
            if let failure {
                lock.unlock()
                continuation.resume(throwing: failure)
            } else if written >= target || ended {
                lock.unlock()
                continuation.resume()
            } else {
                waiter = (continuation, target)
                lock.unlock()
            }
        }
        return lock.withLock { (written, ended) }
    }

    /// Applies the writer's change, and wakes the reader when it now has what it waits for.
    private func publish(_ change: () -> Void) {
        let woken: CheckedContinuation<Void, any Error>? = lock.withLock {
            change()
            guard let waiting = waiter, written >= waiting.until || ended else { return nil }
            waiter = nil
            return waiting.continuation
        }
        woken?.resume()
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The loops every caller of `read(2)` and `write(2)` needs: all of a buffer written, a read
/// retried when a signal interrupts it, a buffer filled until the file ends. Only `EINTR` is
/// retried; every other failure is thrown as a `FileDescriptorIOError` carrying its `errno`.
///
/// Why not swift-system's `FileDescriptor` (a dependency of swift-nio, so already built here):
/// its `writeAll` and `read(into:)` do retry `EINTR` at the cost of a thin wrapper, but it has no
/// read-until-full, no pread-until-full and no `send`, which the callers need, and its untyped
/// `Errno` does not say which call failed; taking it would put a package product under the
/// leaf modules (`ImageModel`, `Sandbox`) for the two loops it does have. These are the same
/// system calls with no wrapper types, no allocation, and one non-inlined call per loop — on
/// the hot paths (the tar writer's 1 MiB reads, the blob sink's writes) that is one call per
/// megabyte.
public enum FileDescriptorIO {
    /// Writes every byte of `bytes` to `fd`, however many `write(2)`s that takes (a pipe or a
    /// socket takes what it has room for).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(FileDescriptorIOError) {
        try moveAll(bytes, .write) { Glibc.write(fd, $0, $1) }
    }

    /// Writes every byte of `bytes` to the socket `fd` with `send(2)` and `flags` (`MSG_NOSIGNAL`:
    /// a closed peer is the error `EPIPE`, not a `SIGPIPE` that ends the process).
    public static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, flags: Int32) throws(FileDescriptorIOError) {
        try moveAll(bytes, .send) { Glibc.send(fd, $0, $1, flags) }
    }

    /// One `read(2)` of at most `buffer.count` bytes, retried while a signal interrupts it;
    /// returns how many bytes it read, 0 at the end of the file (or for an empty buffer).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(FileDescriptorIOError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n >= 0 { return n }
            let code = errno
            if code != EINTR { throw FileDescriptorIOError(.read, code: code) }
        }
    }

    /// Reads until `buffer` is full or the file ends; returns how many bytes it read (fewer
    /// than `buffer.count` only at the end of the file). A failure after some bytes says how
    /// many in `transferred`.
    public static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(FileDescriptorIOError) -> Int {
        try fill(buffer, .read) { target, count, _ in Glibc.read(fd, target, count) }
    }

    /// Reads `buffer.count` bytes from `offset` on with `pread(2)` (the descriptor's own offset
    /// untouched), until the buffer is full or the file ends; returns how many bytes it read.
    public static func preadFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(FileDescriptorIOError) -> Int {
        try fill(buffer, .pread) { Glibc.pread(fd, $0, $1, off_t(offset) + off_t($2)) }
    }

    /// The write loop over any call that moves bytes out; a call that moves none is `EIO`
    /// (it would otherwise spin forever).
    static func moveAll(_ bytes: UnsafeRawBufferPointer, _ operation: FileDescriptorIOError.Operation,
                        _ call: (UnsafeRawPointer, Int) -> Int) throws(FileDescriptorIOError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = call(base + done, bytes.count - done)
            if n > 0 { done += n; continue }
            if n == 0 { throw FileDescriptorIOError(operation, code: EIO, transferred: done) }
            let code = errno
            if code != EINTR { throw FileDescriptorIOError(operation, code: code, transferred: done) }
        }
    }

    /// The read loop: `call(target, count, done)` until the buffer is full or it returns 0.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, _ operation: FileDescriptorIOError.Operation,
                     _ call: (UnsafeMutableRawPointer, Int, Int) -> Int) throws(FileDescriptorIOError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = call(base + done, buffer.count - done, done)
            if n > 0 { done += n; continue }
            if n == 0 { break }
            let code = errno
            if code != EINTR { throw FileDescriptorIOError(operation, code: code, transferred: done) }
        }
        return done
    }
}

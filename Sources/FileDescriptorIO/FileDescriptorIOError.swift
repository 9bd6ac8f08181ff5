#if canImport(Glibc)
import Glibc
#endif

/// A system call on a file descriptor that failed, with the `errno` it set. It names no path:
/// the descriptor does not know one, so each caller turns it into its own module's error with
/// the path it has (and the wording its users and tests already see).
public struct FileDescriptorIOError: Error, Equatable, Sendable {
    /// The call that failed.
    public enum Operation: String, Sendable {
        case write, send, read, pread
    }

    public let operation: Operation
    /// The `errno` the call set (`EIO` for a write that moved no byte, which the kernel does
    /// not do for a non-empty write to a file, pipe or socket).
    public let code: Int32
    /// How many bytes the loop had moved before the failure: what a caller that keeps a
    /// partial result (a read-fully cut short) still has in its buffer.
    public let transferred: Int

    public init(_ operation: Operation, code: Int32, transferred: Int = 0) {
        self.operation = operation
        self.code = code
        self.transferred = transferred
    }

    /// `strerror` of `code`: the text every caller puts in its message.
    public var reason: String { String(cString: strerror(code)) }
}

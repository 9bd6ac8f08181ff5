import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory `flock(2)` lock on a file. Each acquisition opens its own file description,
/// so two `ImageStore` instances — in one process or in two — exclude each other.
struct FileLock {
    let path: String

    /// Runs `body` while holding the lock, exclusively or shared.
    func withLock<T>(exclusive: Bool = true, _ body: () throws -> T) throws -> T {
        let fd = try FileSystem.open(path, O_RDWR | O_CREAT, mode: 0o644)
        defer { close(fd) }  // closing the description releases the lock
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            if errno != EINTR { throw FileSystem.ioError(path, "cannot lock") }
        }
        return try body()
    }
}

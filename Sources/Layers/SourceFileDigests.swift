import Foundation
import ImageModel

/// What the layer writer saw of the source files it copied into a layer, when asked to hash
/// them on the way (`LayerWriter.write(_:to:recording:)`): per regular-file item, in the order
/// written, the SHA-256 of exactly the bytes that went into the tar stream and the file's
/// status before they were read.
///
/// A build step whose cache lookup is certain to miss needs its sources' digests only for the
/// key it records afterwards; taking them from the layer write reads each source file once
/// instead of twice (issue 13's cold build: hashing the context up front, then reading it all
/// again for the tarball).
public final class SourceFileDigests: @unchecked Sendable {
    // @unchecked: `reads` is appended to by the one writing thread and read under `lock`
    // once the write has ended.

    /// One source file as read.
    ///
    /// Only the status before the read is kept, as git's index keeps the stat it took before
    /// hashing: `startedAt` was read from the kernel's coarse clock before this `fstat`, so a
    /// write during or after the read gives the file a ctime at or after `startedAt`, which
    /// differs from a `before.ctime` the index trusts (one a clock tick older, see
    /// `FileDigestIndex.isSettled`); an entry made from a read the file changed under can
    /// then never match the file again. A second `fstat` after the read proved nothing more.
    public struct Read: Sendable, Hashable {
        /// The source path as the item named it.
        public var path: String
        /// SHA-256 of the bytes written to the layer.
        public var digest: Digest
        /// `fstat` of the open file before its first byte was read.
        public var before: FileStatus

        public init(path: String, digest: Digest, before: FileStatus) {
            self.path = path
            self.digest = digest
            self.before = before
        }
    }

    /// The stat fields a digest index compares (git's index keeps the same ones); also the
    /// file index's own stamp (`FileDigestIndex.Stamp`), so both sides compute it one way.
    public struct FileStatus: Sendable, Hashable {
        public var size: Int64
        /// Nanoseconds since the epoch.
        public var mtime: Int64
        public var ctime: Int64
        public var inode: UInt64
        public var device: UInt64

        public init(size: Int64, mtime: Int64, ctime: Int64, inode: UInt64, device: UInt64) {
            self.size = size
            self.mtime = mtime
            self.ctime = ctime
            self.inode = inode
            self.device = device
        }

        /// Wrapping arithmetic: a context file may carry any time (`touch -d 2400-01-01` is past
        /// what Int64 nanoseconds hold); the stamp only has to be the same for the same stat,
        /// as the context walk's (`ContextEntry.ctimeNanosecondsSinceEpoch`) is.
        public init(_ st: stat) {
            self.init(size: Int64(st.st_size),
                      mtime: Int64(st.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_mtim.tv_nsec),
                      ctime: Int64(st.st_ctim.tv_sec) &* 1_000_000_000 &+ Int64(st.st_ctim.tv_nsec),
                      inode: UInt64(st.st_ino), device: UInt64(st.st_dev))
        }
    }

    private let lock = NSLock()
    private var recorded: [Read] = []
    /// When the write began (ns since the epoch): no file was read earlier, so an index that
    /// judges an entry "racy" by the time it was hashed may take this for every file.
    public private(set) var startedAt: Int64 = 0

    public init() {}

    /// The files read, in the order written (one per regular-file item taken from a file).
    public var reads: [Read] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func begin() {
        var ts = timespec()
        // The coarse clock the kernel stamps file times with: FileDigestIndex trusts an entry
        // only when its ctime lies a granule before this moment (see `isSettled`).
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        lock.lock()
        recorded.removeAll()
        startedAt = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        lock.unlock()
    }

    func append(_ read: Read) {
        lock.lock()
        recorded.append(read)
        lock.unlock()
    }
}

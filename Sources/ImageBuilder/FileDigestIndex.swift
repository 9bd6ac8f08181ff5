import Foundation
import ImageModel
import Layers
import PathEncoding

/// A per-context index of file digests, like git's index: path → (size, mtime and ctime with
/// nanoseconds, inode, device) → SHA-256, so a rebuild reads only the files whose stat changed
/// (a touched file is read again and, with the same bytes, still hits the step cache).
///
/// Racy entries are never trusted: an entry only counts when the file's mtime and ctime were at
/// least `racyWindow` older than the moment it was hashed, because a write within the same
/// timestamp tick could change the bytes without changing the stat (git's "racily clean" case).
final class FileDigestIndex {
    struct Entry: Equatable {
        var size: Int64
        var mtime: Int64
        var ctime: Int64
        var inode: UInt64
        var device: UInt64
        /// When the file was hashed (ns since the epoch).
        var hashedAt: Int64
        var digest: Digest
    }

    static let racyWindow: Int64 = 2_000_000_000

    /// Only files under this directory are indexed (not temp copies of other stages).
    let root: String
    private var entries: [String: Entry]
    /// Entries looked up or made by this build: what `encoded()` keeps.
    private(set) var used: [String: Entry] = [:]
    /// How many files were actually read (for tests).
    private(set) var hashedFiles = 0

    init(root: String, encoded: [UInt8]?) {
        self.root = root
        entries = encoded.flatMap(Self.decode) ?? [:]
    }

    /// The SHA-256 of the file at `path`, from the index when its stat is unchanged.
    func digest(ofFile path: String) throws -> Digest {
        guard path.hasPrefix(root + "/") else { return try SHA256Stream.digest(ofFile: path) }
        let before = try Self.status(path)
        if let entry = entries[path], Self.matches(entry, before), Self.isSettled(entry) {
            used[path] = entry
            return entry.digest
        }
        let hashedAt = Self.now()
        let digest = try SHA256Stream.digest(ofFile: path)
        hashedFiles += 1
        var entry = before
        entry.hashedAt = hashedAt
        entry.digest = digest
        // Changed while being read: use the bytes read, remember nothing.
        if let after = try? Self.status(path), Self.matches(entry, after) {
            entries[path] = entry
            used[path] = entry
        }
        return digest
    }

    /// Takes digests the layer writer made while copying files into a layer (a COPY that
    /// skipped hashing up front, see `FoldedContent`) as if `digest(ofFile:)` had made them:
    /// a file that changed while it was read is not kept. `hashedAt`: when the reading began.
    func record(_ reads: [SourceFileDigests.Read], hashedAt: Int64) {
        for read in reads where read.path.hasPrefix(root + "/") && read.before == read.after {
            let status = read.before
            let entry = Entry(size: status.size, mtime: status.mtime, ctime: status.ctime, inode: status.inode,
                              device: status.device, hashedAt: hashedAt, digest: read.digest)
            entries[read.path] = entry
            used[read.path] = entry
            hashedFiles += 1
        }
    }

    /// Whether `encoded()` differs from the stored index this one was read from (a rebuild
    /// that read no file and used every entry has nothing to write).
    var changed: Bool { hashedFiles > 0 || used.count != entries.count }

    /// The index to store for the next build: the entries this build used.
    func encoded() -> [UInt8] {
        Self.encode(used)
    }

    private static func matches(_ a: Entry, _ b: Entry) -> Bool {
        a.size == b.size && a.mtime == b.mtime && a.ctime == b.ctime && a.inode == b.inode && a.device == b.device
    }

    private static func isSettled(_ entry: Entry) -> Bool {
        entry.mtime <= entry.hashedAt - racyWindow && entry.ctime <= entry.hashedAt - racyWindow
    }

    private static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    private static func status(_ path: String) throws -> Entry {
        var st = stat()
        guard PathBytes.withCString(path, { stat($0, &st) }) == 0 else {
            throw BuildError("\(PathBytes.display(path)): \(String(cString: strerror(errno)))")
        }
        return Entry(size: Int64(st.st_size),
                     mtime: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                     ctime: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec),
                     inode: UInt64(st.st_ino), device: UInt64(st.st_dev), hashedAt: 0,
                     digest: SHA256Stream.digest(of: []))
    }
}

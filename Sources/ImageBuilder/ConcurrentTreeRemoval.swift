import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Removes directory trees with several threads, the deepest directories first (issue 13's
/// cold tail). On ext4 mounted with `discard`, each `rmdir` waits for the device to discard
/// the directory's block: removing the RUN lower directory materialised from issue 13's tree
/// (642 directories) one at a time took 1.6–2.1 s on the shared 2-core machine, with four
/// threads 0.13–0.18 s (measured with the same tree, 2026-12-07). The waits are the disk's,
/// not the CPU's, so more threads than cores pay off.
///
/// Files are unlinked while the tree is listed (one thread: that part is CPU); then each depth,
/// deepest first, is removed by `threads` threads, so every directory is empty by its turn.
/// Best effort, as `FileManager.removeItem` was here: what cannot be removed (no permission, a
/// path past PATH_MAX) is left for the caller's own removal of the surrounding temp directory.
enum ConcurrentTreeRemoval {
    static func remove(_ roots: [String], threads: Int = 4) {
        var levels: [[String]] = []
        for root in roots { list(in: AT_FDCWD, root, path: root, depth: 0, into: &levels) }
        for level in levels.reversed() { removeDirectories(level, threads: threads) }
    }

    /// Unlinks everything under the directory `name` (in the open directory `parent`) that is
    /// not a directory, and files the directories (itself included) by depth as `path`.
    /// Walked by descriptor, each directory opened `O_NOFOLLOW` in its open parent: a
    /// directory swapped for a symlink while the tree is walked is never followed, so nothing
    /// outside the tree is unlinked (and no path is joined per file).
    private static func list(in parent: Int32, _ name: String, path: String, depth: Int, into levels: inout [[String]]) {
        while levels.count <= depth { levels.append([]) }
        levels[depth].append(path)
        let fd = PathBytes.withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard fd >= 0 else { return }
        guard let stream = fdopendir(fd) else { close(fd); return }
        defer { closedir(stream) }
        let directory = dirfd(stream)
        while let entry = readdir(stream) {
            let isDirectory: Bool? = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { entryName in
                    if strcmp(entryName, ".") == 0 || strcmp(entryName, "..") == 0 { return nil }
                    var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
                    if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                        var st = stat()
                        isDirectory = fstatat(directory, entryName, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
                    }
                    if !isDirectory { _ = unlinkat(directory, entryName, 0) }
                    return isDirectory
                }
            }
            guard isDirectory == true else { continue }
            let child = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { PathBytes.string(cString: $0) }
            }
            list(in: directory, child, path: path + "/" + child, depth: depth + 1, into: &levels)
        }
    }

    /// `rmdir` of every directory in `directories`, shared among `threads` threads.
    private static func removeDirectories(_ directories: [String], threads: Int) {
        let next = NextIndex()
        let helpers = min(threads, directories.count) - 1
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<max(helpers, 0) {
            let thread = Thread {
                drain(directories, next)
                done.signal()
            }
            thread.stackSize = 1 << 18
            thread.start()
        }
        drain(directories, next)
        for _ in 0..<max(helpers, 0) { done.wait() }
    }

    private static func drain(_ directories: [String], _ next: NextIndex) {
        while let at = next.take(below: directories.count) {
            _ = PathBytes.withCString(directories[at]) { rmdir($0) }
        }
    }

    /// The next directory to remove, handed out once each.
    private final class NextIndex: @unchecked Sendable {
        // @unchecked: `value` is read and written under `lock`.
        private let lock = NSLock()
        private var value = 0

        func take(below count: Int) -> Int? {
            lock.withLock {
                guard value < count else { return nil }
                defer { value += 1 }
                return value
            }
        }
    }
}

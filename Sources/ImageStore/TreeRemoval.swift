import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Removing a directory tree by descriptors, not paths.
///
/// A tree left in `tmp/` by a killed RUN step can be deeper than PATH_MAX (a Dockerfile can
/// make one on purpose), so no path to its bottom exists; and it may hold directories without
/// read or write permission. The walk keeps one open directory at a time: it descends with
/// `openat(O_NOFOLLOW)`, removes entries with `unlinkat`, and climbs back with `openat("..")`,
/// checking each climb against the device and inode it recorded on the way down, so a tree
/// moved under it cannot lead it outside. Depth costs memory for the recorded (device, inode)
/// pairs only, never file descriptors (a recursive walk would run out of them near 1024 levels).
extension FileSystem {
    /// Removes `name` inside the directory open as `parent` — a file, a symlink (not followed)
    /// or a whole tree. A missing entry is not an error.
    static func removeTree(in parent: Int32, name: String, displayPath: String) throws {
        if unlink(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw ioError(displayPath, "cannot remove") }
        if unlink(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT { return }

        var current = try openDirectory(parent, name, displayPath)
        var currentStatus = stat()
        var ancestors: [(dev: dev_t, ino: ino_t)] = []  // of `current`'s parents, below the top
        defer { if current >= 0 { close(current) } }
        guard fstat(current, &currentStatus) == 0 else { throw ioError(displayPath, "cannot stat") }
        while true {
            if let child = try removeEntries(current, displayPath) {
                // A non-empty directory: go down into it.
                let next = try openDirectory(current, child, displayPath)
                ancestors.append((currentStatus.st_dev, currentStatus.st_ino))
                close(current)
                current = next
                guard fstat(current, &currentStatus) == 0 else { throw ioError(displayPath, "cannot stat") }
                continue
            }
            // `current` is empty now.
            guard let expected = ancestors.popLast() else { break }
            let up = openat(current, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard up >= 0 else { throw ioError(displayPath, "cannot climb back") }
            close(current)
            current = up
            guard fstat(current, &currentStatus) == 0, currentStatus.st_dev == expected.dev,
                  currentStatus.st_ino == expected.ino else {
                throw StoreError.io(path: displayPath, reason: "the tree moved while it was being removed")
            }
        }
        close(current)
        current = -1
        if unlink(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
            throw ioError(displayPath, "cannot remove directory")
        }
    }

    /// `unlinkat` of a name as its bytes (a `PathBytes` string): a name that is not UTF-8 is
    /// removed, not mistaken for a missing one (which would walk the same directory forever).
    private static func unlink(_ directory: Int32, _ name: String, _ flags: Int32) -> Int32 {
        PathBytes.withCString(name) { unlinkat(directory, $0, flags) }
    }

    /// Unlinks every entry of `directory` it can; returns the name of a non-empty
    /// subdirectory to descend into, or nil when the directory is now empty.
    private static func removeEntries(_ directory: Int32, _ displayPath: String) throws -> String? {
        // Owner write and search permission on the directory itself, for its entries' unlinks.
        _ = fchmod(directory, 0o700)
        let listing = dup(directory)
        guard listing >= 0, let stream = fdopendir(listing) else {
            if listing >= 0 { close(listing) }
            throw ioError(displayPath, "cannot list directory")
        }
        defer { closedir(stream) }
        rewinddir(stream)
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { PathBytes.string(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if unlink(directory, name, 0) == 0 || errno == ENOENT { continue }
            guard errno == EISDIR || errno == EPERM else { throw ioError(displayPath, "cannot remove \(name)") }
            if unlink(directory, name, AT_REMOVEDIR) == 0 || errno == ENOENT { continue }
            guard errno == ENOTEMPTY || errno == EEXIST else { throw ioError(displayPath, "cannot remove directory \(name)") }
            return name
        }
        return nil
    }

    /// Opens a subdirectory without following a symlink, granting ourselves search and read
    /// permission first when it has none (RUN may leave `chmod 000` directories).
    private static func openDirectory(_ parent: Int32, _ name: String, _ displayPath: String) throws -> Int32 {
        var fd = PathBytes.withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        if fd < 0 && errno == EACCES {
            _ = PathBytes.withCString(name) { fchmodat(parent, $0, 0o700, 0) }
            fd = PathBytes.withCString(name) { openat(parent, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        }
        guard fd >= 0 else { throw ioError(displayPath, "cannot open directory \(name)") }
        return fd
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension TreeChanges {
    /// Moves the changed entries out of `root` into `directory` (an existing empty directory),
    /// which then holds the step's layer for later copy-and-compare steps to stack (see
    /// `MergedLayers`): files and symlinks renamed (copied where a rename is refused), changed
    /// directories made anew with their metadata, whole new directories renamed at once, and
    /// whiteouts and opaque markers as empty `.wh.*` files.
    ///
    /// Returns `items` with file content read from `directory`, so `root` can be removed at
    /// once while the layer is still being written.
    public func moveEntries(from root: String, into directory: String) throws -> [LayerItem] {
        var moved: [LayerItem] = []
        moved.reserveCapacity(items.count)
        /// Directories to give their final metadata, parents first (adding entries changes mtimes).
        var directories: [(path: String, st: stat)] = []
        /// The whole directory moved last; items below it are in place already.
        var movedWhole: String?
        for item in items {
            guard case .entry(var entry) = item else { moved.append(item); continue }
            let source = root + "/" + entry.path
            let destination = directory + "/" + entry.path
            if let whole = movedWhole, !entry.path.hasPrefix(whole + "/") { movedWhole = nil }
            let inPlace = movedWhole != nil
            switch entry.kind {
            case .directory:
                if inPlace { break }
                let st = try TreeIO.requireStatus(source)
                if wholeDirectories.contains(entry.path), rename(source, destination) == 0 {
                    movedWhole = entry.path
                } else {
                    guard mkdir(destination, 0o700) == 0 else { throw written(destination) }
                }
                directories.append((destination, st))
            case .regularFile(.bytes(let bytes)):
                // Whiteouts and opaque markers, the only generated entries.
                let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
                guard fd >= 0 else { throw written(destination) }
                close(fd)
                precondition(bytes.isEmpty, "TreeDiff generates only empty markers")
            case .regularFile(.file(_, let size)):
                if !inPlace, rename(source, destination) != 0 {
                    let st = try TreeIO.requireStatus(source)
                    try FileCopy.copyContent(from: source, to: destination, size: size)
                    try FileCopy.applyMetadata(destination, st)
                }
                entry.kind = .regularFile(.file(path: destination, size: size))
            case .symlink(let target):
                if !inPlace, rename(source, destination) != 0 {
                    let st = try TreeIO.requireStatus(source)
                    guard symlink(target, destination) == 0 else { throw written(destination) }
                    try FileCopy.applyMetadata(destination, st)
                }
            case .hardlink(let target):
                if !inPlace, rename(source, destination) != 0 {
                    guard link(directory + "/" + target, destination) == 0 else { throw written(destination) }
                }
            }
            moved.append(.entry(entry))
        }
        // Best effort: a moved directory of another image user keeps its owner, and only the
        // sandbox may change its mode; its mtime matters only when this layer is copied again.
        for (path, st) in directories.reversed() { _ = try? FileCopy.applyMetadata(path, st) }
        return moved
    }

    private func written(_ path: String) -> LayerError {
        .writeFailed(path: path, reason: LayerError.errnoText())
    }
}

import CArchive
import Foundation
import ImageModel
import PathEncoding

/// A layer blob on disk and, when known, the digest its bytes must hash to (then every read
/// of it is verified; layers this build is writing have none yet).
public struct LayerBlob: Sendable, Hashable {
    public var path: String
    public var digest: Digest?

    public init(path: String, digest: Digest?) {
        self.path = path
        self.digest = digest
    }
}

/// Unpacks stacked layer blobs into a directory and reads single files out of them, applying
/// OCI whiteouts (`.wh.NAME` removes NAME from lower layers, `.wh..wh..opq` hides a directory's
/// lower contents).
public struct LayerUnpacker {
    /// Extracts `layers` (blob paths, any of gzip/bzip2/xz/zstd/none, bottom layer first) into
    /// `directory` (created if missing). Keeps symlinks, hard links, modes and mtimes; skips
    /// device nodes; never writes through a symlink (libarchive's secure flags plus our own
    /// checks for whiteouts). When not running as root, ownership is not applied: the returned
    /// table records the intended uid/gid/mode of every path.
    public static func unpack(layers: [String], into directory: String) throws -> OwnershipTable {
        try unpack(blobs: layers.map { LayerBlob(path: $0, digest: nil) }, into: directory)
    }

    /// `unpack(layers:into:)` verifying each blob that has a digest while it streams: a blob
    /// that does not match throws `LayerError.digestMismatch` (after its entries were written
    /// into `directory`, which the caller then discards).
    public static func unpack(blobs: [LayerBlob], into directory: String) throws -> OwnershipTable {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard let resolved = realpath(directory, nil) else {
            throw LayerError.writeFailed(path: directory, reason: LayerError.errnoText())
        }
        let root = String(cString: resolved)
        free(resolved)
        var table = OwnershipTable()
        for blob in blobs {
            try LayerExtraction(layer: blob.path, digest: blob.digest, root: root).run(into: &table)
        }
        return table
    }

    /// The final content of the regular file `path` (absolute or relative to `/`) in the stack of
    /// `layers` (bottom layer first, as for `unpack`), searched from the top layer down,
    /// honouring whiteouts and opaque directories and following symlinks and hard links.
    /// Nil when absent or not a regular file. Streams the blobs; nothing is extracted to disk.
    public static func readFile(_ path: String, fromLayers layers: [String]) throws -> [UInt8]? {
        try readFile(path, fromBlobs: layers.map { LayerBlob(path: $0, digest: nil) })
    }

    /// `readFile(_:fromLayers:)`, verifying the blobs it streams that have a digest.
    public static func readFile(_ path: String, fromBlobs layers: [LayerBlob]) throws -> [UInt8]? {
        var target = try TarReader.normalize(path, archive: path) ?? ""
        for _ in 0..<16 {
            switch try LayerFileLookup.find(target, in: layers) {
            case .content(let bytes): return bytes
            case .absent: return nil
            case .symlink(let link):
                guard let next = LayerFileLookup.resolve(link, from: target) else { return nil }
                target = next
            }
        }
        return nil  // symlink loop
    }
}

/// One layer being extracted onto disk.
private struct LayerExtraction {
    let layer: String
    let digest: Digest?
    let root: String
    let isRoot = geteuid() == 0

    func run(into table: inout OwnershipTable) throws {
        let reader = try TarReader(path: layer, digest: digest)
        let disk = archive_write_disk_new()!
        defer { archive_write_free(disk) }
        var flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if isRoot { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(disk, Int32(flags))
        var thisLayer = Set<PathKey>()  // by bytes: `é` and `e` + U+0301 are two names
        while let entry = try reader.next() {
            let name = reader.entryPath(entry)
            guard let rel = try TarReader.normalize(name, archive: layer) else { continue }
            let parts = PathBytes.components(rel)
            let base = parts.last!
            let parent = parts.dropLast().joined(separator: "/")
            if PathBytes.same(base, ".wh..wh..opq") {
                try clearDirectory(parent, keeping: thisLayer, table: &table)
                continue
            }
            if PathBytes.hasPrefix(base, ".wh.") {
                let name = String(base.utf8.dropFirst(4))!
                let hidden = parent.isEmpty ? name : parent + "/" + name
                if !thisLayer.contains(PathKey(hidden)) {
                    try removeItem(hidden)
                    table.remove(subtree: hidden)
                }
                continue
            }
            let type = archive_entry_filetype(entry)
            if type == FileType.character || type == FileType.block {
                table.skipped.append(rel)
                continue
            }
            guard safeParents(rel) else { throw LayerError.unsafeEntry(archive: layer, entry: name) }
            var ancestor = ""
            for part in parts {
                ancestor = ancestor.isEmpty ? part : ancestor + "/" + part
                thisLayer.insert(PathKey(ancestor))
            }
            let hardlink = try TarReader.hardlink(of: entry).map { link -> String in
                guard let target = try TarReader.normalize(link, archive: layer) else {
                    throw LayerError.unsafeEntry(archive: layer, entry: link)
                }
                return target
            }
            try replaceExisting(rel, withDirectory: type == FileType.directory && hardlink == nil, table: &table)
            let perm = UInt32(archive_entry_perm(entry)) & 0o7777
            let owner = Owner(uid: Int(archive_entry_uid(entry)), gid: Int(archive_entry_gid(entry)))
            if let hardlink {
                table.owners[PathKey(rel)] = table.owners[PathKey(hardlink)] ?? owner
                table.modes[PathKey(rel)] = table.modes[PathKey(hardlink)] ?? perm
                PathBytes.withCString(root + "/" + hardlink) { archive_entry_copy_hardlink(entry, $0) }
            } else {
                table.owners[PathKey(rel)] = owner
                table.modes[PathKey(rel)] = perm
                if !isRoot {
                    if type == FileType.directory { archive_entry_set_perm(entry, mode_t(perm | 0o700)) }
                    if type == FileType.regular { archive_entry_set_perm(entry, mode_t(perm | 0o600)) }
                }
            }
            // Exact bytes, also for a name that is not UTF-8 (`rel` is a `PathBytes` string).
            PathBytes.withCString(root + "/" + rel) { archive_entry_copy_pathname(entry, $0) }
            let rc = ArchiveLocale.utf8 { archive_write_header(disk, entry) }
            if rc < ArchiveStatus.warn { throw diskError(disk, rel) }
            if archive_entry_size(entry) > 0 {
                while let (base, count, offset) = try reader.nextBlock() {
                    if archive_write_data_block(disk, base, count, la_int64_t(offset)) < ArchiveStatus.warn {
                        throw diskError(disk, rel)
                    }
                }
            }
            if archive_write_finish_entry(disk) < ArchiveStatus.warn { throw diskError(disk, rel) }
        }
        if archive_write_close(disk) < ArchiveStatus.warn { throw diskError(disk, "") }
    }

    private func diskError(_ disk: OpaquePointer, _ rel: String) -> LayerError {
        let message = archive_error_string(disk).map { String(cString: $0) } ?? "unknown error"
        return .archive(path: rel.isEmpty ? layer : "\(layer) (entry \(rel))", message: message)
    }

    /// True when every ancestor of `rel` below the root is a real directory (or missing), so
    /// nothing done at `rel` can land outside the root through a symlink.
    private func safeParents(_ rel: String) -> Bool {
        var path = root
        for part in PathBytes.components(rel).dropLast() {
            path += "/" + part
            var st = stat()
            if PathBytes.withCString(path, { lstat($0, &st) }) != 0 { return true }
            if st.st_mode & S_IFMT != S_IFDIR { return false }
        }
        return true
    }

    private func fileType(_ rel: String) -> mode_t? {
        var st = stat()
        return PathBytes.withCString(root + "/" + rel, { lstat($0, &st) }) == 0 ? st.st_mode & S_IFMT : nil
    }

    /// Removes `rel` (recursively, never following symlinks) if it exists. By bytes
    /// (`PathBytes`), so a whiteout of a name that is not UTF-8 removes that very file.
    private func removeItem(_ rel: String) throws {
        guard safeParents(rel), fileType(rel) != nil else { return }
        TreeCopy.remove(root + "/" + rel)
        if fileType(rel) != nil {
            throw LayerError.writeFailed(path: root + "/" + rel, reason: "cannot remove: \(LayerError.errnoText())")
        }
    }

    /// Makes room for a new entry: an existing directory is kept only for a directory; any other
    /// existing file is unlinked (so a new file never writes through an old hard link).
    private func replaceExisting(_ rel: String, withDirectory: Bool, table: inout OwnershipTable) throws {
        guard let existing = fileType(rel) else { return }
        if existing == S_IFDIR && withDirectory { return }
        try removeItem(rel)
        if existing == S_IFDIR { table.remove(subtree: rel) }
    }

    /// Applies an opaque marker: removes `dir`'s children that this layer did not create.
    private func clearDirectory(_ dir: String, keeping keep: Set<PathKey>, table: inout OwnershipTable) throws {
        let probe = dir.isEmpty ? "x" : dir + "/x"
        guard safeParents(probe), dir.isEmpty || fileType(dir) == S_IFDIR else { return }
        let children = (try? TreeIO.listDirectory(dir.isEmpty ? root : root + "/" + dir)) ?? []
        for child in children {
            let rel = dir.isEmpty ? child : dir + "/" + child
            if keep.contains(PathKey(rel)) { continue }
            try removeItem(rel)
            table.remove(subtree: rel)
        }
    }
}

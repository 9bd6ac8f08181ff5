import CArchive
import PathEncoding

/// Several named files read out of one layer blob in a single pass: how the SBOM reads the
/// package databases a layer holds without unpacking the layer (the caller knows from the
/// header index which layer holds the winning version of each file).
extension LayerUnpacker {
    /// What became of one requested path.
    public enum FileRead: Sendable, Equatable {
        case content([UInt8])
        /// The entry is larger than the limit (its content is not kept).
        case tooLarge(size: Int64)
    }

    /// The contents of the regular files `paths` (layer paths: no leading `/`) in the blob
    /// `blob`, streaming it once (verified when it has a digest). Paths the layer does not hold
    /// as regular files are missing from the result; a file over `limit` bytes is reported as
    /// `tooLarge`, so hostile input cannot make us hold more than `limit` per file. When a
    /// path occurs twice in one layer, the later entry wins, as extraction would leave it.
    /// Paths are matched by their bytes: `é` and `e` + U+0301 are two files.
    public static func readFiles(_ paths: Set<PathKey>, fromBlob blob: LayerBlob, limit: Int64) throws -> [PathKey: FileRead] {
        var found: [PathKey: FileRead] = [:]
        try readFiles(paths, fromBlob: blob, limit: limit) { found[PathKey($0)] = $1 }
        return found
    }

    /// `readFiles(_:fromBlob:limit:)` handing each file to `body` as it streams past (nil when
    /// a later entry of the same path is not a regular file), so that at most one file's
    /// content is held at a time however many the layer has.
    public static func readFiles(_ paths: Set<PathKey>, fromBlob blob: LayerBlob, limit: Int64,
                                 _ body: (String, FileRead?) throws -> Void) throws {
        guard !paths.isEmpty else { return }
        let reader = try TarReader(path: blob.path, digest: blob.digest)
        while let entry = try reader.next() {
            guard let rel = try TarReader.normalize(reader.entryPath(entry), archive: blob.path), paths.contains(PathKey(rel)) else { continue }
            guard archive_entry_filetype(entry) == FileType.regular, TarReader.hardlink(of: entry) == nil else {
                try body(rel, nil)
                continue
            }
            let size = Int64(archive_entry_size(entry))
            if size > limit {
                try body(rel, .tooLarge(size: size))
                continue
            }
            var bytes = [UInt8]()
            var truncated = false
            while let (base, count, offset) = try reader.nextBlock() {
                // Sparse entries give offsets: bound them too, never trusting the header alone.
                guard offset >= 0, offset + Int64(count) <= limit else { truncated = true; break }
                if offset > Int64(bytes.count) { bytes += [UInt8](repeating: 0, count: Int(offset) - bytes.count) }
                bytes += UnsafeRawBufferPointer(start: base, count: count)
            }
            try body(rel, truncated ? .tooLarge(size: size) : .content(bytes))
        }
    }
}

import CArchive

/// Decides whether ADD should unpack a local file, as Docker does: only tar archives, plain or
/// compressed with gzip, bzip2, xz or zstd, recognised by content (never by file name).
/// Anything else — zip files, gzip of a non-tar file, empty files — is copied as is.
public enum ArchiveDetector {
    /// True when `path` is a readable tar archive (possibly compressed) with at least one entry.
    public static func isExtractableArchive(path: String) -> Bool {
        guard let reader = try? TarReader(path: path) else { return false }
        guard (try? reader.next()) != nil else { return false }
        return archive_format(reader.archive) & 0xff0000 == 0x30000  // ARCHIVE_FORMAT_TAR family
    }
}

import CArchive
import PathEncoding

/// The checks an archive passes before `ADD` may put its entries into a layer. The layer
/// writer copies entries header by header (it never extracts onto a disk, so nothing the
/// kernel would refuse is refused there); these rules are what docker's extraction refuses:
///
/// - a name that climbs out of the destination (`..` components);
/// - an entry beneath a symlink the same archive made earlier (`l -> /host/x`, then `l/f`):
///   once unpacked, it would be written wherever the link points;
/// - a hard link whose target is not an earlier non-directory entry of the archive;
/// - whiteout names (`.wh.NAME`, `.wh..wh..opq`), which would delete lower files once the
///   layer is applied.
///
/// A leading `/` is not refused: docker extracts `/etc/x` to `<dest>/etc/x`, and so does ADD.
public enum ArchiveSafety {
    /// Why an archive was refused: the entry as written in the archive and the rule it breaks.
    public struct Refusal: Error, CustomStringConvertible, Equatable {
        public var entry: String
        public var reason: String
        public var description: String { "entry \"\(entry)\" \(reason)" }
    }

    /// Streams the headers of the archive at `path` and throws a `Refusal` for the first entry
    /// that breaks a rule (a `LayerError` when the archive cannot be read). Names are compared
    /// as bytes: `é` and `e` + U+0301 are two entries, and `.wh.` followed by a combining mark
    /// is still a whiteout name.
    public static func check(path: String) throws {
        let reader = try TarReader(path: path)
        var symlinks = Set<PathKey>()
        var files = Set<PathKey>()
        while let entry = try reader.next() {
            let name = reader.entryPath(entry)
            let relative: String
            do {
                guard let clean = try TarReader.normalize(name, archive: path) else { continue }
                relative = clean
            } catch {
                throw Refusal(entry: name, reason: "climbs out of the destination with \"..\"")
            }
            let components = PathBytes.components(relative)
            if components.contains(where: { PathBytes.hasPrefix($0, ".wh.") }) {
                throw Refusal(entry: name, reason: "is a whiteout name, which archives for ADD may not hold")
            }
            var ancestor = ""
            for component in components.dropLast() {
                ancestor = ancestor.isEmpty ? component : ancestor + "/" + component
                if symlinks.contains(PathKey(ancestor)) {
                    throw Refusal(entry: name, reason: "lies beneath \"\(ancestor)\", a symlink made earlier in the archive")
                }
            }
            if let link = TarReader.hardlink(of: entry) {
                let target = try? TarReader.normalize(link, archive: path)
                guard let target, files.contains(PathKey(target)) else {
                    throw Refusal(entry: name, reason: "is a hard link to \"\(link)\", which is not an earlier file of the archive")
                }
            }
            let type = archive_entry_filetype(entry)
            let key = PathKey(relative)
            symlinks.remove(key)
            files.remove(key)
            if type == FileType.symlink && TarReader.hardlink(of: entry) == nil {
                symlinks.insert(key)
            } else if type != FileType.directory {
                files.insert(key)
            }
        }
    }
}

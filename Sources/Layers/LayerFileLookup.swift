import CArchive
import PathEncoding

/// Finds one path in a stack of layer blobs by streaming them from the top layer down.
enum LayerFileLookup {
    enum Result {
        case content([UInt8])
        case symlink(String)
        case absent
    }

    private enum Found {
        case regular([UInt8])
        case hardlink(String)
        case symlink(String)
        case other
    }

    /// Looks `target` up, top layer first; stops at the first layer that has it or hides it.
    /// Names are compared by their bytes (`é` and `e` + U+0301 are two files).
    static func find(_ target: String, in layers: [LayerBlob]) throws -> Result {
        for blob in layers.reversed() {
            let layer = blob.path
            var found: Found?
            var hidden = false
            let reader = try TarReader(path: layer, digest: blob.digest)
            while let entry = try reader.next() {
                guard let rel = try TarReader.normalize(reader.entryPath(entry), archive: layer) else { continue }
                if PathBytes.same(rel, target) {
                    if let link = TarReader.hardlink(of: entry) {
                        found = .hardlink(try TarReader.normalize(link, archive: layer) ?? "")
                    } else if archive_entry_filetype(entry) == FileType.symlink {
                        found = .symlink(TarReader.symlink(of: entry) ?? "")
                    } else if archive_entry_filetype(entry) == FileType.regular {
                        found = .regular(try reader.readAll())
                    } else {
                        found = .other
                    }
                    continue
                }
                let (parent, base) = PathBytes.splitLast(rel)
                if PathBytes.same(base, ".wh..wh..opq") {
                    if parent.isEmpty || PathBytes.hasPrefix(target, parent + "/") { hidden = true }
                } else if PathBytes.hasPrefix(base, ".wh.") {
                    let name = String(base.utf8.dropFirst(4))!
                    let gone = parent.isEmpty ? name : parent + "/" + name
                    if PathBytes.same(target, gone) || PathBytes.hasPrefix(target, gone + "/") { hidden = true }
                } else if PathBytes.hasPrefix(target, rel + "/") && archive_entry_filetype(entry) != FileType.directory {
                    hidden = true  // an ancestor replaced by a non-directory
                }
            }
            switch found {
            case .regular(let bytes): return .content(bytes)
            case .symlink(let link): return .symlink(link)
            case .other: return .absent
            case .hardlink(let source): return try content(of: source, inLayer: blob)
            case nil: if hidden { return .absent }
            }
        }
        return .absent
    }

    /// The content of the regular file `path` within one layer (the source of a hard link).
    private static func content(of path: String, inLayer blob: LayerBlob) throws -> Result {
        let layer = blob.path
        let reader = try TarReader(path: layer, digest: blob.digest)
        while let entry = try reader.next() {
            guard let rel = try TarReader.normalize(reader.entryPath(entry), archive: layer), PathBytes.same(rel, path),
                  archive_entry_filetype(entry) == FileType.regular,
                  TarReader.hardlink(of: entry) == nil else { continue }
            return .content(try reader.readAll())
        }
        return .absent
    }

    /// Resolves a symlink found at `path` to the layer path it points at; nil if it leaves `/`
    /// through `..` in a way that makes no sense (clamped at the root like the kernel does).
    static func resolve(_ link: String, from path: String) -> String? {
        var parts: [Substring] = link.hasPrefix("/") ? [] : Array(path.split(separator: "/").dropLast())
        for part in link.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }
}

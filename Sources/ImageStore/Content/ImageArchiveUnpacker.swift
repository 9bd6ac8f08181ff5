import CArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageModel
import Layers

/// A broken or hostile image archive (`oci-archive:`, `docker-archive:`): which file, what.
public struct ImageArchiveError: Error, CustomStringConvertible, Equatable, Sendable {
    public var archive: String
    public var message: String

    public init(_ archive: String, _ message: String) {
        self.archive = archive
        self.message = message
    }

    public var description: String { "\(archive): \(message)" }
}

/// Unpacks an image archive into a private staging directory, refusing what an image archive
/// never holds: a name with `..` or a byte outside printable ASCII, a device, a file named
/// twice, a link to something outside the archive or not in it. Files are created by this code
/// under names it checked (never through a path the archive chose to follow), so nothing can
/// land outside the staging directory. A link (skopeo and docker before 25 write
/// `<id>/layer.tar` as a symlink to a shared layer) becomes a hard link to the file it names
/// inside the staging directory. The archive's digests are checked later, as each blob is pushed.
enum ImageArchiveUnpacker {
    /// Metadata (`index.json`, `manifest.json`, a config) larger than this is refused before
    /// it is read whole: a manifest is at most 4 MiB in any registry.
    static let maxMetadataSize = 4 << 20
    /// `AE_IFDIR` and `AE_IFREG` (libarchive's macros do not reach Swift).
    static let directoryType: UInt32 = 0o040000
    static let regularType: UInt32 = 0o100000
    static let symlinkType: UInt32 = 0o120000
    /// How many links may lead to one another before the chain is refused.
    static let maxLinkDepth = 8

    static func unpack(_ archive: String, into directory: String) throws {
        let reader: TarReader
        do {
            reader = try TarReader(path: archive)
        } catch {
            throw ImageArchiveError(archive, "cannot read the archive: \(error)")
        }
        var links: [(name: String, target: String, raw: String)] = []
        do {
            while let entry = try reader.next() {
                let raw = reader.entryPath(entry)
                guard raw.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x5c }) else {
                    throw ImageArchiveError(archive, "entry \(raw.debugDescription): not a name an image archive holds")
                }
                guard let name = try TarReader.normalize(raw, archive: archive) else { continue }
                let path = directory + "/" + name
                switch archive_entry_filetype(entry) {
                case Self.directoryType:
                    try FileSystem.makeDirectories(path)
                case Self.regularType where TarReader.hardlink(of: entry) == nil:
                    try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
                    try write(reader, to: path, entry: raw, archive: archive)
                case _ where TarReader.hardlink(of: entry) != nil:
                    // A hard link names its target from the archive's root.
                    links.append((name, try linkTarget(TarReader.hardlink(of: entry)!, from: "", entry: raw, archive: archive), raw))
                case Self.symlinkType:
                    let directory = (name as NSString).deletingLastPathComponent
                    links.append((name, try linkTarget(TarReader.symlink(of: entry) ?? "", from: directory, entry: raw, archive: archive), raw))
                default:
                    throw ImageArchiveError(archive, "entry \(raw): a device, FIFO or socket, which an image archive never holds")
                }
            }
            try resolve(links, in: directory, archive: archive)
        } catch let error as ImageArchiveError {
            throw error
        } catch let error as LayerError {
            if case .unsafeEntry(_, let entry) = error {
                throw ImageArchiveError(archive, "entry \(entry.debugDescription): escapes the archive (..)")
            }
            throw ImageArchiveError(archive, "\(error)")
        } catch let error as StoreError {
            throw ImageArchiveError(archive, "cannot unpack: \(error)")
        }
    }

    /// A link's target as a clean path from the archive's root; refused when it leaves the archive.
    private static func linkTarget(_ target: String, from directory: String, entry: String, archive: String) throws -> String {
        guard !target.hasPrefix("/"), target.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != 0x5c }) else {
            throw ImageArchiveError(archive, "entry \(entry): a link to \(target.debugDescription), outside the archive")
        }
        var parts = directory.split(separator: "/").map(String.init)
        for part in target.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else { throw ImageArchiveError(archive, "entry \(entry): a link to \(target), outside the archive") }
                parts.removeLast()
            } else {
                parts.append(String(part))
            }
        }
        guard !parts.isEmpty else { throw ImageArchiveError(archive, "entry \(entry): a link to the archive's root") }
        return parts.joined(separator: "/")
    }

    /// Makes each link a hard link to the regular file it leads to (through at most
    /// `maxLinkDepth` other links); one that leads nowhere in the archive is refused.
    private static func resolve(_ links: [(name: String, target: String, raw: String)], in directory: String, archive: String) throws {
        let byName = Dictionary(links.map { ($0.name, $0.target) }, uniquingKeysWith: { first, _ in first })
        for link in links {
            var target = link.target
            var depth = 0
            while let next = byName[target] {
                depth += 1
                guard depth <= maxLinkDepth else { throw ImageArchiveError(archive, "entry \(link.raw): a chain of more than \(maxLinkDepth) links") }
                target = next
            }
            let source = directory + "/" + target
            guard let status = FileSystem.status(source), (status.st_mode & S_IFMT) == S_IFREG else {
                throw ImageArchiveError(archive, "entry \(link.raw): a link to \(link.target), which the archive does not hold as a file")
            }
            let path = directory + "/" + link.name
            try FileSystem.makeDirectories((path as NSString).deletingLastPathComponent)
            guard Glibc.link(source, path) == 0 else {
                throw ImageArchiveError(archive, "entry \(link.raw): named twice, or under a name that is a file")
            }
        }
    }

    /// The entry's bytes into a new file (created exclusively: an entry named twice fails).
    private static func write(_ reader: TarReader, to path: String, entry: String, archive: String) throws {
        let fd: Int32
        do {
            fd = try FileSystem.open(path, O_WRONLY | O_CREAT | O_EXCL)
        } catch {
            throw ImageArchiveError(archive, "entry \(entry): named twice, or under a name that is a file")
        }
        defer { close(fd) }
        var written: Int64 = 0
        let zeros = [UInt8](repeating: 0, count: 64 * 1024)
        while let (base, count, offset) = try reader.nextBlock() {
            // A sparse entry's holes are zeros.
            while written < offset {
                let n = Int(min(Int64(zeros.count), offset - written))
                try zeros.withUnsafeBytes { try FileSystem.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n]), path: path) }
                written += Int64(n)
            }
            try FileSystem.writeAll(fd, UnsafeRawBufferPointer(start: base, count: count), path: path)
            written += Int64(count)
        }
    }

    /// A small JSON file of the unpacked archive, decoded; one line naming the entry when it is
    /// missing, too large or not what it should be.
    static func readJSON<T: Decodable>(_ type: T.Type, _ name: String, in directory: String, archive: String) throws -> T {
        let path = directory + "/" + name
        guard let status = FileSystem.status(path), (status.st_mode & S_IFMT) == S_IFREG else {
            throw ImageArchiveError(archive, "\(name) is missing")
        }
        guard status.st_size <= maxMetadataSize else {
            throw ImageArchiveError(archive, "\(name) is \(status.st_size) bytes, more than the \(maxMetadataSize) an image's metadata may have")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(try FileSystem.readFile(path)))
        } catch {
            throw ImageArchiveError(archive, "\(name) is not valid: \(error)")
        }
    }
}

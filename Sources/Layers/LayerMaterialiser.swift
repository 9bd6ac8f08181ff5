import FileDescriptorIO
import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Writes a layer's items straight into a directory, from their sources, instead of unpacking
/// the layer's tarball: a RUN right after a COPY gets the COPY's files as its lower directory
/// without decompressing what the build has just compressed (issue 13: the 600 MB COPY's
/// re-unpacking was most of the cold build). A source file that already has the entry's
/// metadata is hard-linked (see `Writer.linkUnchanged`); other content goes by reflink, else
/// `copy_file_range` (`FileCopy`), so on the same file system the kernel copies it. Names go
/// to the kernel as their bytes (`PathBytes`), as the tar writer writes them.
///
/// The result is what unpacking the layer would give: each entry's type, content, mode,
/// mtime, and owner when running as root (unprivileged, owners are not applied, as
/// `LayerUnpacker` does not apply them either); missing parents are created 0755, as an
/// extractor creates them; a directory listed twice takes the last entry's metadata (libarchive
/// keeps the first one's mtime: a difference no RUN can depend on). Cases a tar extractor resolves by replacing entries — an item under
/// a path that is not a directory made here, a path given twice with a different type, a hard
/// link to anything but a file made here, archive items (ADD's extraction) — are refused
/// (`materialise` returns false) and the caller unpacks the layer instead.
public enum LayerMaterialiser {
    /// Materialises `items` into `directory` (created; must not exist). False when the items
    /// need a tar extractor's replacing rules: `directory` is then removed again.
    /// `journal` records every hard link made to a source (see `LinkJournal`), so whoever
    /// removes `directory` can unlink them first with `journal.unlinkAll()` and a file index
    /// can carry its entries over the ctime our link and unlink gave the sources. A refused
    /// or failed materialisation forgets its links (its directory is removed without the
    /// journal; those sources are read again by the next build).
    public static func materialise(_ items: [LayerItem], into directory: String, journal: LinkJournal = LinkJournal()) throws -> Bool {
        guard PathBytes.withCString(directory, { mkdir($0, 0o755) }) == 0 else { throw LayerError.writeFailed(path: directory, reason: LayerError.errnoText()) }
        var writer = Writer(root: directory, journal: journal)
        // One entry per item and per parent made: sized once, not rehashed as 32k paths arrive.
        writer.made.reserveCapacity(items.count + items.count / 16)
        do {
            for item in items {
                guard case .entry(let entry) = item, try writer.write(entry) else {
                    journal.forget(under: directory)
                    TreeCopy.remove(directory)
                    return false
                }
            }
            try writer.finishDirectories()
        } catch {
            journal.forget(under: directory)
            TreeCopy.remove(directory)
            throw error
        }
        return true
    }

    private struct Writer {
        let root: String
        let journal: LinkJournal
        /// The sources' and the links' parent directories, kept open across a directory's files.
        let sourceDirectories = ParentDirectoryCursor(), linkDirectories = ParentDirectoryCursor()
        let asRoot = geteuid() == 0
        /// Everything made here, by path: directories (items or missing parents) with the entry
        /// to apply at the end, regular files, and the rest. One table, so a new file costs one
        /// lookup and one insert (three sets were three lookups per file of 32k, issue 13).
        /// Keyed by bytes (`PathKey`): `é` and `e` + U+0301 are two paths, as on disk.
        var made: [PathKey: Made] = ["": .directory(nil)]
        var directoryOrder: [String] = []

        /// What a path made here is.
        enum Made {
            case directory(LayerEntry?)
            /// A regular file (what a hard link may point to).
            case file
            /// A symlink or a hard link.
            case other
        }
        /// The parent part (up to the last `/`) of the last path whose parents `makeParents`
        /// found or made: a directory made here stays one (an item that would replace it is
        /// refused), so the next item in the same directory needs no walk up its path. Items
        /// come in tar order, a directory's files together: 32k files in 642 directories
        /// walked ~9 components each, with a string and a hash per component (issue 13).
        var lastParent: Substring.UTF8View?

        init(root: String, journal: LinkJournal) {
            self.root = root
            self.journal = journal
        }

        mutating func write(_ entry: LayerEntry) throws -> Bool {
            let path = entry.path, key = PathKey(path)
            guard !path.isEmpty else {
                // The layer's root directory itself: only its metadata.
                if entry.kind == .directory { made[""] = .directory(entry); return true }
                return false
            }
            guard try makeParents(of: path) else { return false }
            let full = root + "/" + path
            if let earlier = made[key] {
                // Given again: a directory may take new metadata; anything else needs replacing.
                guard entry.kind == .directory, case .directory = earlier else { return false }
                made[key] = .directory(entry)
                return true
            }
            switch entry.kind {
            case .directory:
                guard PathBytes.withCString(full, { mkdir($0, 0o700) }) == 0 else { throw failed(full) }
                made[key] = .directory(entry)
                directoryOrder.append(path)
                return true
            case .regularFile(.file(let source, let size)):
                if try linkUnchanged(source, to: full, as: entry, size: size) {
                    made[key] = .file
                    return true
                }
                try FileCopy.copyContent(from: source, to: full, size: size)
                made[key] = .file
            case .regularFile(.bytes(let bytes)):
                let fd = PathBytes.withCString(full) { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600) }
                guard fd >= 0 else { throw failed(full) }
                defer { close(fd) }
                try bytes.withUnsafeBytes { buffer in
                    do throws(FileDescriptorIOError) {
                        try FileDescriptorIO.writeAll(fd, buffer)
                    } catch {
                        throw LayerError.writeFailed(path: full, reason: error.reason)
                    }
                }
                made[key] = .file
            case .symlink(let target):
                guard PathBytes.withCString(target, { t in PathBytes.withCString(full) { symlink(t, $0) } }) == 0 else { throw failed(full) }
                made[key] = .other
            case .hardlink(let target):
                guard case .file = made[PathKey(target)] else { return false }
                guard PathBytes.withCString(root + "/" + target, { t in PathBytes.withCString(full) { link(t, $0) } }) == 0 else { throw failed(full) }
                made[key] = .other
                return true  // a hard link shares its target's metadata
            }
            try apply(entry, to: full)
            return true
        }

        /// Makes `full` a hard link to `source` when that file already is what the entry says
        /// — a regular file of `size` bytes, the entry's mode and mtime (seconds), the entry's
        /// owner as root (else our own ids, which a copy would get) and no extended attributes
        /// (the layer carries none for it) — so a plain COPY's files reach a RUN's lower
        /// directory without copying their bytes (ext4 has no reflinks: copying a 500 MB
        /// context was most of a cold build's RUN, issue 13). The lower directory is only ever
        /// an overlay lower or read by copying, never written, so the source cannot change
        /// through it. The source's `lstat` decides before linking (a file that differs is not
        /// linked at all: linking and unlinking it would change its ctime for nothing), and the
        /// link's own `lstat` must show the same file afterwards (a source replaced or changed
        /// meanwhile is not kept); xattrs are listed on the link itself. Every link goes
        /// through the journal (`LinkJournal`). What a RUN can see differently from an
        /// unpacked layer: the link count and the sub-second mtime (BuildKit's snapshot keeps
        /// those too). False (nothing left behind) when the kernel refuses the link (another
        /// file system, `protected_hardlinks`) or the file differs: the caller copies then.
        private func linkUnchanged(_ source: String, to full: String, as entry: LayerEntry, size: Int64) throws -> Bool {
            // Unprivileged, an entry owned by another image user is never a link: its owner is
            // given afterwards inside the user namespace (`PendingOwner.nonRoot`), and chowning a
            // link would chown the build context's own file.
            if !asRoot && (entry.uid != 0 || entry.gid != 0) { return false }
            let owner = asRoot ? (uid_t(entry.uid), gid_t(entry.gid)) : (geteuid(), getegid())
            guard let st = sourceDirectories.lstatus(of: source),
                  st.st_mode & S_IFMT == S_IFREG, st.st_size == size,
                  st.st_mode & 0o7777 == mode_t(entry.mode & 0o7777), Int64(st.st_mtim.tv_sec) == entry.mtimeSeconds,
                  st.st_uid == owner.0, st.st_gid == owner.1,
                  case let before = LinkJournal.Status(st),
                  let linked = journal.link(source, to: full, before: before, sources: sourceDirectories, links: linkDirectories)
            else { return false }
            let same = linked.matchesApartFromLinking(before) && linkDirectories.extendedAttributeListSize(of: full) == 0
            if !same, !journal.unlinkLast(full) { throw failed(full) }
            return same
        }

        /// Every parent of `path` is a directory made here (made now when missing, 0755 root).
        private mutating func makeParents(of path: String) throws -> Bool {
            guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return true }
            let parentPart = path[..<slash].utf8
            if let lastParent, sameBytes(lastParent, parentPart) { return true }
            guard try makeEachParent(of: path) else { return false }
            lastParent = parentPart
            return true
        }

        private mutating func makeEachParent(of path: String) throws -> Bool {
            var parent = ""
            for component in PathBytes.components(path).dropLast() {
                parent = parent.isEmpty ? component : parent + "/" + component
                let key = PathKey(parent)
                switch made[key] {
                case .directory: continue
                case .file, .other: return false
                case nil: break
                }
                guard PathBytes.withCString(root + "/" + parent, { mkdir($0, 0o755) }) == 0 else { throw failed(root + "/" + parent) }
                made[key] = .directory(nil)
            }
            return true
        }

        /// Owner (as root), mode and mtime; symlinks get owner and mtime only.
        private func apply(_ entry: LayerEntry, to full: String) throws {
            let isLink: Bool
            if case .symlink = entry.kind { isLink = true } else { isLink = false }
            if asRoot, PathBytes.withCString(full, { lchown($0, uid_t(entry.uid), gid_t(entry.gid)) }) != 0 { throw failed(full) }
            if !isLink, PathBytes.withCString(full, { chmod($0, mode_t(entry.mode & 0o7777)) }) != 0 { throw failed(full) }
            // Whole seconds, as the layer's tar headers carry them.
            var times = [timespec(tv_sec: Int(entry.mtimeSeconds), tv_nsec: 0), timespec(tv_sec: Int(entry.mtimeSeconds), tv_nsec: 0)]
            if PathBytes.withCString(full, { utimensat(AT_FDCWD, $0, &times, AT_SYMLINK_NOFOLLOW) }) != 0 { throw failed(full) }
        }

        /// Directories' metadata last, deepest first (adding entries changes a directory's mtime).
        func finishDirectories() throws {
            for path in directoryOrder.reversed() {
                if case .directory(let entry?) = made[PathKey(path)] { try apply(entry, to: root + "/" + path) }
            }
            if case .directory(let entry?) = made[""] { try apply(entry, to: root) }
        }

        private func failed(_ path: String) -> LayerError {
            LayerError.writeFailed(path: path, reason: LayerError.errnoText())
        }
    }
}

import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Turns the upper directory of an overlay mount (what a RUN step changed) into layer items.
///
/// Mapping (overlayfs → OCI layer):
/// - character device 0/0 (overlay whiteout) → empty regular file `dir/.wh.NAME`, mode 0, 0:0;
/// - directory with xattr `trusted.overlay.opaque=y` or `user.overlay.opaque=y` (mounted with
///   `userxattr`) → the directory entry, then empty regular file `dir/.wh..wh..opq`, mode 0, 0:0;
/// - directories (including parents overlay merely copied up), regular files (content read
///   from the upper dir when the layer is written), symlinks; a second path of an inode already
///   emitted becomes a hard link to the first;
/// - sockets, FIFOs and other devices are skipped.
///
/// Order: depth-first, parents before children, siblings compared bytewise by name (the order
/// of a tar of a sorted tree), except that in each directory the opaque marker and then the
/// whiteouts (sorted by name) come right after the directory's own entry, before any sibling.
///
/// Upper dirs written with overlay's `redirect_dir` or `metacopy` features (xattrs
/// `overlay.redirect` / `overlay.metacopy`) cannot be diffed without the lower layers and are
/// rejected; mount the sandbox with `redirect_dir=off,metacopy=off` (the kernel defaults, and
/// implied by `userxattr`).
public enum OverlayDiff {
    /// Prefix of an OCI whiteout file name.
    public static let whiteoutPrefix = ".wh."
    /// Name of the OCI opaque-directory marker.
    public static let opaqueMarker = ".wh..wh..opq"

    /// The items of the layer that `upperDir` describes.
    /// - Parameters:
    ///   - idMap: maps on-disk owners to container owners (see `IDMap`).
    ///   - excluding: layer paths (`etc/hosts`, `dev`; leading/trailing `/` ignored) dropped
    ///     together with everything below them, whatever they are (whiteouts included). Keyed
    ///     by bytes: excluding `é` (U+00E9) keeps a sibling `e` + U+0301.
    ///   - sourceDateEpoch: when set, later mtimes are clamped to it.
    public static func items(upperDir: String, idMap: IDMap = .identity, excluding: Set<PathKey> = [],
                             sourceDateEpoch: Int64? = nil) throws -> [LayerItem] {
        var root = upperDir
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        let excluded = Set(excluding.map { PathKey(PathBytes.components($0.path).joined(separator: "/")) })
        var walker = OverlayWalker(root: root, idMap: idMap, excluded: excluded, epoch: sourceDateEpoch)
        try walker.run()
        return walker.items
    }
}

/// One depth-first walk of an upper dir.
private struct OverlayWalker {
    let root: String
    let excluded: Set<PathKey>
    let entries: DiskEntries
    var items: [LayerItem] = []
    /// First layer path of every multiply-linked regular file emitted so far.
    var links: [InodeKey: String] = [:]

    init(root: String, idMap: IDMap, excluded: Set<PathKey>, epoch: Int64?) {
        self.root = root
        self.excluded = excluded
        self.entries = DiskEntries(idMap: idMap, epoch: epoch)
    }

    mutating func run() throws {
        let st = try TreeIO.requireStatus(root)
        guard st.st_mode & S_IFMT == S_IFDIR else { throw TreeIO.unreadable(root, "not a directory") }
        // Pending entries, the next one last; a directory's children are pushed in reverse.
        var stack: [(rel: String, st: stat)] = []
        try expand("", st, onto: &stack)
        while let (rel, st) = stack.popLast() {
            let host = root + "/" + rel
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                items.append(.entry(entries.entry(rel, .directory, st)))
                try expand(rel, st, onto: &stack)
            case S_IFREG:
                if try TreeIO.xattrNames(host).contains(where: { TreeIO.isOverlayXattr($0, "metacopy") }) {
                    throw TreeIO.unreadable(host, "overlay metacopy file (content lives in a lower layer); mount with metacopy=off")
                }
                if st.st_nlink > 1 {
                    let key = InodeKey(st)
                    if let first = links[key] {
                        items.append(.entry(entries.entry(rel, .hardlink(target: first), st)))
                        continue
                    }
                    links[key] = rel
                }
                items.append(.entry(entries.entry(rel, .regularFile(.file(path: host, size: Int64(st.st_size))), st)))
            case S_IFLNK:
                items.append(.entry(entries.entry(rel, .symlink(target: try TreeIO.readLink(host, size: Int(st.st_size))), st)))
            default:
                continue  // sockets, FIFOs, devices (whiteouts were handled by the parent)
            }
        }
    }

    /// Emits the opaque marker and whiteouts of directory `rel` and pushes its other children.
    private mutating func expand(_ rel: String, _ st: stat, onto stack: inout [(rel: String, st: stat)]) throws {
        let host = rel.isEmpty ? root : root + "/" + rel
        let prefix = rel.isEmpty ? "" : rel + "/"
        var opaque = false
        for name in try TreeIO.xattrNames(host) {
            if TreeIO.isOverlayXattr(name, "redirect") {
                throw TreeIO.unreadable(host, "overlay redirected directory (renamed from a lower layer); mount with redirect_dir=off")
            }
            if TreeIO.isOverlayXattr(name, "opaque"), try TreeIO.xattrValue(host, name) == Array("y".utf8) { opaque = true }
        }
        if opaque {
            items.append(.entry(entries.marker(prefix + OverlayDiff.opaqueMarker, st)))
        }
        var children: [(rel: String, st: stat)] = []
        for name in try TreeIO.listDirectory(host) {
            let childRel = prefix + name
            if excluded.contains(PathKey(childRel)) { continue }
            let childHost = host + "/" + name
            guard let childSt = TreeIO.status(childHost) else {
                if errno == ENOENT { continue }
                throw TreeIO.unreadable(childHost, LayerError.errnoText())
            }
            if TreeIO.isOverlayWhiteout(childSt) {
                items.append(.entry(entries.marker(prefix + OverlayDiff.whiteoutPrefix + name, childSt)))
                continue
            }
            if PathBytes.hasPrefix(name, OverlayDiff.whiteoutPrefix) {
                throw TreeIO.unreadable(childHost, "a file named \(OverlayDiff.whiteoutPrefix)* cannot be stored in a layer (it would read as a whiteout)")
            }
            children.append((childRel, childSt))
        }
        stack.append(contentsOf: children.reversed())
    }
}

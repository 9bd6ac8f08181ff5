import Foundation
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// The merged view of stacked layer directories, as overlayfs would show them mounted with
/// these directories as lower dirs: the topmost entry of a name wins; directories of the same
/// name merge down the stack until a layer hides them.
///
/// A layer directory hides a name of the layers below it with an overlay whiteout (a 0/0
/// character device, as an overlay upper dir holds them) or an OCI whiteout file `.wh.NAME`
/// (as a copy-and-compare RUN layer keeps them), and stops a directory's merge with overlay's
/// opaque xattr or an OCI `.wh..wh..opq` file. A non-directory stops the merge of a directory
/// below it. The base rootfs (whiteouts applied when unpacked) holds neither.
struct MergedLayers {
    /// One merged child of a directory.
    struct Child {
        var name: String
        /// Where the winning entry lives on disk.
        var host: String
        var status: stat
        /// For a directory: its host directories, top first, down to where the merge stops.
        var sources: [String]

        var isDirectory: Bool { status.st_mode & S_IFMT == S_IFDIR }
    }

    /// Layer directories, top first.
    let layers: [String]

    /// The host directories making up the merged root, top first.
    func rootSources() throws -> [String] {
        var sources: [String] = []
        for layer in layers {
            let st = try TreeIO.requireStatus(layer)
            guard st.st_mode & S_IFMT == S_IFDIR else { throw TreeIO.unreadable(layer, "not a directory") }
            sources.append(layer)
        }
        return sources
    }

    /// The merged children of the directory whose host directories are `sources` (top first),
    /// sorted bytewise by name; whiteouts and opaque markers themselves are never children.
    /// Names are keyed by their bytes (`PathKey`): `é` and `e` + U+0301 are two children.
    func children(of sources: [String]) throws -> [Child] {
        var found: [PathKey: Child] = [:]
        // Names no lower layer may contribute to any more (hidden, or shadowed by a non-directory).
        var closed = Set<PathKey>()
        for source in sources {
            var hidden: [PathKey] = []
            var opaque = try TreeIO.hasOpaqueXattr(source)
            for name in try TreeIO.listDirectory(source) {
                let key = PathKey(name)
                if PathBytes.same(name, OverlayDiff.opaqueMarker) { opaque = true; continue }
                if PathBytes.hasPrefix(name, OverlayDiff.whiteoutPrefix) {
                    hidden.append(PathKey(String(name.utf8.dropFirst(OverlayDiff.whiteoutPrefix.utf8.count))!))
                    continue
                }
                if closed.contains(key) { continue }
                let host = source + "/" + name
                guard let st = TreeIO.status(host) else {
                    if errno == ENOENT { continue }
                    throw TreeIO.unreadable(host, LayerError.errnoText())
                }
                if TreeIO.isOverlayWhiteout(st) { hidden.append(key); continue }
                let isDirectory = st.st_mode & S_IFMT == S_IFDIR
                if var above = found[key] {
                    // `above` is a directory (a non-directory closes its name at once).
                    if isDirectory { above.sources.append(host); found[key] = above } else { closed.insert(key) }
                } else {
                    found[key] = Child(name: name, host: host, status: st, sources: isDirectory ? [host] : [])
                    if !isDirectory { closed.insert(key) }
                }
            }
            // A whiteout hides the layers below its own, never an entry of the same layer.
            closed.formUnion(hidden)
            if opaque { break }
        }
        return found.values.sorted { PathBytes.less($0.name, $1.name) }
    }
}

import Foundation
import Layers
import PathEncoding

/// The directories a RUN's mount points needed that the image did not have: the sandbox makes
/// them (in the overlay's upper dir) to mount on, and they must not become part of the layer
/// when the RUN left them empty — for a secret at `/run/secrets/token` that is `run/secrets`.
/// BuildKit does the same (executor/stubs.go, MountStubsCleaner: paths that did not exist before
/// the exec are removed afterwards when empty). Copy isolation needs none of this: its mount
/// points are part of the snapshot it compares with.
///
/// Paths are keyed by their bytes (`PathKey`), as everywhere else: mount targets under `é`
/// (U+00E9) and under `e` + U+0301 need two stub directories, and excluding one never hides
/// the other.
struct MountStubs {
    /// Layer paths (no leading `/`), deepest first.
    private(set) var directories: [PathKey] = []

    /// `lowers` top first, as the overlay stacks them. A path counts as present when any layer
    /// has it; a symlink on the way ends the walk (the sandbox resolves it inside the root, so
    /// what it creates is elsewhere and is left in the layer).
    init(targets: [String], lowers: [String]) {
        var seen = Set<PathKey>()
        var found: [(path: PathKey, depth: Int)] = []
        for target in targets {
            let components = PathBytes.components(cleanLayerPath(target))
            var path = ""
            for (depth, component) in components.dropLast().enumerated() {
                path = path.isEmpty ? component : path + "/" + component
                var present = false, symlink = false
                for lower in lowers {
                    var st = stat()
                    guard PathBytes.withCString(lower + "/" + path, { lstat($0, &st) }) == 0 else { continue }
                    present = true
                    symlink = (st.st_mode & S_IFMT) == S_IFLNK
                    break
                }
                if symlink { break }
                if !present && seen.insert(PathKey(path)).inserted { found.append((PathKey(path), depth)) }
            }
        }
        directories = found.sorted { $0.depth > $1.depth }.map(\.path)
    }

    /// The stub directories that hold nothing but excluded paths (or other such stubs) in `upper`.
    func emptyDirectories(in upper: String, excluding excluded: Set<PathKey>) -> Set<PathKey> {
        var empty = Set<PathKey>()
        for directory in directories {
            let host = upper + "/" + directory.path
            var st = stat()
            guard PathBytes.withCString(host, { lstat($0, &st) }) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                  let entries = try? directoryEntryNames(host) else { continue }
            if entries.allSatisfy({ excluded.contains(PathKey(directory.path + "/" + $0)) || empty.contains(PathKey(directory.path + "/" + $0)) }) {
                empty.insert(directory)
            }
        }
        return empty
    }
}

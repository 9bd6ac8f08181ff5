import Foundation

/// The directories a RUN's mount points needed that the image did not have: the sandbox makes
/// them (in the overlay's upper dir) to mount on, and they must not become part of the layer
/// when the RUN left them empty — for a secret at `/run/secrets/token` that is `run/secrets`.
/// BuildKit does the same (executor/stubs.go, MountStubsCleaner: paths that did not exist before
/// the exec are removed afterwards when empty). Copy isolation needs none of this: its mount
/// points are part of the snapshot it compares with.
struct MountStubs {
    /// Layer paths (no leading `/`), deepest first.
    private(set) var directories: [String] = []

    /// `lowers` top first, as the overlay stacks them. A path counts as present when any layer
    /// has it; a symlink on the way ends the walk (the sandbox resolves it inside the root, so
    /// what it creates is elsewhere and is left in the layer).
    init(targets: [String], lowers: [String]) {
        var seen = Set<String>()
        for target in targets {
            let components = cleanLayerPath(target).split(separator: "/").map(String.init)
            var path = ""
            for component in components.dropLast() {
                path = path.isEmpty ? component : path + "/" + component
                var present = false, symlink = false
                for lower in lowers {
                    var st = stat()
                    guard lstat(lower + "/" + path, &st) == 0 else { continue }
                    present = true
                    symlink = (st.st_mode & S_IFMT) == S_IFLNK
                    break
                }
                if symlink { break }
                if !present && seen.insert(path).inserted { directories.append(path) }
            }
        }
        directories.sort { $0.split(separator: "/").count > $1.split(separator: "/").count }
    }

    /// The stub directories that hold nothing but excluded paths (or other such stubs) in `upper`.
    func emptyDirectories(in upper: String, excluding excluded: Set<String>) -> Set<String> {
        var empty = Set<String>()
        for directory in directories {
            var st = stat()
            guard lstat(upper + "/" + directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR,
                  let entries = try? FileManager.default.contentsOfDirectory(atPath: upper + "/" + directory) else { continue }
            if entries.allSatisfy({ excluded.contains(directory + "/" + $0) || empty.contains(directory + "/" + $0) }) {
                empty.insert(directory)
            }
        }
        return empty
    }
}

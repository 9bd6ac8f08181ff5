// layer-bench DIR [--level N | --none] [--block BYTES] [--repeat N] [--out FILE (kept)]
// Walks DIR (sorted, parents first), writes it as one layer with LayerWriter and prints
// throughput (uncompressed tar bytes / wall time), compressed size, ratio and peak RSS.
import Foundation
import Layers

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(i...(i + 1)) }
    return arguments[i + 1]
}
var compression = LayerWriter().compression
if let level = option("--level").flatMap(Int.init) { compression = .gzip(level: level) }
if let i = arguments.firstIndex(of: "--none") { arguments.remove(at: i); compression = .none }
let block = option("--block").flatMap(Int.init)
let repeats = option("--repeat").flatMap(Int.init) ?? 1
let keep = option("--out")
let out = keep ?? NSTemporaryDirectory() + "layer-bench-\(getpid()).blob"
guard let root = arguments.first else {
    FileHandle.standardError.write("usage: layer-bench DIR [--level N|--none] [--block BYTES] [--repeat N]\n".data(using: .utf8)!)
    exit(2)
}

/// Lists DIR as layer items: sorted paths (parents sort before their children), lstat metadata.
func walk(_ root: String) throws -> [LayerItem] {
    let paths = try FileManager.default.subpathsOfDirectory(atPath: root).sorted()
    var items: [LayerItem] = []
    var inodes: [UInt64: String] = [:]
    for rel in paths {
        let full = root + "/" + rel
        var st = stat()
        guard lstat(full, &st) == 0 else { continue }
        let kind: LayerEntry.Kind
        switch st.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink(target: try FileManager.default.destinationOfSymbolicLink(atPath: full))
        case S_IFREG:
            if st.st_nlink > 1, let first = inodes[UInt64(st.st_ino)] {
                kind = .hardlink(target: first)
            } else {
                if st.st_nlink > 1 { inodes[UInt64(st.st_ino)] = rel }
                kind = .regularFile(.file(path: full, size: Int64(st.st_size)))
            }
        default: continue
        }
        items.append(.entry(LayerEntry(path: rel, kind: kind, mode: UInt32(st.st_mode) & 0o7777,
                                       uid: Int(st.st_uid), gid: Int(st.st_gid),
                                       mtimeSeconds: Int64(st.st_mtim.tv_sec), mtimeNanoseconds: Int32(st.st_mtim.tv_nsec))))
    }
    return items
}

let items = try walk(root)
var writer = LayerWriter(compression: compression)
if let block { writer.gzipBlockSize = block }
for run in 1...repeats {
    let start = DispatchTime.now()
    let layer = try await writer.write(items, to: out)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let mb = Double(layer.uncompressedSize) / 1e6
    print(String(format: "run %d  %@  items %d  tar %.1f MB  %.2f s  %.0f MB/s  blob %.1f MB  ratio %.3f  peakRSS %.0f MB",
                 run, "\(compression)".replacingOccurrences(of: " ", with: ""), items.count, mb, seconds, mb / seconds,
                 Double(layer.size) / 1e6, Double(layer.size) / Double(layer.uncompressedSize),
                 Double(usage.ru_maxrss) / 1024))
    print("  digest \(layer.digest)  diffID \(layer.diffID)")
}
if keep == nil { unlink(out) }

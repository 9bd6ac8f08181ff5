import BuildContext
import DockerfileSyntax
import Layers
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// Turns one (already expanded) COPY or ADD into the entries of its layer, following
/// BuildKit's rules: sources relative to the context, a directory copies its contents,
/// several sources need a destination ending in `/`, parent directories created, modes kept,
/// symlinks not followed, hard links kept within the step. Paths are compared, keyed and sorted
/// by their bytes (`PathKey`): `é` and `e` + U+0301 are two files, as for the kernel and BuildKit.
struct CopyPlanner {
    /// Where sources are read from: the build context, or a stage/image root unpacked on disk.
    struct Source {
        var directory: ContextDirectory
        /// Owners recorded while unpacking rootless (path → owner); nil for the build context,
        /// whose files land as root unless `--chown` says otherwise.
        var owners: [PathKey: Owner]?
    }

    var instruction: CopyInstruction
    var isAdd: Bool
    var source: Source
    var workdir: String
    var view: FilesystemView
    var owner: Owner?
    var chmod: FileModeChange?
    /// Seconds since the epoch for entries with no source file (heredocs, created directories).
    var now: Int64

    /// Files already downloaded for `ADD <URL>` sources, by URL.
    var downloads: [String: ContextEntry] = [:]
    /// When set, every answer the plan takes from `view` is noted there (`EarlyCopy`).
    var viewReads: ViewReads?

    /// The entries in the order they were first planned (a later entry for the same path takes
    /// its place), with the source's `lstat` for files from the build context, and where each
    /// path is.
    private var items: [LayerEntry] = []
    private var stamps: [FileDigestIndex.Stamp?] = []
    private var itemIndex: [PathKey: Int] = [:]
    private var archives: [LayerItem] = []
    /// For each item `plan()` returned, its source file's `lstat` as the context walk saw it
    /// (nil for anything else): handed to `FileDigestIndex` so no file is statted twice.
    private(set) var plannedStamps: [FileDigestIndex.Stamp?] = []
    private var firstPathOfInode: [InodeKey: String] = [:]
    private struct InodeKey: Hashable { var device: UInt64; var inode: UInt64 }

    init(instruction: CopyInstruction, isAdd: Bool, source: Source, workdir: String, view: FilesystemView,
         owner: Owner?, chmod: FileModeChange?, now: Int64) {
        self.instruction = instruction
        self.isAdd = isAdd
        self.source = source
        self.workdir = workdir
        self.view = view
        self.owner = owner
        self.chmod = chmod
        self.now = now
    }

    /// The layer's items, parents before children, in byte order of path components.
    ///
    /// With `stream`, the items are also appended to it while the plan is made, when the step
    /// is one that can be (`streams`: a single directory source, whose walk comes in tar
    /// order); else all at once at the end. `streamedInOrder` then tells whether what was
    /// appended is exactly the returned list. The caller finishes or fails the stream.
    mutating func plan(streamingInto stream: LayerItemStream? = nil) throws -> [LayerItem] {
        let keyword = isAdd ? "ADD" : "COPY"
        var dest = instruction.destination
        let endsAsDirectory = dest.hasSuffix("/") || dest.hasSuffix("/.") || dest == "." || dest.isEmpty
        if !dest.hasPrefix("/") { dest = workdir + "/" + dest }
        // Symlinks on the destination (the last component included, dangling or not) are
        // followed inside the image's root, never outside it: BuildKit's fs.RootPath. (buildah
        // replaces a dangling final symlink instead; BuildKit is the reference.)
        guard let destPath = resolveInView(cleanLayerPath(dest)) else {
            throw BuildError("\(instruction.destination): too many levels of symbolic links")
        }

        let heredocNames = Set(instruction.heredocs.map(\.name))
        var matched: [(String, [ContextEntry])] = []
        for src in instruction.sources {
            if src.hasPrefix("<<"), heredocNames.contains(heredocName(src)) { continue }
            if Self.isRemote(src) {
                guard isAdd else { throw BuildError("\(src): \(keyword) does not accept URLs; use ADD") }
                guard let downloaded = downloads[src] else {
                    throw BuildError("ADD \(src): git sources are not supported; use an http(s) URL")
                }
                matched.append((src, [downloaded]))
                continue
            }
            matched.append((src, try source.directory.resolveSources(src)))
        }
        let totalSources = instruction.sources.count
        let manyMatches = matched.reduce(0) { $0 + $1.1.count } + instruction.heredocs.count > 1
        if (totalSources > 1 || manyMatches) && !endsAsDirectory && !isDirectoryInView(destPath) {
            throw BuildError("When using \(keyword) with more than one source file, the destination must be a directory and end with a /")
        }
        let destIsDirectory = endsAsDirectory || totalSources > 1 || manyMatches || isDirectoryInView(destPath)
        let excludes = instruction.excludes.isEmpty ? nil : try PatternMatcher(patterns: instruction.excludes)
        var streaming = stream.map { StreamedItems(stream: $0) }
        if streaming != nil, !streams(matched, excludes: excludes) { streaming = nil }

        for heredoc in instruction.heredocs {
            let target = destIsDirectory ? join(destPath, heredoc.name) : destPath
            let mode = chmod?.apply(to: 0o644, isDirectory: false) ?? 0o644
            add(LayerEntry(path: target, kind: .regularFile(.bytes(Array(heredoc.content.utf8))), mode: mode,
                           uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, mtimeSeconds: now))
        }

        for (src, entries) in matched {
            let pivot = parentsPivot(src)
            for entry in entries {
                if let excludes, excludes.isExcluded(entry.relativePath) { continue }
                var base = destPath
                if instruction.parents {
                    let parent = FilesystemView.split(entry.relativePath).0
                    base = join(destPath, strip(pivot, from: parent))
                }
                switch entry.type {
                case .directory:
                    ensureDirectory(base)
                    if streaming != nil {
                        streaming!.predictedParents = missingParents(of: base)
                        try streaming!.publish(items)
                        // A copy: the walk reads it while the closure changes `self`.
                        let directory = source.directory
                        try directory.walk(entry, excluding: instruction.excludes) { children in
                            for child in children {
                                try addEntry(child, at: target(of: child.relativePath, below: entry.relativePath, at: base))
                            }
                            try streaming!.publish(items)
                        }
                        break
                    }
                    let children = try source.directory.walk(entry, excluding: instruction.excludes)
                    reserve(children.count)
                    for child in children {
                        try addEntry(child, at: target(of: child.relativePath, below: entry.relativePath, at: base))
                    }
                default:
                    let name = FilesystemView.split(entry.relativePath).1
                    let target = (destIsDirectory || instruction.parents) ? join(base, name) : base
                    if isAdd, instruction.unpack != false, !Self.isRemote(src), case .regular = entry.type,
                       ArchiveDetector.isExtractableArchive(path: entry.absolutePath) {
                        // Checked here, so a hostile archive fails at the ADD's own line
                        // before anything is written (the layer is written concurrently).
                        do {
                            try ArchiveSafety.check(path: entry.absolutePath)
                        } catch let refusal as ArchiveSafety.Refusal {
                            throw BuildError("\(src): archive refused: \(refusal)")
                        }
                        ensureDirectory(destIsDirectory ? base : target)
                        archives.append(.archive(archivePath: entry.absolutePath,
                                                 destination: destIsDirectory ? base : target, owner: owner))
                    } else {
                        try addEntry(entry, at: target)
                    }
                }
            }
        }
        let planned = items.count
        addMissingParents()
        let order = Self.tarOrder(items.map(\.path), sortedPrefix: planned)
        plannedStamps = order.map { stamps[$0] } + archives.map { _ in nil }
        let result = order.map { LayerItem.entry(items[$0]) } + archives
        if let streaming {
            streamedInOrder = streaming.matches(order: order, items: items, planned: planned, replaced: replacedItems)
        } else if let stream {
            stream.append(result)
            streamedInOrder = true
        }
        return result
    }

    /// Whether `plan(streamingInto:)` appended exactly the list it returned, in its order.
    private(set) var streamedInOrder = false
    /// Items a later one for the same path took the place of (the stream had sent the first).
    private var replacedItems = 0

    /// Indices of `paths` in tar order (`componentsPrecede`). A directory walk already yields
    /// its entries in that order, and the missing parents come last and are few, so the first
    /// `sortedPrefix` paths are only checked (n comparisons, not n log n) and the rest merged in.
    static func tarOrder(_ paths: [String], sortedPrefix: Int) -> [Int] {
        var head = Array(0..<sortedPrefix)
        if zip(head, head.dropFirst()).contains(where: { !componentsPrecede(paths[$0], paths[$1]) }) {
            head.sort { componentsPrecede(paths[$0], paths[$1]) }
        }
        let tail = Array(sortedPrefix..<paths.count).sorted { componentsPrecede(paths[$0], paths[$1]) }
        var merged: [Int] = []
        merged.reserveCapacity(paths.count)
        var i = 0, j = 0
        while i < head.count || j < tail.count {
            if j == tail.count || (i < head.count && !componentsPrecede(paths[tail[j]], paths[head[i]])) {
                merged.append(head[i]); i += 1
            } else {
                merged.append(tail[j]); j += 1
            }
        }
        return merged
    }

    // MARK: entries

    private mutating func addEntry(_ entry: ContextEntry, at target: String) throws {
        let owned = ownerOf(entry)
        var mode = entry.mode
        let kind: LayerEntry.Kind
        switch entry.type {
        case .directory:
            kind = .directory
            mode = chmod?.apply(to: mode, isDirectory: true) ?? mode
        case .regular:
            if entry.linkCount > 1 {
                let key = InodeKey(device: entry.device, inode: entry.inode)
                if let first = firstPathOfInode[key] {
                    add(LayerEntry(path: target, kind: .hardlink(target: first), mode: chmod?.apply(to: mode, isDirectory: false) ?? mode,
                                   uid: owned.uid, gid: owned.gid, mtimeSeconds: entry.mtimeSeconds, mtimeNanoseconds: entry.mtimeNanoseconds))
                    return
                }
                firstPathOfInode[key] = target
            }
            kind = .regularFile(.file(path: entry.absolutePath, size: entry.size))
            mode = chmod?.apply(to: mode, isDirectory: false) ?? mode
            add(LayerEntry(path: target, kind: kind, mode: mode, uid: owned.uid, gid: owned.gid,
                           mtimeSeconds: entry.mtimeSeconds, mtimeNanoseconds: entry.mtimeNanoseconds),
                stamp: entry.ctimeNanosecondsSinceEpoch == 0 ? nil : FileDigestIndex.Stamp(entry))
            return
        case .symlink(let linkTarget):
            kind = .symlink(target: linkTarget)
        case .other:
            return  // sockets, devices and FIFOs are not copied, as BuildKit skips them
        }
        add(LayerEntry(path: target, kind: kind, mode: mode, uid: owned.uid, gid: owned.gid,
                       mtimeSeconds: entry.mtimeSeconds, mtimeNanoseconds: entry.mtimeNanoseconds))
    }

    private func ownerOf(_ entry: ContextEntry) -> Owner {
        if let owner { return owner }
        guard let owners = source.owners else { return Owner(uid: 0, gid: 0) }
        return owners[PathKey(entry.relativePath)] ?? Owner(uid: entry.uid, gid: entry.gid)
    }

    /// The destination directory of a directory copy (whose contents are copied into it):
    /// when missing, created 0755 with the time of the build, owned by `--chown` or root —
    /// never with the source directory's mode (BuildKit's MkdirAll of the destination: a 0750
    /// `/out/sub` copied to `/o2` gives a 0755 `/o2`). An existing one is left as it is.
    private mutating func ensureDirectory(_ path: String) {
        guard !path.isEmpty, itemIndex[PathKey(path)] == nil, !existsInView(path) else { return }
        let o = owner ?? Owner(uid: 0, gid: 0)
        add(LayerEntry(path: path, kind: .directory, mode: 0o755, uid: o.uid, gid: o.gid, mtimeSeconds: now))
    }

    /// Parents that neither exist below nor are written by this step, created 0755 (owned by
    /// `--chown` when given, as BuildKit's mkdir -p does). Appended after the planned items.
    ///
    /// Each item's ancestors are looked at once: the climb stops at an ancestor that is itself
    /// an item (its own climb covers the rest) or one already seen, so a 32k-entry tree costs
    /// one parent lookup per entry instead of every ancestor of every entry.
    private mutating func addMissingParents() {
        for entry in missingParents(of: nil) { add(entry) }
    }

    /// The parents `addMissingParents` adds, in the order it adds them: of every item and
    /// archive destination, or (`path`) of that one path only.
    private func missingParents(of path: String?) -> [LayerEntry] {
        var needed: [String] = []
        var seen = Set<PathKey>()
        func climb(from path: String, includingItself: Bool) {
            var next: String? = includingItself ? path : parentPath(path)
            while let current = next {
                let key = PathKey(current)
                if itemIndex[key] != nil || !seen.insert(key).inserted { return }
                if !existsInView(current) { needed.append(current) }
                next = parentPath(current)
            }
        }
        if let path {
            climb(from: path, includingItself: false)
        } else {
            // Files of one directory come together (a walk's order): the climb from the parent
            // they share is done for the first of them only (it would find nothing new again).
            var climbedFrom: String?
            for item in items {
                if let previous = climbedFrom, Self.sameParent(previous, item.path) { continue }
                climb(from: item.path, includingItself: false)
                climbedFrom = item.path
            }
            for case .archive(_, let dest, _) in archives { climb(from: dest, includingItself: true) }
        }
        let o = owner ?? Owner(uid: 0, gid: 0)
        return needed.map { LayerEntry(path: $0, kind: .directory, mode: 0o755, uid: o.uid, gid: o.gid, mtimeSeconds: now) }
    }

    /// Whether two clean layer paths have the same parent (compared as bytes; false when
    /// either is not a native string, which only costs the caller a climb).
    static func sameParent(_ a: String, _ b: String) -> Bool {
        let same = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                let slash = UInt8(ascii: "/")
                guard let end = x.lastIndex(of: slash) else { return !y.contains(slash) }
                guard let other = y.lastIndex(of: slash), other == end else { return false }
                return memcmp(x.baseAddress!, y.baseAddress!, end) == 0
            }
        }
        return (same ?? nil) ?? false
    }

    /// The parent of a clean layer path, nil at the top (`a/b/c` → `a/b`, `a` → nil).
    private func parentPath(_ path: String) -> String? {
        let utf8 = path.utf8
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        return String(path[..<slash])
    }

    /// Room for `more` entries at once: a 30k-file walk otherwise regrows (and rehashes) the
    /// path index fifteen times. Small walks grow as usual (repeated exact reserves would copy).
    private mutating func reserve(_ more: Int) {
        guard more >= 1024 else { return }
        items.reserveCapacity(max(items.count + more, 2 * items.count))
        stamps.reserveCapacity(max(stamps.count + more, 2 * stamps.count))
        itemIndex.reserveCapacity(max(itemIndex.count + more, 2 * itemIndex.count))
    }

    private mutating func add(_ entry: LayerEntry, stamp: FileDigestIndex.Stamp? = nil) {
        guard !entry.path.isEmpty else { return }
        let key = PathKey(entry.path)
        // One hash and probe for a new path (nearly all); a repeated one gets its place back.
        if let at = itemIndex.updateValue(items.count, forKey: key) {
            itemIndex[key] = at
            items[at] = entry
            stamps[at] = stamp
            replacedItems += 1
        } else {
            items.append(entry)
            stamps.append(stamp)
        }
    }

    // MARK: paths

    private func join(_ a: String, _ b: String) -> String {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        return a + "/" + b
    }

    /// Where a walked `child` of the source directory `directory` lands below `base`: `base`
    /// joined with the child's path below the directory, made with one String (this runs for
    /// every file of the context).
    private func target(of child: String, below directory: String, at base: String) -> String {
        // Bytes, not Characters: `/` + U+0301 is one Character, and a String index inside it
        // would be rounded to its start.
        let utf8 = child.utf8
        var rel = utf8[...]
        if directory != "." && !directory.isEmpty {
            guard PathBytes.hasPrefix(child, directory),
                  let slash = utf8.index(utf8.startIndex, offsetBy: directory.utf8.count, limitedBy: utf8.endIndex),
                  slash < utf8.endIndex, utf8[slash] == UInt8(ascii: "/") else {
                return join(base, strip(directory, from: child))
            }
            rel = utf8[utf8.index(after: slash)...]
        }
        if rel.isEmpty { return base }
        guard !base.isEmpty else { return String(rel)! }
        var joined = ""
        joined.reserveCapacity(base.utf8.count + 1 + rel.count)
        joined += base
        joined += "/"
        joined += Substring(rel)  // no String of `rel` first
        return joined
    }

    /// `child` relative to `prefix` (`a/b`, `a/b/c/d` → `c/d`), comparing bytes.
    private func strip(_ prefix: String, from child: String) -> String {
        if prefix.isEmpty { return child }
        if PathBytes.same(child, prefix) { return "" }
        guard PathBytes.hasPrefix(child, prefix + "/") else { return child }
        return String(child.utf8.dropFirst(prefix.utf8.count + 1))!
    }

    /// For `--parents`, the part of the source before a `/./` pivot is not kept.
    private func parentsPivot(_ src: String) -> String {
        guard let range = src.range(of: "/./") else { return "" }
        return cleanLayerPath(String(src[..<range.lowerBound]))
    }

    private func heredocName(_ src: String) -> String {
        var name = String(src.dropFirst(2))
        if name.hasPrefix("-") { name.removeFirst() }
        return name.trimmingCharacters(in: ["\"", "'"])
    }

    static func isRemote(_ src: String) -> Bool {
        src.hasPrefix("http://") || src.hasPrefix("https://") || src.hasPrefix("git@") || src.hasPrefix("git://")
    }

    /// Tar order: component by component in byte order, so a directory precedes its children.
    /// For clean paths that is byte order with `/` ranked below every other byte, compared here
    /// without splitting (this runs n log n times for a context of n files). The bytes are the
    /// names' own (`PathBytes`), so `é` (C3 A9) and `e` + U+0301 (65 CC 81) are two entries in
    /// Go's order, as BuildKit writes them.
    static func componentsPrecede(_ a: String, _ b: String) -> Bool {
        if PathBytes.hasEscapes(a) || PathBytes.hasEscapes(b) {
            return componentsPrecede(PathBytes.bytes(a), PathBytes.bytes(b))
        }
        // Native strings through their buffers: the generic iterators were a fiftieth of a
        // no-change rebuild (tarOrder checks every adjacent pair of a 32k-entry walk).
        let compared = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in componentsPrecede(x, y) }
        }
        if let compared, let result = compared { return result }
        return componentsPrecede(a.utf8, b.utf8)
    }

    private static func componentsPrecede<C: Collection>(_ a: C, _ b: C) -> Bool where C.Element == UInt8 {
        var x = a.makeIterator(), y = b.makeIterator()
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case let (p?, q?) where p != q:
                let slash = UInt8(ascii: "/")
                return (p == slash ? 0 : p) < (q == slash ? 0 : q)
            default: continue
            }
        }
    }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

import CLinux
import Foundation
import ImageModel
import Layers
import PathEncoding
#if canImport(Glibc)
import Glibc
#endif

/// An unpacked root file system of a stack of layers, shared by every build that starts from
/// the same layers. Read-only: use it as an overlay lower dir, never write into it.
public struct UnpackedRootfs: Sendable, Hashable {
    /// Absolute path of the root directory (`$store/cache/rootfs/<chain-id hex>/rootfs`).
    public var path: String
    /// Owner and mode every path should have. When the store unpacked without root, ownership
    /// was not applied on disk (files belong to the unpacking user) and modes got `u+rw(x)`;
    /// this table holds what the layers said.
    public var owners: OwnershipTable
    /// OCI chain ID of the layers' diff IDs; nil for an empty layer list.
    public var chainID: Digest?

    public init(path: String, owners: OwnershipTable, chainID: Digest?) {
        self.path = path
        self.owners = owners
        self.chainID = chainID
    }
}

/// The cache of unpacked base root file systems:
///
/// ```
/// cache/rootfs/<chain-id hex>/rootfs       the unpacked tree
/// cache/rootfs/<chain-id hex>/owners.json  its OwnershipTable (and the id map owners were given under)
/// cache/rootfs/<chain-id hex>.lock         flock(2) held while that chain is being built
/// cache/rootfs/empty/…                     the empty layer list
/// ```
///
/// An entry is built once under `tmp/` and renamed into place whole, so a `<hex>` directory is
/// always complete; it is never modified afterwards. The per-chain lock only avoids duplicate
/// work: when two builders race anyway (different stores on one root, a removed lock file),
/// the first rename wins and the loser discards its copy.
extension ImageStore {
    var rootfsCacheDirectory: String { root + "/cache/rootfs" }

    /// The OCI chain ID of a stack of diff IDs (bottom first): `ChainID(L0) = DiffID(L0)`,
    /// `ChainID(L0…Ln) = sha256(ChainID(L0…Ln-1) + " " + DiffID(Ln))`. Nil for no layers.
    public static func chainID(of diffIDs: [Digest]) -> Digest? {
        guard var chain = diffIDs.first else { return nil }
        for diffID in diffIDs.dropFirst() {
            chain = SHA256Stream.digest(of: Array("\(chain) \(diffID)".utf8))
        }
        return chain
    }

    /// The unpacked root file system of `layers` (bottom first), unpacking the blobs on first
    /// use. The result is shared and read-only. Throws `StoreError.blobNotFound` when a blob is
    /// missing, and a one-line `StoreError` naming the chain and the layer when unpacking fails.
    /// Each blob is hashed while it is unpacked: one whose bytes do not match its digest fails
    /// the unpack (`LayerError.digestMismatch` in the message) and nothing is cached.
    ///
    /// Unprivileged with subordinate ids (`ownership`), `givingOwners` gives the files the
    /// layers' owners on disk, inside the user namespace, for an overlay RUN to see them; without
    /// it the files stay the real user's (readable for copying, see `UnpackedRootfs.owners`).
    /// An entry made the other way is unpacked again.
    public func rootfs(forLayers layers: [(digest: Digest, diffID: Digest)], givingOwners: Bool = true) throws -> UnpackedRootfs {
        let mapping = givingOwners ? ownership?.mapping : nil
        let chain = ImageStore.chainID(of: layers.map(\.diffID))
        let name = chain?.encoded ?? "empty"
        let entry = rootfsCacheDirectory + "/" + name
        if let cached = try loadRootfs(entry, chain: chain, mapping: mapping) { return cached }

        for layer in layers where !hasBlob(layer.digest) { throw StoreError.blobNotFound(layer.digest) }
        try FileSystem.makeDirectories(rootfsCacheDirectory)
        return try FileLock(path: entry + ".lock").withLock {
            if let cached = try loadRootfs(entry, chain: chain, mapping: mapping) { return cached }
            if FileSystem.exists(entry) {
                // A stale entry (see `loadRootfs`): renamed away whole, then deleted.
                let doomed = temporaryPath(suffix: ".rootfs-stale")
                try FileSystem.rename(entry, doomed)
                try removeOwnedTree(doomed)
            }
            try buildRootfs(layers, chain: chain, at: entry, mapping: mapping)
            guard let built = try loadRootfs(entry, chain: chain, mapping: mapping) else {
                throw StoreError.corrupt(path: entry, reason: "rootfs cache entry vanished right after being built")
            }
            return built
        }
    }

    /// Deletes every cached root file system (for `prune`). Each entry disappears atomically
    /// (renamed away, then deleted); do not run while builds use the cache. Returns how many
    /// entries went and the bytes their files held.
    @discardableResult
    public func removeRootfsCache() throws -> (entries: Int, bytes: Int64) {
        guard FileSystem.isDirectory(rootfsCacheDirectory) else { return (0, 0) }
        var removed = (entries: 0, bytes: Int64(0))
        for name in try FileSystem.list(rootfsCacheDirectory) {
            let path = rootfsCacheDirectory + "/" + name
            if name.hasSuffix(".lock") {
                try FileSystem.removeFile(path)
                continue
            }
            try FileLock(path: path + ".lock").withLock {
                guard FileSystem.exists(path) else { return }
                let doomed = temporaryPath(suffix: ".rootfs-removed")
                try FileSystem.rename(path, doomed)
                removed.entries += 1
                removed.bytes += Self.regularFileBytes(under: doomed)
                try removeOwnedTree(doomed)
            }
            try FileSystem.removeFile(path + ".lock")
        }
        return removed
    }

    /// The sizes of the regular files in a tree, symlinks not followed.
    static func regularFileBytes(under path: String) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return 0 }
        var total: Int64 = 0
        while walker.nextObject() != nil {
            if let attributes = walker.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular {
                total += (attributes[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }

    // MARK: private

    /// The cached entry at `entry`, nil when absent.
    private func loadRootfs(_ entry: String, chain: Digest?, mapping: String?) throws -> UnpackedRootfs? {
        let tree = entry + "/rootfs"
        guard FileSystem.isDirectory(tree) else { return nil }
        let ownersPath = entry + "/owners.json"
        let owners: OwnershipFile
        do {
            owners = try CanonicalJSON.decode(OwnershipFile.self, from: Data(try FileSystem.readFile(ownersPath)))
        } catch {
            throw StoreError.corrupt(path: ownersPath, reason: "cannot read the ownership table of rootfs \(chain?.description ?? "empty"): \(oneLine(error))")
        }
        // An entry whose table has no `paths` list was unpacked before layers were read under the
        // C locale: libarchive had turned names into NFC (`e` + U+0301 became `é`), so its tree
        // may hold the wrong names. It is stale: nil here, and the caller unpacks it again.
        guard owners.paths != nil else { return nil }
        // Owners given under another id map, or never given (an entry made before owners were
        // given inside the user namespace, whose files all belong to the real user): stale too.
        guard owners.ownersGivenUnder == mapping else { return nil }
        return UnpackedRootfs(path: tree, owners: owners.table, chainID: chain)
    }

    /// Unpacks `layers` under `tmp/` and renames the result to `entry`.
    private func buildRootfs(_ layers: [(digest: Digest, diffID: Digest)], chain: Digest?, at entry: String, mapping: String?) throws {
        let staging = temporaryPath(suffix: ".rootfs")
        if mkdir(staging, 0o755) != 0 { throw FileSystem.ioError(staging, "cannot create directory") }
        do {
            let paths = layers.map { blobPath($0.digest) }
            let table: OwnershipTable
            do {
                table = try LayerUnpacker.unpack(blobs: layers.map { LayerBlob(path: blobPath($0.digest), digest: $0.digest) },
                                                 into: staging + "/rootfs")
            } catch let error as LayerError {
                // A corrupt blob is reported as such (the caller names the image it belongs to).
                if case .digestMismatch = error { throw error }
                throw unpackFailure(error, paths: paths, layers: layers, entry: entry, chain: chain)
            } catch {
                throw unpackFailure(error, paths: paths, layers: layers, entry: entry, chain: chain)
            }
            // Unprivileged with subordinate ids: files get the owners the layers say, inside
            // the user namespace, so a RUN over this entry sees them (only paths whose owner is
            // not root are touched: most trees have none).
            if mapping != nil { try applyOwners(table.nonRootOwners(under: staging + "/rootfs"), under: staging + "/rootfs") }
            var file = OwnershipFile(table)
            file.ownersGivenUnder = mapping
            try FileSystem.createDurably(staging + "/owners.json", Array(try CanonicalJSON.encode(file)))
            // One flush of the file system instead of an fsync per file: the renamed entry must
            // never hold files whose data did not reach the disk.
            flushFileSystem(of: staging)
            if Glibc.rename(staging, entry) != 0 {
                let code = errno
                guard code == EEXIST || code == ENOTEMPTY else { throw FileSystem.ioError(entry, "cannot rename \(staging) into place", code) }
                try? removeOwnedTree(staging)  // another builder won
            }
            FileSystem.syncDirectory(rootfsCacheDirectory)
        } catch {
            try? removeOwnedTree(staging)
            throw error
        }
    }

    private func unpackFailure(_ error: Error, paths: [String], layers: [(digest: Digest, diffID: Digest)], entry: String,
                               chain: Digest?) -> StoreError {
        let text = oneLine(error)
        let index = paths.lastIndex(where: { text.contains($0) })
        let which = index.map { "layer \($0 + 1) of \(layers.count) (\(layers[$0].digest))" } ?? "its layers"
        return StoreError.io(path: entry, reason: "cannot unpack \(which) for rootfs \(chain?.description ?? "empty"): \(text)")
    }

    private func oneLine(_ error: Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Removes a tree that may hold directories without write permission (layers can say
/// `dr-xr-xr-x`): each directory is made `u+rwx` first when possible.
func removeTreeForcibly(_ path: String) throws {
    guard let st = FileSystem.status(path) else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
        if st.st_mode & 0o700 != 0o700 { _ = chmod(path, (st.st_mode & 0o7777) | 0o700) }
        for name in try FileSystem.list(path) { try removeTreeForcibly(path + "/" + name) }
        if rmdir(path) != 0 && errno != ENOENT { throw FileSystem.ioError(path, "cannot remove directory") }
    } else {
        try FileSystem.removeFile(path)
    }
}

/// Flushes the file system holding `path` (`syncfs`, else `sync`).
private func flushFileSystem(of path: String) {
    let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    defer { if fd >= 0 { close(fd) } }
    if fd >= 0, swiftdock_syncfs(fd) == 0 { return }
    sync()
}

/// `owners.json`: an `OwnershipTable` as JSON. `paths` lists `[path, uid, gid, mode]` per
/// path, sorted by bytes — a list, not an object, because a JSON object decodes through a
/// String-keyed dictionary, which would merge names that differ only by Unicode normalisation
/// (`é` and `e` + U+0301). Entries written before that (`owners` maps a path to `[uid, gid]`,
/// `modes` to its bits) are still read. `ownersGivenUnder`: see `ImageStore.loadRootfs`.
private struct OwnershipFile: Codable {
    var paths: [PathRecord]?
    var owners: [String: [Int]]?
    var modes: [String: UInt32]?
    var skipped: [String]
    /// `SubordinateOwnership.mapping` of the id map the tree's owners were given under; absent
    /// when the files are as the unpacking user made them (root: the layers' owners).
    var ownersGivenUnder: String?

    /// One path's owner and mode (either may be absent).
    struct PathRecord: Codable {
        var path: String
        var owner: [Int]?
        var mode: UInt32?

        init(from decoder: Decoder) throws {
            var c = try decoder.unkeyedContainer()
            path = try c.decode(String.self)
            let uid = try c.decodeNil() ? nil : try c.decode(Int.self)
            let gid = try c.decodeNil() ? nil : try c.decode(Int.self)
            owner = uid.flatMap { u in gid.map { [u, $0] } }
            mode = try c.decodeNil() ? nil : try c.decode(UInt32.self)
        }

        init(path: String, owner: Owner?, mode: UInt32?) {
            self.path = path
            self.owner = owner.map { [$0.uid, $0.gid] }
            self.mode = mode
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.unkeyedContainer()
            try c.encode(path)
            if let owner { try c.encode(owner[0]); try c.encode(owner[1]) } else { try c.encodeNil(); try c.encodeNil() }
            if let mode { try c.encode(mode) } else { try c.encodeNil() }
        }
    }

    init(_ table: OwnershipTable) {
        let keys = Set(table.owners.keys).union(table.modes.keys).sorted()
        paths = keys.map { PathRecord(path: $0.path, owner: table.owners[$0], mode: table.modes[$0]) }
        skipped = table.skipped
    }

    var table: OwnershipTable {
        var result = OwnershipTable(skipped: skipped)
        for record in paths ?? [] {
            if let o = record.owner, o.count == 2 { result.owners[PathKey(record.path)] = Owner(uid: o[0], gid: o[1]) }
            if let mode = record.mode { result.modes[PathKey(record.path)] = mode }
        }
        for (path, o) in owners ?? [:] where o.count == 2 { result.owners[PathKey(path)] = Owner(uid: o[0], gid: o[1]) }
        for (path, mode) in modes ?? [:] { result.modes[PathKey(path)] = mode }
        return result
    }
}

import Foundation
import ImageModel

/// What the store holds, by kind, as `docker system df` reports a daemon's disk use.
public struct DiskUsage: Sendable, Equatable {
    /// One row of the table: how many entries, how many are in use, their size on disk, and
    /// how much of that `system prune -a` would free.
    public struct Row: Sendable, Equatable {
        public var total: Int
        public var active: Int
        public var size: Int64
        public var reclaimable: Int64
    }

    /// Images in the index: active ones are tagged; the size counts each local blob once;
    /// reclaimable is what only untagged images hold.
    public var images: Row
    /// Step-cache records: active ones name a layer a tagged image also uses; the size is the
    /// records' layers (each once) and files; reclaimable is what only the cache holds.
    public var buildCache: Row
    /// `RUN --mount=type=cache` directories: all reclaimable, none active between builds.
    public var cacheMounts: Row
}

extension ImageStore {
    /// Where `RUN --mount=type=cache` directories persist between builds (one per cache id).
    public var cacheMountsDirectory: String { root + "/cache/run-mounts" }

    /// Counts what the store holds (see `DiskUsage`). Images that cannot be read count with
    /// the blobs that can.
    public func diskUsage() throws -> DiskUsage {
        let entries = try readIndex().manifests
        var tagged = Set<Digest>(), all = Set<Digest>()
        var taggedImages = Set<Digest>(), images = Set<Digest>()
        for entry in entries {
            let blobs = Set((try? keptBlobs(by: entry)) ?? [entry.digest])
            images.insert(entry.digest)
            all.formUnion(blobs)
            if Self.reference(of: entry) != nil {
                taggedImages.insert(entry.digest)
                tagged.formUnion(blobs)
            }
        }
        let imageRow = DiskUsage.Row(total: images.count, active: taggedImages.count,
                                     size: localBytes(all), reclaimable: localBytes(all.subtracting(tagged)))

        let records = stepCacheRecords()
        var cacheLayers = Set<Digest>()
        var active = 0, recordBytes: Int64 = 0
        for entry in records {
            recordBytes += FileSystem.status(stepCacheDirectory + "/" + entry.key).map { Int64($0.st_size) } ?? 0
            guard let digest = entry.record.layer?.descriptor.digest else { continue }
            cacheLayers.insert(digest)
            if tagged.contains(digest) { active += 1 }
        }
        let cacheRow = DiskUsage.Row(total: records.count, active: active, size: localBytes(cacheLayers) + recordBytes,
                                     reclaimable: localBytes(cacheLayers.subtracting(all)) + recordBytes)

        let mounts = cacheMounts()
        let mountBytes = mounts.reduce(Int64(0)) { $0 + Self.regularFileBytes(under: $1.path) }
        return DiskUsage(images: imageRow, buildCache: cacheRow,
                         cacheMounts: DiskUsage.Row(total: mounts.count, active: 0, size: mountBytes, reclaimable: mountBytes))
    }

    /// The cache-mount directories with their last use (the directory's mtime, which a build
    /// sets each time a RUN mounts it).
    func cacheMounts() -> [(path: String, lastUsed: TimeInterval)] {
        guard let names = try? FileSystem.list(cacheMountsDirectory) else { return [] }
        return names.compactMap { name in
            let path = cacheMountsDirectory + "/" + name
            guard let st = FileSystem.status(path), (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
            return (path, TimeInterval(st.st_mtim.tv_sec))
        }
    }

    /// Removes cache-mount directories: all, or those last used before `lastUsedBefore`
    /// (seconds since the epoch). Each goes atomically (renamed away, then deleted); do not run
    /// while builds use them. Returns how many went and the bytes their files held.
    @discardableResult
    public func removeCacheMounts(lastUsedBefore: TimeInterval? = nil) throws -> (entries: Int, bytes: Int64) {
        var removed = (entries: 0, bytes: Int64(0))
        for mount in cacheMounts() where lastUsedBefore.map({ mount.lastUsed < $0 }) ?? true {
            let doomed = temporaryPath(suffix: ".cache-mount-removed")
            try FileSystem.rename(mount.path, doomed)
            removed.entries += 1
            removed.bytes += Self.regularFileBytes(under: doomed)
            try removeOwnedTree(doomed)
            try? FileSystem.removeFile(mount.path + ".lock")
        }
        return removed
    }

    /// The bytes of those blobs that are stored locally.
    private func localBytes(_ digests: Set<Digest>) -> Int64 {
        digests.reduce(Int64(0)) { total, digest in
            guard let st = FileSystem.status(blobPath(digest)), (st.st_mode & S_IFMT) == S_IFREG else { return total }
            return total + Int64(st.st_size)
        }
    }
}

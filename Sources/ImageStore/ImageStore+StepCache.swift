import Foundation
import ImageModel

/// What a build step produced, kept so that the same step (same key, see
/// `ImageBuilder.StepCacheKey`) is not executed again: the layer it wrote (a blob in this store)
/// and the history entries it appended to the image config.
public struct StepCacheRecord: Codable, Hashable, Sendable {
    public struct Layer: Codable, Hashable, Sendable {
        public var descriptor: Descriptor
        public var diffID: Digest
        public init(descriptor: Descriptor, diffID: Digest) {
            self.descriptor = descriptor
            self.diffID = diffID
        }
    }

    /// Bumped when the record's meaning changes; other versions are misses.
    public var version: Int
    public var layer: Layer?
    public var history: [History]

    public static let currentVersion = 1

    public init(layer: Layer?, history: [History]) {
        self.version = Self.currentVersion
        self.layer = layer
        self.history = history
    }
}

/// The step cache: one small JSON record per key under `cache/steps/`, written temp-then-rename
/// so a reader sees a whole record or none. A record that cannot be read, is malformed, or whose
/// layer blob is gone is a miss, never an error: the step simply runs again.
extension ImageStore {
    var stepCacheDirectory: String { root + "/cache/steps" }
    var fileDigestsDirectory: String { root + "/cache/file-digests" }

    /// A build context's file-digest index (`cache/file-digests/<name>`), or nil.
    public func fileDigestIndex(name: String) -> [UInt8]? {
        guard Self.isStepCacheKey(name) else { return nil }
        return try? FileSystem.readFile(fileDigestsDirectory + "/" + name)
    }

    /// Replaces a context's file-digest index: temp file, rename. Not fsynced: the index ends
    /// in a checksum of its content (`FileDigestIndex`), so a torn one after a crash is
    /// ignored and the files are read again; the 4 MB index of a 32k-file context was
    /// fsynced by every build that changed it (issue 13).
    public func writeFileDigestIndex(_ bytes: [UInt8], name: String) throws {
        guard Self.isStepCacheKey(name) else { throw StoreError.io(path: name, reason: "not an index name (expected 64 hex digits)") }
        try writeCacheFile(bytes, to: fileDigestsDirectory, name: name, durably: false)
    }

    private func writeCacheFile(_ bytes: [UInt8], to directory: String, name: String, durably: Bool = true) throws {
        try FileSystem.makeDirectories(directory)
        let temporary = temporaryPath(suffix: ".cache")
        do {
            try FileSystem.create(temporary, bytes, durably: durably)
            try FileSystem.rename(temporary, directory + "/" + name)
        } catch {
            try? FileSystem.removeFile(temporary)
            throw error
        }
    }

    /// Keys are SHA-256 hex: anything else could name a path outside the directory.
    static func isStepCacheKey(_ key: String) -> Bool {
        key.utf8.count == 64 && key.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The record for `key`, or nil (a miss) when there is none, it is unreadable or malformed,
    /// or its layer is neither in the store nor known to live in a registry (a record imported
    /// with `--cache-from` whose layer stays remote until a step needs its files).
    public func stepCacheRecord(key: String) -> StepCacheRecord? {
        guard Self.isStepCacheKey(key), let record = readStepCacheRecord(stepCacheDirectory + "/" + key) else { return nil }
        if let layer = record.layer, !isAvailable(layer.descriptor.digest) { return nil }
        return record
    }

    /// Whether a blob is stored or has a recorded remote source.
    func isAvailable(_ digest: Digest) -> Bool {
        hasBlob(digest) || !((try? remoteSources(of: digest)) ?? []).isEmpty
    }

    /// Marks a record as used now (its file's mtime): `system prune --filter until=` removes
    /// records by last use, as BuildKit prunes its cache by `LastUsedAt`. Best effort.
    public func markStepCacheRecordUsed(key: String) {
        guard Self.isStepCacheKey(key) else { return }
        _ = utimensat(AT_FDCWD, stepCacheDirectory + "/" + key, nil, 0)
    }

    /// Stores `record` under `key` (replacing an older one): temp file, rename. Not fsynced:
    /// what a crash can leave of it (nothing, a prefix, or a prefix padded with zeros) is not
    /// a JSON document and reads as a miss; a record written whole names a layer that was
    /// durable before it (`ingest`), under a prefix marker that was too (`markStepPrefix`).
    /// Losing one costs a step run again; fsyncing them cost a few ms each at the end of
    /// every build (issue 13).
    public func writeStepCacheRecord(_ record: StepCacheRecord, key: String) throws {
        guard Self.isStepCacheKey(key) else { throw StoreError.io(path: key, reason: "not a step cache key (expected 64 hex digits)") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try writeCacheFile(Array(try encoder.encode(record)), to: stepCacheDirectory, name: key, durably: false)
    }

    /// Removes step-cache records: all of them (and the contexts' file-digest indexes) with
    /// `all`, else only those that are malformed or whose layer blob is gone (they could never
    /// hit again); with `lastUsedBefore` (seconds since the epoch) also every record last used
    /// (written or hit) before then. Returns how many records went.
    @discardableResult
    public func pruneStepCache(all: Bool, lastUsedBefore: TimeInterval? = nil) throws -> Int {
        if all, lastUsedBefore == nil, FileSystem.isDirectory(fileDigestsDirectory) {
            for name in try FileSystem.list(fileDigestsDirectory) { try FileSystem.removeFile(fileDigestsDirectory + "/" + name) }
        }
        guard FileSystem.isDirectory(stepCacheDirectory) else { return 0 }
        var removed = 0
        for name in try FileSystem.list(stepCacheDirectory) {
            let path = stepCacheDirectory + "/" + name
            let stale = lastUsedBefore.map { cutoff in FileSystem.status(path).map { TimeInterval($0.st_mtim.tv_sec) < cutoff } ?? true }
            if stale != true, !(all && lastUsedBefore == nil), Self.isStepCacheKey(name), let record = readStepCacheRecord(path),
               record.layer.map({ isAvailable($0.descriptor.digest) }) ?? true {
                continue
            }
            try FileSystem.removeFile(path)
            removed += 1
        }
        FileSystem.syncDirectory(stepCacheDirectory)
        // No record is left to need them (see `markStepPrefix`).
        if all, lastUsedBefore == nil { try removeStepPrefixes() }
        return removed
    }

    /// Layer blobs that step-cache records refer to: garbage collection keeps them while the
    /// records exist (`system prune --all` removes the records first).
    func stepCacheBlobs() -> Set<Digest> {
        guard let names = try? FileSystem.list(stepCacheDirectory) else { return [] }
        var blobs = Set<Digest>()
        for name in names where Self.isStepCacheKey(name) {
            if let layer = readStepCacheRecord(stepCacheDirectory + "/" + name)?.layer { blobs.insert(layer.descriptor.digest) }
        }
        return blobs
    }

    /// Every readable record, by key (for `system df` and cache export).
    func stepCacheRecords() -> [(key: String, record: StepCacheRecord, lastUsed: TimeInterval)] {
        guard let names = try? FileSystem.list(stepCacheDirectory) else { return [] }
        return names.compactMap { name in
            let path = stepCacheDirectory + "/" + name
            guard Self.isStepCacheKey(name), let record = readStepCacheRecord(path), let st = FileSystem.status(path) else { return nil }
            return (name, record, TimeInterval(st.st_mtim.tv_sec))
        }
    }

    private func readStepCacheRecord(_ path: String) -> StepCacheRecord? {
        // A record is a few hundred bytes; anything large is not one of ours.
        guard let st = FileSystem.status(path), (st.st_mode & S_IFMT) == S_IFREG, st.st_size < 1 << 20,
              let bytes = try? FileSystem.readFile(path),
              let record = try? JSONDecoder().decode(StepCacheRecord.self, from: Data(bytes)),
              record.version == StepCacheRecord.currentVersion
        else { return nil }
        return record
    }
}

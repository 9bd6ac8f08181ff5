import Foundation

/// Which step-key prefixes the step cache has ever seen: an empty file per prefix under
/// `cache/step-prefixes/` (a prefix is a layer step's key before its content — parent key,
/// instruction, args, platform — see `ImageBuilder.StepCacheKey`).
///
/// The builder writes a step's prefix here before any record at or below that step can be
/// written, and only `pruneStepCache(all:)` removes markers (after every record). So "no marker
/// for this prefix" means no record can match the step whatever its content — a certain miss —
/// and the builder may hash the step's source files while writing its layer instead of before
/// (issue 13: each file read once on a cold build). A stale marker only costs that shortcut.
///
/// A store whose records predate the markers has records no marker covers: `complete` marks
/// a store where the markers were started before its first record, and only then is a missing
/// marker believed.
extension ImageStore {
    var stepPrefixesDirectory: String { root + "/cache/step-prefixes" }
    private var stepPrefixesComplete: String { stepPrefixesDirectory + "/complete" }

    /// Whether every record in this store has its prefix marked. A store without any record
    /// yet starts the markers now (`complete`, durably), before the caller writes a record.
    public func stepPrefixesCoverRecords() -> Bool {
        if FileSystem.exists(stepPrefixesComplete) { return true }
        let records = FileSystem.isDirectory(stepCacheDirectory) ? (try? FileSystem.list(stepCacheDirectory)) : []
        guard records?.isEmpty == true else { return false }
        do {
            try FileSystem.makeDirectories(stepPrefixesDirectory)
            let fd = try FileSystem.open(stepPrefixesComplete, O_WRONLY | O_CREAT | O_CLOEXEC)
            close(fd)
            FileSystem.syncDirectory(stepPrefixesDirectory)
            FileSystem.syncDirectory(root + "/cache")
            return true
        } catch {
            return false
        }
    }

    /// Whether `prefix` (64 hex digits) was marked.
    public func hasStepPrefix(_ prefix: String) -> Bool {
        Self.isStepCacheKey(prefix) && FileSystem.exists(stepPrefixesDirectory + "/" + prefix)
    }

    /// Marks `prefix`, durably when the marker is new (the directory is fsynced before any
    /// record below it is written). With `durably: false` that fsync is the caller's: it calls
    /// `syncStepPrefixes()` before writing any record below, and several markers made at once
    /// (the folded COPYs settled at the end of a cold build) share one. Returns whether the
    /// marker is new.
    @discardableResult
    public func markStepPrefix(_ prefix: String, durably: Bool = true) throws -> Bool {
        guard Self.isStepCacheKey(prefix) else { throw StoreError.io(path: prefix, reason: "not a step key prefix (expected 64 hex digits)") }
        let path = stepPrefixesDirectory + "/" + prefix
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 && errno == ENOENT {
            try FileSystem.makeDirectories(stepPrefixesDirectory)
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        if fd < 0 {
            if errno == EEXIST { return false }
            throw FileSystem.ioError(path, "cannot create step prefix marker")
        }
        close(fd)
        if durably { syncStepPrefixes() }
        return true
    }

    /// Makes the markers made with `markStepPrefix(_:durably: false)` durable.
    public func syncStepPrefixes() {
        FileSystem.syncDirectory(stepPrefixesDirectory)
    }

    /// Removes every marker (not `complete`): only once no record is left.
    func removeStepPrefixes() throws {
        guard FileSystem.isDirectory(stepPrefixesDirectory) else { return }
        for name in try FileSystem.list(stepPrefixesDirectory) where Self.isStepCacheKey(name) {
            try FileSystem.removeFile(stepPrefixesDirectory + "/" + name)
        }
    }
}

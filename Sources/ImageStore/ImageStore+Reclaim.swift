import Foundation
import ImageModel
#if canImport(Glibc)
import Glibc
#endif

/// Healing after a crash: whatever a killed swiftdock left behind is reclaimed by the next
/// one that opens the store.
///
/// - Every entry under `tmp/` names its owner (`TemporaryOwner`: PID and start time). An
///   entry whose owner is gone is removed whatever its age or depth (`FileSystem.removeTree(in:)`
///   walks by descriptor, so trees deeper than PATH_MAX go too). Entries without an owner in
///   their name (older swiftdocks) go after `staleTemporaryAge`, as before.
/// - Every blob a process writes, or finds present and relies on, is first recorded in its
///   journal `journals/<owner>`, under `blobs.lock` held shared. When the owner is gone, the
///   blobs its journal lists that no `index.json` entry reaches and no live journal lists are
///   deleted, under `blobs.lock` held exclusively (so no blob is being ingested meanwhile).
///   That is what a build killed after writing its layers but before tagging leaves.
/// - `index.json` is only ever replaced by rename under `index.lock`, so a kill leaves the old
///   index or the new one, and the temporary copy is an owned `tmp/` entry.
extension ImageStore {
    var blobsLock: FileLock { FileLock(path: root + "/blobs.lock") }
    var journalsDirectory: String { root + "/journals" }

    /// This process's blob journal.
    var journalPath: String { journalsDirectory + "/\(TemporaryOwner.current)" }

    /// Records `digest` in this process's journal, then runs `body`, with `blobs.lock` shared.
    func journaled<T>(_ digest: Digest, _ body: () throws -> T) throws -> T {
        try blobsLock.withLock(exclusive: false) {
            if !FileSystem.isDirectory(journalsDirectory) { try FileSystem.makeDirectories(journalsDirectory) }
            let fd = try FileSystem.open(journalPath, O_WRONLY | O_APPEND | O_CREAT, mode: 0o644)
            defer { close(fd) }
            let line = Array("\(digest)\n".utf8)
            try line.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: journalPath) }
            return try body()
        }
    }

    /// True when the blob is present, and from now on kept for this process: a crash-recovery
    /// pass in another process will not delete it before this one has tagged what uses it.
    /// Use instead of `hasBlob` where finding a blob means not writing it.
    public func claimBlob(_ digest: Digest) throws -> Bool {
        try journaled(digest) { hasBlob(digest) }
    }

    /// Removes what owners that are gone left in `tmp/`, and the blobs their journals list that
    /// nothing references. Best effort: a failure leaves the rest for the next open.
    func reclaimAbandoned(legacyAge: TimeInterval) {
        let tmp = Glibc.open(temporaryDirectory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard tmp >= 0 else { return }
        defer { close(tmp) }
        guard let names = try? FileSystem.list(temporaryDirectory) else { return }
        let cutoff = Date().timeIntervalSince1970 - legacyAge
        for name in names {
            if let owner = TemporaryOwner(entryName: name) {
                if owner.isAlive { continue }
            } else {
                guard let st = FileSystem.status(temporaryDirectory + "/" + name),
                      TimeInterval(st.st_mtim.tv_sec) < cutoff else { continue }
            }
            do {
                try FileSystem.removeTree(in: tmp, name: name, displayPath: temporaryDirectory + "/" + name)
            } catch {
                // Files a RUN or an owner fix-up gave to subordinate ids: removed inside.
                try? ownership?.removeTree(temporaryDirectory + "/" + name)
            }
        }
        let journals = (try? FileSystem.list(journalsDirectory)) ?? []
        let deadJournals = journals.filter { TemporaryOwner(journalName: $0)?.isAlive == false }
        if !deadJournals.isEmpty { try? reclaimJournaledBlobs(deadJournals) }
    }

    private func reclaimJournaledBlobs(_ journals: [String]) throws {
        try blobsLock.withLock {
            var candidates = Set<Digest>()
            for name in journals { candidates.formUnion(readJournal(name)) }
            for name in try FileSystem.list(journalsDirectory) where TemporaryOwner(journalName: name)?.isAlive ?? false {
                candidates.subtract(readJournal(name))
            }
            // index.json is replaced whole by rename, so this read is a consistent snapshot;
            // a tag added after it references blobs a live journal protects.
            for entry in try readIndex().manifests {
                // An image that cannot be read completely: what it needs is unknown, delete nothing.
                guard let blobs = try? keptBlobs(by: entry) else { return }
                candidates.subtract(blobs)
            }
            // Layers a step-cache record names are kept (the record is written after the blob).
            candidates.subtract(stepCacheBlobs())
            var removed = false
            for digest in candidates where hasBlob(digest) {
                try FileSystem.removeFile(blobPath(digest))
                removed = true
            }
            // The removals are made durable before the journals naming them go; a journal
            // whose blobs were all kept (every build that tagged its image) needs no sync.
            if removed { FileSystem.syncDirectory(blobsDirectory) }
            for name in journals { try FileSystem.removeFile(journalsDirectory + "/" + name) }
        }
    }

    private func readJournal(_ name: String) -> Set<Digest> {
        guard let bytes = try? FileSystem.readFile(journalsDirectory + "/" + name) else { return [] }
        return Set(String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { try? Digest(parsing: String($0)) })
    }
}

import Dispatch
import ImageModel
import PathEncoding
import Synchronization

/// Reading changed files on every core before the step's key is formed (issue 13): a build
/// that must read many files — the first after a change of many, `--cache-from` and
/// `build --push`, which hash up front — no longer reads them one after another.
extension FileDigestIndex {
    /// One file read ahead: its digest, when the reading began (`now()`, see `isSettled`),
    /// and its stamp before (the walk's) and after the read.
    struct Prehashed: Sendable {
        var before: Stamp
        var hashedAt: Int64
        var digest: Digest
        var after: Stamp?
    }

    /// Reads the files of `files` that `digest(ofFile:stamp:)` would read, on up to `jobs`
    /// threads, and keeps what it read for it: the same digests, stamps and `hashedAt` rule
    /// as reading them in order, so keys, records and the stored index come out the same.
    /// A file that cannot be read is left for `digest(ofFile:stamp:)`, which then fails on
    /// it in order, with its own error. Nothing is read when fewer than two files need it.
    func prehash(_ files: [(path: String, stamp: Stamp)], jobs: Int) {
        let wanted = filesToRead(files)
        guard wanted.count >= 2, jobs >= 2 else { return }
        let read = Mutex<[Int: Prehashed]>([:])
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(jobs, wanted.count)) { _ in
            while true {
                let at = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard at < wanted.count else { return }
                let (path, before) = wanted[at]
                let hashedAt = Self.now()
                guard let digest = try? SHA256Stream.digest(ofFile: path) else { continue }
                let done = Prehashed(before: before, hashedAt: hashedAt, digest: digest, after: try? Self.status(path))
                read.withLock { $0[at] = done }
            }
        }
        for (at, done) in read.withLock({ $0 }) { prehashed[PathKey(wanted[at].path)] = done }
    }
}

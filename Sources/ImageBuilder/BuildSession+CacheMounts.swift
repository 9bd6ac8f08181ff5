import Foundation
import ImageModel
import ImageStore
import Layers

/// `RUN --mount=type=cache` beyond one build: `sharing=` between concurrent builds, seeding a
/// new cache from a `--cache-from` that exported it, and exporting chosen caches as layer blobs
/// (`--cache-to …,mode=max,mounts=ID;ID`).
extension BuildSession {
    /// The persistent directory of the cache mount `identity` (as `sandboxMount` names it:
    /// the id, or the target when there is none).
    func cacheMountDirectory(identity: String) -> String {
        store.cacheMountsDirectory + "/" + SHA256Stream.digest(of: Array(identity.utf8)).encoded
    }

    /// Takes the cache's lock for the rest of the step, as `sharing` asks — shared: a shared
    /// lock (waits only for a `locked` user); locked: an exclusive one (waits for every other
    /// user); private: an exclusive one if free, else a fresh empty directory just for this
    /// step, as BuildKit gives a private mount a new cache when the cache is busy. Returns the
    /// directory to mount. The lock goes when the step ends (`releaseCacheMountLocks`).
    func lockCacheMount(_ directory: String, sharing: RunMount.CacheSharing) throws -> String {
        let path = directory + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BuildError("\(path): \(String(cString: strerror(errno)))") }
        let operation: Int32
        switch sharing {
        case .shared: operation = LOCK_SH
        case .locked: operation = LOCK_EX
        case .private: operation = LOCK_EX | LOCK_NB
        }
        while flock(fd, operation) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            if sharing == .private && code == EWOULDBLOCK { return try temporaryDirectory() }
            throw BuildError("\(path): cannot lock: \(String(cString: strerror(code)))")
        }
        cacheMountLocks.append(fd)
        return directory
    }

    /// Ends the step's hold on its cache mounts.
    func releaseCacheMountLocks() {
        for fd in cacheMountLocks { close(fd) }
        cacheMountLocks.removeAll()
    }

    /// Fills `seed` (not yet created) from the first `--cache-from` that exported the cache
    /// `identity`; false when none did. Its layer is fetched (verified) into the store first.
    func seedCacheMount(identity: String, into seed: String) async throws -> Bool {
        for cache in options.cacheImports {
            guard let layer = cache.mounts[identity] else { continue }
            let digest = layer.descriptor.digest
            do {
                if !store.hasBlob(digest) {
                    switch cache.origin {
                    case .registry(let remote):
                        try store.recordRemoteSource(remote, for: [digest])
                        try await ensureLocal([digest], of: "cache mount \(identity)")
                    case .layout(let directory):
                        try BuildCacheLayout(directory: directory).ingest(digest, into: store)
                    }
                }
                _ = try LayerUnpacker.unpack(blobs: [LayerBlob(path: store.blobPath(digest), digest: digest)], into: seed)
                emit(.note("cache mount \(identity): seeded from the imported cache (\(digest))"))
                return true
            } catch {
                TreeCopy.remove(seed)
                emit(.warning("cache mount \(identity): the imported cache is not usable: \(error)"))
            }
        }
        return false
    }

    /// Writes each named cache mount's directory as a gzip layer blob in the store (owners as
    /// the container sees them), for `--cache-to …,mounts=`. A cache this store has never
    /// used is left out with a warning.
    func exportCacheMounts(_ identities: [String]) throws -> [BuildResult.CacheMount] {
        var exported: [BuildResult.CacheMount] = []
        for identity in identities {
            let directory = cacheMountDirectory(identity: identity)
            guard FileManager.default.fileExists(atPath: directory) else {
                emit(.warning("cache mount \(identity) is not in the store: not exported"))
                continue
            }
            let written = try withSharedLock(directory + ".lock") {
                let items = try OverlayDiff.items(upperDir: directory, idMap: idMap)
                let path = try temporaryFile()
                let written = try LayerWriter(compression: .defaultGzip).writeBlocking(items, to: path)
                try store.ingest(temporaryFile: path, digest: written.digest)
                return written
            }
            exported.append(.init(id: identity, layer: .init(
                descriptor: Descriptor(mediaType: MediaType.ociLayerGzip, digest: written.digest, size: written.size),
                diffID: written.diffID)))
        }
        return exported
    }
}

/// Runs a body under a shared `flock` on a file (created if missing): a cache mount is not
/// exported while a `locked` or `private` RUN writes it.
private func withSharedLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw BuildError("\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    while flock(fd, LOCK_SH) != 0 {
        if errno != EINTR { throw BuildError("\(path): cannot lock: \(String(cString: strerror(errno)))") }
    }
    return try body()
}

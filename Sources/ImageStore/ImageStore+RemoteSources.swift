import Foundation
import ImageModel

/// Where a blob that is not stored locally can be fetched: a repository of a registry.
public struct RemoteSource: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The registry as named in references (`docker.io`, `127.0.0.1:5000`).
    public var registry: String
    /// The repository path within the registry (`library/alpine`).
    public var repository: String

    public init(registry: String, repository: String) {
        self.registry = registry
        self.repository = repository
    }

    /// The source of `reference`'s repository.
    public init(_ reference: Reference) {
        self.init(registry: reference.domain, repository: reference.path)
    }

    public var description: String { "\(registry)/\(repository)" }
}

/// Lazy layers: blobs a tagged image references but the store does not hold.
///
/// `pull` stores only an image's manifest and config (as ko and crane do). For each layer it
/// leaves remote, it records here where the blob lives, in `remote-sources.json` at the
/// layout root — a file OCI tools ignore:
///
/// ```
/// {"sha256:<hex>":[{"registry":"docker.io","repository":"library/alpine"}], …}
/// ```
///
/// A digest may have several sources (the same base pulled through two repositories); the
/// most recently recorded comes first. `tag` accepts a manifest whose missing layers all have
/// a source; `push` mounts or streams them from there; `fetchBlob` (Registry) downloads them
/// when their content is needed. Records stay when the blob is later stored locally: they
/// still tell `push` where it can be mounted from. `prune` drops records of blobs no tag
/// references. The file is replaced atomically (temporary file + rename) under the index
/// lock, so it is read without locking.
extension ImageStore {
    var remoteSourcesPath: String { root + "/remote-sources.json" }

    /// Every recorded remote source, by blob digest.
    public func remoteSources() throws -> [Digest: [RemoteSource]] {
        guard FileSystem.exists(remoteSourcesPath) else { return [:] }
        let bytes = try FileSystem.readFile(remoteSourcesPath)
        do {
            let raw = try CanonicalJSON.decode([String: [RemoteSource]].self, from: Data(bytes))
            var result: [Digest: [RemoteSource]] = [:]
            for (key, sources) in raw {
                result[try Digest(parsing: key)] = sources
            }
            return result
        } catch {
            throw StoreError.corrupt(path: remoteSourcesPath, reason: "cannot decode the remote sources: \(error)")
        }
    }

    /// The places `digest` can be fetched from, most recent first; empty when none is known.
    public func remoteSources(of digest: Digest) throws -> [RemoteSource] {
        try remoteSources()[digest] ?? []
    }

    /// Records that each of `digests` can be fetched from `source` (moved to the front when
    /// it was already known).
    public func recordRemoteSource(_ source: RemoteSource, for digests: [Digest]) throws {
        guard !digests.isEmpty else { return }
        try lock.withLock {
            var all = try remoteSources()
            for digest in digests {
                var list = all[digest] ?? []
                list.removeAll { $0 == source }
                list.insert(source, at: 0)
                all[digest] = list
            }
            try writeRemoteSources(all)
        }
    }

    /// Replaces `remote-sources.json` atomically. Call under the lock.
    func writeRemoteSources(_ sources: [Digest: [RemoteSource]]) throws {
        var raw: [String: [RemoteSource]] = [:]
        for (digest, list) in sources where !list.isEmpty { raw[digest.description] = list }
        try FileSystem.replaceDurably(remoteSourcesPath, with: Array(try CanonicalJSON.encode(raw)),
                                      temporary: temporaryPath(suffix: ".remote-sources.json"), syncing: root)
    }

    /// Keeps only the records of `digests` (called by `prune`, under the lock).
    func retainRemoteSources(_ digests: Set<Digest>) throws {
        let all = try remoteSources()
        let kept = all.filter { digests.contains($0.key) }
        if kept.count != all.count { try writeRemoteSources(kept) }
    }
}

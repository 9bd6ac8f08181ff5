import Foundation
import ImageModel

/// One successful push: where the image went and which manifest the registry got.
public struct PushRecord: Codable, Hashable, Sendable {
    /// The destination, fully qualified: `REGISTRY/REPO:TAG`, or `REGISTRY/REPO@sha256:…` for a
    /// push by digest.
    public var reference: String
    /// The manifest (or index) digest pushed.
    public var digest: Digest
    /// When, RFC 3339 UTC.
    public var pushed: String

    public init(reference: String, digest: Digest, pushed: String) {
        self.reference = reference
        self.digest = digest
        self.pushed = pushed
    }

    /// `REGISTRY/REPO@sha256:…`: what the registry serves for this push whatever the tag
    /// points at later.
    public var pinned: String {
        guard let parsed = try? Reference(parsing: reference) else { return reference }
        return "\(parsed.repository)@\(digest)"
    }
}

/// What was pushed from this store, so the hand-off to Vertex AI can name the exact manifest
/// (`REPO@sha256:…`) and map a local image ID to the name it was pushed as.
///
/// Kept in `pushed.json` at the layout root (a file OCI tools ignore), most recent first, one
/// record per destination (a later push to the same tag replaces it), at most `maxPushRecords`.
/// Replaced atomically (temporary file + rename) under the index lock, read without locking.
/// Records outlive `rmi`: they describe the registry, not the store.
extension ImageStore {
    var pushRecordsPath: String { root + "/pushed.json" }

    /// Older records are dropped beyond this many.
    public static let maxPushRecords = 1000

    /// Every record, most recent first.
    public func pushRecords() throws -> [PushRecord] {
        guard FileSystem.exists(pushRecordsPath) else { return [] }
        let bytes = try FileSystem.readFile(pushRecordsPath)
        do {
            return try CanonicalJSON.decode([PushRecord].self, from: Data(bytes))
        } catch {
            throw StoreError.corrupt(path: pushRecordsPath, reason: "cannot decode the push records: \(error)")
        }
    }

    /// The last push to `reference`'s repository and tag (`:latest` when it has none); nil
    /// when this store never pushed there.
    public func pushRecord(for reference: Reference) throws -> PushRecord? {
        let key = Self.pushKey(reference)
        return try pushRecords().first { $0.reference == key }
    }

    /// The pushes of the manifest `digest`, most recent first.
    public func pushRecords(ofManifest digest: Digest) throws -> [PushRecord] {
        try pushRecords().filter { $0.digest == digest }
    }

    /// Records that `digest` was pushed to `destination` now.
    public func recordPush(_ destination: Reference, digest: Digest, at date: Date = Date()) throws {
        let record = PushRecord(reference: Self.pushKey(destination), digest: digest, pushed: Timestamp.rfc3339(date))
        try lock.withLock {
            var records = try pushRecords()
            records.removeAll { $0.reference == record.reference }
            records.insert(record, at: 0)
            try FileSystem.replaceDurably(pushRecordsPath, with: Array(try CanonicalJSON.encode(Array(records.prefix(Self.maxPushRecords)))),
                                          temporary: temporaryPath(suffix: ".pushed.json"), syncing: root)
        }
    }

    /// `REGISTRY/REPO:TAG` (default tag `latest`), or `REGISTRY/REPO@DIGEST` for a digest-only
    /// reference.
    static func pushKey(_ reference: Reference) -> String {
        if reference.tag == nil, let digest = reference.digest { return "\(reference.repository)@\(digest)" }
        return "\(reference.repository):\(reference.tag ?? Reference.defaultTag)"
    }
}

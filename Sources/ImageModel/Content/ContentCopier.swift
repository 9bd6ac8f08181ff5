import Foundation

/// How a blob got to the destination.
public enum BlobCopyOutcome: Sendable, Equatable {
    /// The destination had it already.
    case present
    /// Mounted from a repository in the destination's registry, no bytes copied.
    case mounted(from: String)
    /// Copied, after `attempts` tries.
    case copied(attempts: Int)
}

/// Copies an image — a manifest and its config and layers, or an index and every manifest
/// in it — from any `ContentSource` to any `ContentDestination`: blobs first (each digest
/// once; skipped when present, mounted when the source names an origin the destination can
/// mount from, else streamed with digest and size checked on the way), child manifests by
/// digest, the top manifest last so a reader never sees it before its blobs.
///
/// A failed `put` is tried again from a fresh stream (`attempts` in all); a destination that
/// acknowledges a blob but then holds a different size has truncated it, which fails the copy.
public struct ContentCopier: Sendable {
    /// Tries per blob, the first included.
    public var attempts: Int
    /// Blobs in flight at once.
    public var jobs: Int

    public init(attempts: Int = 3, jobs: Int = 4) {
        self.attempts = max(1, attempts)
        self.jobs = max(1, jobs)
    }

    /// Copies `image` and returns how each blob got there.
    public func copy(_ image: Descriptor, from source: ContentSource, to destination: ContentDestination,
                     tag: String?) async throws -> [Digest: BlobCopyOutcome] {
        let plan = try await ContentPlan.make(image, from: source)
        var outcomes: [Digest: BlobCopyOutcome] = [:]
        for batch in stride(from: 0, to: plan.blobs.count, by: jobs).map({ Array(plan.blobs[$0..<min($0 + jobs, plan.blobs.count)]) }) {
            try await withThrowingTaskGroup(of: (Digest, BlobCopyOutcome).self) { group in
                for blob in batch {
                    group.addTask { (blob.digest, try await copyBlob(blob, from: source, to: destination)) }
                }
                for try await (digest, outcome) in group { outcomes[digest] = outcome }
            }
        }
        for child in plan.children {
            try await destination.putManifest(plan.bytes[child.digest] ?? [], as: child, tag: nil)
        }
        try await destination.putManifest(plan.bytes[image.digest] ?? [], as: image, tag: tag)
        return outcomes
    }

    func copyBlob(_ blob: Descriptor, from source: ContentSource, to destination: ContentDestination) async throws -> BlobCopyOutcome {
        if try await destination.blobSize(blob) == blob.size { return .present }
        for origin in try await source.mountOrigins(of: blob) {
            if try await destination.mount(blob, from: origin), try await destination.blobSize(blob) == blob.size {
                return .mounted(from: origin)
            }
        }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await destination.put(blob, chunks: VerifiedChunks.wrap(try await source.open(blob), blob))
            } catch let error as ContentError {
                // The source's bytes are wrong: sending them again cannot help.
                throw error
            } catch {
                if attempt < attempts { continue }
                throw error
            }
            let stored = try await destination.blobSize(blob)
            guard stored == blob.size else {
                if attempt < attempts { continue }
                throw ContentError.incomplete(blob.digest, expected: blob.size, stored: stored)
            }
            return .copied(attempts: attempt)
        }
    }
}

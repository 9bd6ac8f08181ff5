import Foundation

/// How one blob reached the destination.
public enum BlobPushOutcome: Sendable, Equatable {
    /// The destination had it already (`Layer already exists`).
    case alreadyExists
    /// Mounted from another repository of the destination's registry, no bytes sent
    /// (`Mounted from REPO`).
    case mounted(from: String)
    /// Sent from the source, after `attempts` tries (`Pushed`).
    case pushed(attempts: Int)
}

/// What `ImagePusher.push` did.
public struct PushResult: Sendable {
    /// The name the destination gave the image (nil when it was put by digest only).
    public var tag: String?
    /// The manifest (or index) digest at the destination.
    public var digest: Digest
    /// The manifest's size in bytes.
    public var size: Int64
    public var mediaType: String
    /// How each config and layer got there.
    public var blobs: [Digest: BlobPushOutcome]
    /// The subject the destination says it indexed for its referrers list (a registry's
    /// `OCI-Subject` answer); nil when it said nothing or the manifest has no subject.
    public var indexedSubject: Digest?

    /// Docker's last line: `latest: digest: sha256:… size: 528`.
    public var summary: String {
        "\(tag ?? digest.description): digest: \(digest) size: \(size)"
    }
}

/// Pushes an image — a manifest and its config and layers, or an index and every manifest in
/// it — from any `ContentSource` to any `ContentDestination` (store, OCI layout, archive,
/// registry repository): go-containerregistry's `remote.Write(ref, img)` with the source and
/// the destination both behind protocols, as apple/containerization's `ContentClient`.
///
/// Blobs go first, each digest once, `jobs` at a time (layers, then configs); then the child
/// manifests of an index by digest; the top manifest last, so a reader never sees it before its
/// blobs. Each blob is asked for at the destination first, so pushing again — or after an
/// interruption — sends only what is missing; then mounted when the source names an origin the
/// destination can mount from; else streamed with its digest and size checked on the way (the
/// last chunk is held back until they are, so wrong bytes are never committed).
///
/// A put that fails with an error that says trying again can help (`RetryableError`: a 5xx, a
/// dropped connection, an expired token) is tried again from a fresh stream, `attempts` in all.
/// A destination that acknowledges a blob but then holds a different size has truncated it,
/// which is tried again likewise and then fails the push.
public struct ImagePusher: Sendable {
    /// Tries per blob, the first included.
    public var attempts: Int
    /// Blobs in flight at once (`--jobs`).
    public var jobs: Int
    /// Pause before try n+1 is `n × backoff`.
    public var backoff: Duration
    public var onEvent: TransferObserver?
    /// Blobs this command already brought to the destination before the push, and how —
    /// `build --push`'s new layers, uploaded while they were written (each acknowledged under
    /// its digest: `PUT ?digest=` answered 201), and its base layers, mounted or copied beside
    /// the build. Each is reported as what happened to it — a layer this command uploaded is
    /// `Pushed`, as docker reports a layer its own push sent, not `Layer already exists` — and
    /// not asked for again.
    public var settled: [Digest: BlobPushOutcome] = [:]
    /// The top manifest, when this command already put it at the destination under the same
    /// tag (`build --push` puts it as soon as every blob it names is settled, beside the
    /// build's own commit: `putManifestIfSettled`). `push` then reports the image without
    /// putting it again.
    public var placedManifest: Digest?

    public init(jobs: Int = 4, attempts: Int = 3, backoff: Duration = .seconds(1), onEvent: TransferObserver? = nil) {
        self.attempts = max(1, attempts)
        self.jobs = max(1, jobs)
        self.backoff = backoff
        self.onEvent = onEvent
    }

    /// Pushes `image` from `source` to `destination`, naming it `tag` there (by digest only
    /// when nil).
    public func push(_ image: Descriptor, from source: ContentSource, to destination: ContentDestination,
                     tag: String?) async throws -> PushResult {
        let plan = try await ContentPlan.make(image, from: source)
        for layer in plan.layers { onEvent?(TransferEvent(digest: layer.digest, isLayer: true, state: .preparing)) }
        let outcomes = Locked([Digest: BlobPushOutcome]())
        for (blobs, isLayer) in [(plan.layers, true), (plan.configs, false)] {
            try await forEachConcurrently(blobs, limit: jobs) { blob in
                let outcome = try await pushBlob(blob, isLayer: isLayer, from: source, to: destination)
                outcomes.withLock { $0[blob.digest] = outcome }
            }
        }
        for child in plan.children {
            try await destination.putManifest(plan.bytes[child.digest] ?? [], as: child, tag: nil)
        }
        let bytes = plan.bytes[image.digest] ?? []
        let subject = placedManifest == image.digest ? nil : try await destination.putManifest(bytes, as: image, tag: tag)
        return PushResult(tag: tag, digest: image.digest, size: Int64(bytes.count), mediaType: image.mediaType,
                          blobs: outcomes.withLock { $0 }, indexedSubject: subject)
    }

    /// Brings one blob to `destination`, cheapest way first: present, mounted, sent. The
    /// primitive `push` runs per blob, for callers that place blobs themselves (a build that
    /// pushes its base layers while it works); reports progress as `push` does.
    public func pushBlob(_ blob: Descriptor, isLayer: Bool, from source: ContentSource,
                         to destination: ContentDestination) async throws -> BlobPushOutcome {
        @Sendable func emit(_ state: TransferState) { onEvent?(TransferEvent(digest: blob.digest, isLayer: isLayer, state: state)) }
        if let outcome = settled[blob.digest] {
            switch outcome {
            case .alreadyExists: emit(.alreadyExists)
            case .mounted(let from): emit(.mounted(from: from))
            case .pushed: emit(.pushed)
            }
            return outcome
        }
        if try await destination.blobSize(blob) == blob.size {
            emit(.alreadyExists)
            return .alreadyExists
        }
        for origin in try await source.mountOrigins(of: blob) {
            if try await destination.mount(blob, from: origin), try await destination.blobSize(blob) == blob.size {
                emit(.mounted(from: Self.repositoryName(origin)))
                return .mounted(from: Self.repositoryName(origin))
            }
        }
        let progress = ByteProgress(total: blob.size) { done, total in emit(.pushing(completed: done, total: total)) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                let chunks = VerifiedChunks.wrap(try await source.open(blob), blob, onBytes: { progress.add($0) })
                try await destination.put(blob, chunks: chunks)
                let stored = try await destination.blobSize(blob)
                guard stored == blob.size else { throw ContentError.incomplete(blob.digest, expected: blob.size, stored: stored) }
                emit(.pushed)
                return .pushed(attempts: attempt)
            } catch {
                // The source's bytes are wrong, wherever the error surfaced (inside an upload's
                // body, say): sending them again cannot help, and that is what to report.
                if let wrong = error.cause(as: ContentError.self), wrong.isSourceFault { throw wrong }
                guard attempt < attempts, Self.isWorthRetrying(error) else { throw error }
                try await Task.sleep(for: backoff * attempt)
            }
        }
    }

    /// Puts the manifest `bytes` (of `image`, checked against it) at `destination` under `tag`
    /// only when its config and every layer it names are in `settled` — confirmed there by
    /// this command — so a reader never sees it before its blobs; nothing else is read, asked
    /// or sent. False (nothing sent) when one is not: the push that follows sends that blob
    /// first. For an image manifest only (an index names manifests, not settled blobs).
    public func putManifestIfSettled(_ bytes: [UInt8], as image: Descriptor, to destination: ContentDestination,
                                     tag: String?) async throws -> Bool {
        guard MediaType.isManifest(image.mediaType) else { return false }
        var plan = ContentPlan()
        try plan.checkedBytes(bytes, of: image)
        let manifest = try ContentPlan.decode(ImageManifest.self, bytes, image)
        let named = [manifest.config] + manifest.layers.filter { ($0.urls ?? []).isEmpty }
        guard named.allSatisfy({ settled[$0.digest] != nil }) else { return false }
        try await destination.putManifest(bytes, as: image, tag: tag)
        return true
    }

    /// True when some error in the chain says another try can help.
    static func isWorthRetrying(_ error: Error) -> Bool {
        error.causeChain.contains { ($0 as? RetryableError)?.isRetryable == true }
    }

    /// `team/base` of a `registry/team/base` origin, as docker prints it (`Mounted from team/base`).
    static func repositoryName(_ origin: String) -> String {
        guard let slash = origin.firstIndex(of: "/") else { return origin }
        return String(origin[origin.index(after: slash)...])
    }
}

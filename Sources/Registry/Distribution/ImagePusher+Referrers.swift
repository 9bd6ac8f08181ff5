import Foundation
import ImageModel
import ImageStore

/// How one referrer (an attestation, a signature) reached the registry.
public struct ReferrerPushOutcome: Sendable {
    /// The artifact manifest, with its `artifactType`.
    public var artifact: Descriptor
    /// `.api` when the registry answered `OCI-Subject` (it indexes the subject itself),
    /// `.tagSchema` when the `sha256-<hex>` index was updated instead.
    public var listedBy: RemoteReferrers.Source
}

/// Pushing the referrers the store keeps for an image (`ImageStore.referrers(of:)`) beside it,
/// as OCI distribution-spec v1.1 says: each artifact manifest (blobs first) is put by digest;
/// when the registry's answer carries no `OCI-Subject` header it has no referrers API, and the
/// index tagged `sha256-<hex>` of the subject is fetched, merged and put back once for all.
/// Registry-only: an OCI layout or an archive has no referrers list to keep up to date.
extension ImagePusher {
    /// Pushes every referrer `store` keeps of `subject` to `destination` (nothing when there
    /// is none).
    public func pushReferrers(of subject: Descriptor, from store: ImageStore,
                              to destination: RegistryContent) async throws -> [ReferrerPushOutcome] {
        let artifacts = try store.referrers(of: subject.digest)
        guard !artifacts.isEmpty else { return [] }
        var outcomes: [ReferrerPushOutcome] = []
        var unlisted: [Descriptor] = []
        for artifact in artifacts {
            let descriptor = try Self.referrerDescriptor(of: artifact, subject: subject.digest, store: store)
            let pushed = try await push(artifact, from: LazyStoreContent(store: store, client: destination.client),
                                        to: destination, tag: nil)
            let byRegistry = pushed.indexedSubject == subject.digest
            outcomes.append(ReferrerPushOutcome(artifact: descriptor, listedBy: byRegistry ? .api : .tagSchema))
            if !byRegistry { unlisted.append(descriptor) }
        }
        if !unlisted.isEmpty {
            try await destination.client.addToReferrersTag(unlisted, subject: subject.digest, in: destination.repository)
        }
        return outcomes
    }

    /// The descriptor of a referrers list for a stored artifact manifest: `artifactType` from
    /// the manifest (else its config's media type) and the manifest's annotations, as the spec
    /// requires; the manifest must name `subject`.
    static func referrerDescriptor(of artifact: Descriptor, subject: Digest, store: ImageStore) throws -> Descriptor {
        let bytes = try store.readBlob(artifact.digest)
        guard let manifest = try? JSONDecoder().decode(ImageManifest.self, from: Data(bytes)) else {
            throw StoreError.corrupt(path: store.blobPath(artifact.digest), reason: "not an image manifest")
        }
        guard manifest.subject?.digest == subject else {
            throw StoreError.corrupt(path: store.blobPath(artifact.digest), reason: "its subject is not \(subject)")
        }
        var descriptor = Descriptor(mediaType: artifact.mediaType, digest: artifact.digest, size: Int64(bytes.count))
        descriptor.artifactType = manifest.artifactType ?? manifest.config.mediaType
        descriptor.annotations = manifest.annotations
        return descriptor
    }
}

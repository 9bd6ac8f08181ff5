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
extension ImagePusher {
    /// Pushes every stored referrer of `subject` to `repository` (nothing when there is none).
    public func pushReferrers(of subject: Descriptor, to repository: RegistryRepository) async throws -> [ReferrerPushOutcome] {
        let artifacts = try store.referrers(of: subject.digest)
        guard !artifacts.isEmpty else { return [] }
        var outcomes: [ReferrerPushOutcome] = []
        var unlisted: [Descriptor] = []
        for artifact in artifacts {
            let listed = try await pushReferrerManifest(artifact, subject: subject.digest, to: repository)
            outcomes.append(ReferrerPushOutcome(artifact: listed.descriptor, listedBy: listed.byRegistry ? .api : .tagSchema))
            if !listed.byRegistry { unlisted.append(listed.descriptor) }
        }
        if !unlisted.isEmpty {
            try await client.addToReferrersTag(unlisted, subject: subject.digest, in: repository)
        }
        return outcomes
    }

    /// Pushes one stored artifact manifest whose `subject` is `subject` (blobs, then the
    /// manifest by digest) and adds it to the referrers tag when the registry did not index it.
    /// For artifacts made elsewhere than the build (a signature) that should be found by
    /// referrers lookups.
    public func pushReferrer(_ artifact: Descriptor, subject: Digest, to repository: RegistryRepository) async throws -> ReferrerPushOutcome {
        let listed = try await pushReferrerManifest(artifact, subject: subject, to: repository)
        if !listed.byRegistry {
            try await client.addToReferrersTag([listed.descriptor], subject: subject, in: repository)
        }
        return ReferrerPushOutcome(artifact: listed.descriptor, listedBy: listed.byRegistry ? .api : .tagSchema)
    }

    /// Puts the artifact (checked to name `subject`) and says whether the registry answered
    /// `OCI-Subject: <subject>`; returns the descriptor a referrers list holds for it.
    private func pushReferrerManifest(_ artifact: Descriptor, subject: Digest,
                                      to repository: RegistryRepository) async throws -> (descriptor: Descriptor, byRegistry: Bool) {
        let descriptor = try Self.referrerDescriptor(of: artifact, subject: subject, store: store)
        let target = Reference(domain: repository.registry, path: repository.name, tag: nil, digest: artifact.digest)
        let pushed = try await push(manifest: artifact, to: target)
        return (descriptor, pushed.ociSubject == subject)
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

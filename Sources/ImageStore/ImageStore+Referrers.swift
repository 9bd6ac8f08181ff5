import Foundation
import ImageModel

/// Artifacts about an image (an SBOM now; provenance and signatures later), kept beside it as
/// OCI 1.1 referrers so that `push` can attach them to the pushed image:
///
/// ```
/// referrers/<subject manifest hex>   an OCI index of the artifact manifests whose subject it is
/// ```
///
/// — the shape a registry's referrers API answers with, each descriptor carrying its
/// `artifactType`. The file is replaced by rename under the index lock. The artifacts' blobs
/// live as long as their subject: garbage collection keeps what the referrers of a kept image
/// reach, and deletes them with it.
extension ImageStore {
    var referrersDirectory: String { root + "/referrers" }

    private func referrersPath(_ subject: Digest) -> String { referrersDirectory + "/" + subject.encoded }

    /// Records the stored artifact manifest `artifact` as a referrer of `subject` (once; a
    /// second record of the same digest changes nothing). Its blobs must be stored. With
    /// `replacingArtifactType`, earlier referrers of that type are dropped from the list (their
    /// blobs go with the next garbage collection).
    public func addReferrer(_ artifact: Descriptor, subject: Digest, replacingArtifactType: String? = nil) throws {
        guard MediaType.isManifest(artifact.mediaType) else {
            throw StoreError.unsupportedMediaType(artifact.mediaType, digest: artifact.digest)
        }
        _ = try reachableBlobs(from: artifact, requirePresent: true)
        try lock.withLock {
            var list = try referrers(of: subject)
            guard !list.contains(where: { $0.digest == artifact.digest }) else { return }
            if let replaced = replacingArtifactType { list.removeAll { $0.artifactType == replaced } }
            list.append(artifact)
            let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: list)
            try FileSystem.makeDirectories(referrersDirectory)
            try FileSystem.replaceDurably(referrersPath(subject), with: Array(try CanonicalJSON.encode(index)),
                                          temporary: temporaryPath(suffix: ".referrers"), syncing: referrersDirectory)
        }
    }

    /// The artifact manifests recorded as referrers of `subject` whose manifest is stored,
    /// in the order they were added; empty when there are none.
    public func referrers(of subject: Digest) throws -> [Descriptor] {
        let path = referrersPath(subject)
        guard FileSystem.isRegularFile(path) else { return [] }
        let bytes = try FileSystem.readFile(path)
        do {
            return try CanonicalJSON.decode(ImageIndex.self, from: Data(bytes)).manifests.filter { hasBlob($0.digest) }
        } catch {
            throw StoreError.corrupt(path: path, reason: "cannot decode the referrers index: \(error)")
        }
    }

    /// The blobs the referrers of `subject` reach (artifact manifests, their configs and layers).
    func referrerBlobs(of subject: Digest) throws -> [Digest] {
        try referrers(of: subject).flatMap { try reachableBlobs(from: $0) }
    }

    /// What an `index.json` entry keeps alive: its image's blobs and its referrers' blobs.
    func keptBlobs(by entry: Descriptor) throws -> [Digest] {
        try reachableBlobs(from: entry) + referrerBlobs(of: entry.digest)
    }

    /// Forgets the referrers of a subject that is gone (their blobs are the caller's to delete).
    func removeReferrers(of subject: Digest) {
        try? FileSystem.removeFile(referrersPath(subject))
    }
}

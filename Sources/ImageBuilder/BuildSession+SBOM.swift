import Attestation
import Foundation
import ImageModel
import ImageStore
import Layers
import PathEncoding

/// `build --sbom`: what the final image contains, as an SPDX document stored beside the image
/// as an OCI 1.1 artifact whose subject is the image manifest. The package databases are
/// found in the stage's header view (the base layers' index and the entries this build
/// added); only the layers holding a winning version of one are streamed, and only those
/// files are read — nothing is unpacked.
extension BuildSession {
    /// Writes the SBOM of the image `manifest` (whose layers are `layers`, bottom first, all
    /// stored or fetchable) and records it as a referrer; returns the artifact manifest.
    func writeSBOM(of state: inout StageState, layers: [Descriptor], manifest: Descriptor) async throws -> Descriptor {
        try await loadBaseView(&state)
        // Layer index → path to read there → the image paths it stands for, and their kind.
        // Paths are keyed by their bytes (`PathKey`): two names that differ only by Unicode
        // normalisation are two files.
        var wanted: [Int: [PathKey: [(path: String, kind: PackageDatabases.Kind)]]] = [:]
        for (key, entry) in state.view.entries {
            let path = key.path
            guard let kind = PackageDatabases.kind(of: path) else { continue }
            var holder = entry
            if holder.kind == .symlink {
                guard let resolved = state.view.resolve(path), let target = state.view.entry(resolved) else { continue }
                holder = target
            }
            let readPath: String
            switch holder.kind {
            case .file: readPath = state.view.resolve(path) ?? path
            case .hardlink: readPath = holder.header.linkTarget ?? ""  // its content is in the same layer
            default: continue
            }
            guard holder.layer < layers.count, !readPath.isEmpty else { continue }
            wanted[holder.layer, default: [:]][PathKey(readPath), default: []].append((path, kind))
        }
        var packages: [SoftwarePackage] = []
        for layer in wanted.keys.sorted() {
            let files = wanted[layer]!
            let digest = layers[layer].digest
            try await ensureLocal([digest], of: "image \(state.imageDescription)")
            let blob = LayerBlob(path: store.blobPath(digest), digest: digest)
            let stage = state
            // Parsed as each file streams past; a path written twice in a layer counts as its last entry.
            var found: [PathKey: [SoftwarePackage]] = [:]
            var tooLarge: [PathKey: Int64] = [:]
            try verifying(stage) {
                try LayerUnpacker.readFiles(Set(files.keys), fromBlob: blob, limit: PackageDatabases.sizeLimit) { path, read in
                    let readPath = PathKey(path)
                    tooLarge[readPath] = nil
                    found[readPath] = nil
                    switch read {
                    case .content(let bytes)?:
                        found[readPath] = files[readPath, default: []].flatMap {
                            PackageDatabases.packages(in: bytes, kind: $0.kind, path: "/" + $0.path)
                        }
                    case .tooLarge(let size)?: tooLarge[readPath] = size
                    case nil: break
                    }
                }
            }
            for readPath in found.keys.sorted() { packages += found[readPath]! }
            for (readPath, size) in tooLarge.sorted(by: { $0.key < $1.key }) {
                for user in files[readPath, default: []] {
                    emit(.warning("SBOM: skipped /\(user.path): \(size) bytes, over the limit of \(PackageDatabases.sizeLimit)"))
                }
            }
        }
        let name = options.tags.first?.description ?? manifest.digest.description
        let document = SPDXDocument(imageName: name, manifestDigest: manifest.digest.description, packages: packages,
                                    created: Date(timeIntervalSince1970: TimeInterval(nowSeconds)))
        return try storeArtifact(try document.jsonBytes(), type: SPDXDocument.mediaType, subject: manifest, replacingOlder: true)
    }

    /// Stores `content` as an OCI 1.1 artifact manifest (empty config, one layer of `type`,
    /// `artifactType` `type`, `subject` the image) and records it as the image's referrer —
    /// with `replacingOlder`, instead of any earlier referrer of the same type (a rebuild's
    /// provenance replaces the last build's).
    func storeArtifact(_ content: [UInt8], type: String, subject: Descriptor, replacingOlder: Bool = false) throws -> Descriptor {
        let emptyJSON = Array("{}".utf8)
        let config = Descriptor(mediaType: MediaType.ociEmpty, digest: try store.writeBlob(emptyJSON), size: Int64(emptyJSON.count))
        let layer = Descriptor(mediaType: type, digest: try store.writeBlob(content), size: Int64(content.count))
        let artifact = ImageManifest(mediaType: MediaType.ociManifest, config: config, layers: [layer],
                                     artifactType: type,
                                     subject: Descriptor(mediaType: subject.mediaType, digest: subject.digest, size: subject.size))
        var descriptor = try store.writeJSON(artifact, mediaType: MediaType.ociManifest)
        descriptor.artifactType = type
        try store.addReferrer(descriptor, subject: subject.digest, replacingArtifactType: replacingOlder ? type : nil)
        return descriptor
    }
}

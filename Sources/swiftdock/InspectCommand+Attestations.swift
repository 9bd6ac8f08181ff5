import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// `inspect --attestations [--remote] IMAGE…`: the OCI 1.1 referrers of each image (SBOM,
/// provenance, anything else whose `subject` is the image) — from the store, or with `--remote`
/// from the registry (its referrers API, else the `sha256-<hex>` tag, as `oras discover` looks).
/// A table of artifact type, artifact manifest digest and content size; `-f json` prints each
/// image's referrers as the OCI index a referrers API answers.
extension InspectCommand {
    /// One image's referrers: the subject(s) looked at and what refers to them.
    struct AttestationListing {
        var image: String
        var entries: [(descriptor: Descriptor, contentSize: Int64?)]
        /// How the registry listed them (remote only).
        var source: RemoteReferrers.Source?
    }

    func runAttestations() async throws {
        guard format == nil || format == "json" || format == "table" else {
            throw ValidationError("--attestations takes --format table or json, not a template")
        }
        let (listings, failures) = try await eachImage(
            remote: { try await remoteAttestations(try parseReference($0), client: $1, platform: $2) },
            local: { try localAttestations($0, store: $1) })
        for listing in listings {
            if let source = listing.source, source != .none { printError("\(listing.image): listed by the registry's \(source.rawValue)") }
        }
        if format == "json" {
            for listing in listings {
                let index = ImageIndex(mediaType: MediaType.ociIndex, manifests: listing.entries.map(\.descriptor))
                print(String(decoding: try CanonicalJSON.encode(index), as: UTF8.self))
            }
        } else {
            for listing in listings {
                if listings.count > 1 { print("\(listing.image):") }
                var rows = [["ARTIFACT TYPE", "DIGEST", "SIZE"]]
                for entry in listing.entries {
                    rows.append([Self.printable(entry.descriptor.artifactType ?? "-"), entry.descriptor.digest.description,
                                 entry.contentSize.map(formatSize) ?? "-"])
                }
                print(formatTable(rows))
            }
        }
        if let first = failures.first {
            throw CommandFailure(failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more)", code: ExitCode32.failure)
        }
    }

    /// A registry's text for a terminal: control characters (escape sequences) shown as `?`.
    static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.value < 0x20 || (0x7f...0x9f).contains($0.value) ? "?" : $0
        }))
    }

    /// The stored referrers of the image and, for a multi-platform one, of its host manifest.
    private func localAttestations(_ name: String, store: ImageStore) throws -> AttestationListing {
        let found = try store.findImage(name)
        var subjects = [found.manifest.digest]
        let platformManifest = try store.image(found.manifest).manifestDescriptor.digest
        if !subjects.contains(platformManifest) { subjects.append(platformManifest) }
        var entries: [(Descriptor, Int64?)] = []
        for subject in subjects {
            for referrer in try store.referrers(of: subject) {
                let manifest = try? JSONDecoder().decode(ImageManifest.self, from: Data(try store.readBlob(referrer.digest)))
                entries.append((referrer, manifest.map { $0.layers.reduce(0) { $0 + $1.size } }))
            }
        }
        return AttestationListing(image: name, entries: entries, source: nil)
    }

    /// The registry's referrers of the reference's digest and, for an index, of the platform's manifest.
    private func remoteAttestations(_ reference: Reference, client: RegistryClient, platform: Platform) async throws -> AttestationListing {
        let repository = RegistryRepository(reference)
        let image = try await RemoteImageInspector(client: client, platform: platform).inspect(reference)
        var subjects = [image.top.digest]
        if image.manifest.digest != image.top.digest { subjects.append(image.manifest.digest) }
        var entries: [(Descriptor, Int64?)] = []
        var source = RemoteReferrers.Source.none
        for subject in subjects {
            let listed = try await client.fetchReferrers(of: subject, in: repository)
            if listed.source != .none { source = listed.source }
            for (position, descriptor) in listed.manifests.enumerated() {
                // The content size needs the artifact manifest (asked for the first 100 only: a
                // hostile list must not cost a request per entry); a referrer that cannot be read still lists.
                guard position < 100 else {
                    entries.append((descriptor, nil))
                    continue
                }
                let manifest = try? await client.fetchManifest(descriptor.digest.description, in: repository)
                let decoded = manifest.flatMap { try? JSONDecoder().decode(ImageManifest.self, from: Data($0.bytes)) }
                entries.append((descriptor, decoded.map { $0.layers.reduce(0) { $0 + $1.size } }))
            }
        }
        return AttestationListing(image: reference.familiarDescription, entries: entries, source: source)
    }
}

import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// `swiftdock push [-q] [--jobs N] SOURCE [DESTINATION]`: a stored image to a registry, or any
/// image between the store, registries, OCI layouts and archives (skopeo's transport syntax).
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push an image to a registry, an OCI layout or an archive.", usage: Synopsis.push)

    @Flag(name: [.customShort("q"), .long], help: "Print only the final result line.")
    var quiet = false

    @Option(help: "Blobs to transfer in parallel.")
    var jobs: Int = 4

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions

    @Argument(help: "The image to push: a store image (reference or image ID), or oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF].")
    var image: String

    @Argument(help: "Where to push it: a registry reference (default: the image reference; without a tag, :latest), or oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF].")
    var destination: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        _ = try destination.map(ImageTransport.parse)
        if ImageTransport.namesTransport(image) { _ = try ImageTransport.parse(image) }
    }

    func run() async throws {
        let target = try destination.map(ImageTransport.parse)
        if ImageTransport.namesTransport(image) {
            guard let target else {
                throw ValidationError("pushing from \(image) needs a destination (a registry reference, oci:, oci-archive: or docker-archive:)")
            }
            // An archive is unpacked under the store's tmp/: on the disk meant for images, and
            // cleaned up by the store if this process dies.
            let source = try await ImageTransport.parse(image).openSource(staging: { try self.store.openStore().makeTemporaryDirectory() })
            defer { source.close() }
            return try await push(source.image, from: { _ in source.content }, to: target)
        }
        let store = try store.openStore()
        let found = try store.findImage(image)
        let descriptor = found.manifest
        var reference = found.reference
        switch target {
        case .registry(let given)?:
            reference = given
        case let other?:
            // A layout lists the image under its store name too (containerd's annotation, as
            // docker ≥ 25 and `save` write it), so `pull` of the layout or archive finds the name.
            var listed = descriptor
            if let name = found.reference {
                listed.annotations = (listed.annotations ?? [:]).merging([ImageStore.imageNameAnnotation: name.description]) { $1 }
            }
            return try await push(listed, from: { LazyStoreContent(store: store, client: $0) }, to: other)
        case nil:
            break
        }
        guard let target = reference else {
            throw ValidationError("pushing an image ID needs a destination reference")
        }
        // A store image to a registry: lazily pulled layers mounted or streamed, attestations
        // pushed beside the image, the push recorded for `vertex run`.
        let renderer = ProgressRenderer(quiet: quiet, pulling: false)
        if !quiet { print("The push refers to repository [\(target.repository)]") }
        let result = try await withClient(registry.makeClient()) { client in
            let result: PushResult
            do {
                result = try await ImagePusher(jobs: jobs, onEvent: renderer.observer).push(descriptor, from: store, to: target, client: client)
                renderer.finish()
                try await Self.pushAttestations(of: descriptor, from: store, to: target, client: client, jobs: jobs, quiet: quiet)
            } catch {
                renderer.finish()
                throw error
            }
            return result
        }
        recordPush(result, as: target, in: store)
        print(result.summary)
    }

    /// Pushes the image's referrers (SBOM, provenance) after it, one line each on stderr:
    /// `attestation application/spdx+json sha256:… pushed (referrers API)`.
    static func pushAttestations(of image: Descriptor, from store: ImageStore, to target: Reference,
                                 client: RegistryClient, jobs: Int, quiet: Bool) async throws {
        // The image's progress lines are finished; one line per attestation instead.
        let destination = RegistryContent(client: client, repository: RegistryRepository(target))
        for outcome in try await ImagePusher(jobs: jobs).pushReferrers(of: image, from: store, to: destination) where !quiet {
            let how = outcome.listedBy == .api
                ? "referrers API" : "referrers tag \(RegistryRepository.referrersTag(for: image.digest))"
            printError("attestation \(outcome.artifact.artifactType ?? "?") \(outcome.artifact.digest) pushed (\(how))")
        }
    }
}

extension PushCommand {
    /// Pushes `image` from the source `makeSource` opens (given the registry client) to
    /// `target`; an archive is packed only when every blob arrived, a failed push leaves it as
    /// it was.
    func push(_ image: Descriptor, from makeSource: (RegistryClient) -> ContentSource, to target: ImageTransport) async throws {
        let label = try await withClient(registry.makeClient()) { client in
            let renderer = ProgressRenderer(quiet: quiet, pulling: false)
            var opened: OpenedDestination?
            do {
                let destination = try target.openDestination(image: image, client: client)
                opened = destination
                _ = try await ImagePusher(jobs: jobs, onEvent: renderer.observer)
                    .push(image, from: makeSource(client), to: destination.content, tag: destination.tag)
                try destination.finish(image)
            } catch {
                renderer.finish()
                opened?.discard()
                throw error
            }
            renderer.finish()
            return opened?.label
        }
        print("\(label ?? image.digest.description): digest: \(image.digest) size: \(image.size)")
    }
}

/// Remembers a successful push in the store (`vertex run` pins to it). The push itself
/// succeeded, so a record that cannot be written is a warning, not a failure.
func recordPush(_ result: PushResult, as reference: Reference, in store: ImageStore) {
    do {
        try store.recordPush(reference, digest: result.digest)
    } catch {
        printError("WARNING: pushed, but cannot record the push in the store: \(error)")
    }
}

import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// `swiftdock push [-q] [--jobs N] REF [DEST_REF]`: uploads a stored image to a registry.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push an image from the local store to a registry.", usage: Synopsis.push)

    @Flag(name: [.customShort("q"), .long], help: "Print only the final result line.")
    var quiet = false

    @Option(help: "Blobs to transfer in parallel.")
    var jobs: Int = 4

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions

    @Argument(help: "The image to push (reference or image ID), or oci:DIR[:NAME] to push from an OCI layout.")
    var image: String

    @Argument(help: "Where to push it: a registry reference (default: the image reference; without a tag, :latest), or oci:DIR[:NAME].")
    var destination: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        _ = try destination.map(PushDestination.parse)
        if image.hasPrefix("oci:") { _ = try PushDestination.parse(image) }
    }

    func run() async throws {
        if image.hasPrefix("oci:"), case .layout(let directory, let name) = try PushDestination.parse(image) {
            return try await push(fromLayout: directory, name: name)
        }
        let store = try store.openStore()
        let found = try store.findImage(image)
        let descriptor = found.manifest
        var target = found.reference
        switch try destination.map(PushDestination.parse) {
        case .layout(let directory, let name)?:
            return try await push(descriptor, from: store, toLayout: directory, name: name)
        case .registry(let reference)?:
            target = reference
        case nil:
            break
        }
        guard let target else {
            throw ValidationError("pushing an image ID needs a destination reference")
        }
        let renderer = ProgressRenderer(quiet: quiet, pulling: false)
        if !quiet { print("The push refers to repository [\(target.repository)]") }
        let client = registry.makeClient()
        let result: PushResult
        do {
            result = try await ImagePusher(jobs: jobs, onEvent: renderer.observer).push(descriptor, from: store, to: target, client: client)
            renderer.finish()
            try await Self.pushAttestations(of: descriptor, from: store, to: target, client: client, jobs: jobs, quiet: quiet)
        } catch {
            renderer.finish()
            await client.shutdown()
            throw error
        }
        await client.shutdown()
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

/// Remembers a successful push in the store (`vertex run` pins to it). The push itself
/// succeeded, so a record that cannot be written is a warning, not a failure.
func recordPush(_ result: PushResult, as reference: Reference, in store: ImageStore) {
    do {
        try store.recordPush(reference, digest: result.digest)
    } catch {
        printError("WARNING: pushed, but cannot record the push in the store: \(error)")
    }
}

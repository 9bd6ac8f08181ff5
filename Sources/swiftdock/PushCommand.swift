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

    @Argument(help: "The image to push (reference or image ID).")
    var image: String

    @Argument(help: "Where to push it (default: the image reference; without a tag, :latest).")
    var destination: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        let store = try store.openStore()
        let found = try store.findImage(image)
        let descriptor = found.manifest
        guard let target = try destination.map(parseReference) ?? found.reference else {
            throw ValidationError("pushing an image ID needs a destination reference")
        }
        let renderer = ProgressRenderer(quiet: quiet, pulling: false)
        if !quiet { print("The push refers to repository [\(target.repository)]") }
        let client = registry.makeClient()
        let result: PushResult
        do {
            let pusher = ImagePusher(client: client, store: store, jobs: jobs, onEvent: renderer.observer)
            result = try await pusher.push(manifest: descriptor, to: target)
            renderer.finish()
            try await Self.pushAttestations(of: descriptor, to: target, pusher: pusher, quiet: quiet)
        } catch {
            renderer.finish()
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        recordPush(result, in: store)
        print(result.summary)
    }

    /// Pushes the image's referrers (SBOM, provenance) after it, one line each on stderr:
    /// `attestation application/spdx+json sha256:… pushed (referrers API)`.
    static func pushAttestations(of image: Descriptor, to target: Reference, pusher: ImagePusher, quiet: Bool) async throws {
        let repository = RegistryRepository(target)
        var pusher = pusher
        pusher.onEvent = nil  // the image's progress lines are finished; one line per attestation instead
        for outcome in try await pusher.pushReferrers(of: image, to: repository) where !quiet {
            let how = outcome.listedBy == .api
                ? "referrers API" : "referrers tag \(RegistryRepository.referrersTag(for: image.digest))"
            printError("attestation \(outcome.artifact.artifactType ?? "?") \(outcome.artifact.digest) pushed (\(how))")
        }
    }
}

/// Remembers a successful push in the store (`vertex run` pins to it). The push itself
/// succeeded, so a record that cannot be written is a warning, not a failure.
func recordPush(_ result: PushResult, in store: ImageStore) {
    do {
        try store.recordPush(result.destination, digest: result.digest)
    } catch {
        printError("WARNING: pushed, but cannot record the push in the store: \(error)")
    }
}

import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// `swiftdock pull [--platform P] [-q] [--all-layers] REF`: fetches an image into the store.
/// Only the manifest and config are downloaded unless `--all-layers` is given; layers are
/// fetched when a build needs their content, and mounted or streamed when pushed.
struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from a registry, an OCI layout or an archive into the local store.", usage: Synopsis.pull)

    @Option(help: "Platform to choose from a multi-platform image (os/arch[/variant]; default: linux/host architecture).")
    var platform: String?

    @Flag(name: [.customShort("q"), .long], help: "Print only the image reference.")
    var quiet = false

    @Flag(name: .customLong("all-layers"), help: "Download every layer now instead of when it is needed.")
    var allLayers = false

    @Option(help: "Layers to download in parallel.")
    var jobs: Int = 4

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions

    @Argument(help: "The image reference (name[:tag] or name@digest), or oci:DIR[:NAME], oci-archive:FILE[:NAME], docker-archive:FILE[:REF].")
    var image: String

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if ImageTransport.namesTransport(image) { _ = try ImageTransport.parse(image) }
        if let platform {
            do { _ = try Platform(parsing: platform) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        if ImageTransport.namesTransport(image) { return try await pull(from: try ImageTransport.parse(image)) }
        let reference = try parseReference(image)
        let wanted = try platform.map(Platform.init(parsing:))
        let store = try store.openStore()
        let renderer = ProgressRenderer(quiet: quiet, pulling: true)
        if !quiet { print("\(reference.tag ?? reference.digest?.description ?? Reference.defaultTag): Pulling from \(reference.path)") }
        let result = try await withClient(registry.makeClient()) { client in
            defer { renderer.finish() }
            let puller = ImagePuller(client: client, store: store, platform: wanted, jobs: jobs, onEvent: renderer.observer)
            return try await puller.pull(reference, allLayers: allLayers)
        }
        if !quiet {
            print("Digest: \(result.digest)")
            print(result.isUpToDate ? "Status: Image is up to date for \(reference.familiarDescription)"
                                    : "Status: Downloaded newer image for \(reference.familiarDescription)")
        }
        print(reference.description)
    }
}

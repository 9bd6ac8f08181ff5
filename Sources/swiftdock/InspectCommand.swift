import ArgumentParser
import Foundation
import GoTemplate
import ImageModel
import ImageStore
import Registry

/// `swiftdock inspect [-f TEMPLATE] [--remote] IMAGE...`: docker's `image inspect` — a JSON
/// array in docker's shape, or a Go template per image. With `--remote` the image is read from
/// its registry (manifest and config only) and nothing is stored.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show images in docker's image inspect shape.", usage: Synopsis.inspect)

    @Option(name: [.customShort("f"), .long], help: "Format with a Go template, as docker: '{{.Id}}', '{{json .Config.Env}}', '{{index .Config.Labels \"k\"}}'.")
    var format: String?

    @Flag(help: "Read the image from its registry (manifest and config) without pulling it.")
    var remote = false

    @Option(help: "With --remote: the platform to choose from a multi-platform image (os/arch[/variant]).")
    var platform: String?

    @Flag(help: "List the image's attestations (OCI 1.1 referrers: artifact type, digest, size); with --remote, the registry's.")
    var attestations = false

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions
    @Argument(help: "Images to inspect (name[:tag], name@digest, image ID or a unique prefix of it).") var images: [String]

    func run() async throws {
        if attestations { return try await runAttestations() }
        // As docker: the template is parsed before anything is looked up.
        let template: GoTemplate?
        do {
            template = try format.flatMap { $0 == "json" ? nil : try GoTemplate($0) }
        } catch {
            throw CommandFailure("template parsing error: \(error)", code: ExitCode32.failure)
        }
        let (documents, failures) = try await eachImage(
            remote: { try await remoteDocument(try parseReference($0), client: $1, platform: $2).value },
            local: { try localDocument(try $1.findImage($0).manifest, store: $1).value })
        if let template {
            for document in documents {
                do {
                    print(try template.render(document))
                } catch {
                    throw CommandFailure("template parsing error: \(error)", code: ExitCode32.failure)
                }
            }
        } else {
            print(GoJSON.indented(.list(documents)))
        }
        // docker prints what it found, then one error for what it did not.
        if let first = failures.first {
            throw CommandFailure(failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more)", code: ExitCode32.failure)
        }
    }

    /// `body` for each named image — from its registry with `--remote` (one client, the
    /// `--platform` chosen), else from the store — with the failures collected, as docker
    /// prints what it found and then one error.
    func eachImage<T>(remote fromRegistry: (String, RegistryClient, Platform) async throws -> T,
                      local fromStore: (String, ImageStore) throws -> T) async throws -> ([T], [String]) {
        var results: [T] = []
        var failures: [String] = []
        if remote {
            let target = try platform.map { p in
                do { return try Platform(parsing: p) } catch { throw ValidationError("\(error)") }
            } ?? .host
            let client = registry.makeClient()
            for name in images {
                do { results.append(try await fromRegistry(name, client, target)) } catch { failures.append("\(error)") }
            }
            await client.shutdown()
        } else {
            let store = try self.store.openStore()
            for name in images {
                do { results.append(try fromStore(name, store)) } catch { failures.append("\(error)") }
            }
        }
        return (results, failures)
    }

    /// An image of the store: its names are every entry holding the same manifest; `Digest`
    /// is the entry's (an index for a multi-platform image), `Manifest` the host platform's.
    private func localDocument(_ descriptor: Descriptor, store: ImageStore) throws -> InspectDocument {
        let image = try store.image(descriptor)
        let names = try store.tags().filter { $0.manifest.digest == descriptor.digest }.map(\.reference)
        let repositories = Set(names.map(\.familiarRepository))
        return InspectDocument(
            imageID: image.imageID,
            repoTags: names.filter { $0.tag != nil }.map(\.familiarDescription).sorted(),
            repoDigests: repositories.sorted().map { "\($0)@\(descriptor.digest)" },
            descriptor: descriptor, manifest: image.manifest,
            manifestBytes: try store.readBlob(image.manifestDescriptor.digest),
            config: image.config, configBytes: try store.readBlob(image.configDescriptor.digest))
    }

    /// An image in a registry: `RepoDigests` names the digest the reference resolves to there.
    private func remoteDocument(_ reference: Reference, client: RegistryClient, platform: Platform) async throws -> InspectDocument {
        let image = try await RemoteImageInspector(client: client, platform: platform).inspect(reference)
        return InspectDocument(
            imageID: image.decodedManifest.config.digest,
            repoTags: reference.tag.map { [reference.familiarRepository + ":" + $0] } ?? [],
            repoDigests: ["\(reference.familiarRepository)@\(image.top.digest)"],
            descriptor: image.top.descriptor, manifest: image.decodedManifest, manifestBytes: image.manifest.bytes,
            config: image.config, configBytes: image.configBytes)
    }
}

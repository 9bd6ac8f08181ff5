import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// Finds an image by reference, or by (a prefix of) its ID as docker allows.
func resolveImage(_ text: String, in store: ImageStore) throws -> (Descriptor, Reference?) {
    let hexPrefix = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
    if hexPrefix.count >= 4, hexPrefix.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
       let descriptor = try store.resolve(imageIDPrefix: hexPrefix) {
        return (descriptor, nil)
    }
    let reference = try parseReference(text)
    guard let descriptor = try store.resolve(reference) else {
        throw StoreError.imageNotFound(reference.familiarDescription)
    }
    return (descriptor, reference)
}

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images in the local store.")

    @Flag(name: [.customShort("q"), .long], help: "Only show image IDs.")
    var quiet = false

    @Option(help: "Output format: table (default) or json (one JSON object per line).")
    var format: String = "table"

    @Flag(name: .customLong("no-trunc"), help: "Show full image IDs.")
    var noTrunc = false

    @Flag(help: "Show digests (the manifest's, which is what a registry names the image by).")
    var digests = false

    @OptionGroup var store: StoreOptions

    @Argument(help: "Only images of this repository.")
    var repository: String?

    func run() throws {
        guard format == "table" || format == "json" else {
            throw ValidationError("invalid --format value \"\(format)\": expected table or json")
        }
        var images = try store.openStore().listImages()
        if let repository {
            let wanted = try parseReference(repository)
            images = images.filter { $0.reference.repository == wanted.repository
                && (repository.contains(":") ? $0.reference.tag == wanted.tag : true) }
        }
        if quiet {
            var seen = Set<Digest>()
            for image in images where seen.insert(image.imageID).inserted {
                print(noTrunc ? image.imageID.description : image.imageID.shortID)
            }
            return
        }
        let now = Date()
        if format == "json" {
            for image in images {
                let created = image.created
                let object: [String: String] = [
                    "Repository": image.reference.familiarRepository,
                    "Tag": image.reference.tag ?? "<none>",
                    "ID": noTrunc ? image.imageID.description : image.imageID.shortID,
                    "Digest": image.manifestDescriptor.digest.description,
                    "CreatedAt": created.map(Timestamp.rfc3339) ?? "",
                    "CreatedSince": created.map { formatSince($0, now: now) } ?? "N/A",
                    "Size": formatSize(image.size),
                ]
                print(String(decoding: try CanonicalJSON.encode(object), as: UTF8.self))
            }
            return
        }
        var rows = [["REPOSITORY", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "CREATED", "SIZE"]]
        for image in images {
            let created = image.created
            let digest = (image.reference.digest ?? image.manifestDescriptor.digest).description
            rows.append([image.reference.familiarRepository, image.reference.tag ?? "<none>"] + (digests ? [digest] : [])
                + [noTrunc ? image.imageID.description : image.imageID.shortID,
                   created.map { formatSince($0, now: now) } ?? "N/A", formatSize(image.size)])
        }
        print(formatTable(rows))
    }
}

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "Source image (name[:tag] or ID).") var source: String
    @Argument(help: "Target name[:tag].") var target: String

    func run() throws {
        let store = try self.store.openStore()
        let targetRef = try parseReference(target)
        guard targetRef.digest == nil else { throw ValidationError("refusing to create a tag with a digest reference") }
        let (descriptor, _) = try resolveImage(source, in: store)
        try store.tag(targetRef, manifest: descriptor)
    }
}

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images (untag, then delete unreferenced blobs).")

    @Flag(name: [.customShort("f"), .long], help: "Remove every tag of an image named by ID.")
    var force = false

    @OptionGroup var store: StoreOptions
    @Argument(help: "Images to remove.") var images: [String]

    func run() throws {
        let store = try self.store.openStore()
        var failed = false
        for name in images {
            do {
                let (descriptor, reference) = try resolveImage(name, in: store)
                var references: [Reference]
                if let reference {
                    references = [reference]
                } else {
                    references = try store.listImages().filter { $0.manifestDescriptor.digest == descriptor.digest }.map(\.reference)
                    if references.count > 1 && !force {
                        throw StoreError.io(path: name, reason: "image is referenced in multiple repositories (use -f to remove all)")
                    }
                }
                for reference in references {
                    for line in try store.untag(reference).lines { print(line) }
                }
            } catch {
                printError("Error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(ExitCode32.failure) }
    }
}

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show an image's manifest and config as JSON.")

    @Option(name: [.customShort("f"), .long], help: "Print one field with a template such as '{{.Id}}' or '{{json .Config.Config}}'.")
    var format: String?

    @OptionGroup var store: StoreOptions
    @Argument(help: "Images to inspect.") var images: [String]

    func run() throws {
        let store = try self.store.openStore()
        var documents: [Any] = []
        for name in images {
            let (descriptor, _) = try resolveImage(name, in: store)
            let image = try store.image(descriptor)
            let tags = try store.listImages().filter { $0.manifestDescriptor.digest == descriptor.digest }
                .compactMap { $0.reference.familiarDescription }
            let document: [String: Any] = [
                "Id": image.configDescriptor.digest.description,
                "Digest": descriptor.digest.description,
                "MediaType": descriptor.mediaType,
                "RepoTags": tags.sorted(),
                "Created": image.config.created ?? "",
                "Architecture": image.config.architecture,
                "Os": image.config.os,
                "Size": image.manifest.layers.reduce(image.manifest.config.size) { $0 + $1.size },
                "Manifest": try jsonObject(image.manifest),
                "Config": try jsonObject(image.config),
            ]
            documents.append(document)
        }
        if let format {
            for document in documents { print(try TemplateField.render(format, document as! [String: Any])) }
            return
        }
        let data = try JSONSerialization.data(withJSONObject: documents, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }

    private func jsonObject<T: Encodable>(_ value: T) throws -> Any {
        try JSONSerialization.jsonObject(with: try CanonicalJSON.encode(value))
    }
}

struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Write images to a docker-archive tar or an OCI layout directory.")

    @Option(help: "docker (a tar `docker load` reads) or oci (an OCI image layout directory).")
    var format: String = "docker"

    @Option(name: [.customShort("o"), .long], help: "Output file (docker) or directory (oci).")
    var output: String

    @OptionGroup var registry: RegistryCLIOptions
    @OptionGroup var store: StoreOptions
    @Argument(help: "Images to save.") var images: [String]

    func run() async throws {
        let saveFormat: SaveFormat
        switch format {
        case "docker": saveFormat = .docker
        case "oci": saveFormat = .oci
        default: throw ValidationError("invalid --format value \"\(format)\": expected docker or oci")
        }
        let store = try self.store.openStore()
        let references = try images.map { name -> Reference in
            let (descriptor, reference) = try resolveImage(name, in: store)
            if let reference { return reference }
            guard let tagged = try store.listImages().first(where: { $0.manifestDescriptor.digest == descriptor.digest })?.reference else {
                throw StoreError.imageNotFound(name)
            }
            return tagged
        }
        // Layers a pull left in their registry are fetched now: a saved image is complete.
        var missing: [Digest] = []
        for reference in references {
            guard let descriptor = try store.resolve(reference) else { continue }
            missing += try store.image(descriptor).manifest.layers.map(\.digest).filter { !store.hasBlob($0) }
        }
        if !missing.isEmpty {
            let client = registry.makeClient()
            do {
                try await RegistryImageSource(client: client, store: store, jobs: 4, report: { _ in }).ensureLocal(missing)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
        try store.save(references, format: saveFormat, to: output)
    }
}

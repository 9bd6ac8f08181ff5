import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

struct ImagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images in the local store.", usage: Synopsis.images)

    @Flag(name: [.customShort("q"), .long], help: "Only show image IDs.")
    var quiet = false

    @Option(help: "Output format: table (default) or json (one JSON object per line).")
    var format: String = "table"

    @Flag(name: .customLong("no-trunc"), help: "Show full image IDs.")
    var noTrunc = false

    @Flag(help: "Show digests (the manifest's, which is what a registry names the image by).")
    var digests = false

    @Flag(name: [.customShort("a"), .long], help: "Show all images (untagged ones are shown by default too, as docker does).")
    var all = false

    @Option(name: .long, help: "Filter: dangling=true (only untagged images) or dangling=false.")
    var filter: [String] = []

    @OptionGroup var store: StoreOptions

    @Argument(help: "Only images of this repository.")
    var repository: String?

    func run() throws {
        guard format == "table" || format == "json" else {
            throw ValidationError("invalid --format value \"\(format)\": expected table or json")
        }
        var dangling: Bool?
        for entry in filter {
            switch entry.lowercased() {
            case "dangling=true", "dangling=1": dangling = true
            case "dangling=false", "dangling=0": dangling = false
            default: throw ValidationError("invalid filter \"\(entry)\": expected dangling=true or dangling=false")
            }
        }
        var images = try store.openStore().listImages(includeDangling: true)
        if let dangling { images = images.filter { ($0.reference == nil) == dangling } }
        if let repository {
            let wanted = try parseReference(repository)
            images = images.filter { summary in
                guard let reference = summary.reference else { return false }
                return reference.repository == wanted.repository && (repository.contains(":") ? reference.tag == wanted.tag : true)
            }
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
                    "Repository": image.reference?.familiarRepository ?? "<none>",
                    "Tag": image.reference?.tag ?? "<none>",
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
            let digest = (image.reference?.digest ?? image.manifestDescriptor.digest).description
            rows.append([image.reference?.familiarRepository ?? "<none>", image.reference?.tag ?? "<none>"] + (digests ? [digest] : [])
                + [noTrunc ? image.imageID.description : image.imageID.shortID,
                   created.map { formatSince($0, now: now) } ?? "N/A", formatSize(image.size)])
        }
        print(formatTable(rows))
    }
}

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image another name.", usage: Synopsis.tag)

    @OptionGroup var store: StoreOptions
    @Argument(help: "Source image (name[:tag] or ID).") var source: String
    @Argument(help: "Target name[:tag].") var target: String

    func run() throws {
        let store = try self.store.openStore()
        let targetRef = try parseReference(target)
        guard targetRef.digest == nil else { throw ValidationError("refusing to create a tag with a digest reference") }
        try store.tag(targetRef, manifest: try store.findImage(source).manifest)
    }
}

struct RmiCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images (untag, then delete unreferenced blobs).", usage: Synopsis.rmi)

    @Flag(name: [.customShort("f"), .long], help: "Remove every tag of an image named by ID.")
    var force = false

    @OptionGroup var store: StoreOptions
    @Argument(help: "Images to remove.") var images: [String]

    func run() throws {
        let store = try self.store.openStore()
        var failed = false
        for name in images {
            do {
                let found = try store.findImage(name)
                if let reference = found.reference {
                    for line in try store.untag(reference).lines { print(line) }
                    continue
                }
                // By ID, as docker: every tag goes, which needs -f when they span repositories.
                let repositories = Set(try store.listImages().filter { $0.manifestDescriptor.digest == found.manifest.digest }
                    .compactMap { $0.reference?.repository })
                if repositories.count > 1 && !force {
                    throw StoreError.io(path: name, reason: "image is referenced in multiple repositories (use -f to remove all)")
                }
                for line in try store.removeImage(manifest: found.manifest.digest).lines { print(line) }
            } catch {
                printError("Error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(ExitCode32.failure) }
    }
}

struct SaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Write images to a docker-archive tar (default) or an OCI layout directory.", usage: Synopsis.save)

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
        let found = try images.map { try store.findImage($0) }
        // Layers a pull left in their registry are fetched now: a saved image is complete.
        var missing: [Digest] = []
        for image in found {
            missing += try store.image(image.manifest).manifest.layers.map(\.digest).filter { !store.hasBlob($0) }
        }
        if !missing.isEmpty {
            try await withClient(registry.makeClient()) { client in
                try await RegistryImageSource(client: client, store: store, jobs: 4, report: { _ in }).ensureLocal(missing)
            }
        }
        // An image named by ID is saved untagged, as `docker save <ID>` does.
        try store.save(images: found.map { ($0.reference, $0.manifest) }, format: saveFormat, to: output)
    }
}

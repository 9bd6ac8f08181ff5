import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// Where `push` takes an image from or sends it, in skopeo's transport syntax:
/// `oci:DIR[:NAME]` (an OCI image-layout directory, NAME its `org.opencontainers.image.ref.name`),
/// `oci-archive:FILE[:NAME]` (a tar of one), `docker-archive:FILE[:REF]` (`docker save`'s
/// format, REF one of its `RepoTags`), `docker://REF` or a bare reference (a registry as a
/// destination; as a source, a bare word is an image of the local store, by name or ID).
/// Skopeo splits at the first colon after the path, so a path cannot contain one; the same here.
enum ImageTransport: Equatable {
    case registry(Reference)
    case layout(directory: String, name: String?)
    case archive(file: String, format: ImageArchiveFormat, name: String?)

    static func parse(_ text: String) throws -> ImageTransport {
        for (prefix, what) in [("oci:", "directory"), ("oci-archive:", "file"), ("docker-archive:", "file")] where text.hasPrefix(prefix) {
            let parts = text.dropFirst(prefix.count).split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let transport = String(prefix.dropLast())
            guard let path = parts.first, !path.isEmpty else {
                throw ValidationError("\(text): \(transport): needs a \(what) (\(transport):\(what.uppercased())[:NAME])")
            }
            let name = parts.count > 1 ? parts[1] : nil
            if let name {
                // A tag-like word: no whitespace or control characters (OCI image-spec ref.name).
                guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true }) else {
                    throw ValidationError("\(text): the name after the \(what) must be a non-empty word (\(transport):\(what.uppercased())[:NAME])")
                }
            }
            switch prefix {
            case "oci:": return .layout(directory: path, name: name)
            case "oci-archive:": return .archive(file: path, format: .oci, name: name)
            default:
                // skopeo: docker-archive's REF is a name:tag reference (no digest).
                if let name, (try? Reference(parsing: name))?.digest != nil || (try? Reference(parsing: name)) == nil {
                    throw ValidationError("\(text): docker-archive:FILE:REF takes a NAME:TAG reference")
                }
                return .archive(file: path, format: .docker, name: name)
            }
        }
        for unsupported in ["dir:", "containers-storage:", "docker-daemon:"] where text.hasPrefix(unsupported) {
            throw ValidationError("\(text): the \(unsupported.dropLast()) transport is not supported by push "
                                  + "(use oci:, oci-archive:, docker-archive: or a registry reference)")
        }
        return .registry(try parseReference(text.hasPrefix("docker://") ? String(text.dropFirst(9)) : text))
    }

    /// The NAME or REF after the path, if any.
    var name: String? {
        switch self {
        case .registry: return nil
        case .layout(_, let name), .archive(_, _, let name): return name
        }
    }

    /// True for a text naming a source other than the local store.
    static func namesTransport(_ text: String) -> Bool {
        ["oci:", "oci-archive:", "docker-archive:"].contains { text.hasPrefix($0) }
    }
}

/// An opened push source: where the bytes are, which image, and what to clean up after.
struct OpenedSource {
    var content: ContentSource
    var image: Descriptor
    /// The names the source gives the image (docker's `RepoTags`, `io.containerd.image.name`).
    var names: [String] = []
    var close: () -> Void = {}
}

/// An opened push destination: where to put the bytes, under which name, and what finishes it
/// (an archive is packed only after the push succeeded) or discards it (after a failure).
struct OpenedDestination {
    var content: ContentDestination
    var tag: String?
    /// What the last line calls the image (`NAME: digest: … size: …`).
    var label: String?
    var finish: (Descriptor) throws -> Void = { _ in }
    var discard: () -> Void = {}
}

extension ImageTransport {
    /// This transport as a source (not `.registry`: a bare word is a store image).
    func openSource(staging: () throws -> String) async throws -> OpenedSource {
        switch self {
        case .layout(let directory, let name):
            guard FileManager.default.fileExists(atPath: directory + "/oci-layout") else {
                throw ValidationError("\(directory): not an OCI image layout (no oci-layout file)")
            }
            let layout = try OCILayoutDirectory(creatingAt: directory)
            let image = try layout.manifest(named: name)
            return OpenedSource(content: layout, image: image, names: [image.annotations?[ImageStore.imageNameAnnotation]].compactMap { $0 })
        case .archive(let file, let format, let name):
            let source = try await ImageArchiveSource.open(file, format: format, name: name, staging: try staging())
            return OpenedSource(content: source.layout, image: source.image, names: source.names, close: { source.close() })
        case .registry(let reference):
            throw ValidationError("\(reference): a registry is not a push source (pull it first)")
        }
    }

    /// This transport as a destination.
    func openDestination(image: Descriptor, client: @autoclosure () -> RegistryClient) throws -> OpenedDestination {
        switch self {
        case .layout(let directory, let name):
            let layout = try OCILayoutDirectory(creatingAt: directory)
            return OpenedDestination(content: layout, tag: name, label: name, finish: { try layout.list($0, as: name) })
        case .archive(let file, let format, let name):
            try ImageArchiveWriter.check(image, format: format, file: file)
            let writer = try ImageArchiveWriter(file: file, format: format)
            return OpenedDestination(content: writer.layout, tag: nil, label: name, finish: { try writer.commit(image: $0, name: name) }, discard: { writer.discard() })
        case .registry(let reference):
            let repository = RegistryRepository(reference)
            let tag = try ImagePusher.tag(pushing: image, to: reference)
            return OpenedDestination(content: RegistryContent(client: client(), repository: repository), tag: tag, label: tag)
        }
    }
}

import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// Where `push` sends an image (or takes it from), in skopeo's transport syntax: `oci:DIR[:NAME]` (an OCI
/// image-layout directory, NAME its `org.opencontainers.image.ref.name`), `docker://REF` or a
/// bare reference (a registry). Skopeo splits `oci:` at the first colon after the path, so a
/// directory name cannot contain one; the same here.
enum PushDestination: Equatable {
    case registry(Reference)
    case layout(directory: String, name: String?)

    static func parse(_ text: String) throws -> PushDestination {
        if text.hasPrefix("oci:") {
            let rest = text.dropFirst(4)
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let directory = parts.first, !directory.isEmpty else {
                throw ValidationError("\(text): oci: needs a directory (oci:DIR[:NAME])")
            }
            let name = parts.count > 1 ? parts[1] : nil
            if let name {
                // OCI image-spec: ref.name is a tag-like name; no control characters or slashes at the ends.
                guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true }) else {
                    throw ValidationError("\(text): the name after the directory must be a non-empty word (oci:DIR[:NAME])")
                }
            }
            return .layout(directory: directory, name: name)
        }
        for unsupported in ["oci-archive:", "docker-archive:", "dir:", "containers-storage:", "docker-daemon:"]
        where text.hasPrefix(unsupported) {
            throw ValidationError("\(text): the \(unsupported.dropLast()) transport is not supported by push (use oci:DIR or a registry reference)")
        }
        return .registry(try parseReference(text.hasPrefix("docker://") ? String(text.dropFirst(9)) : text))
    }
}

extension PushCommand {
    /// Copies the stored image into an OCI layout directory, every blob checked on the way.
    func push(_ descriptor: Descriptor, from store: ImageStore, toLayout directory: String, name: String?) async throws {
        let layout = try OCILayoutDirectory(creatingAt: directory)
        try await copy(descriptor, from: StoreContent(store: store), to: layout, name: name)
    }

    /// `push oci:DIR[:NAME] DEST`: from a layout directory (not the store) to a registry or
    /// another layout.
    func push(fromLayout directory: String, name: String?) async throws {
        guard FileManager.default.fileExists(atPath: directory + "/oci-layout") else {
            throw ValidationError("\(directory): not an OCI image layout (no oci-layout file)")
        }
        let source = try OCILayoutDirectory(creatingAt: directory)
        let descriptor = try source.manifest(named: name)
        switch try destination.map(PushDestination.parse) {
        case .layout(let target, let targetName)?:
            try await copy(descriptor, from: source, to: try OCILayoutDirectory(creatingAt: target), name: targetName)
        case .registry(let reference)?:
            let client = registry.makeClient()
            do {
                try await copy(descriptor, from: source, to: RegistryContent(client: client, repository: RegistryRepository(reference)),
                               name: reference.tag ?? (reference.digest == nil ? "latest" : nil))
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        case nil:
            throw ValidationError("pushing from oci:\(directory) needs a destination (a registry reference or oci:DIR)")
        }
    }

    private func copy(_ descriptor: Descriptor, from source: ContentSource, to destination: ContentDestination,
                      name: String?) async throws {
        let renderer = ProgressRenderer(quiet: quiet, pulling: false)
        let result: PushResult
        do {
            result = try await ImagePusher(jobs: jobs, onEvent: renderer.observer).push(descriptor, from: source, to: destination, tag: name)
        } catch {
            renderer.finish()
            throw error
        }
        renderer.finish()
        print(result.summary)
    }
}

import ArgumentParser
import Foundation
import ImageModel
import ImageStore
import Registry

/// `pull oci:DIR[:NAME]`, `pull oci-archive:FILE[:NAME]`, `pull docker-archive:FILE[:REF]`:
/// the image and every layer into the store (as `docker load` does), each blob checked, so an
/// image saved or pushed to an archive comes back with the same digests.
extension PullCommand {
    func pull(from transport: ImageTransport) async throws {
        let store = try self.store.openStore()
        let source = try await transport.openSource(staging: { try store.makeTemporaryDirectory() })
        defer { source.close() }
        let reference = try Self.storeName(for: source, given: transport.name) ?? Self.fallbackName(for: transport)
        let renderer = ProgressRenderer(quiet: quiet, pulling: true)
        // Into the store is a download in docker's words, whatever the pusher calls it.
        let observer = renderer.observer
        let downloading: TransferObserver = { event in
            var event = event
            switch event.state {
            case .pushing(let done, let total): event.state = .downloading(completed: done, total: total)
            case .pushed: event.state = .downloaded
            default: break
            }
            observer(event)
        }
        do {
            _ = try await ImagePusher(jobs: jobs, onEvent: downloading)
                .push(source.image, from: source.content, to: StoreContent(store: store), tag: nil)
        } catch {
            renderer.finish()
            throw error
        }
        renderer.finish()
        _ = try store.tag(reference, manifest: source.image)
        if !quiet { print("Loaded image: \(reference.familiarDescription) (\(source.image.digest))") }
        print(reference.description)
    }

    /// An archive or layout that names the image nowhere (skopeo's `oci-archive:` keeps only
    /// a ref name such as `v1`): `localhost/<file or directory name>:<NAME, else latest>`,
    /// as podman names a local image that has no registry.
    static func fallbackName(for transport: ImageTransport) throws -> Reference {
        let path: String
        switch transport {
        case .layout(let directory, _): path = directory
        case .archive(let file, _, _): path = file
        case .registry(let reference): return reference
        }
        var base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased()
        base = String(base.unicodeScalars.map { CharacterSet.lowercaseLetters.contains($0) && $0.isASCII || ("0"..."9").contains($0) ? Character($0) : "-" })
        base = base.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        let tag = transport.name.flatMap { (try? Reference(parsing: "localhost/x:\($0)")) != nil ? $0 : nil } ?? "latest"
        return try parseReference("localhost/\(base.isEmpty ? "image" : base):\(tag)")
    }

    /// The source's own name for the image, else a NAME that is a whole reference (with a
    /// repository path, not a bare tag such as `v1`).
    static func storeName(for source: OpenedSource, given: String?) -> Reference? {
        for name in source.names {
            if let reference = try? Reference(parsing: name), reference.digest == nil { return reference }
        }
        if let given, given.contains("/"), let reference = try? Reference(parsing: given), reference.digest == nil { return reference }
        return nil
    }
}

import Foundation
import ImageModel
import ImageStore
import Layers
import Sandbox

/// What a stage's lower file systems hold, seen the way docker sees them, without unpacking
/// them: the base layers' header index (cached in the store by diff ID, built by streaming a
/// layer once, verified against its digest), and single files (`/etc/passwd`, `/etc/group`)
/// read from the one layer that holds them.
extension BuildSession {
    /// Puts the unread layers' headers into the stage's view, the first time a step needs to
    /// know what exists: the base's layers, and layers reused from the cache above them or above
    /// what the view already holds (unread layers are always the stage's top ones). A layer whose index is cached costs no layer bytes; otherwise the
    /// layer is streamed once from the registry into the indexer (verified on the way),
    /// leaving it remote — or, when the stage RUNs (which needs the content), into the store
    /// as well from that same read. Must run before the stage adds a layer of its own
    /// (`StageExecutor` calls it before every step that reads or adds files).
    func loadBaseView(_ state: inout StageState) async throws {
        guard !state.unreadBaseLayers.isEmpty else { return }
        let first = state.layers.count - state.unreadBaseLayers.count
        var layers: [[LayerHeaders.Header]] = []
        for layer in state.unreadBaseLayers {
            if let cached = store.cachedLayerHeaders(diffID: layer.diffID, blob: layer.digest) {
                layers.append(cached)
            } else if store.hasBlob(layer.digest) {
                layers.append(try verifying(state) { try store.layerHeaders(diffID: layer.diffID, blob: layer.digest) })
            } else {
                // A stage that RUNs needs the blob in the store anyway: the same read stores it.
                layers.append(try await indexTransiently(layer, of: state, storingBlob: state.runsCommands))
            }
        }
        // Every read done (the view stays as it was when one fails); the view is taken out of
        // the state while the layers are applied, so it is not copied: a cached 30k-file COPY
        // below an unread RUN layer copied its whole dictionary here (issue 13).
        var view = state.view
        state.view = FilesystemView()
        for (offset, headers) in layers.enumerated() { view.apply(headers, layer: first + offset) }
        state.view = view
        state.unreadBaseLayers = []
    }

    /// A layer this build is writing from items (COPY, ADD, WORKDIR), as a directory made
    /// straight from the items' sources (`LayerMaterialiser`): no waiting for the tarball and
    /// no unpacking it. Nil when the items need a tar extractor (the caller then unpacks).
    func materialisedLayer(_ index: Int, of state: inout StageState) throws -> String? {
        guard let items = state.layerItems[index] else { return nil }
        let directory = try temporaryDirectory() + "/layer"
        guard try LayerMaterialiser.materialise(items, into: directory, journal: linkJournal) else { return nil }
        try giveOwners(PendingOwner.nonRoot(of: items), to: directory)
        state.layerDirectories[index] = directory
        state.layerItems[index] = nil
        materialisedDirectories.append(directory)
        return directory
    }

    /// Indexes a remote base layer in one streamed read: registry bytes → SHA-256 check →
    /// gunzip → tar headers, nothing written to disk but the index (cached only when the blob
    /// verified) — and, with `storingBlob`, the blob itself, from the same read. The rare layer whose symlink target only a file gives (a pax
    /// `linkpath` libarchive drops) is fetched into the store and indexed from there.
    private func indexTransiently(_ layer: (digest: Digest, diffID: Digest), of state: StageState,
                                  storingBlob: Bool = false) async throws -> [LayerHeaders.Header] {
        guard let source else {
            throw BuildError("layer \(layer.digest) is not in the local store and no registry is available to fetch it")
        }
        do {
            return try await store.layerHeaders(diffID: layer.diffID, blob: layer.digest, chunks: try await source.openBlob(layer.digest),
                                                storingBlob: storingBlob)
        } catch LayerError.linkNeedsRereading {
            try await ensureLocal([layer.digest], of: "image \(state.imageDescription)")
            return try verifying(state) { try store.layerHeaders(diffID: layer.diffID, blob: layer.digest) }
        } catch let error as BuildError {
            throw error
        } catch {
            // A digest mismatch included: one line naming the image and the layer, and why.
            throw BuildError("image \(state.imageDescription): cannot index layer \(layer.digest): \(error)", underlying: error)
        }
    }

    /// The content of the regular file at `path` (an absolute or layer path) in the stage's
    /// merged file system, following symlinks inside the stage's root; nil when absent or not
    /// a regular file. Reads only the layer the view says holds it.
    func lowerFile(_ path: String, in state: inout StageState) async throws -> [UInt8]? {
        try await loadBaseView(&state)
        guard let resolved = state.view.resolve(cleanLayerPath(path)), let entry = state.view.entry(resolved),
              entry.kind == .file || entry.kind == .hardlink, entry.layer < state.layers.count else { return nil }
        let blob: LayerBlob
        switch state.layers[entry.layer] {
        case .stored(let descriptor, _, let blobPath):
            // A stored layer never changes: each RUN of a stage reads the base's /etc/passwd
            // and /etc/group, and each read streams the whole layer (issue 13).
            let cacheKey = descriptor.digest.description + "\u{0}" + resolved
            if let cached = storedLayerFiles[cacheKey] { return cached }
            try await ensureLocal([descriptor.digest], of: "image \(state.imageDescription)")
            let stage = state
            let bytes = try verifying(stage) {
                try LayerUnpacker.readFile(resolved, fromBlobs: [LayerBlob(path: blobPath, digest: descriptor.digest)])
            }
            storedLayerFiles[cacheKey] = bytes
            return bytes
        case .pending(let task, let blobPath):
            _ = try await task.value
            blob = LayerBlob(path: blobPath, digest: nil)
        }
        let stage = state
        return try verifying(stage) { try LayerUnpacker.readFile(resolved, fromBlobs: [blob]) }
    }

    /// The passwd/group database of a stage's current file system.
    func userDatabase(for state: inout StageState) async throws -> UserDatabase {
        let passwd = try await lowerFile("etc/passwd", in: &state)
        let group = try await lowerFile("etc/group", in: &state)
        return UserDatabase(passwd: passwd, group: group)
    }

    /// Runs `body`, turning a blob digest mismatch into a one-line error naming the image
    /// and the layer, and telling how to recover.
    func verifying<T>(_ state: StageState, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let LayerError.digestMismatch(_, expected, actual) {
            throw BuildError(Self.corruptLayerMessage(image: state.imageDescription, layer: expected, actual: actual))
        }
    }

    static func corruptLayerMessage(image: String, layer: Digest, actual: Digest) -> String {
        "image \(image): stored layer \(layer) is corrupt (its bytes hash to \(actual)); remove the image and pull it again"
    }
}

extension StageState {
    /// How errors name the image a stage's inherited layers come from.
    var imageDescription: String {
        base.map { $0.name.familiarDescription } ?? "of stage \(name)"
    }
}

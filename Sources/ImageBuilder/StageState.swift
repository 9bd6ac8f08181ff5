import DockerfileSyntax
import Foundation
import GoQuoting
import ImageModel
import Layers

/// A layer of a stage: inherited from the base (already a blob in the store) or written by
/// this build (a temp file, possibly still queued or being written: see `LayerWriteQueue`).
enum StageLayer {
    case stored(descriptor: Descriptor, diffID: Digest, path: String)
    case pending(PendingLayerWrite, path: String)

    var path: String {
        switch self {
        case .stored(_, _, let path), .pending(_, let path): return path
        }
    }
}

/// Everything a stage has accumulated: config, layers, history, what its filesystem holds.
struct StageState {
    var name: String
    var config: ImageConfiguration
    var layers: [StageLayer] = []
    var view = FilesystemView()
    /// Base layers whose headers are not yet in `view` (read on first need, see
    /// `BuildSession.loadBaseView`): the stage's first layers, bottom first.
    var unreadBaseLayers: [(digest: Digest, diffID: Digest)] = []
    /// Whether the stage executes RUN steps (then its base layers are needed in the store).
    var runsCommands = false
    /// Layer index → a directory holding that layer's files, for use as an overlay lower dir:
    /// a RUN's upper dir, or a COPY layer unpacked on first need.
    var layerDirectories: [Int: String] = [:]
    /// Layer index → the items a COPY/ADD/WORKDIR layer was written from, so a later RUN can
    /// have them as a directory without unpacking the layer (`BuildSession.materialisedLayer`).
    var layerItems: [Int: [LayerItem]] = [:]
    /// ARGs declared in this stage: name → value (nil when declared without value).
    var args: [String: String?] = [:]
    /// Their names in declaration order, for RUN's history (`RUN |2 A=1 B= …`, as BuildKit writes it).
    var declaredArgs: [String] = []
    var shell: [String] = ["/bin/sh", "-c"]
    /// Whether CMD was set in this stage (ENTRYPOINT then keeps it).
    var cmdSet = false
    /// The image this stage's chain started FROM (nil for scratch): recorded in the manifest's
    /// `org.opencontainers.image.base.*` annotations, as buildah does.
    var base: (name: Reference, digest: Digest)?
    /// The step-cache key of the last step applied (see `StepCacheKey`): the parent of the next.
    var cacheKey: StepCacheKey.Reference = .known(StepCacheKey.scratchParent())
    /// `created` of the last history entry a step of this build wrote or reused from the cache:
    /// the image's `created`, so a rebuild entirely from cache yields the same image.
    var lastStepCreated: String?

    /// Looks a variable up for word expansion: ENV wins over ARG, as docker documents. Given
    /// only what it reads, so a closure around it holds no copy of the stage's file-system view.
    static func lookup(_ name: String, config: ImageConfiguration, args: [String: String?]) -> String? {
        if let value = config.config.environmentValue(name) { return value }
        if let arg = args[name] { return arg }
        return nil
    }

    /// Where RUN runs and relative paths start. An empty WorkingDir (common in images built by
    /// other tools) means `/`, as docker runs it.
    var workdir: String {
        guard let dir = config.config.workingDir, !dir.isEmpty else { return "/" }
        return dir
    }

    /// Digests of the layers inherited from the base image.
    var storedLayerDigests: [Digest] {
        layers.compactMap { layer in
            if case .stored(let descriptor, _, _) = layer { return descriptor.digest }
            return nil
        }
    }

    /// The stage's layers as blobs, bottom first, waiting for layers still being written;
    /// inherited ones carry their digest so every read of them is verified.
    func layerBlobs() async throws -> [LayerBlob] {
        var blobs: [LayerBlob] = []
        for layer in layers {
            switch layer {
            case .stored(let descriptor, _, let path): blobs.append(LayerBlob(path: path, digest: descriptor.digest))
            case .pending(let task, let path):
                _ = try await task.value
                blobs.append(LayerBlob(path: path, digest: nil))
            }
        }
        return blobs
    }
}

/// Go's %q of a string slice, as BuildKit writes CMD/ENTRYPOINT into history: `["sh" "-c" "x"]`.
func goQuotedList(_ items: [String]) -> String {
    "[" + items.map(goQuoted).joined(separator: " ") + "]"
}

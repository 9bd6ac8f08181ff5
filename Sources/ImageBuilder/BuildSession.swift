import BuildContext
import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore
import Layers

/// State shared by all stages of one build: options, the store, temp files to clean up,
/// finished stages (for `COPY --from`), build-arg bookkeeping.
final class BuildSession {
    let options: BuildOptions
    let store: ImageStore
    let events: @Sendable (BuildEvent) -> Void
    let layerWriter: LayerWriter
    let dockerfile: Dockerfile
    let contextRoot: String
    let dockerfilePath: String
    /// `created` of the image and its history entries (RFC 3339).
    let created: String
    /// Seconds since the epoch for entries that have no source file.
    let nowSeconds: Int64

    /// Values of the global ARGs (before the first FROM), after `--build-arg`.
    var globalArgs: [String: String] = [:]
    /// Names of build args consumed by an ARG or a variable reference.
    private(set) var consumedArgs = Set<String>()
    var automaticArgs: [String: String] = [:]
    /// Finished stages by index.
    var finishedStages: [Int: StageState] = [:]
    private var temporaryPaths: [String] = []
    private var pendingWrites: [Task<WrittenLayer, Error>] = []
    private var unpackedSources: [String: CopyPlanner.Source] = [:]
    private var contextDirectory: ContextDirectory?
    private(set) var warnings: [String] = []

    init(options: BuildOptions, store: ImageStore, events: @escaping @Sendable (BuildEvent) -> Void,
         dockerfile: Dockerfile, contextRoot: String, dockerfilePath: String) {
        self.options = options
        self.store = store
        self.events = events
        self.dockerfile = dockerfile
        self.contextRoot = contextRoot
        self.dockerfilePath = dockerfilePath
        self.layerWriter = LayerWriter(compression: options.compression, sourceDateEpoch: options.sourceDateEpoch)
        let now = options.sourceDateEpoch.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? Date()
        self.created = Timestamp.rfc3339(now)
        self.nowSeconds = Int64(now.timeIntervalSince1970)
    }

    func emit(_ event: BuildEvent) {
        if case .warning(let text) = event { warnings.append(text) }
        events(event)
    }

    func markUsed(_ names: Set<String>) {
        consumedArgs.formUnion(names)
    }

    /// The value an `ARG name[=default]` inside a stage takes: `--build-arg` first, then the
    /// declared default, then the global ARG or automatic platform arg of the same name.
    func stageArgValue(name: String, default defaultValue: String?) -> String? {
        consumedArgs.insert(name)
        if let value = options.buildArgs[name] { return value }
        if let defaultValue { return defaultValue }
        return globalArgs[name] ?? automaticArgs[name]
    }

    /// The build context, opened (and its ignore file read) on first use.
    func context() throws -> ContextDirectory {
        if let contextDirectory { return contextDirectory }
        let opened = try ContextDirectory.buildContext(root: contextRoot, dockerfilePath: dockerfilePath)
        contextDirectory = opened
        return opened
    }

    /// A fresh temp file in the store (same file system, so the final rename is atomic).
    func temporaryFile() throws -> String {
        let path = try store.makeTemporaryFile()
        temporaryPaths.append(path)
        return path
    }

    /// The root a `COPY --from=X` reads: a finished stage (by name or index) or an image in the
    /// local store, unpacked once into a temp directory.
    func copySource(from: String) async throws -> CopyPlanner.Source {
        if let cached = unpackedSources[from] { return cached }
        let layerPaths: [String]
        if let index = dockerfile.stageIndex(named: from) {
            guard let stage = finishedStages[index] else {
                throw BuildError("--from=\(from): stage \(from) is not built before this step")
            }
            layerPaths = try await stage.layerPaths()
        } else {
            let reference: Reference
            do { reference = try Reference(parsing: from) } catch {
                throw BuildError("--from=\(from): not a stage name or index, and not an image reference: \(error)")
            }
            guard let descriptor = try store.resolve(reference) else {
                throw BuildError("--from=\(from): image \(reference.familiarDescription) is not in the local store (pulling from a registry is not available yet)")
            }
            let image = try store.image(descriptor)
            layerPaths = image.manifest.layers.map { store.blobPath($0.digest) }
        }
        let directory = try temporaryFile()
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let table = try LayerUnpacker.unpack(layers: layerPaths, into: directory)
        let source = CopyPlanner.Source(directory: try ContextDirectory(root: directory), owners: table.owners)
        unpackedSources[from] = source
        return source
    }

    /// The passwd/group database of a stage's current filesystem.
    func userDatabase(for state: StageState) async throws -> UserDatabase {
        let paths = try await state.layerPaths()
        let passwd = try LayerUnpacker.readFile("etc/passwd", fromLayers: paths)
        let group = try LayerUnpacker.readFile("etc/group", fromLayers: paths)
        return UserDatabase(passwd: passwd, group: group)
    }

    /// Registers a layer write so the build can wait for it before cleaning up.
    func track(_ task: Task<WrittenLayer, Error>) {
        pendingWrites.append(task)
    }

    /// Waits for every layer write still running (their errors surface elsewhere or not at all).
    func finishPendingWrites() async {
        for task in pendingWrites { _ = try? await task.value }
        pendingWrites.removeAll()
    }

    /// Removes every temp file and directory this build made (on success after ingesting).
    func cleanUp() {
        for path in temporaryPaths {
            try? FileManager.default.removeItem(atPath: path)
        }
        temporaryPaths.removeAll()
    }
}

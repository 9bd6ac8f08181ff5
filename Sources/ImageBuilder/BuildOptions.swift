import Attestation
import ImageModel
import ImageStore
import Layers

/// What `swiftdock build` was asked to do.
public struct BuildOptions: Sendable {
    /// How RUN instructions are handled.
    public enum RunMode: String, Sendable, CaseIterable {
        /// Execute RUN in a sandbox (not available yet: the build stops with a clear error).
        case exec
        /// Record RUN in the history only, with a warning per skipped step.
        case record
    }

    public var contextDirectory: String
    /// Path of the Dockerfile; nil means `<context>/Dockerfile`. May lie outside the context.
    public var dockerfilePath: String?
    public var tags: [Reference]
    public var buildArgs: [String: String]
    public var target: String?
    /// `--platform`; nil means the base image's platform (or the host's for `scratch`).
    public var platform: Platform?
    public var runMode: RunMode
    public var format: ImageFormat
    public var compression: LayerCompression
    /// Clamps new files' mtimes and sets `created` (reproducible builds).
    public var sourceDateEpoch: Int64?
    /// Pull base images even when the store has them (`--pull`).
    public var alwaysPull: Bool = false
    /// Write an SPDX SBOM of the image and keep it as the image's referrer (`--sbom`).
    public var sbom: Bool = false
    /// Write SLSA v1 provenance of the build and keep it as the image's referrer (`--provenance`).
    public var provenance: ProvenanceMode? = nil
    /// `runDetails.builder.id` of the provenance (BuildKit's `builder-id` attestation parameter).
    public var builderID: String = BuildOptions.defaultBuilderID
    /// `runDetails.builder.version` of the provenance (the CLI's version and commit).
    public var builderVersion: [String: String] = [:]
    /// Execute every step even when the step cache has it (`--no-cache`); records are still written.
    public var noCache: Bool = false
    /// Stages (by name, or index for an unnamed one) whose steps all execute (`--no-cache-filter`).
    public var noCacheStages: Set<String> = []
    /// Caches read with `--cache-from`, consulted in order after the local step cache.
    public var cacheImports: [ImportedBuildCache] = []
    /// Cache-mount ids (`RUN --mount=type=cache,id=…`, else its target) to write as layer blobs
    /// after the build, for `--cache-to …,mounts=` (see `BuildResult.cacheMounts`).
    public var cacheMountExports: [String] = []
    /// `--secret` values by id, for `RUN --mount=type=secret`. Never part of a step's cache key.
    public var secrets: [String: SecretValue] = [:]
    /// `--ssh` agents for `RUN --mount=type=ssh`; key files get an agent for the build's length.
    public var ssh: [SSHSpec] = []
    /// `build --push`: the final stage's new layers go to the registry while they are
    /// written (nil: the build only writes to the store).
    public var layerPush: LayerPush? = nil

    public init(contextDirectory: String, dockerfilePath: String? = nil, tags: [Reference] = [],
                buildArgs: [String: String] = [:], target: String? = nil, platform: Platform? = nil,
                runMode: RunMode = .exec, format: ImageFormat = .oci,
                compression: LayerCompression = LayerCompression.defaultGzip, sourceDateEpoch: Int64? = nil) {
        self.contextDirectory = contextDirectory
        self.dockerfilePath = dockerfilePath
        self.tags = tags
        self.buildArgs = buildArgs
        self.target = target
        self.platform = platform
        self.runMode = runMode
        self.format = format
        self.compression = compression
        self.sourceDateEpoch = sourceDateEpoch
    }
}

extension BuildOptions {
    /// The builder id when none is given: this tool, on whatever machine runs it.
    public static let defaultBuilderID = "https://swiftdock.invalid/builder/local"

    /// The media type of a layer this build writes.
    var newLayerMediaType: String {
        compression == .none ? MediaType.ociLayer : format.gzipLayerMediaType
    }
}

/// Progress the builder reports; the CLI decides how to show it.
public enum BuildEvent: Sendable {
    /// `[stage 1/3] COPY /Sourcecode /Sourcecode` — a step starts.
    case step(stage: String, number: Int, total: Int, text: String)
    case warning(String)
    /// A layer finished: its digest and sizes.
    case layerWritten(digest: Digest, size: Int64, uncompressedSize: Int64)
    case note(String)
    /// Step `number` (announced by `step` just before) was taken from the step cache.
    case cached(number: Int)
    /// A line a RUN step printed, prefixed with its step (`#3 …`).
    case output(String)
}

/// What a successful build produced.
public struct BuildResult: Sendable {
    public var manifest: Descriptor
    public var config: Descriptor
    /// The image ID docker shows: the config digest.
    public var imageID: Digest { config.digest }
    public var tags: [Reference]
    public var warnings: [String]
    /// The SBOM's artifact manifest, when `--sbom` asked for one.
    public var sbom: Descriptor? = nil
    /// Every step of every stage the build ran, in order, by cache key (for `--cache-to`).
    public var cacheSteps: [CacheStep] = []

    /// The cache mounts `BuildOptions.cacheMountExports` named, each as a layer blob in the store.
    public var cacheMounts: [CacheMount] = []

    public struct CacheMount: Sendable, Equatable {
        public var id: String
        public var layer: StepCacheRecord.Layer
    }

    /// A step the build executed or took from the cache.
    public struct CacheStep: Sendable, Equatable {
        public var key: String
        /// Whether the step belongs to the stage the image was made of (what `mode=min` exports).
        public var isFinalStage: Bool
    }

    /// The provenance's artifact manifest, when `--provenance` asked for it.
    public var provenance: Descriptor? = nil

    /// Layers `build --push` uploaded without keeping them in the store
    /// (`--output type=registry`): only the registry has them.
    public var streamedLayers: [Digest] = []
}

import Foundation
import ImageModel
import ImageStore

/// The step cache as one OCI manifest, for `--cache-to` / `--cache-from`: the manifest's
/// layers are the steps' layers — ordinary layer blobs, so in a registry they are shared with
/// the images that contain them — and its config (media type `configMediaType`) maps step keys
/// to those layers and to the history entries each step appended.
///
/// The container structure is modelled on BuildKit's `application/vnd.buildkit.cacheconfig.v0`
/// (a `layers` array whose entries name blobs by digest, and `records` that refer to layers by
/// index); the keys differ: BuildKit's come from its build graph, ours are `StepCacheKey`s, which
/// already chain each step to its parent, so a record needs no `inputs`.
public struct BuildCacheConfig: Codable, Sendable, Equatable {
    public static let configMediaType = "application/vnd.swiftdock.cache.config.v1+json"
    public static let currentVersion = 1

    /// `layers[i]` describes the manifest's `layers[i]` (its descriptor is there).
    public struct Layer: Codable, Sendable, Equatable {
        public var blob: Digest
        public var diffID: Digest
    }

    public struct Record: Codable, Sendable, Equatable {
        /// The `StepCacheKey` (64 hex digits).
        public var key: String
        /// Index into `layers`; nil for a step that only changed the config.
        public var layer: Int?
        public var history: [History]
    }

    /// A `RUN --mount=type=cache` exported with `mounts=` (no BuildKit counterpart).
    public struct Mount: Codable, Sendable, Equatable {
        /// The cache's id (or target).
        public var id: String
        /// Index into `layers`: the cache directory's content.
        public var layer: Int
    }

    public var version: Int
    public var layers: [Layer]
    public var records: [Record]
    public var mounts: [Mount]?

    /// The manifest a cache config belongs in (its `layers` in the same order).
    static func manifest(config: Descriptor, layers: [Descriptor]) -> ImageManifest {
        ImageManifest(mediaType: MediaType.ociManifest, config: config, layers: layers,
                      artifactType: configMediaType)
    }
}

/// Which build steps go into an exported cache (`--cache-to …,mode=`).
public enum BuildCacheMode: String, Sendable, CaseIterable {
    /// Only the steps of the stage the build produced (BuildKit's default).
    case min
    /// Every step of every stage the build ran.
    case max
}

/// A cache read with `--cache-from`: step records by key, and where their layers live.
public struct ImportedBuildCache: Sendable {
    public enum Origin: Sendable, Equatable {
        /// Layers stay in this repository until a step needs their files.
        case registry(RemoteSource)
        /// An OCI layout directory (`type=local,src=DIR`): layers are copied from there on a hit.
        case layout(directory: String)
    }

    public var origin: Origin
    public var records: [String: StepCacheRecord]
    /// Exported cache mounts by id: a new cache of that id starts with this content.
    public var mounts: [String: StepCacheRecord.Layer]

    /// Reads a cache manifest and its config (both already verified against their digests),
    /// checking every cross reference: a malformed cache is an error naming what is wrong.
    public init(manifest manifestBytes: [UInt8], config configBytes: [UInt8], origin: Origin) throws {
        let manifest: ImageManifest
        let config: BuildCacheConfig
        do {
            manifest = try JSONDecoder().decode(ImageManifest.self, from: Data(manifestBytes))
        } catch {
            throw BuildError("not a cache manifest: \(error)")
        }
        guard manifest.config.mediaType == BuildCacheConfig.configMediaType else {
            throw BuildError("not a swiftdock build cache (its config is \(manifest.config.mediaType), expected \(BuildCacheConfig.configMediaType))")
        }
        do {
            config = try JSONDecoder().decode(BuildCacheConfig.self, from: Data(configBytes))
        } catch {
            throw BuildError("malformed cache config: \(error)")
        }
        guard config.version == BuildCacheConfig.currentVersion else {
            throw BuildError("cache config version \(config.version) is not supported (expected \(BuildCacheConfig.currentVersion))")
        }
        guard config.layers.count == manifest.layers.count,
              zip(config.layers, manifest.layers).allSatisfy({ $0.blob == $1.digest }) else {
            throw BuildError("malformed cache config: its layers do not match the manifest's")
        }
        var records: [String: StepCacheRecord] = [:]
        for record in config.records {
            guard record.key.utf8.count == 64, record.key.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
                throw BuildError("malformed cache config: \"\(record.key.prefix(80))\" is not a step key")
            }
            var layer: StepCacheRecord.Layer?
            if let index = record.layer {
                guard config.layers.indices.contains(index) else {
                    throw BuildError("malformed cache config: record \(record.key) names layer \(index) of \(config.layers.count)")
                }
                layer = .init(descriptor: manifest.layers[index], diffID: config.layers[index].diffID)
            }
            records[record.key] = StepCacheRecord(layer: layer, history: record.history)
        }
        var mounts: [String: StepCacheRecord.Layer] = [:]
        for mount in config.mounts ?? [] {
            guard config.layers.indices.contains(mount.layer) else {
                throw BuildError("malformed cache config: cache mount \(mount.id.prefix(80)) names layer \(mount.layer) of \(config.layers.count)")
            }
            mounts[mount.id] = .init(descriptor: manifest.layers[mount.layer], diffID: config.layers[mount.layer].diffID)
        }
        self.origin = origin
        self.records = records
        self.mounts = mounts
    }
}

/// Writes a build's step records as a cache manifest into the store (config, then manifest),
/// for the CLI to push or copy into a layout.
public enum BuildCacheExporter {
    /// The steps `mode` selects, in build order, each key once; records the store no longer
    /// has (a write that failed) are left out.
    /// `mounts`: cache mounts written by the build (`BuildResult.cacheMounts`) to include.
    public static func writeManifest(steps: [BuildResult.CacheStep], mode: BuildCacheMode,
                                     mounts: [BuildResult.CacheMount] = [], store: ImageStore) throws -> Descriptor {
        var config = BuildCacheConfig(version: BuildCacheConfig.currentVersion, layers: [], records: [],
                                      mounts: mounts.isEmpty ? nil : [])
        var layers: [Descriptor] = []
        var layerIndex: [Digest: Int] = [:]
        func index(of layer: StepCacheRecord.Layer) -> Int {
            if let known = layerIndex[layer.descriptor.digest] { return known }
            layerIndex[layer.descriptor.digest] = layers.count
            layers.append(layer.descriptor)
            config.layers.append(.init(blob: layer.descriptor.digest, diffID: layer.diffID))
            return layers.count - 1
        }
        var seen = Set<String>()
        for step in steps where (mode == .max || step.isFinalStage) && seen.insert(step.key).inserted {
            guard let record = store.stepCacheRecord(key: step.key) else { continue }
            let layer = record.layer.map(index(of:))  // not inside the append: index(of:) changes `config`
            config.records.append(.init(key: step.key, layer: layer, history: record.history))
        }
        for mount in mounts {
            let layer = index(of: mount.layer)
            config.mounts?.append(.init(id: mount.id, layer: layer))
        }
        let configDescriptor = try store.writeJSON(config, mediaType: BuildCacheConfig.configMediaType)
        return try store.writeJSON(BuildCacheConfig.manifest(config: configDescriptor, layers: layers),
                                   mediaType: MediaType.ociManifest)
    }
}

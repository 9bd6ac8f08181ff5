import ArgumentParser
import Foundation
import ImageBuilder
import ImageModel
import ImageStore
import Registry

/// One `--cache-to` / `--cache-from` value, in buildx's CSV form:
/// `type=registry,ref=REF[,mode=min|max]`, `type=local,dest=DIR` (to) or `type=local,src=DIR`
/// (from), with `tag=` choosing the layout's entry (default `latest`). `--cache-from REF` alone
/// is the registry form. Beyond buildx, `--cache-to …,mode=max,mounts=ID[;ID]` also exports
/// those `RUN --mount=type=cache` caches (`;` because `,` separates the fields).
struct BuildCacheSpec: Equatable {
    enum Location: Equatable {
        case registry(Reference)
        case local(directory: String, tag: String)
    }

    var location: Location
    var mode: BuildCacheMode = .min
    /// Cache-mount ids to export (`mounts=`).
    var mounts: [String] = []

    /// Parses a value of `flag` (`--cache-to` or `--cache-from`); a bad one is a usage error.
    init(parsing text: String, flag: String) throws {
        let exporting = flag == "--cache-to"
        func invalid(_ reason: String) -> ValidationError { ValidationError("invalid \(flag) \"\(text)\": \(reason)") }
        if !exporting && !text.contains("=") && !text.isEmpty {
            do { location = .registry(try Reference(parsing: text)) } catch { throw invalid("\(error)") }
            return
        }
        var fields: [String: String] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else { throw invalid("expected key=value pairs separated by commas") }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            guard fields[key] == nil else { throw invalid("\(key) given twice") }
            fields[key] = pair[1]
        }
        let type = fields.removeValue(forKey: "type") ?? "registry"
        if let mode = fields.removeValue(forKey: "mode") {
            guard exporting else { throw invalid("mode= applies to --cache-to only") }
            guard let parsed = BuildCacheMode(rawValue: mode) else { throw invalid("mode must be min or max") }
            self.mode = parsed
        }
        switch type {
        case "registry":
            guard let ref = fields.removeValue(forKey: "ref") else { throw invalid("type=registry needs ref=REF") }
            do { location = .registry(try Reference(parsing: ref)) } catch { throw invalid("\(error)") }
        case "local":
            let key = exporting ? "dest" : "src"
            guard let directory = fields.removeValue(forKey: key) else { throw invalid("type=local needs \(key)=DIR") }
            let tag = fields.removeValue(forKey: "tag") ?? Reference.defaultTag
            guard tag.utf8.count <= 128, tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw invalid("tag must be letters, digits, '.', '_' or '-'")
            }
            location = .local(directory: directory, tag: tag)
        default:
            throw invalid("unsupported cache type \"\(type)\" (expected registry or local)")
        }
        if let mounts = fields.removeValue(forKey: "mounts") {
            guard exporting else { throw invalid("mounts= applies to --cache-to only") }
            guard mode == .max else { throw invalid("mounts= needs mode=max") }
            self.mounts = mounts.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard !self.mounts.contains(where: \.isEmpty) else { throw invalid("mounts= takes cache ids separated by ';'") }
        }
        if let unknown = fields.keys.sorted().first { throw invalid("unknown key \"\(unknown)\"") }
    }
}

/// Reading and writing the caches the specs name, around a build.
struct BuildCacheTransfer {
    let client: RegistryClient
    let store: ImageStore
    let jobs: Int
    let warn: (String) -> Void

    /// Manifests and configs beyond this are not caches we wrote.
    static let maxConfigSize: Int64 = 16 << 20

    /// Reads every `--cache-from`. A cache that is missing or unreadable is a warning and is
    /// skipped, as BuildKit carries on without it.
    func importCaches(_ specs: [BuildCacheSpec]) async -> [ImportedBuildCache] {
        var caches: [ImportedBuildCache] = []
        for spec in specs {
            do {
                switch spec.location {
                case .registry(let reference):
                    caches.append(try await importRegistry(reference))
                case .local(let directory, let tag):
                    caches.append(try BuildCacheLayout(directory: directory, tag: tag).read())
                }
            } catch {
                warn("cache import from \(spec.description) failed, building without it: \(error)")
            }
        }
        return caches
    }

    private func importRegistry(_ reference: Reference) async throws -> ImportedBuildCache {
        let repository = RegistryRepository(reference)
        let manifest = try await client.fetchManifest(reference.digest?.description ?? reference.tag ?? Reference.defaultTag,
                                                      in: repository)
        let decoded: ImageManifest
        do { decoded = try JSONDecoder().decode(ImageManifest.self, from: Data(manifest.bytes)) } catch {
            throw BuildError("not a cache manifest: \(error)")
        }
        guard decoded.config.mediaType == BuildCacheConfig.configMediaType else {
            throw BuildError("not a swiftdock build cache (its config is \(decoded.config.mediaType))")
        }
        guard decoded.config.size <= Self.maxConfigSize else { throw BuildError("cache config of \(decoded.config.size) bytes is too large") }
        try await client.fetchBlob(decoded.config.digest, size: decoded.config.size, from: repository, into: store)
        return try ImportedBuildCache(manifest: manifest.bytes, config: try store.readBlob(decoded.config.digest),
                                      origin: .registry(RemoteSource(reference)))
    }

    /// Writes the build's steps to every `--cache-to`; returns one line per export.
    func exportCaches(_ specs: [BuildCacheSpec], result: BuildResult, source: ImageSource) async throws -> [String] {
        var lines: [String] = []
        for spec in specs {
            do {
                let mounts = result.cacheMounts.filter { spec.mounts.contains($0.id) }
                let manifest = try BuildCacheExporter.writeManifest(steps: result.cacheSteps, mode: spec.mode, mounts: mounts, store: store)
                switch spec.location {
                case .registry(let reference):
                    _ = try await ImagePusher(jobs: jobs).push(manifest, from: store, to: reference, client: client)
                case .local(let directory, let tag):
                    let layers = try JSONDecoder().decode(ImageManifest.self, from: Data(try store.readBlob(manifest.digest))).layers
                    try await source.ensureLocal(layers.map(\.digest))
                    try BuildCacheLayout(directory: directory, tag: tag).write(manifest: manifest, from: store)
                }
                lines.append("exporting cache to \(spec.description) (mode=\(spec.mode.rawValue)): \(manifest.digest) done")
            } catch {
                throw CommandFailure("cache export to \(spec.description) failed (the image \(result.imageID) is built): \(error)",
                                     code: ExitCode32.failure)
            }
        }
        return lines
    }
}

extension BuildCacheSpec: CustomStringConvertible {
    var description: String {
        switch location {
        case .registry(let reference): return reference.description
        case .local(let directory, _): return directory
        }
    }
}

import Foundation

/// What pushing an image involves, read from its source: the unique layers and configs (in
/// manifest order), the child manifests of an index, and the verified bytes of every
/// manifest read on the way.
struct ContentPlan {
    /// The largest manifest or index read (registries refuse larger ones: 4 MiB).
    static let maxManifestSize = 4 << 20
    var layers: [Descriptor] = []
    var configs: [Descriptor] = []
    var children: [Descriptor] = []
    var bytes: [Digest: [UInt8]] = [:]

    static func make(_ top: Descriptor, from source: ContentSource) async throws -> ContentPlan {
        var plan = ContentPlan()
        var seen = Set<Digest>()
        func add(manifest descriptor: Descriptor) async throws {
            let manifest = try decode(ImageManifest.self, try await plan.read(descriptor, from: source), descriptor)
            if seen.insert(manifest.config.digest).inserted { plan.configs.append(manifest.config) }
            // Layers with `urls` (foreign layers) are not copied, as registries expect.
            for layer in manifest.layers where (layer.urls ?? []).isEmpty && seen.insert(layer.digest).inserted {
                plan.layers.append(layer)
            }
        }
        if MediaType.isIndex(top.mediaType) {
            let index = try decode(ImageIndex.self, try await plan.read(top, from: source), top)
            for child in index.manifests {
                guard MediaType.isManifest(child.mediaType) else { throw ContentError.unsupportedMediaType(child.mediaType, child.digest) }
                try await add(manifest: child)
                plan.children.append(child)
            }
        } else if MediaType.isManifest(top.mediaType) {
            try await add(manifest: top)
        } else {
            throw ContentError.unsupportedMediaType(top.mediaType, top.digest)
        }
        return plan
    }

    /// A manifest's bytes from the source, checked against its descriptor and kept.
    mutating func read(_ descriptor: Descriptor, from source: ContentSource) async throws -> [UInt8] {
        guard descriptor.size <= Self.maxManifestSize else {
            throw ContentError.tooLarge(descriptor.digest, size: descriptor.size, limit: Int64(Self.maxManifestSize))
        }
        let bytes = try await source.read(descriptor)
        try checkedBytes(bytes, of: descriptor)
        return bytes
    }

    /// Keeps a manifest's `bytes` once they match `descriptor` (size, and digest for sha256).
    mutating func checkedBytes(_ bytes: [UInt8], of descriptor: Descriptor) throws {
        guard Int64(bytes.count) == descriptor.size else {
            throw ContentError.sizeMismatch(descriptor.digest, expected: descriptor.size, actual: Int64(bytes.count))
        }
        let actual = SHA256Stream.digest(of: bytes)
        if descriptor.digest.algorithm == "sha256", actual != descriptor.digest {
            throw ContentError.digestMismatch(descriptor.digest, actual: actual)
        }
        self.bytes[descriptor.digest] = bytes
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], _ descriptor: Descriptor) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw ContentError.malformed(descriptor.digest, reason: "\(error)")
        }
    }
}

import Foundation
import GoTemplate
import ImageModel

/// One element of `inspect`'s output in docker's `image inspect` shape (Id, RepoTags,
/// RepoDigests, Created, Config {Env, Cmd, …}, Architecture, Os, Size, RootFS {Type, Layers},
/// Metadata; docker 27's field order and types, so templates print as docker's do), plus what
/// swiftdock adds: `Descriptor` (as docker 28), `Digest` and `MediaType` of the manifest, and
/// the stored `Manifest` and `ImageConfig` documents as they are.
struct InspectDocument {
    var imageID: Digest
    var repoTags: [String]
    var repoDigests: [String]
    var descriptor: Descriptor
    var manifest: ImageManifest
    var manifestBytes: [UInt8]
    var config: ImageConfiguration
    var configBytes: [UInt8]

    var value: TemplateValue {
        get throws {
            let c = config.config
            let healthcheck = try c.healthcheck.map { try TemplateValue.decodeJSON(try CanonicalJSON.encode($0)) } ?? .null
            func set(_ keys: [String: EmptyObject]?) -> TemplateValue { .map(keys.map { $0.mapValues { _ in .object([]) } }) }
            let containerConfig: TemplateValue = .object([
                TemplateField("Hostname", .string("")),
                TemplateField("Domainname", .string("")),
                TemplateField("User", .string(c.user ?? "")),
                TemplateField("AttachStdin", .bool(false)),
                TemplateField("AttachStdout", .bool(false)),
                TemplateField("AttachStderr", .bool(false)),
                TemplateField("ExposedPorts", set(c.exposedPorts), omitEmpty: true),
                TemplateField("Tty", .bool(false)),
                TemplateField("OpenStdin", .bool(false)),
                TemplateField("StdinOnce", .bool(false)),
                TemplateField("Env", .strings(c.env)),
                TemplateField("Cmd", .strings(c.cmd)),
                TemplateField("Healthcheck", healthcheck, omitEmpty: true),
                TemplateField("ArgsEscaped", .bool(c.argsEscaped ?? false), omitEmpty: true),
                TemplateField("Image", .string("")),
                TemplateField("Volumes", set(c.volumes)),
                TemplateField("WorkingDir", .string(c.workingDir ?? "")),
                TemplateField("Entrypoint", .strings(c.entrypoint)),
                TemplateField("OnBuild", .strings(c.onBuild)),
                TemplateField("Labels", .stringMap(c.labels)),
                TemplateField("StopSignal", .string(c.stopSignal ?? ""), omitEmpty: true),
                TemplateField("Shell", .strings(c.shell), omitEmpty: true),
            ])
            let size = manifest.layers.reduce(manifest.config.size) { $0 + $1.size }
            return .object([
                TemplateField("Id", .string(imageID.description)),
                TemplateField("RepoTags", .strings(repoTags)),
                TemplateField("RepoDigests", .strings(repoDigests)),
                TemplateField("Parent", .string("")),
                TemplateField("Comment", .string("")),
                TemplateField("Created", .string(config.created ?? "")),
                TemplateField("DockerVersion", .string("")),
                TemplateField("Author", .string(config.author ?? "")),
                TemplateField("Config", containerConfig),
                TemplateField("Architecture", .string(config.architecture)),
                TemplateField("Variant", .string(config.variant ?? ""), omitEmpty: true),
                TemplateField("Os", .string(config.os)),
                TemplateField("Size", .int(size)),
                TemplateField("RootFS", .object([
                    TemplateField("Type", .string("layers")),
                    TemplateField("Layers", .strings(config.rootfs.diffIDs.map(\.description)), omitEmpty: true),
                ])),
                TemplateField("Metadata", .object([TemplateField("LastTagTime", .string("0001-01-01T00:00:00Z"))])),
                TemplateField("Descriptor", .object([
                    TemplateField("mediaType", .string(descriptor.mediaType)),
                    TemplateField("digest", .string(descriptor.digest.description)),
                    TemplateField("size", .int(descriptor.size)),
                ])),
                TemplateField("Digest", .string(descriptor.digest.description)),
                TemplateField("MediaType", .string(descriptor.mediaType)),
                TemplateField("Manifest", try TemplateValue.decodeJSON(Data(manifestBytes))),
                TemplateField("ImageConfig", try TemplateValue.decodeJSON(Data(configBytes))),
            ])
        }
    }
}

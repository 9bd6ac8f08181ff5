import Attestation
import DockerfileSyntax
import Foundation
import ImageModel
import ImageStore

/// An image a `FROM` or `COPY --from` of this build resolved: the name as written, and what it named.
struct ResolvedBase {
    var name: String
    var lookup: ImageLookup
}

/// `build --provenance`: SLSA v1 provenance of the image, stored beside it as an OCI 1.1
/// artifact (`application/vnd.in-toto+json`) whose subject is the image manifest — what
/// BuildKit attaches with `--provenance`, in our own build type.
extension BuildSession {
    /// Writes the provenance of the image `manifest` (of `platform`) and records it as the
    /// image's referrer, replacing the provenance an earlier build of the same image left.
    func writeProvenance(mode: ProvenanceMode, manifest: Descriptor, platform: Platform) throws -> Descriptor {
        let platformText = platform.description
        let request = ProvenanceRequest(
            mode: mode, manifestDigest: manifest.digest.description,
            subjectNames: options.tags.map { Self.packageURL($0, platform: platformText) },
            dockerfilePath: provenanceDockerfilePath(), dockerfileSHA256: dockerfileDigest?.encoded ?? "",
            target: options.target, platform: platformText, buildArgs: mode == .max ? provenanceBuildArgs() : [:],
            baseImages: provenanceBaseImages(), contextCommit: contextCommit(), builderID: options.builderID,
            builderVersion: options.builderVersion, builderPlatform: Platform.host.description,
            invocationID: UUID().uuidString.lowercased(), startedOn: startedOn, finishedOn: Date())
        let statement = ProvenanceStatement(request)
        return try storeArtifact(try statement.jsonBytes(), type: ProvenanceStatement.mediaType, subject: manifest,
                                 replacingOlder: true)
    }

    /// The `--build-arg`s as given, but never a proxy arg (their URLs often carry credentials,
    /// and BuildKit keeps them out of the history and the cache key too) or one whose name looks
    /// like a secret (BuildKit's SecretsUsedInArgOrEnv rule); each left-out secret is warned about.
    func provenanceBuildArgs() -> [String: String] {
        var args: [String: String] = [:]
        for (name, value) in options.buildArgs.sorted(by: { $0.key < $1.key }) {
            if Dockerfile.proxyArgNames.contains(name) { continue }
            if ProvenanceRequest.looksSecret(name) {
                emit(.warning("provenance: build arg \(name) looks like a secret; its value is left out (use --secret for secrets)"))
                continue
            }
            args[name] = value
        }
        return args
    }

    /// Every base image once, by manifest digest: `pkg:docker/NAME@TAG?platform=…` for a name,
    /// just the digest (and the text written) for an image ID; then every `ADD <URL>` download.
    func provenanceBaseImages() -> [ProvenanceStatement.Resource] {
        var resources: [ProvenanceStatement.Resource] = []
        for base in resolvedBases {
            let digest = base.lookup.manifest.digest
            let platform = (try? store.image(base.lookup.manifest).config.platform.description) ?? ""
            var resource = ProvenanceStatement.Resource(digest: [digest.algorithm: digest.encoded])
            if let reference = base.lookup.reference {
                resource.uri = Self.packageURL(reference, platform: platform)
            } else {
                resource.name = base.name
            }
            if !resources.contains(resource) { resources.append(resource) }
        }
        for download in resolvedDownloads {
            let resource = ProvenanceStatement.Resource(uri: Self.withoutCredentials(download.url),
                                                        digest: [download.digest.algorithm: download.digest.encoded])
            if !resources.contains(resource) { resources.append(resource) }
        }
        return resources
    }

    /// A download URL without what may be a credential: user info, query (signed URLs carry
    /// their token there) and fragment. The digest still names exactly what was downloaded.
    static func withoutCredentials(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? ""
    }

    /// `pkg:docker/…` for an image name; a digest-only reference keeps its digest as a qualifier.
    static func packageURL(_ reference: Reference, platform: String) -> String {
        let url = ProvenanceRequest.dockerPURL(repository: reference.familiarRepository,
                                               tag: reference.tag ?? (reference.digest == nil ? Reference.defaultTag : nil),
                                               platform: platform)
        guard reference.tag == nil, let digest = reference.digest else { return url }
        return url + "&digest=" + digest.description.replacingOccurrences(of: ":", with: "%3A")
    }

    /// The Dockerfile's path relative to the context, or its file name when it lies outside
    /// (the builder's own directories stay out of the document, as in BuildKit's).
    func provenanceDockerfilePath() -> String {
        let context = URL(fileURLWithPath: contextRoot).standardizedFileURL.path
        let file = URL(fileURLWithPath: dockerfilePath).standardizedFileURL.path
        if file.hasPrefix(context == "/" ? "/" : context + "/") {
            return String(file.dropFirst(context == "/" ? 1 : context.count + 1))
        }
        return (file as NSString).lastPathComponent
    }

    /// The context's git commit, when the context lies in a git work tree (a damaged or
    /// hostile `.git` is a warning, never a failed build).
    func contextCommit() -> GitHead? {
        switch GitHead.lookup(directory: contextRoot) {
        case .found(let head): return head
        case .notInWorkTree: return nil
        case .unreadable(let reason):
            emit(.warning("provenance: the context is in a git work tree, but its commit cannot be read: \(reason)"))
            return nil
        }
    }
}

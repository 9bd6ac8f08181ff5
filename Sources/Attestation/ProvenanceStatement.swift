import Foundation

/// SLSA provenance of one image: an in-toto v1 Statement whose subject is the image manifest
/// and whose predicate is SLSA v1 (`https://slsa.dev/provenance/v1`) — the document BuildKit
/// attaches with `--provenance`, in our own build type (what each field holds is documented by
/// `ProvenanceStatement.buildType`'s README section, "Provenance").
///
/// Only what the build was asked and what it resolved goes in: the Dockerfile by path (relative
/// to the context, never the builder's absolute paths) and digest, the target, the platform,
/// the build args the caller already filtered (`ProvenanceRequest.buildArgs`: never secrets),
/// every base image by manifest digest, the context's git commit, the builder and the times.
public struct ProvenanceStatement: Encodable, Sendable {
    /// The media type of an in-toto statement, as the artifact's `artifactType` and layer type.
    public static let mediaType = "application/vnd.in-toto+json"
    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let predicateType = "https://slsa.dev/provenance/v1"
    /// Our build type: a Dockerfile build by swiftdock, fields as `ProvenanceRequest` lists them.
    public static let buildType = "https://swiftdock.invalid/slsa/dockerfile-build/v1"

    /// A SLSA ResourceDescriptor (`uri`, `digest`, `name`, `annotations`).
    public struct Resource: Encodable, Sendable, Equatable {
        public var uri: String?
        public var digest: [String: String]?
        public var name: String?
        public var annotations: [String: String]?

        public init(uri: String? = nil, digest: [String: String]? = nil, name: String? = nil, annotations: [String: String]? = nil) {
            self.uri = uri
            self.digest = digest
            self.name = name
            self.annotations = annotations
        }
    }

    struct Subject: Encodable, Sendable {
        var name: String
        var digest: [String: String]
    }

    struct ConfigSource: Encodable, Sendable {
        var path: String
        var digest: [String: String]
    }

    struct Request: Encodable, Sendable {
        var frontend = "dockerfile"
        /// BuildKit's keys: `build-arg:NAME`, `target`, `platform`.
        var args: [String: String]
    }

    struct ExternalParameters: Encodable, Sendable {
        var configSource: ConfigSource
        var request: Request
    }

    struct InternalParameters: Encodable, Sendable {
        var builderPlatform: String
        /// `min` (build args left out, as BuildKit's mode=min) or `max`.
        var mode: String
    }

    struct BuildDefinition: Encodable, Sendable {
        var buildType: String
        var externalParameters: ExternalParameters
        var internalParameters: InternalParameters
        var resolvedDependencies: [Resource]
    }

    struct Builder: Encodable, Sendable {
        var id: String
        var version: [String: String]
    }

    struct Metadata: Encodable, Sendable {
        var invocationId: String
        var startedOn: String
        var finishedOn: String
    }

    struct RunDetails: Encodable, Sendable {
        var builder: Builder
        var metadata: Metadata
    }

    struct Predicate: Encodable, Sendable {
        var buildDefinition: BuildDefinition
        var runDetails: RunDetails
    }

    enum CodingKeys: String, CodingKey {
        case type = "_type", subject, predicateType, predicate
    }

    var type = ProvenanceStatement.statementType
    var subject: [Subject]
    var predicateType = ProvenanceStatement.predicateType
    var predicate: Predicate

    public init(_ request: ProvenanceRequest) {
        let hex = request.manifestDigest.hasPrefix("sha256:") ? String(request.manifestDigest.dropFirst(7)) : request.manifestDigest
        let names = request.subjectNames.isEmpty ? [request.manifestDigest] : request.subjectNames
        subject = names.map { Subject(name: $0, digest: ["sha256": hex]) }
        var args: [String: String] = [:]
        if request.mode == .max {
            for (name, value) in request.buildArgs { args["build-arg:" + name] = value }
        }
        if let target = request.target { args["target"] = target }
        args["platform"] = request.platform
        var dependencies = request.baseImages
        if let git = request.contextCommit {
            var annotations: [String: String] = [:]
            if let ref = git.ref { annotations["ref"] = ref }
            dependencies.append(Resource(digest: [git.digestAlgorithm: git.commit], name: "context",
                                         annotations: annotations.isEmpty ? nil : annotations))
        }
        predicate = Predicate(
            buildDefinition: BuildDefinition(
                buildType: Self.buildType,
                externalParameters: ExternalParameters(
                    configSource: ConfigSource(path: request.dockerfilePath, digest: ["sha256": request.dockerfileSHA256]),
                    request: Request(args: args)),
                internalParameters: InternalParameters(builderPlatform: request.builderPlatform, mode: request.mode.rawValue),
                resolvedDependencies: dependencies),
            runDetails: RunDetails(
                builder: Builder(id: request.builderID, version: request.builderVersion),
                metadata: Metadata(invocationId: request.invocationID, startedOn: DocumentTimestamp.string(request.startedOn),
                                   finishedOn: DocumentTimestamp.string(request.finishedOn))))
    }

    /// The statement as JSON, keys sorted.
    public func jsonBytes() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}

/// How much provenance to record, as BuildKit's `mode=min|max`.
public enum ProvenanceMode: String, Sendable, CaseIterable {
    /// Everything but the build args' values (BuildKit's mode=min leaves `build-arg:` out).
    case min
    /// Also the build args (never a secret-looking or proxy one: the caller filters them).
    case max
}

/// What a build tells `ProvenanceStatement`: every field already resolved and filtered.
public struct ProvenanceRequest: Sendable {
    public var mode: ProvenanceMode
    /// `sha256:…` of the image manifest.
    public var manifestDigest: String
    /// The image's names (`pkg:docker/…` package URLs); empty when untagged.
    public var subjectNames: [String]
    /// The Dockerfile's path relative to the context (its file name when it lies outside).
    public var dockerfilePath: String
    public var dockerfileSHA256: String
    public var target: String?
    /// The image's platform (`linux/amd64`).
    public var platform: String
    public var buildArgs: [String: String]
    /// Each base image (FROM and COPY --from images) by manifest digest.
    public var baseImages: [ProvenanceStatement.Resource]
    public var contextCommit: GitHead?
    public var builderID: String
    public var builderVersion: [String: String]
    public var builderPlatform: String
    public var invocationID: String
    public var startedOn: Date
    public var finishedOn: Date

    public init(mode: ProvenanceMode, manifestDigest: String, subjectNames: [String], dockerfilePath: String,
                dockerfileSHA256: String, target: String?, platform: String, buildArgs: [String: String],
                baseImages: [ProvenanceStatement.Resource], contextCommit: GitHead?, builderID: String,
                builderVersion: [String: String], builderPlatform: String, invocationID: String, startedOn: Date, finishedOn: Date) {
        self.mode = mode
        self.manifestDigest = manifestDigest
        self.subjectNames = subjectNames
        self.dockerfilePath = dockerfilePath
        self.dockerfileSHA256 = dockerfileSHA256
        self.target = target
        self.platform = platform
        self.buildArgs = buildArgs
        self.baseImages = baseImages
        self.contextCommit = contextCommit
        self.builderID = builderID
        self.builderVersion = builderVersion
        self.builderPlatform = builderPlatform
        self.invocationID = invocationID
        self.startedOn = startedOn
        self.finishedOn = finishedOn
    }

    /// Whether a build arg's name looks like it carries a secret: BuildKit's
    /// SecretsUsedInArgOrEnv rule (a `_`-separated word apikey, auth, credential(s), key,
    /// password, pass, pword, passwd, secret or token, unless a word is `public`). Such args
    /// are left out of the provenance whatever the mode.
    public static func looksSecret(_ name: String) -> Bool {
        let words = name.lowercased().split(separator: "_", omittingEmptySubsequences: false).map(String.init)
        if words.contains("public") { return false }
        let secretWords: Set<String> = ["apikey", "auth", "credential", "credentials", "key", "password", "pass", "pword",
                                        "passwd", "secret", "token"]
        return words.contains { secretWords.contains($0) }
    }

    /// A `pkg:docker/…` package URL for an image name, as BuildKit names provenance subjects and
    /// base images: `pkg:docker/alpine@3.20?platform=linux%2Famd64`.
    public static func dockerPURL(repository: String, tag: String?, platform: String) -> String {
        var text = "pkg:docker/" + repository
        if let tag { text += "@" + tag }
        return text + "?platform=" + platform.replacingOccurrences(of: "/", with: "%2F")
    }
}

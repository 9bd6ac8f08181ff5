/// An OCI content descriptor: what a blob is, how big, and its digest.
public struct Descriptor: Codable, Hashable, Sendable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: Platform?
    /// OCI 1.1: the artifact type of the manifest described (in a referrers index).
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64,
                urls: [String]? = nil, annotations: [String: String]? = nil, platform: Platform? = nil,
                artifactType: String? = nil) {
        self.artifactType = artifactType
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
    }
}

/// The target platform of an image: `os/architecture[/variant]`.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var osVersion: String?
    public var osFeatures: [String]?
    public var variant: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
        case osFeatures = "os.features"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    /// Parses `os/arch[/variant]`, normalising architecture names the way containerd does.
    public init(parsing string: String) throws {
        let parts = string.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw PlatformError.malformed(string)
        }
        let (arch, defaultVariant) = Platform.normalize(architecture: parts[1])
        self.init(os: parts[0], architecture: arch, variant: parts.count == 3 ? parts[2] : defaultVariant)
    }

    /// The platform of the running machine (always Linux: swiftdock builds Linux images).
    public static var host: Platform {
        #if arch(x86_64)
        return Platform(os: "linux", architecture: "amd64")
        #elseif arch(arm64)
        return Platform(os: "linux", architecture: "arm64", variant: "v8")
        #elseif arch(arm)
        return Platform(os: "linux", architecture: "arm", variant: "v7")
        #elseif arch(s390x)
        return Platform(os: "linux", architecture: "s390x")
        #elseif arch(powerpc64le)
        return Platform(os: "linux", architecture: "ppc64le")
        #else
        return Platform(os: "linux", architecture: "unknown")
        #endif
    }

    static func normalize(architecture: String) -> (String, String?) {
        switch architecture {
        case "x86_64", "x86-64": return ("amd64", nil)
        case "aarch64": return ("arm64", nil)
        case "armhf": return ("arm", "v7")
        case "armel": return ("arm", "v6")
        default: return (architecture, nil)
        }
    }
}

public enum PlatformError: Error, CustomStringConvertible {
    case malformed(String)
    public var description: String {
        switch self {
        case .malformed(let s): return "invalid platform \"\(s)\": expected os/arch[/variant]"
        }
    }
}

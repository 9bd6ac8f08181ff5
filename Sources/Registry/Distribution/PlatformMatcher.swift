import ImageModel

/// Picks the manifest for a platform out of an image index, as containerd's platform
/// matcher does: OS and architecture must agree; variants are compared after normalising
/// the defaults (`arm64` ≡ `arm64/v8`, `arm` ≡ `arm/v7`, `amd64` ≡ `amd64/v1`).
public enum PlatformMatcher {
    /// The entry of `manifests` for `platform`: an exact (normalised) variant match first,
    /// then — when the wanted platform names no variant — any variant of the architecture.
    /// Attestations and other non-image entries (`unknown/unknown`, no platform) never match.
    public static func choose(_ manifests: [Descriptor], for platform: Platform) -> Descriptor? {
        let wanted = normalize(platform)
        let images = manifests.filter { entry in
            guard let p = entry.platform else { return false }
            return p.os != "unknown" && p.architecture != "unknown"
        }
        let sameArchitecture = images.filter { entry in
            let p = normalize(entry.platform!)
            return p.os == wanted.os && p.architecture == wanted.architecture
        }
        if let exact = sameArchitecture.first(where: { normalize($0.platform!).variant == wanted.variant }) {
            return exact
        }
        if platform.variant == nil {
            // `linux/arm` with only v6 and v5 published: take the highest variant, as docker does.
            return sameArchitecture.max { ($0.platform?.variant ?? "") < ($1.platform?.variant ?? "") }
        }
        return nil
    }

    /// The platforms an index offers, as `os/arch[/variant]`, without attestation entries.
    public static func available(_ manifests: [Descriptor]) -> [String] {
        var seen = Set<String>()
        return manifests.compactMap { entry -> String? in
            guard let p = entry.platform, p.os != "unknown", p.architecture != "unknown" else { return nil }
            let text = p.description
            return seen.insert(text).inserted ? text : nil
        }
    }

    /// The platform with architecture aliases resolved and default variants filled in.
    public static func normalize(_ platform: Platform) -> Platform {
        var arch = platform.architecture.lowercased()
        var variant = platform.variant?.lowercased()
        switch arch {
        case "x86_64", "x86-64": arch = "amd64"
        case "aarch64": arch = "arm64"
        case "armhf": arch = "arm"; variant = variant ?? "v7"
        case "armel": arch = "arm"; variant = variant ?? "v6"
        default: break
        }
        switch arch {
        case "arm64": if variant == nil || variant == "8" { variant = "v8" }
        case "arm": if variant == nil { variant = "v7" } else if let v = variant, !v.hasPrefix("v") { variant = "v" + v }
        case "amd64": if variant == nil { variant = "v1" }
        default: break
        }
        return Platform(os: platform.os.lowercased(), architecture: arch, variant: variant)
    }
}

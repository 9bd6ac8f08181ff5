import ArgumentParser
import Attestation

/// `build --provenance[=VALUE]`, spelled as buildx spells it: bare, `true`/`false`/`1`/`0`, or
/// BuildKit's attestation parameters `mode=min|max`, `builder-id=URI`, `version=v1`,
/// `disabled=true|false`, comma-separated.
///
/// Where buildx's bare `--provenance`/`=true` means `mode=min` (build args left out), ours
/// means `mode=max`: the provenance is asked to carry the build args (never a secret-looking or
/// proxy one), and BuildKit's own documentation recommends max where possible. `mode=min`
/// gives BuildKit's min.
struct ProvenanceSetting: Equatable {
    var mode: ProvenanceMode
    var builderID: String?

    /// nil when provenance is off (no flag, `false`, `disabled=true`).
    init?(flag: Bool, value: String?) throws {
        guard let value else {
            guard flag else { return nil }
            mode = .max
            return
        }
        mode = .max
        switch value.lowercased() {
        case "true", "1": return
        case "false", "0": return nil
        default: break
        }
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[1].isEmpty else {
                throw ValidationError("invalid --provenance value \"\(value)\": \"\(part)\" is not KEY=VALUE (true, false, mode=min|max, builder-id=URI)")
            }
            switch pair[0] {
            case "mode":
                guard let parsed = ProvenanceMode(rawValue: pair[1]) else {
                    throw ValidationError("invalid --provenance mode \"\(pair[1])\": expected min or max")
                }
                mode = parsed
            case "builder-id":
                builderID = pair[1]
            case "version":
                // BuildKit also writes SLSA v0.2; only v1 is written here.
                guard pair[1] == "v1" else { throw ValidationError("unsupported --provenance version \"\(pair[1])\": only v1 is written") }
            case "disabled":
                switch pair[1] {
                case "true": return nil
                case "false": break
                default: throw ValidationError("invalid --provenance disabled=\(pair[1]): expected true or false")
                }
            default:
                throw ValidationError("unknown --provenance parameter \"\(pair[0])\" (mode, builder-id, version, disabled)")
            }
        }
    }

    /// The build options whose next word is their value (so `--build-arg --provenance=x` stays a value).
    static let valueOptions: Set<String> = [
        "-t", "--tag", "-f", "--file", "--build-arg", "--target", "--platform", "--run", "--format", "--compression-level",
        "--source-date-epoch", "--jobs", "--provenance-value",
    ]

    /// `build … --provenance=VALUE …` becomes `build … --provenance-value VALUE …`: the argument
    /// parser has no option whose value may be left out, and `--provenance` alone is a flag.
    static func rewritingValue(_ arguments: [String]) -> [String] {
        guard arguments.first == "build" else { return arguments }
        var result: [String] = []
        for argument in arguments {
            if argument == "--" || result.contains("--") {
                result.append(argument)
                continue
            }
            if argument.hasPrefix("--provenance="), !valueOptions.contains(result.last ?? "") {
                result += ["--provenance-value", String(argument.dropFirst("--provenance=".count))]
            } else {
                result.append(argument)
            }
        }
        return result
    }
}

// Which stages a build needs, and the ARGs every build gets without declaring them.

import GoQuoting

extension Dockerfile {
    /// The stage called `nameOrIndex` (matched lower-cased), or, for a number, the stage at that
    /// index (`COPY --from=0`). Nil when neither matches.
    public func stageIndex(named nameOrIndex: String) -> Int? {
        let lowered = nameOrIndex.lowercased()
        if let stage = stages.last(where: { $0.name == lowered }) { return stage.index }
        if let index = Int(nameOrIndex), nameOrIndex.allSatisfy(\.isNumber), index < stages.count { return index }
        return nil
    }

    /// The stage a `FROM nameOrIndex` in stage `current` builds on: the last stage so named
    /// before `current` (names may repeat; BuildKit warns and the last wins), or nil for an image.
    public func stageIndex(named nameOrIndex: String, before current: Int) -> Int? {
        let lowered = nameOrIndex.lowercased()
        if let stage = stages[..<min(current, stages.count)].last(where: { $0.name == lowered }) { return stage.index }
        if let index = Int(nameOrIndex), nameOrIndex.allSatisfy(\.isNumber), index < current { return index }
        return nil
    }

    /// The stages needed to build `target` (default: the last stage), dependencies first.
    ///
    /// A stage depends on an earlier stage named by its FROM (after expanding global ARGs), and on any
    /// stage named by `COPY/ADD --from=` or `RUN --mount=…,from=` (name or index). A FROM naming a later
    /// stage, or itself, is an image reference, as in BuildKit. `lookup` gives build-argument values:
    /// global ARGs fall back to their defaults, and the automatic platform ARGs are always visible.
    public func requiredStages(target: String?, globalArgs lookup: (String) -> String?) throws -> [Int] {
        guard let last = stages.last else { return [] }
        let meta = try metaArgValues(lookup)
        let metaLookup: (String) -> String? = { meta[$0] }
        let expander = ShellWordExpander(escape: directives.escape)

        let targetIndex: Int
        if let target {
            guard let stage = stages.last(where: { $0.name == target.lowercased() }) else {
                throw TargetStageNotFound(target: target, stages: stages.compactMap(\.name))
            }
            targetIndex = stage.index
        } else {
            targetIndex = last.index
        }

        // A stage's dependencies, in the order they appear (computed only for stages the target needs).
        func dependencies(of stage: Stage) throws -> [Int] {
            var deps: [Int] = []
            let base: String
            do {
                base = try expander.expand(stage.baseName, lookup: metaLookup).value
            } catch let error as ExpansionError {
                throw DockerfileError(stage.location, "FROM", error.description)
            }
            if base.isEmpty {
                throw DockerfileError(stage.location, "FROM", "base name (\(stage.baseName)) should not be blank")
            }
            if let earlier = stages[..<stage.index].last(where: { $0.name == base.lowercased() }) {
                deps.append(earlier.index)
            }
            for instruction in stage.instructions {
                for reference in stageReferences(instruction) {
                    let name: String
                    do {
                        name = try expander.expand(reference, lookup: metaLookup).value
                    } catch let error as ExpansionError {
                        throw DockerfileError(instruction.location, instruction.keyword, error.description)
                    }
                    if let index = stageIndex(named: name), !deps.contains(index) { deps.append(index) }
                }
            }
            return deps
        }

        var order: [Int] = []
        var state = [Int: Bool]() // false = in progress, true = done
        func visit(_ index: Int) throws {
            if let done = state[index] {
                if done { return }
                let stage = stages[index]
                throw DockerfileError(stage.location, nil, "circular dependency detected on stage: \(stage.name ?? String(index))")
            }
            state[index] = false
            for dep in try dependencies(of: stages[index]) { try visit(dep) }
            state[index] = true
            order.append(index)
        }
        try visit(targetIndex)
        return order
    }

    /// Values of the global ARGs (build argument, else default expanded in order) plus the automatic
    /// platform ARGs supplied through `lookup`.
    private func metaArgValues(_ lookup: (String) -> String?) throws -> [String: String] {
        var values: [String: String] = [:]
        for name in Self.automaticPlatformArgNames {
            if let value = lookup(name) { values[name] = value }
        }
        for instruction in globalArgs {
            guard case .arg(let declarations) = instruction.kind else { continue }
            let fixed = values
            for declaration in declarations {
                if let given = lookup(declaration.name) {
                    values[declaration.name] = given
                } else if let defaultValue = declaration.defaultValue {
                    let expander = ShellWordExpander(escape: directives.escape)
                    do {
                        values[declaration.name] = try expander.expand(defaultValue, lookup: { fixed[$0] }).value
                    } catch let error as ExpansionError {
                        throw DockerfileError(instruction.location, instruction.keyword, error.description)
                    }
                }
            }
        }
        return values
    }

    private func stageReferences(_ instruction: Instruction) -> [String] {
        switch instruction.kind {
        case .copy(let c), .add(let c):
            return c.from.map { [$0] } ?? []
        case .run(let run):
            return run.flags.compactMap { flag in
                guard flag.name == "mount", let value = flag.value else { return nil }
                for field in value.split(separator: ",") {
                    let pair = field.split(separator: "=", maxSplits: 1)
                    if pair.count == 2, pair[0].lowercased() == "from" { return String(pair[1]) }
                }
                return nil
            }
        default:
            return []
        }
    }

    static let automaticPlatformArgNames = [
        "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
        "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
    ]

    /// BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT, TARGETPLATFORM, TARGETOS, TARGETARCH and
    /// TARGETVARIANT; platforms are `os/arch[/variant]`, a missing variant is the empty string.
    public static func automaticPlatformArgs(buildOS: String, buildArch: String, buildVariant: String?,
                                             targetOS: String, targetArch: String, targetVariant: String?) -> [String: String] {
        func platform(_ os: String, _ arch: String, _ variant: String?) -> String {
            guard let variant, !variant.isEmpty else { return "\(os)/\(arch)" }
            return "\(os)/\(arch)/\(variant)"
        }
        return [
            "BUILDPLATFORM": platform(buildOS, buildArch, buildVariant),
            "BUILDOS": buildOS, "BUILDARCH": buildArch, "BUILDVARIANT": buildVariant ?? "",
            "TARGETPLATFORM": platform(targetOS, targetArch, targetVariant),
            "TARGETOS": targetOS, "TARGETARCH": targetArch, "TARGETVARIANT": targetVariant ?? "",
        ]
    }

    /// Proxy ARGs usable without an ARG instruction (kept out of history unless declared).
    public static let proxyArgNames: Set<String> = [
        "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
        "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
    ]
}

/// `--target` names no stage. Not a Dockerfile line's fault, so no `Dockerfile:N`: BuildKit's
/// wording (`target stage "x" could not be found`), plus the stages there are.
public struct TargetStageNotFound: Error, Hashable, Sendable, CustomStringConvertible {
    public var target: String
    /// The stage names, in Dockerfile order.
    public var stages: [String]

    public init(target: String, stages: [String]) {
        self.target = target
        self.stages = stages
    }

    public var description: String {
        let known = stages.isEmpty ? "the Dockerfile names no stage (name one with FROM … AS NAME)" : "stages: " + stages.joined(separator: ", ")
        return "target stage \(goQuoted(target)) could not be found; \(known)"
    }
}

// The Dockerfile front end: text → `Dockerfile` (directives, global ARGs, stages).

import GoQuoting

/// Parses Dockerfiles with BuildKit's rules (directives, continuations, heredocs, instruction checks).
public enum DockerfileParser {
    /// Parses `text`. Throws `DockerfileError` naming `fileName:line` and the instruction.
    /// Words are left unexpanded; see `Instruction.expanded(escape:lookup:)`.
    public static func parse(_ text: String, fileName: String = "Dockerfile") throws -> Dockerfile {
        var reader = LineReader(text: text, fileName: fileName)
        var warnings: [DockerfileWarning] = []
        var globalArgs: [Instruction] = []
        var stages: [Stage] = []
        var stageNames: Set<String> = []

        while let logical = try reader.nextLogicalLine() {
            let split = SplitCommand(logical.text)
            let keyword = split.keyword.uppercased()
            var location = SourceLocation(file: fileName, line: logical.startLine, endLine: logical.endLine)
            let escape = reader.directives.directives.escape
            if logical.hadEmptyContinuation {
                warnings.append(DockerfileWarning(location, rule: "EmptyContinuationLine",
                                                  "Empty continuation line found in: \(logical.text)"))
            }

            var heredocs: [Heredoc] = []
            if logical.text.contains("<<") && acceptsHeredocs(keyword: keyword, rest: split.rest) {
                for word in HeredocWord.all(in: logical.text) {
                    guard let (body, end) = reader.readHeredocBody(name: word.name, chomp: word.chomp) else {
                        location.endLine = reader.lastLineNumber
                        throw DockerfileError(location, keyword, "unterminated heredoc")
                    }
                    heredocs.append(Heredoc(name: word.name, content: body, expand: word.expand,
                                            fileDescriptor: word.fileDescriptor))
                    location.endLine = end
                }
            }

            if keyword == "FROM" {
                let stage = try parseFrom(split, original: logical.text, location: location,
                                          index: stages.count, warnings: &warnings)
                // BuildKit warns (DuplicateStageName) and names refer to the last such stage.
                if let name = stage.name, !stageNames.insert(name).inserted {
                    warnings.append(DockerfileWarning(location, rule: "DuplicateStageName",
                                                      "Duplicate stage name \(goQuoted(name)), stage names should be unique"))
                }
                stages.append(stage)
                continue
            }

            let instruction = try InstructionParser.parse(split, keyword: keyword, original: logical.text,
                                                          location: location, heredocs: heredocs,
                                                          escape: escape, warnings: &warnings)
            if stages.isEmpty {
                guard keyword == "ARG" else {
                    throw DockerfileError(location, keyword, "no build stage in current context")
                }
                globalArgs.append(instruction)
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }

        let end = SourceLocation(file: fileName, line: reader.lastLineNumber)
        if stages.isEmpty {
            if globalArgs.isEmpty { throw DockerfileError(end, nil, "file with no instructions") }
            throw DockerfileError(end, nil, "dockerfile contains no stages to build")
        }
        let directives = reader.directives.directives
        return Dockerfile(fileName: fileName, directives: directives, globalArgs: globalArgs, stages: stages,
                          warnings: filterWarnings(warnings, check: directives.check))
    }

    /// Heredocs are read for RUN, COPY and ADD (also as ONBUILD triggers) unless in JSON form.
    static func acceptsHeredocs(keyword: String, rest: String) -> Bool {
        if keyword == "ONBUILD" {
            let trigger = SplitCommand(rest)
            let inner = trigger.keyword.uppercased()
            return inner != "ONBUILD" && acceptsHeredocs(keyword: inner, rest: trigger.rest)
        }
        guard ["RUN", "COPY", "ADD"].contains(keyword) else { return false }
        if case .strings = parseJSONArray(rest) { return false }
        return true
    }

    static func parseFrom(_ split: SplitCommand, original: String, location: SourceLocation, index: Int,
                          warnings: inout [DockerfileWarning]) throws -> Stage {
        func fail(_ message: String) -> DockerfileError { DockerfileError(location, "FROM", message) }
        let args = split.rest.isEmpty ? [] : splitWhitespace(split.rest)
        var name: String?
        if args.count == 3 && args[1].lowercased() == "as" {
            let lowered = args[2].lowercased()
            guard isValidStageName(lowered) else {
                throw fail("invalid name for build stage: \(goQuoted(args[2])), name can't start with a number or contain symbols")
            }
            if lowered != args[2] {
                warnings.append(DockerfileWarning(location, rule: "StageNameCasing",
                                                  "Stage name '\(args[2])' should be lowercase"))
            }
            name = lowered
        } else if args.count != 1 {
            throw fail("FROM requires either one or three arguments")
        }
        let flags: FlagSet
        do {
            flags = try FlagSet(split.flags, accepting: ["platform": .string])
        } catch let error as FlagError {
            throw fail(error.message)
        }
        return Stage(index: index, name: name, baseName: args[0], platform: flags.string("platform"),
                     location: location, original: trimWhitespace(original), instructions: [])
    }

    /// `^[a-z][a-z0-9-_.]*$`
    static func isValidStageName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    /// Drops warnings skipped by `# check=skip=Rule1,Rule2` (or `skip=all`).
    static func filterWarnings(_ warnings: [DockerfileWarning], check: String?) -> [DockerfileWarning] {
        guard let check else { return warnings }
        var skipped: Set<String> = []
        for part in check.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { trimWhitespace(String($0)) }
            guard pair.count == 2, pair[0].lowercased() == "skip" else { continue }
            for rule in pair[1].split(separator: ",") { skipped.insert(trimWhitespace(String(rule)).lowercased()) }
        }
        if skipped.contains("all") { return [] }
        return warnings.filter { !skipped.contains($0.rule.lowercased()) }
    }
}

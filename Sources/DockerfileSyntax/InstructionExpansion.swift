// Variable expansion of an instruction's words, where BuildKit expands them.

import GoQuoting

extension Instruction {
    /// Expands the words BuildKit expands before running the instruction: ENV and LABEL keys and values,
    /// ARG names and defaults, COPY/ADD sources, destination, `--chown --chmod --from --exclude --checksum`
    /// and unquoted-delimiter heredoc bodies, RUN `--mount` values, EXPOSE (split into words), VOLUME,
    /// USER, WORKDIR and STOPSIGNAL. Command text (RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK), ONBUILD and
    /// MAINTAINER are left alone. Every word sees the same `lookup` (the values in force before the
    /// instruction). Returns the names referenced; throws `DockerfileError` at this instruction.
    public func expanded(escape: Character, lookup: (String) -> String?) throws -> (instruction: Instruction, usedNames: Set<String>) {
        let lexer = ShellWordExpander(escape: escape)
        var heredocLexer = ShellWordExpander(escape: "\\")
        heredocLexer.skipProcessQuotes = true
        var used: Set<String> = []
        func word(_ text: String) throws -> String {
            let result = try lexer.expand(text, lookup: lookup)
            used.formUnion(result.usedNames)
            if result.value.utf8.contains(0) {  // from a variable, e.g. a base image's Env
                throw DockerfileError(location, keyword, "\(goQuoted(text)) expands to a value with a NUL byte")
            }
            return result.value
        }
        func optional(_ text: String?) throws -> String? { try text.map(word) }
        func words(_ text: String) throws -> [String] {
            let result = try lexer.expand(text, lookup: lookup)
            used.formUnion(result.usedNames)
            return result.words
        }
        func body(_ heredoc: Heredoc) throws -> Heredoc {
            guard heredoc.expand else { return heredoc }
            let result = try heredocLexer.expand(heredoc.content, lookup: lookup)
            used.formUnion(result.usedNames)
            var copy = heredoc
            copy.content = result.value
            return copy
        }
        func copyLike(_ c: CopyInstruction) throws -> CopyInstruction {
            var c = c
            c.sources = try c.sources.map { $0.hasPrefix("<<") ? $0 : try word($0) }
            c.destination = try word(c.destination)
            c.heredocs = try c.heredocs.map(body)
            c.from = try optional(c.from)
            c.chown = try optional(c.chown)
            c.chmod = try optional(c.chmod)
            c.excludes = try c.excludes.map(word)
            c.checksum = try optional(c.checksum)
            return c
        }

        // A NUL byte cannot be part of a file name, an argument or an environment value: the C
        // calls below would cut the text there (or, at its start, crash). BuildKit fails such
        // instructions later with "invalid argument"; refusing them here names the line.
        if original.utf8.contains(0) {
            throw DockerfileError(location, keyword, "the instruction contains a NUL byte, which no file name, argument or value can hold")
        }
        var result = self
        do {
            switch kind {
            case .env(let pairs):
                result.kind = .env(try pairs.map { KeyValue(key: try word($0.key), value: try word($0.value)) })
            case .label(let pairs):
                result.kind = .label(try pairs.map { KeyValue(key: try word($0.key), value: try word($0.value)) })
            case .arg(let declarations):
                result.kind = .arg(try declarations.map {
                    ArgDeclaration(name: try word($0.name), defaultValue: try optional($0.defaultValue))
                })
            case .expose(let ports):
                result.kind = .expose(try ports.flatMap(words))
            case .volume(let paths):
                result.kind = .volume(try paths.map(word))
            case .user(let text): result.kind = .user(try word(text))
            case .workdir(let text): result.kind = .workdir(try word(text))
            case .stopSignal(let text): result.kind = .stopSignal(try word(text))
            case .copy(let c): result.kind = .copy(try copyLike(c))
            case .add(let c): result.kind = .add(try copyLike(c))
            case .run(var run):
                run.flags = try run.flags.map { flag in
                    guard flag.name == "mount", let value = flag.value else { return flag }
                    return Flag(name: flag.name, value: try word(value))
                }
                result.kind = .run(run)
            case .cmd, .entrypoint, .shell, .healthcheck, .onbuild, .maintainer:
                break
            }
        } catch let error as ExpansionError {
            throw DockerfileError(location, keyword, error.description)
        }
        return (result, used)
    }
}

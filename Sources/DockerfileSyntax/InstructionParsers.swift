// One parser per instruction keyword (BuildKit `instructions/parse.go`), errors in its wording.

import GoQuoting

enum InstructionParser {
    private struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static let keywords: Set<String> = [
        "RUN", "CMD", "ENTRYPOINT", "SHELL", "ENV", "LABEL", "ARG", "EXPOSE", "VOLUME", "USER", "WORKDIR",
        "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "MAINTAINER", "COPY", "ADD", "FROM",
    ]

    /// Parses every instruction but FROM.
    static func parse(_ split: SplitCommand, keyword: String, original: String, location: SourceLocation,
                      heredocs: [Heredoc], escape: Character, warnings: inout [DockerfileWarning]) throws -> Instruction {
        guard keywords.contains(keyword) else {
            throw DockerfileError(location, nil, "unknown instruction: \(split.keyword)")
        }
        do {
            let kind = try parseKind(split, keyword: keyword, original: original, location: location,
                                     heredocs: heredocs, escape: escape, warnings: &warnings)
            return Instruction(location: location, keyword: keyword, original: original, kind: kind)
        } catch let failure as Failure {
            throw DockerfileError(location, keyword, failure.message)
        } catch let failure as FlagError {
            throw DockerfileError(location, keyword, failure.message)
        }
    }

    private static func parseKind(_ split: SplitCommand, keyword: String, original: String, location: SourceLocation,
                                  heredocs: [Heredoc], escape: Character,
                                  warnings: inout [DockerfileWarning]) throws -> InstructionKind {
        let rest = split.rest
        func noFlags() throws { _ = try FlagSet(split.flags, accepting: [:]) }
        func exactlyOne() throws -> String {
            guard !rest.isEmpty else { throw Failure("\(keyword) requires exactly one argument") }
            try noFlags()
            return rest
        }
        switch keyword {
        case "RUN":
            let flags = try FlagSet(split.flags, accepting: ["mount": .strings, "network": .string,
                                                              "security": .string, "device": .strings])
            if let network = flags.string("network"), !["default", "none", "host"].contains(network) {
                throw Failure("unsupported network mode \(goQuoted(network))")
            }
            if let security = flags.string("security"), !["sandbox", "insecure"].contains(security) {
                throw Failure("unsupported security mode \(goQuoted(security))")
            }
            return .run(RunInstruction(flags: flags.parsed, command: try command(rest), heredocs: heredocs))
        case "CMD", "ENTRYPOINT":
            try noFlags()
            let form = try command(rest)
            if case .shell(let text) = form, !text.isEmpty {
                warnings.append(DockerfileWarning(location, rule: "JSONArgsRecommended",
                    "JSON arguments recommended for \(keyword) to prevent unintended behavior related to OS signals"))
            }
            return keyword == "CMD" ? .cmd(form) : .entrypoint(form)
        case "SHELL":
            try noFlags()
            switch try command(rest) {
            case .exec(let words) where !words.isEmpty: return .shell(words)
            case .shell(let text) where !text.isEmpty:
                throw Failure("SHELL requires the arguments to be in JSON form")
            default: throw Failure("SHELL requires at least one argument")
            }
        case "ENV", "LABEL":
            try noFlags()
            let pairs = try nameValues(rest, keyword: keyword, escape: escape)
            return keyword == "ENV" ? .env(pairs) : .label(pairs)
        case "ARG":
            try noFlags()
            let words = parseWords(rest, escape: escape)
            guard !words.isEmpty else { throw Failure("ARG requires at least one argument") }
            return .arg(try words.map { word in
                guard let eq = word.firstIndex(of: "=") else { return ArgDeclaration(name: word, defaultValue: nil) }
                guard eq != word.startIndex else { throw Failure("ARG names can not be blank") }
                return ArgDeclaration(name: String(word[..<eq]), defaultValue: String(word[word.index(after: eq)...]))
            })
        case "EXPOSE":
            guard !rest.isEmpty else { throw Failure("EXPOSE requires at least one argument") }
            try noFlags()
            return .expose(splitWhitespace(rest))
        case "VOLUME":
            let paths = try list(rest)
            guard !paths.isEmpty else { throw Failure("VOLUME requires at least one argument") }
            try noFlags()
            for path in paths where trimWhitespace(path).isEmpty {
                throw Failure("VOLUME specified can not be an empty string")
            }
            return .volume(paths.map(trimWhitespace))
        case "USER": return .user(try exactlyOne())
        case "WORKDIR": return .workdir(try exactlyOne())
        case "STOPSIGNAL": return .stopSignal(try exactlyOne())
        case "MAINTAINER":
            let name = try exactlyOne()
            warnings.append(DockerfileWarning(location, rule: "MaintainerDeprecated",
                                              "Maintainer instruction is deprecated in favor of using label"))
            return .maintainer(name)
        case "HEALTHCHECK":
            return .healthcheck(try healthcheck(split))
        case "ONBUILD":
            return .onbuild(try onbuild(split, original: original, location: location, heredocs: heredocs, escape: escape))
        default: // COPY, ADD
            return try copy(split, keyword: keyword, heredocs: heredocs)
        }
    }

    /// Exec form when `rest` is a JSON array of strings, else shell form (BuildKit `parseMaybeJSON`).
    private static func command(_ rest: String) throws -> CommandForm {
        guard !rest.isEmpty else { return .shell("") }
        switch parseJSONArray(rest) {
        case .strings(let words): return .exec(words)
        case .notStrings: throw Failure(notStringArrayMessage)
        case .notJSON: return .shell(rest)
        }
    }

    /// A JSON array of strings, or whitespace-separated words (BuildKit `parseMaybeJSONToList`).
    private static func list(_ rest: String) throws -> [String] {
        switch parseJSONArray(rest) {
        case .strings(let words): return words
        case .notStrings: throw Failure(notStringArrayMessage)
        case .notJSON: return rest.isEmpty ? [] : splitWhitespace(rest)
        }
    }

    /// `k=v k2="v 2"` pairs or the legacy `k rest of line` form (BuildKit `parseNameVal`).
    private static func nameValues(_ rest: String, keyword: String, escape: Character) throws -> [KeyValue] {
        let words = parseWords(rest, escape: escape)
        guard let first = words.first else { throw Failure("\(keyword) requires at least one argument") }
        guard first.contains("=") else {
            let parts = splitWhitespace(rest, limit: 2)
            guard parts.count == 2 else { throw Failure("\(keyword) must have two arguments") }
            return [KeyValue(key: parts[0], value: parts[1])]
        }
        return try words.map { word in
            guard let eq = word.firstIndex(of: "=") else {
                throw Failure("Syntax error - can't find = in \(goQuoted(word)). Must be of the form: name=value")
            }
            guard eq != word.startIndex else { throw Failure("\(keyword) names can not be blank") }
            return KeyValue(key: String(word[..<eq]), value: String(word[word.index(after: eq)...]))
        }
    }

    private static func healthcheck(_ split: SplitCommand) throws -> HealthcheckInstruction {
        let rest = split.rest
        let type = String(rest.unicodeScalars.prefix(while: { !isSpaceScalar($0) }))
        guard !type.isEmpty else { throw Failure("HEALTHCHECK requires at least one argument") }
        let commandText = trimLeadingWhitespace(String(rest.unicodeScalars.dropFirst(type.unicodeScalars.count)))
        let upper = type.uppercased()
        if upper == "NONE" {
            guard commandText.isEmpty, split.flags.isEmpty else { throw Failure("HEALTHCHECK NONE takes no arguments") }
            return .none
        }
        let flags = try FlagSet(split.flags, accepting: ["interval": .string, "timeout": .string, "start-period": .string,
                                                          "start-interval": .string, "retries": .string])
        guard upper == "CMD" else { throw Failure("Unknown type \(goQuoted(upper)) in HEALTHCHECK (try CMD)") }
        let form = try command(commandText)
        switch form {
        case .exec(let words) where words.isEmpty: throw Failure("Missing command after HEALTHCHECK CMD")
        case .shell(let text) where text.isEmpty: throw Failure("Missing command after HEALTHCHECK CMD")
        default: break
        }
        func interval(_ name: String) throws -> Int64? {
            guard let text = flags.string(name), !text.isEmpty else { return nil }
            let nanoseconds = try GoDuration.parse(text)
            if nanoseconds == 0 { return nil }
            if nanoseconds < 1_000_000 { throw Failure("Interval \(goQuoted(name)) cannot be less than 1ms") }
            return nanoseconds
        }
        let intervalValue = try interval("interval")
        let timeout = try interval("timeout")
        let startPeriod = try interval("start-period")
        let startInterval = try interval("start-interval")
        var retries: Int?
        if let text = flags.string("retries"), !text.isEmpty {
            guard let value = Int32(text) else {
                throw Failure("strconv.ParseInt: parsing \(goQuoted(text)): \(Int(text) == nil ? "invalid syntax" : "value out of range")")
            }
            if value < 0 { throw Failure("--retries cannot be negative (\(value))") }
            retries = Int(value)
        }
        return .check(command: form, interval: intervalValue, timeout: timeout, startPeriod: startPeriod,
                      startInterval: startInterval, retries: retries)
    }

    private static func onbuild(_ split: SplitCommand, original: String, location: SourceLocation,
                                heredocs: [Heredoc], escape: Character) throws -> String {
        guard !split.rest.isEmpty else { throw Failure("ONBUILD requires at least one argument") }
        _ = try FlagSet(split.flags, accepting: [:])
        let trigger = SplitCommand(split.rest)
        let triggerKeyword = trigger.keyword.uppercased()
        switch triggerKeyword {
        case "ONBUILD": throw Failure("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        case "MAINTAINER", "FROM": throw Failure("\(triggerKeyword) isn't allowed as an ONBUILD trigger")
        default: break
        }
        var ignored: [DockerfileWarning] = []
        do {
            _ = try parse(trigger, keyword: triggerKeyword, original: split.rest, location: location,
                          heredocs: heredocs, escape: escape, warnings: &ignored)
        } catch let error as DockerfileError {
            throw Failure(error.instruction.map { "\($0): \(error.message)" } ?? error.message)
        }
        // The trigger as written after `ONBUILD`, with heredoc bodies appended so it can be re-parsed.
        var text = String(trimLeadingWhitespace(original).unicodeScalars.dropFirst("ONBUILD".count))
        text = trimLeadingWhitespace(text)
        for heredoc in heredocs { text += "\n" + heredoc.content + heredoc.name }
        return text
    }

    private static func copy(_ split: SplitCommand, keyword: String, heredocs: [Heredoc]) throws -> InstructionKind {
        let args = try list(split.rest)
        guard args.count >= 2 else {
            throw Failure("\(keyword) requires at least two arguments, but only one was provided. Destination could not be determined")
        }
        var accepted: [String: FlagSet.Kind] = ["chown": .string, "chmod": .string, "link": .bool, "exclude": .strings]
        if keyword == "COPY" {
            accepted["from"] = .string
            accepted["parents"] = .bool
        } else {
            accepted["checksum"] = .string
            accepted["keep-git-dir"] = .bool
            accepted["unpack"] = .bool
        }
        let flags = try FlagSet(split.flags, accepting: accepted)
        let destination = args[args.count - 1]
        if HeredocWord(destination) != nil { throw Failure("\(keyword) cannot accept a heredoc as a destination") }
        let sources = args.dropLast().map { source in
            HeredocWord(source).map { "<<" + $0.name } ?? source
        }
        let result = CopyInstruction(
            sources: sources, destination: destination, heredocs: heredocs, from: flags.string("from"),
            chown: flags.string("chown"), chmod: flags.string("chmod"), link: flags.bool("link") ?? false,
            parents: flags.bool("parents") ?? false, excludes: flags.strings("exclude"),
            checksum: flags.string("checksum"), keepGitDir: flags.bool("keep-git-dir") ?? false,
            unpack: flags.bool("unpack"))
        return keyword == "COPY" ? .copy(result) : .add(result)
    }
}

// The parsed form of a Dockerfile. Words are kept as written (quotes and `$` intact): the
// builder expands them with `ShellWordExpander` when it reaches the instruction, because
// BuildKit expands each instruction with the values in force just before it.

/// Where an instruction came from, for error messages (`Dockerfile:7`).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// First line of the instruction, 1-based.
    public var line: Int
    /// Last line (continuations and heredoc bodies included).
    public var endLine: Int

    public init(file: String, line: Int, endLine: Int? = nil) {
        self.file = file
        self.line = line
        self.endLine = endLine ?? line
    }

    public var description: String { "\(file):\(line)" }
}

/// An error that names the file, the line and the instruction.
public struct DockerfileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// Upper-case instruction keyword, or nil for errors outside an instruction (directives).
    public var instruction: String?
    public var message: String

    public init(_ location: SourceLocation, _ instruction: String?, _ message: String) {
        self.location = location
        self.instruction = instruction
        self.message = message
    }

    /// `Dockerfile:3: COPY: requires at least two arguments`
    public var description: String {
        if let instruction { return "\(location): \(instruction): \(message)" }
        return "\(location): \(message)"
    }
}

/// A non-fatal finding (BuildKit's lint checks, deprecated forms, empty continuation lines).
public struct DockerfileWarning: Hashable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    /// BuildKit's check name where one exists (`JSONArgsRecommended`, `MaintainerDeprecated`, …).
    public var rule: String
    public var message: String

    public init(_ location: SourceLocation, rule: String, _ message: String) {
        self.location = location
        self.rule = rule
        self.message = message
    }

    public var description: String { "\(location): \(rule): \(message)" }
}

/// Parser directives from the top of the file.
public struct Directives: Hashable, Sendable {
    /// `\` (default) or `` ` ``.
    public var escape: Character = "\\"
    /// `# syntax=` value; recorded, not acted on (the frontend is built in).
    public var syntax: String?
    /// `# check=` value, e.g. `skip=JSONArgsRecommended;error=true`.
    public var check: String?

    public init() {}
}

/// A parsed Dockerfile: directives, the ARGs before the first FROM, and the stages.
public struct Dockerfile: Hashable, Sendable {
    public var fileName: String
    public var directives: Directives
    /// ARG instructions before the first FROM (usable in FROM lines, and in stages that redeclare them).
    public var globalArgs: [Instruction]
    public var stages: [Stage]
    public var warnings: [DockerfileWarning]

    public init(fileName: String, directives: Directives, globalArgs: [Instruction], stages: [Stage], warnings: [DockerfileWarning]) {
        self.fileName = fileName
        self.directives = directives
        self.globalArgs = globalArgs
        self.stages = stages
        self.warnings = warnings
    }
}

/// One build stage: `FROM [--platform=P] image [AS name]` and the instructions under it.
public struct Stage: Hashable, Sendable {
    /// Position among the stages, 0-based (what `COPY --from=0` names).
    public var index: Int
    /// The `AS` name, lower-cased; nil when unnamed.
    public var name: String?
    /// The base image as written (may contain `$VAR` from global ARGs), or `scratch`.
    public var baseName: String
    /// `--platform` value as written, if given.
    public var platform: String?
    public var location: SourceLocation
    /// The FROM line's text, as written.
    public var original: String
    public var instructions: [Instruction]

    public init(index: Int, name: String?, baseName: String, platform: String?, location: SourceLocation,
                original: String, instructions: [Instruction]) {
        self.index = index
        self.name = name
        self.baseName = baseName
        self.platform = platform
        self.location = location
        self.original = original
        self.instructions = instructions
    }
}

/// One instruction with its location and the text it was written as.
public struct Instruction: Hashable, Sendable {
    public var location: SourceLocation
    /// Upper-case keyword (`RUN`, `COPY`, …).
    public var keyword: String
    /// The instruction as written, continuations joined (escape + newline removed) and comment
    /// lines inside dropped, heredoc bodies excluded; used for history `created_by`.
    public var original: String
    public var kind: InstructionKind

    public init(location: SourceLocation, keyword: String, original: String, kind: InstructionKind) {
        self.location = location
        self.keyword = keyword
        self.original = original
        self.kind = kind
    }
}

/// `--name=value` (or bare `--name`, value nil) as written, unexpanded.
public struct Flag: Hashable, Sendable {
    public var name: String
    public var value: String?
    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// Exec form (JSON array) or shell form (the rest of the line, unexpanded).
public enum CommandForm: Hashable, Sendable {
    case exec([String])
    case shell(String)
}

/// A here-document attached to RUN, COPY or ADD.
public struct Heredoc: Hashable, Sendable {
    /// The delimiter word, without quotes (`EOF`).
    public var name: String
    /// The body, ending in a newline per line; leading tabs already stripped for `<<-`.
    public var content: String
    /// False when the delimiter was quoted: no variable expansion in the body.
    public var expand: Bool
    /// File descriptor prefix (`3<<EOF`), if any.
    public var fileDescriptor: Int?

    public init(name: String, content: String, expand: Bool, fileDescriptor: Int? = nil) {
        self.name = name
        self.content = content
        self.expand = expand
        self.fileDescriptor = fileDescriptor
    }
}

/// A `key=value` pair from ENV or LABEL, both words unexpanded (quotes intact).
public struct KeyValue: Hashable, Sendable {
    public var key: String
    public var value: String
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One name in an ARG instruction, with its default as written.
public struct ArgDeclaration: Hashable, Sendable {
    public var name: String
    /// Unexpanded default (quotes intact), nil when the ARG has none.
    public var defaultValue: String?
    public init(name: String, defaultValue: String?) {
        self.name = name
        self.defaultValue = defaultValue
    }
}

public struct RunInstruction: Hashable, Sendable {
    /// `--mount`, `--network`, `--security`, `--device` flags, in order.
    public var flags: [Flag]
    public var command: CommandForm
    /// Heredocs named in the command (`RUN <<EOF` … `EOF`).
    public var heredocs: [Heredoc]
    public init(flags: [Flag], command: CommandForm, heredocs: [Heredoc]) {
        self.flags = flags
        self.command = command
        self.heredocs = heredocs
    }
}

/// COPY and ADD share a shape.
public struct CopyInstruction: Hashable, Sendable {
    /// Sources as written; a heredoc source appears as `<<NAME` and its body is in `heredocs`.
    public var sources: [String]
    public var destination: String
    public var heredocs: [Heredoc]
    public var from: String?
    public var chown: String?
    public var chmod: String?
    public var link: Bool
    public var parents: Bool
    public var excludes: [String]
    /// ADD only.
    public var checksum: String?
    /// ADD only: `--keep-git-dir`.
    public var keepGitDir: Bool
    /// ADD only: `--unpack=true|false`; nil = default (extract local archives, not URLs).
    public var unpack: Bool?

    public init(sources: [String], destination: String, heredocs: [Heredoc] = [], from: String? = nil,
                chown: String? = nil, chmod: String? = nil, link: Bool = false, parents: Bool = false,
                excludes: [String] = [], checksum: String? = nil, keepGitDir: Bool = false, unpack: Bool? = nil) {
        self.sources = sources
        self.destination = destination
        self.heredocs = heredocs
        self.from = from
        self.chown = chown
        self.chmod = chmod
        self.link = link
        self.parents = parents
        self.excludes = excludes
        self.checksum = checksum
        self.keepGitDir = keepGitDir
        self.unpack = unpack
    }
}

public enum HealthcheckInstruction: Hashable, Sendable {
    /// `HEALTHCHECK NONE`: disable any inherited check.
    case none
    /// `HEALTHCHECK [--interval=…] [--timeout=…] [--start-period=…] [--start-interval=…] [--retries=…] CMD …`.
    /// Durations are already parsed (nanoseconds); nil means not given.
    case check(command: CommandForm, interval: Int64?, timeout: Int64?, startPeriod: Int64?,
               startInterval: Int64?, retries: Int?)
}

public enum InstructionKind: Hashable, Sendable {
    case run(RunInstruction)
    case cmd(CommandForm)
    case entrypoint(CommandForm)
    /// JSON array only.
    case shell([String])
    /// Pairs in order; legacy `ENV k v` gives one pair whose value is the rest of the line.
    case env([KeyValue])
    case label([KeyValue])
    case arg([ArgDeclaration])
    /// Words as written (`80/tcp`, `$PORT`).
    case expose([String])
    /// Paths as written (JSON or space-separated form).
    case volume([String])
    case user(String)
    case workdir(String)
    case stopSignal(String)
    case healthcheck(HealthcheckInstruction)
    /// The trigger instruction's text as written (`RUN echo hi`); already validated to parse and
    /// to be neither ONBUILD, FROM nor MAINTAINER.
    case onbuild(String)
    case maintainer(String)
    case copy(CopyInstruction)
    case add(CopyInstruction)
}

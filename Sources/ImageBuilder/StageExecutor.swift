import BuildContext
import DockerfileSyntax
import Foundation
import GoQuoting
import ImageModel
import Layers
import Sandbox

/// Applies a stage's instructions one by one to its `StageState`, as BuildKit's dispatcher does.
struct StageExecutor {
    let session: BuildSession
    let escape: Character
    var state: StageState
    var stepNumber: Int
    let totalSteps: Int
    /// The step cache key of the instruction being executed (see `StageExecutor+Cache`).
    var stepKey = StepCacheKey(parent: "")
    /// Whether that instruction was taken from the step cache.
    var stepUsedCache = false
    /// The stage's index in the Dockerfile (for `BuildResult.cacheSteps`).
    var stageIndex = 0
    /// Whether this stage's steps all execute (`--no-cache`, or `--no-cache-filter` naming it).
    var cacheDisabled = false
    /// `build --push` of the image this stage makes: its new layers are uploaded as written.
    var layerPush: LayerPush?
    /// Whether those layers are also written to files (see `LayerPush.keepInStore`).
    var keepsLayerFiles = true
    /// The instruction after the one executing (a RUN may start it early, see `EarlyCopy`).
    var nextInstruction: Instruction?

    /// Runs one instruction; `instruction` is as parsed, expanded here with the values in force.
    mutating func execute(_ instruction: Instruction) async throws {
        stepNumber += 1
        session.emit(.step(stage: state.name, number: stepNumber, total: totalSteps, text: instruction.original))
        let expanded: Instruction
        do {
            // A closure, not `state.lookup`: that method reference would hold a copy of the
            // whole state for the step, so the step's first change to its file-system view
            // copied every entry (a 30k-file COPY's, issue 13).
            let (config, args) = (state.config, state.args)
            let result = try instruction.expanded(escape: escape) { name in
                StageState.lookup(name, config: config, args: args)
            }
            expanded = result.instruction
            session.markUsed(result.usedNames)
        } catch {
            throw BuildError.wrap(error, at: instruction.location, instruction: instruction.keyword)
        }
        defer { session.releaseCacheMountLocks() }
        do {
            if Self.readsLowerFileSystem(expanded, runMode: session.options.runMode) {
                try await session.loadBaseView(&state)
            }
            stepKey = baseStepKey(instruction, expanded: expanded)
            stepUsedCache = false
            let historyBefore = state.config.history.count, layersBefore = state.layers.count
            try await apply(expanded)
            finishStep(historyBefore: historyBefore, layersBefore: layersBefore)
        } catch {
            await session.dropEarlyCopy()
            throw BuildError.wrap(error, at: instruction.location, instruction: instruction.keyword)
        }
        // Only a RUN's early start of the next instruction lives on past its step.
        await session.dropEarlyCopy(unlessFor: nextInstruction)
    }

    /// Steps that look at or add to the file system: they need the base layers' view first
    /// (and every added layer must go on top of it). RUN loads it only when it executes
    /// (`runStep`): a RUN taken from the cache reads no layer, so a build whose RUNs all hit
    /// downloads none of a lazily pulled base's or an imported cache's layers.
    static func readsLowerFileSystem(_ instruction: Instruction, runMode: BuildOptions.RunMode) -> Bool {
        switch instruction.kind {
        case .copy, .add, .workdir: return true
        default: return false
        }
    }

    private mutating func apply(_ instruction: Instruction) async throws {
        var c = state.config.config
        switch instruction.kind {
        case .env(let pairs):
            for pair in pairs { c.setEnvironment(pair.key, pair.value) }
            state.config.config = c
            record("ENV " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        case .label(let pairs):
            var labels = c.labels ?? [:]
            for pair in pairs { labels[pair.key] = pair.value }
            c.labels = labels
            state.config.config = c
            record("LABEL " + pairs.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        case .arg(let declarations):
            for d in declarations {
                let value = session.stageArgValue(name: d.name, default: d.defaultValue)
                state.args[d.name] = .some(value)
                if !state.declaredArgs.contains(d.name) { state.declaredArgs.append(d.name) }
            }
            record("ARG " + declarations.map { d in state.args[d.name].flatMap { $0 }.map { "\(d.name)=\($0)" } ?? d.name }
                .joined(separator: " "))
        case .expose(let words):
            var ports = c.exposedPorts ?? [:]
            for port in try words.flatMap(Self.parsePorts) { ports[port] = EmptyObject() }
            c.exposedPorts = ports
            state.config.config = c
            record("EXPOSE " + words.joined(separator: " "))
        case .volume(let paths):
            var volumes = c.volumes ?? [:]
            for path in paths {
                guard !path.isEmpty else { throw BuildError("VOLUME specified can not be an empty string") }
                volumes[path] = EmptyObject()
            }
            c.volumes = volumes
            state.config.config = c
            record("VOLUME " + goQuotedList(paths).replacingOccurrences(of: "\"", with: ""))
        case .user(let user):
            try NumericID.validate(userSpec: user)  // fail here, not at the next RUN
            c.user = user
            state.config.config = c
            record("USER " + user)
        case .stopSignal(let signal):
            guard Self.isValidSignal(signal) else { throw BuildError("invalid signal: \(signal)") }
            c.stopSignal = signal
            state.config.config = c
            record("STOPSIGNAL " + signal)
        case .healthcheck(let check):
            switch check {
            case .none:
                c.healthcheck = Healthcheck(test: ["NONE"])
            case .check(let command, let interval, let timeout, let startPeriod, let startInterval, let retries):
                let test: [String]
                switch command {
                case .exec(let args): test = ["CMD"] + args
                case .shell(let line): test = ["CMD-SHELL", line]
                }
                c.healthcheck = Healthcheck(test: test, interval: interval, timeout: timeout, startPeriod: startPeriod,
                                            startInterval: startInterval, retries: retries)
            }
            state.config.config = c
            record(instruction.original)
        case .shell(let shell):
            state.shell = shell
            c.shell = shell
            state.config.config = c
            record("SHELL " + goQuotedList(shell).replacingOccurrences(of: "\"", with: ""))
        case .cmd(let form):
            c.cmd = command(form)
            state.cmdSet = true
            state.config.config = c
            record("CMD " + goQuotedList(c.cmd ?? []))
        case .entrypoint(let form):
            c.entrypoint = command(form)
            if !state.cmdSet { c.cmd = nil }
            state.config.config = c
            record("ENTRYPOINT " + goQuotedList(c.entrypoint ?? []))
        case .onbuild(let trigger):
            c.onBuild = (c.onBuild ?? []) + [trigger]
            state.config.config = c
            record("ONBUILD " + trigger)
        case .maintainer(let name):
            state.config.author = name
            record("MAINTAINER " + name)
        case .workdir(let path):
            try await workdir(path)
        case .run(let run):
            try await runStep(run, instruction: instruction)
        case .copy(let copy):
            try await copyStep(copy, isAdd: false, instruction: instruction)
        case .add(let copy):
            try await copyStep(copy, isAdd: true, instruction: instruction)
        }
    }

    // MARK: steps with layers

    private mutating func runStep(_ run: RunInstruction, instruction: Instruction) async throws {
        let plan = RunCommand.plan(run, shell: state.shell)
        let shown: [String]
        switch run.command {
        case .exec(let args): shown = args
        case .shell(let line): shown = state.shell + [line]
        }
        // BuildKit prefixes the stage's ARGs (ENV winning) so the history says what the step saw.
        let args = state.declaredArgs.map { name in
            "\(name)=\(state.config.config.environmentValue(name) ?? state.args[name].flatMap { $0 } ?? "")"
        }
        let createdBy = "RUN " + ((args.isEmpty ? [] : ["|\(args.count)"] + args) + shown).joined(separator: " ") + " # buildkit"
        switch session.options.runMode {
        case .exec:
            if let record = try await cachedRunRecord(run) {
                try await reuse(record)
                return
            }
            try await session.loadBaseView(&state)
            startEarlyCopy(after: instruction)
            try await executeRun(run, plan: plan, instruction: instruction, createdBy: createdBy)
        case .record:
            session.emit(.warning("\(instruction.location): RUN not executed (--run=record): \(instruction.original)"))
            state.config.history.append(History(created: session.created, createdBy: createdBy,
                                                 comment: "swiftdock: recorded, not executed (--run=record)", emptyLayer: true))
        }
    }

    private mutating func workdir(_ path: String) async throws {
        var target = path
        if !target.hasPrefix("/") { target = state.workdir + "/" + target }
        let clean = "/" + cleanLayerPath(target)
        state.config.config.workingDir = clean
        // BuildKit follows symlinks on the way inside the image's root and creates the
        // directory they lead to (and missing parents), owned by the current USER; the config
        // keeps the path as written.
        guard let layerPath = state.view.resolve(cleanLayerPath(clean)) else {
            throw BuildError("\(clean): too many levels of symbolic links")
        }
        if layerPath.isEmpty || state.view.isDirectory(layerPath) {
            record("WORKDIR " + clean)
            return
        }
        var owner = Owner(uid: 0, gid: 0)
        if let user = state.config.config.user, !user.isEmpty {
            let db = try await session.userDatabase(for: &state)
            // A name the image does not know leaves the directory root's, as before USER took effect.
            if let resolved = try db.processUserIfKnown(user) { owner = Owner(uid: Int(resolved.uid), gid: Int(resolved.gid)) }
        }
        var items: [LayerItem] = []
        for dir in ancestors(of: layerPath) + [layerPath] {
            if let existing = state.view.entry(dir) {
                guard existing.kind == .directory else { throw BuildError("mkdir \(clean): /\(dir) is not a directory") }
                continue
            }
            items.append(.entry(LayerEntry(path: dir, kind: .directory, mode: 0o755, uid: owner.uid, gid: owner.gid,
                                           mtimeSeconds: session.nowSeconds)))
        }
        try await addLayerOrReuse(items, createdBy: "WORKDIR " + clean)
    }

    private mutating func copyStep(_ copy: CopyInstruction, isAdd: Bool, instruction: Instruction) async throws {
        let source: CopyPlanner.Source
        if let from = copy.from {
            source = try await session.copySource(from: from)
        } else {
            source = CopyPlanner.Source(directory: try session.context(), owners: nil)
        }
        var owner: Owner? = nil
        if let chown = copy.chown, !chown.isEmpty {
            let needsLookup = chown.split(separator: ":").contains { Int($0) == nil }
            let db = needsLookup ? try await session.userDatabase(for: &state) : UserDatabase(passwd: nil, group: nil)
            let resolved = try db.resolveOwner(chown)
            owner = Owner(uid: resolved.uid, gid: resolved.gid)
        }
        let chmod = try copy.chmod.map { try FileModeChange(parsing: $0) }
        var planner = CopyPlanner(instruction: copy, isAdd: isAdd, source: source, workdir: state.workdir,
                                  view: state.view, owner: owner, chmod: chmod, now: session.nowSeconds)
        if isAdd {
            for src in copy.sources where src.hasPrefix("http://") || src.hasPrefix("https://") {
                planner.downloads[src] = try await session.download(src, checksum: copy.checksum)
            }
        } else if copy.checksum != nil {
            throw BuildError("--checksum is only supported by ADD with an http(s) source")
        }
        let keyword = isAdd ? "ADD" : "COPY"
        let createdBy = ([keyword] + (copy.from.map { ["--from=\($0)"] } ?? []) + copy.sources + [copy.destination])
            .joined(separator: " ") + " # buildkit"
        if !isAdd, session.lookupCertainToMiss(prefix: stepKey) {
            if try await adoptEarlyCopy(for: instruction, planner: &planner, createdBy: createdBy) { return }
            return try await addStreamedCopy(&planner, createdBy: createdBy)
        }
        let items = try planner.plan()
        // Dropped now, so applying the step to `state.view` (a hit) does not copy its entries.
        planner.view = FilesystemView()
        try await addLayerOrReuse(items, createdBy: createdBy, stamps: planner.plannedStamps)
    }

    /// Queues the layer's write (it runs beside the next steps, see `LayerWriteQueue`) and records it.
    /// With `recording`, the writer hashes the source files as it copies them (`FoldedContent`).
    /// `viewHasItems`: `ViewApplication` applied them to the view already.
    mutating func addLayer(_ items: [LayerItem], createdBy: String, recording: SourceFileDigests? = nil,
                           viewHasItems: Bool = false) throws {
        guard !items.isEmpty else {
            record(createdBy)
            return
        }
        let (task, path) = try queueLayerWrite(LayerItemStream(items), recording: recording)
        addQueuedLayer(items, task: task, path: path, createdBy: createdBy, viewHasItems: viewHasItems)
    }

    /// Queues the write of a layer whose items are (or will be) in `items`, to a new temp file
    /// and, for `build --push`, to the registry.
    func queueLayerWrite(_ items: LayerItemStream, recording: SourceFileDigests?) throws -> (PendingLayerWrite, path: String) {
        let path = try session.temporaryFile()
        let writer = session.layerWriter
        if let push = layerPush {
            let keepFile = keepsLayerFiles
            return (try session.submitLayerWrite(uploads: true) {
                try await push.write(items, with: writer, file: path, keepFile: keepFile, recording: recording)
            }, path)
        }
        return (try session.submitLayerWrite {
            try await writer.write(items, to: try FileBlobSink(path: path), recording: recording)
        }, path)
    }

    /// Records a queued layer write as the step's layer (`viewHasItems`: as in `addLayer`).
    mutating func addQueuedLayer(_ items: [LayerItem], task: PendingLayerWrite, path: String, createdBy: String,
                                 viewHasItems: Bool = false) {
        state.layers.append(.pending(task, path: path))
        if !viewHasItems { state.view.apply(items, layer: state.layers.count - 1) }
        state.config.history.append(History(created: session.created, createdBy: createdBy,
                                             comment: "buildkit.dockerfile.v0"))
    }

    private mutating func record(_ createdBy: String) {
        state.config.history.append(History(created: session.created, createdBy: createdBy,
                                             comment: "buildkit.dockerfile.v0", emptyLayer: true))
    }

    private func command(_ form: CommandForm) -> [String] {
        switch form {
        case .exec(let args): return args
        case .shell(let line): return state.shell + [line]
        }
    }

    /// Whether a step of `stage` may read one of the stage's own new layers back from disk:
    /// a RUN (its lower dirs; a COPY's layer is unpacked when its files cannot be
    /// materialised), or a step that reads `/etc/passwd` (`WORKDIR` under a USER, `--chown`
    /// by name), or ONBUILD triggers of the base (not known yet). `--output type=registry`
    /// writes the stage's layers to disk only then.
    static func stageReadsItsLayers(_ stage: Stage) -> Bool {
        stage.instructions.contains { instruction in
            switch instruction.kind {
            case .run, .workdir, .onbuild: return true
            case .copy(let copy), .add(let copy): return copy.chown != nil
            default: return false
            }
        }
    }

    // MARK: validation

    /// `80`, `80/udp`, `8000-8002/tcp` → docker's `port/proto` keys.
    static func parsePorts(_ word: String) throws -> [String] {
        let parts = word.split(separator: "/", maxSplits: 1).map(String.init)
        guard let spec = parts.first, !spec.isEmpty else { throw BuildError("invalid containerPort: \(word)") }
        let proto = parts.count == 2 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto) else { throw BuildError("invalid proto: \(proto)") }
        let bounds = spec.split(separator: "-", maxSplits: 1).map { UInt16($0) }
        guard let low = bounds.first ?? nil, bounds.allSatisfy({ $0 != nil }) else { throw BuildError("invalid containerPort: \(word)") }
        let high = bounds.count == 2 ? bounds[1]! : low
        guard high >= low else { throw BuildError("invalid range specified for containerPort: \(word)") }
        return (low...high).map { "\($0)/\(proto)" }
    }

    static func isValidSignal(_ signal: String) -> Bool {
        if let n = Int(signal) { return n > 0 && n < 65 }
        let names: Set<String> = ["ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
                                  "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
                                  "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ"]
        var name = signal.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if name.hasPrefix("RTMIN") || name.hasPrefix("RTMAX") { return true }
        return names.contains(name)
    }
}

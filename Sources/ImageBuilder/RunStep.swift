import BuildContext
import DockerfileSyntax
import Foundation
import ImageModel
import Layers
import PathEncoding
import Sandbox

/// Executing RUN: the stage's layers as overlay lower dirs (or copied, see `RunRoot`), the
/// command in the sandbox, its changes turned into the step's layer (and kept as a lower dir
/// for later RUNs).
extension StageExecutor {
    mutating func executeRun(_ run: RunInstruction, plan: RunCommand.Plan, instruction: Instruction, createdBy: String) async throws {
        let support = Sandbox.support()
        guard support.available else {
            throw BuildError(support.reason ?? "RUN cannot be executed here; build with --run=record to record it without running it")
        }
        var network = session.defaultNetwork()
        var mounts: [SandboxMount] = []
        var credentials = CredentialMounts()
        for flag in run.flags {
            switch flag.name {
            case "network":
                switch flag.value ?? "default" {
                case "none": network = .none
                case "host": network = .host
                case "default": network = session.defaultNetwork()
                default: throw BuildError("unsupported --network=\(flag.value ?? "")")
                }
            case "mount":
                let mount = try RunMount.parse(flag.value ?? "")
                if mount.kind == .secret || mount.kind == .ssh {
                    try credentials.add(mount, session: session)
                } else {
                    mounts.append(try await session.sandboxMount(mount, isolation: support.isolation))
                }
            case "security":
                if flag.value != "sandbox" { throw BuildError("--security=\(flag.value ?? "") is not supported") }
            default:
                throw BuildError("--\(flag.name) is not supported")
            }
        }
        if let fallback = support.fallback, !session.notedCopyIsolation {
            session.notedCopyIsolation = true
            session.emit(.note("\(fallback): RUN steps copy the root file system and compare it afterwards"))
        }
        let lowers = try await session.lowerDirectories(for: &state)
        await startEarlyCopyWrite()
        // Secrets in the environment and SSH_AUTH_SOCK are for this RUN's process only: neither
        // the image's Env nor the history (created_by) ever holds them, as in BuildKit.
        let request = ProcessModel.Request(
            image: state.config.config, command: .explicit(plan.argv), defaultEnvironment: buildArgEnvironment(),
            environment: credentials.environment, workingDirectory: state.workdir)
        let process = try ProcessModel(request, users: try await session.userDatabase(for: &state))
        mounts += credentials.mounts
        if let script = plan.script {
            let path = try session.temporaryFile()
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
            mounts.append(SandboxMount(source: path, target: RunCommand.scriptPath, readOnly: true))
        }
        let printer = LinePrinter(prefix: "#\(stepNumber) ", emit: session.emit)
        let stubs = MountStubs(targets: mounts.map(\.target), lowers: lowers)
        let root = try RunRoot.prepare(support.isolation, lowers: lowers, mounts: mounts, session: session)
        defer { root.discard(session: session) }
        let spec = SandboxSpec(
            root: root.sandboxRoot, process: process, network: network, mounts: mounts, hostname: "swiftdock",
            stdio: .capture { isError, bytes in printer.feed(bytes, isError: isError) })
        let status: Int32
        do {
            status = try await Sandbox.run(spec)
        } catch let error as SandboxError where error.status == 126 || error.status == 127 {
            // The command was not found (127) or not executable (126): BuildKit's wording, with the cause.
            printer.flush()
            throw BuildError("process \"\(plan.argv.joined(separator: " "))\" did not complete successfully: exit code: \(error.status ?? 127): \(error.message)")
        }
        printer.flush()
        guard status == 0 else {
            throw BuildError("process \"\(plan.argv.joined(separator: " "))\" did not complete successfully: exit code: \(status)")
        }
        // The sandbox keeps its own mount points out of the changes; RUN --mount targets are
        // never part of the layer either, nor the directories made only to hold them.
        var excluded = Set(mounts.map { PathKey(cleanLayerPath($0.target)) })  // by bytes (PathKey)
        if case .overlay(_, let upper, _) = root { excluded.formUnion(stubs.emptyDirectories(in: upper, excluding: excluded)) }
        let (items, directory) = try root.layer(excluding: excluded, session: session)
        guard !items.isEmpty, let directory else {
            state.config.history.append(History(created: session.created, createdBy: createdBy,
                                                 comment: "buildkit.dockerfile.v0", emptyLayer: true))
            return
        }
        try addLayer(items, createdBy: createdBy)
        state.layerDirectories[state.layers.count - 1] = directory
    }

    /// What a RUN's environment gains where the image's Env does not set the name: the
    /// stage's ARGs, then proxy build args, which BuildKit passes to RUN without declaration.
    private func buildArgEnvironment() -> [String] {
        var env: [String] = []
        for (name, value) in state.args.sorted(by: { $0.key < $1.key }) {
            guard let value else { continue }
            env.append("\(name)=\(value)")
        }
        for (name, value) in session.options.buildArgs.sorted(by: { $0.key < $1.key })
        where Dockerfile.proxyArgNames.contains(name) {
            env.append("\(name)=\(value)")
        }
        return env
    }
}

/// Splits a RUN's output into lines, prefixed with the step, as BuildKit's plain progress does.
/// `@unchecked Sendable` is safe: the sandbox's stdout and stderr readers feed it from two
/// threads, and `pending` and each call of `emit` are reached only while `lock` is held.
final class LinePrinter: @unchecked Sendable {
    private let prefix: String
    private let emit: (BuildEvent) -> Void
    private var pending: [Bool: [UInt8]] = [:]
    private let lock = NSLock()

    init(prefix: String, emit: @escaping (BuildEvent) -> Void) {
        self.prefix = prefix
        self.emit = emit
    }

    func feed(_ bytes: [UInt8], isError: Bool) {
        lock.lock()
        defer { lock.unlock() }
        var buffer = pending[isError, default: []] + bytes
        while let newline = buffer.firstIndex(of: 10) {
            emit(.output(prefix + String(decoding: buffer[..<newline], as: UTF8.self)))
            buffer.removeSubrange(...newline)
        }
        pending[isError] = buffer
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        for (_, rest) in pending where !rest.isEmpty { emit(.output(prefix + String(decoding: rest, as: UTF8.self))) }
        pending = [:]
    }
}

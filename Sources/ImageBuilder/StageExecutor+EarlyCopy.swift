import DockerfileSyntax
import Foundation
import Layers
import PathEncoding
import Sandbox

/// A COPY planned and written beside the RUN before it (`EarlyCopy`, issue 13): when one
/// starts, how the COPY's step adopts it, and how an unadopted one is dropped.
extension StageExecutor {
    /// Called by a RUN that is about to execute: when the stage's next instruction is a COPY
    /// from the build context whose step will stream (its lookup certain to miss), its plan
    /// and layer write start now, beside the RUN. Nothing starts for `build --push`'s stage
    /// (a dropped early plan would have sent layer bytes for nothing), for `--chown` by name
    /// (the RUN may change `/etc/passwd`), nor when the RUN names the top directory the COPY
    /// writes below (`runMayShape`). Any failure here only means no early start: the step
    /// meets it again at its own line.
    mutating func startEarlyCopy(after run: Instruction) {
        guard let next = nextInstruction, case .copy = next.kind, layerPush == nil, session.earlyCopy == nil else { return }
        // A RUN changes neither the config nor the ARGs, so the COPY expands now as it will then.
        let (config, args) = (state.config, state.args)
        guard let expanded = try? next.expanded(escape: escape, lookup: { StageState.lookup($0, config: config, args: args) }).instruction,
              case .copy(let copy) = expanded.kind, copy.from == nil, copy.checksum == nil,
              !Self.runMayShape(run.original, destination: copy.destination, workdir: state.workdir) else { return }
        var owner: Owner?
        if let chown = copy.chown, !chown.isEmpty {
            guard !chown.split(separator: ":").contains(where: { Int($0) == nil }),
                  let resolved = try? UserDatabase(passwd: nil, group: nil).resolveOwner(chown) else { return }
            owner = Owner(uid: resolved.uid, gid: resolved.gid)
        }
        let chmod: FileModeChange?
        do { chmod = try copy.chmod.map { try FileModeChange(parsing: $0) } } catch { return }
        guard session.lookupCertainToMiss(prefix: baseStepKey(next, expanded: expanded, parent: stepKey.reference)),
              let context = try? session.context() else { return }
        let planner = CopyPlanner(instruction: copy, isAdd: false, source: .init(directory: context, owners: nil),
                                  workdir: state.workdir, view: state.view, owner: owner, chmod: chmod, now: session.nowSeconds)
        session.earlyCopy = EarlyCopy(instruction: next, planner: planner)
    }

    /// Queues the early COPY's layer write (see `EarlyCopy.startWriting`); one that cannot
    /// be queued is dropped (the COPY's step then plans for itself).
    func startEarlyCopyWrite() async {
        guard let early = session.earlyCopy else { return }
        do {
            try early.startWriting { stream, recording in try queueLayerWrite(stream, recording: recording) }
        } catch {
            await session.dropEarlyCopy()
        }
    }

    /// The COPY step's streamed plan when an early one for `instruction` stands (see
    /// `EarlyCopy.planned(matching:)`): finished as `addStreamedCopy` finishes its own.
    /// False (any early work dropped) when the step must plan for itself.
    mutating func adoptEarlyCopy(for instruction: Instruction, planner: inout CopyPlanner, createdBy: String) async throws -> Bool {
        guard let early = session.earlyCopy, early.instruction == instruction else { return false }
        session.earlyCopy = nil
        guard case (let items, var earlyPlanner)? = await early.planned(matching: planner) else { return false }
        planner.view = FilesystemView()
        do {
            try early.startWriting { stream, recording in try queueLayerWrite(stream, recording: recording) }
        } catch {
            early.stream.fail(error)
            throw error
        }
        guard let (task, path) = early.written else { throw BuildError("internal error: an early COPY's layer was not queued") }
        try await finishStreamedCopy(items, planner: &earlyPlanner, stream: early.stream, recording: early.recording,
                                     task: task, path: path, createdBy: createdBy)
        return true
    }

    /// Whether `run` (as written) names the top directory of the COPY's destination, as
    /// `RUN mkdir -p /opt/app` or `RUN ln -s /data /opt` do for `COPY app /opt/app`: such a
    /// RUN likely changes what the plan reads from the view, and planning early would be work
    /// thrown away. Only a guard against waste: whether an early plan is adopted never
    /// depends on it (`ViewReads`).
    static func runMayShape(_ run: String, destination: String, workdir: String) -> Bool {
        let dest = destination.hasPrefix("/") ? destination : workdir + "/" + destination
        guard let top = PathBytes.components(cleanLayerPath(dest)).first else { return false }
        return run.contains("/" + top)
    }
}

extension BuildSession {
    /// Drops the early COPY, if any, unless it is the one for `next` (the instruction about
    /// to run); returns once its planning thread has ended.
    func dropEarlyCopy(unlessFor next: Instruction? = nil) async {
        guard let early = earlyCopy, early.instruction != next else { return }
        earlyCopy = nil
        await early.drop()
    }
}

import BlockingWork
import DockerfileSyntax
import Foundation
import Layers

/// A COPY from the build context planned, and its layer written, while the RUN just before it
/// runs (issue 13): a cold build's first RUN (the base's root file system, the sandbox, the
/// command) kept one core busy and the other idle, and only then did the COPY's walk start.
/// Now the walk, the `.dockerignore` filtering, reading, hashing and compressing the sources
/// run beside the RUN, on their own thread and in the layer write queue.
///
/// The plan is made against the stage's view from before the RUN and notes every answer it
/// took from it (`ViewReads`); the step adopts it only when the view after the RUN gives the
/// same answers and the step's own inputs are the early plan's (`planned(matching:)`): then
/// planning at the step would have made the same items in the same order, so the layer, its
/// digest and the step's key are those of the sequential build. Otherwise — or when the plan
/// failed — the early work is dropped (its stream failed, so the layer write throws and
/// leaves no layer; the walk stops at its next chunk) and the step plans as it always did,
/// meeting any error at its own line.
final class EarlyCopy: @unchecked Sendable {
    // @unchecked: `planner` and `outcome` belong to the planning thread until it has ended
    // (`planning`); after that only to the one step that waits for it.
    /// The COPY as parsed (its location tells the step it was made for).
    let instruction: Instruction
    let stream = LayerItemStream()
    let recording = SourceFileDigests()
    /// The layer's write and temp file (the build's, removed with its other temp files), once
    /// queued (`startWriting`).
    private(set) var written: (write: PendingLayerWrite, path: String)?
    private var planner: CopyPlanner
    private var outcome: Result<[LayerItem], any Error> = .failure(CancellationError())
    private var planning: DedicatedThread<Void, Never>?

    /// Starts planning `planner` (its view the stage's before the RUN) into `stream`, on a
    /// thread of its own (`DedicatedThread`; a plan walks the context, recursing once per
    /// directory level, hence the 8 MiB stack); the layer write starts with `startWriting`.
    init(instruction: Instruction, planner: CopyPlanner) {
        self.instruction = instruction
        self.planner = planner
        self.planner.viewReads = ViewReads()
        planning = DedicatedThread(stackSize: 8 << 20) { [self] in plan() }
    }

    /// Queues the layer's write (`queue` submits it), once. The RUN does this once its root
    /// file system is ready, not when the plan starts: unpacking a base ends with a flush of
    /// the file system (`ImageStore.rootfs`), which would otherwise also wait for every
    /// compressed byte this write had put into the page cache by then.
    func startWriting(_ queue: (LayerItemStream, SourceFileDigests) throws -> (PendingLayerWrite, path: String)) rethrows {
        guard written == nil else { return }
        written = try queue(stream, recording)
    }

    private func plan() {
        do {
            outcome = .success(try planner.plan(streamingInto: stream))
        } catch {
            outcome = .failure(error)
            stream.fail(error)
        }
        // The plan's answers are noted; the view itself is not needed any more, and holding
        // it would make the RUN's change to the stage's view copy it.
        planner.view = FilesystemView()
    }

    private func planningEnded() async {
        await planning?.value
    }

    /// The early plan's items and planner, when `planner` — the step's own, over the view
    /// after the RUN — has the same inputs and its view answers what the early plan asked
    /// as it was answered then; nil otherwise (the early work is then dropped). The caller
    /// finishes or fails `stream` (`StageExecutor.finishStreamedCopy`).
    func planned(matching planner: CopyPlanner) async -> (items: [LayerItem], planner: CopyPlanner)? {
        guard planner.hasTheInputs(of: self.planner) else {
            await drop()
            return nil
        }
        await planningEnded()
        guard case .success(let items) = outcome, let reads = self.planner.viewReads, reads.hold(on: planner.view) else {
            await drop()
            return nil
        }
        return (items, self.planner)
    }

    /// Drops the early work: the layer write throws, the walk stops; returns once the
    /// planning thread has ended.
    func drop() async {
        stream.fail(BuildError("internal error: an early COPY was dropped"))
        await planningEnded()
    }
}

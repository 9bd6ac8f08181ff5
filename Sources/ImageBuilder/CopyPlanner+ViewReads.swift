import Foundation

/// What a COPY's plan read from the stage's file-system view: every question it asked
/// (`resolve`, `isDirectory`, `exists`) with the answer it got.
///
/// Why: a COPY right after a RUN is planned while that RUN still runs (`EarlyCopy`, issue 13),
/// against the view from before it. Everything else the plan uses — the context walk, the
/// instruction, `--chown`/`--chmod`, the build's time — the RUN cannot change; the view it can
/// (`RUN mkdir -m 700 /opt`, `RUN ln -s /x /opt`). The plan is a function of those inputs and
/// of these answers, so when the view after the RUN gives every answer again, planning then
/// would make the same items in the same order: the early plan stands. When one answer
/// differs, the early plan is dropped and the step plans again as it always did.
final class ViewReads: @unchecked Sendable {
    // @unchecked: written by the one thread that plans, read after that thread has ended
    // (`EarlyCopy.planned()` waits for it under a lock).
    private var resolved: [(path: String, result: String?)] = []
    private var directories: [(path: String, answer: Bool)] = []
    private var existing: [(path: String, answer: Bool)] = []

    func noteResolve(_ path: String, _ result: String?) { resolved.append((path, result)) }
    func noteIsDirectory(_ path: String, _ answer: Bool) { directories.append((path, answer)) }
    func noteExists(_ path: String, _ answer: Bool) { existing.append((path, answer)) }

    /// Whether `view` answers every question noted as it was answered then.
    func hold(on view: FilesystemView) -> Bool {
        resolved.allSatisfy { view.resolve($0.path) == $0.result }
            && directories.allSatisfy { view.isDirectory($0.path) == $0.answer }
            && existing.allSatisfy { view.exists($0.path) == $0.answer }
    }

    /// How many questions were noted (tests).
    var count: Int { resolved.count + directories.count + existing.count }
}

extension CopyPlanner {
    /// `view.resolve`, noted in `viewReads` when the plan keeps them.
    func resolveInView(_ path: String) -> String? {
        let result = view.resolve(path)
        viewReads?.noteResolve(path, result)
        return result
    }

    /// `view.isDirectory`, noted in `viewReads` when the plan keeps them.
    func isDirectoryInView(_ path: String) -> Bool {
        let answer = view.isDirectory(path)
        viewReads?.noteIsDirectory(path, answer)
        return answer
    }

    /// `view.exists`, noted in `viewReads` when the plan keeps them.
    func existsInView(_ path: String) -> Bool {
        let answer = view.exists(path)
        viewReads?.noteExists(path, answer)
        return answer
    }

    /// Whether `other` plans from the same inputs apart from its view: the same instruction,
    /// source directory, working directory, owner, mode change and time (`EarlyCopy` checks
    /// an early plan's inputs against the step's own before its view's answers).
    func hasTheInputs(of other: CopyPlanner) -> Bool {
        instruction == other.instruction && isAdd == other.isAdd && source.directory.root == other.source.directory.root
            && source.directory.isImageRoot == other.source.directory.isImageRoot && source.owners == other.source.owners
            && workdir == other.workdir && owner == other.owner && chmod == other.chmod && now == other.now
            && downloads.isEmpty && other.downloads.isEmpty
    }
}

import Layers

/// A step's planned items applied to the stage's file-system view on another core while the
/// step's cache key is formed (the main thread hashes the same items then).
///
/// Why: a cached COPY of 30k files adds 30k entries to the view, and a no-change rebuild did
/// that after its key, one core idle (issue 13). Hit or miss, the view ends the same: a hit
/// applies the planned items when `StageExecutor.viewTakesPlannedItems` holds, which is when
/// this starts, and a miss's `addLayer` applies them at the same layer index.
final class ViewApplication: @unchecked Sendable {
    /// Owned by the task until it ends (so applying never copies the view's dictionary),
    /// then by `view()`; no two threads touch it at once.
    private var applied: FilesystemView
    private var task: Task<Void, Never>?

    private init(_ view: FilesystemView) {
        applied = view
    }

    /// Starts applying `items` as the stage's next layer, taking the view out of `state`
    /// until `view()` hands it back; nil (nothing started) unless a hit would apply them.
    static func start(_ items: [LayerItem], on state: inout StageState) -> ViewApplication? {
        guard StageExecutor.viewTakesPlannedItems(items, of: state) else { return nil }
        let application = ViewApplication(state.view)
        state.view = FilesystemView()
        let layer = state.layers.count
        application.task = Task.detached { application.applied.apply(items, layer: layer) }
        return application
    }

    /// The view with the items applied (the only reference to it, so the next change to it
    /// copies nothing).
    func view() async -> FilesystemView {
        await task?.value
        task = nil
        var view = FilesystemView()
        swap(&view, &applied)
        return view
    }
}

import Layers

extension StageExecutor {
    /// A COPY whose cache lookup is certain to miss: the layer's write (tar, compression, and
    /// for `build --push` the upload) is queued before the plan and takes its items as the
    /// context walk finds them (`CopyPlanner.plan(streamingInto:)`), so the first bytes go up
    /// while the rest of a large context is still listed (issue 12), and a cold build's
    /// compressor starts on the core the plan leaves idle (issue 13) — instead of after the
    /// whole walk and plan.
    /// The layer's bytes, its digest and the step's key are those of the unstreamed step: the
    /// same items in the same order, the key folded from the same read (`FoldedContent`).
    ///
    /// A plan that throws fails the stream, so the write throws before it ends its archive and
    /// leaves no layer (the temp file is removed, the upload abandoned), and the step throws
    /// the plan's error as it would have. A plan that came out otherwise than it streamed
    /// (checked), or that cannot be folded, drops the write and takes the usual way.
    mutating func addStreamedCopy(_ planner: inout CopyPlanner, createdBy: String) async throws {
        let stream = LayerItemStream()
        let recording = SourceFileDigests()
        let (task, path) = try queueLayerWrite(stream, recording: recording)
        let items: [LayerItem]
        do {
            items = try planner.plan(streamingInto: stream)
        } catch {
            stream.fail(error)
            throw error
        }
        try await finishStreamedCopy(items, planner: &planner, stream: stream, recording: recording, task: task, path: path,
                                     createdBy: createdBy)
    }

    /// The step's part once `planner` has made `items` into `stream`, whose write is `task`
    /// (here, or early beside the RUN before: `EarlyCopy`).
    mutating func finishStreamedCopy(_ items: [LayerItem], planner: inout CopyPlanner, stream: LayerItemStream,
                                     recording: SourceFileDigests, task: PendingLayerWrite, path: String,
                                     createdBy: String) async throws {
        planner.view = FilesystemView()
        guard planner.streamedInOrder, !items.isEmpty, FoldedContent.canFold(items) else {
            stream.fail(BuildError("internal error: a streamed COPY was planned again"))
            return try await addLayerOrReuse(items, createdBy: createdBy, stamps: planner.plannedStamps)
        }
        stream.finish()
        addQueuedLayer(items, task: task, path: path, createdBy: createdBy)
        foldContent(items, write: task, recording: recording)
    }
}

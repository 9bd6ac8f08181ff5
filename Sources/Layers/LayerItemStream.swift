import Foundation

/// A layer's items handed from the step that plans them to the writer that tars them, while
/// the plan is still being made: a cold COPY is compressed (and with `build --push` uploaded)
/// while the context walk is still listing it (issues 12 and 13), instead of after it.
///
/// The planner appends chunks in the layer's final order and then either `finish`es (the
/// items are complete) or `fail`s (the plan threw, or turned out not to be in the order it
/// streamed): the writer then throws that error, before writing the end of the archive, so
/// no layer comes out of a plan that did not finish.
///
/// Not bounded: the planner keeps every item it made anyway (the step's filesystem view,
/// cache key and record need the whole list), so the chunks here are those same values,
/// shared, not a second copy, and a bound would save no memory — it would only hold the
/// walk, and with it the next step, to the compressor's pace. Chunks stay readable after
/// the end, so a write can read them again (a refused upload falls back to a file).
public final class LayerItemStream: @unchecked Sendable {
    // @unchecked: `chunks` and `end` are read and written under `condition`.
    private let condition = NSCondition()
    private var chunks: [[LayerItem]] = []
    private var end: Result<Void, any Error>?

    /// A stream the caller fills (`append`, then `finish` or `fail`).
    public init() {}

    /// A stream that is already complete: `items` as one chunk.
    public init(_ items: [LayerItem]) {
        chunks = items.isEmpty ? [] : [items]
        end = .success(())
    }

    /// Adds items after those appended before. Ignored once the stream has ended.
    public func append(_ items: [LayerItem]) {
        guard !items.isEmpty else { return }
        condition.lock()
        if end == nil {
            chunks.append(items)
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Every item has been appended.
    public func finish() { close(.success(())) }

    /// The items will not be complete: a reader throws `error` once it has read what came before.
    public func fail(_ error: any Error) { close(.failure(error)) }

    /// Whether the stream ended with `finish`.
    public var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .success = end { return true }
        return false
    }

    /// Whether the stream ended (`finish` or `fail`): a planner still appending to a failed
    /// stream can stop (an early COPY that was dropped, see `EarlyCopy`).
    public var hasEnded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return end != nil
    }

    private func close(_ outcome: Result<Void, any Error>) {
        condition.lock()
        if end == nil {
            end = outcome
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Chunk `index` (0-based), waiting until it is appended; nil once the stream finished
    /// with fewer chunks; throws the stream's error once it failed with fewer.
    func chunk(_ index: Int) throws -> [LayerItem]? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if index < chunks.count { return chunks[index] }
            switch end {
            case .success: return nil
            case .failure(let error): throw error
            case nil: condition.wait()
            }
        }
    }

    /// Calls `body` with every item in order, waiting for items still to come; throws the
    /// stream's error if it fails.
    func forEach(_ body: (LayerItem) throws -> Void) throws {
        try forEachChunk { items in
            for item in items { try body(item) }
        }
    }

    /// Calls `body` with every chunk of items as it was appended, in order, waiting for chunks
    /// still to come; throws the stream's error if it fails.
    func forEachChunk(_ body: ([LayerItem]) throws -> Void) throws {
        var index = 0
        while let items = try chunk(index) {
            try body(items)
            index += 1
        }
    }
}

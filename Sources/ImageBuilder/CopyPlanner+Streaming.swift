import BuildContext
import Layers

/// A COPY planned while its layer is written (`CopyPlanner.plan(streamingInto:)`, issue 12):
/// which steps stream, and how what was streamed is checked against the final plan.
extension CopyPlanner {
    /// The one shape streamed while planned: a single COPY source naming one directory, so
    /// the items are its destination's missing parents, the destination, and the walk below
    /// it, which comes parents first in byte order — tar order. Anything else (several
    /// sources, whose entries may replace or interleave with each other; heredocs;
    /// `--parents`; ADD's archives and URLs) is appended once planned.
    func streams(_ matched: [(String, [ContextEntry])], excludes: PatternMatcher?) -> Bool {
        guard !isAdd, !instruction.parents, instruction.heredocs.isEmpty, matched.count == 1,
              matched[0].1.count == 1, let entry = matched[0].1.first, entry.type == .directory else { return false }
        return !(excludes?.isExcluded(entry.relativePath) ?? false)
    }

    /// What a streamed plan has appended so far: the destination's missing parents predicted
    /// up front (`addMissingParents` only finds them at the end, and they go first in tar
    /// order), then the planned items in the order made.
    struct StreamedItems {
        let stream: LayerItemStream
        var predictedParents: [LayerEntry] = []
        /// How many planned items were appended.
        var published = 0
        var sentParents = false

        init(stream: LayerItemStream) { self.stream = stream }

        mutating func publish(_ items: [LayerEntry]) throws {
            // Failed by the one who waits for it (a dropped early plan): the walk stops here.
            if stream.hasEnded { throw CancellationError() }
            guard items.count > published else { return }
            var chunk: [LayerItem] = []
            if !sentParents {
                chunk = predictedParents.sorted { CopyPlanner.componentsPrecede($0.path, $1.path) }.map { .entry($0) }
                sentParents = true
            }
            chunk.reserveCapacity(chunk.count + items.count - published)
            for entry in items[published...] { chunk.append(.entry(entry)) }
            published = items.count
            stream.append(chunk)
        }

        /// Whether the final tar `order` of `items` (`planned` of them, then the missing
        /// parents) is what was appended: the parents found, as predicted, then every planned
        /// item in the order made, none replaced after it was sent.
        func matches(order: [Int], items: [LayerEntry], planned: Int, replaced: Int) -> Bool {
            let parents = order.count - planned
            guard replaced == 0, published == planned, parents == predictedParents.count,
                  sentParents || parents == 0 else { return false }
            let predicted = predictedParents.sorted { CopyPlanner.componentsPrecede($0.path, $1.path) }
            for (position, index) in order.enumerated() {
                if position < parents {
                    guard index >= planned, items[index] == predicted[position] else { return false }
                } else if index != position - parents {
                    return false
                }
            }
            return true
        }
    }
}

import Foundation
import ImageModel
import ImageStore

/// Hits in caches read with `--cache-from` (see `ImportedBuildCache`).
extension BuildSession {
    /// The record for `key` in the first imported cache that has it, made usable here: its
    /// layer's registry is recorded as the blob's remote source (nothing is downloaded until a
    /// step needs the files), or the blob is copied in from a local layout; the record is then
    /// kept in the local step cache so the next build hits locally. A layer that cannot be made
    /// available is a miss, with a warning.
    func importedRecord(key: String) -> StepCacheRecord? {
        for cache in options.cacheImports {
            guard let record = cache.records[key] else { continue }
            if let layer = record.layer, !store.hasBlob(layer.descriptor.digest) {
                do {
                    switch cache.origin {
                    case .registry(let source):
                        try store.recordRemoteSource(source, for: [layer.descriptor.digest])
                    case .layout(let directory):
                        try BuildCacheLayout(directory: directory).ingest(layer.descriptor.digest, into: store)
                    }
                } catch {
                    emit(.warning("cache layer \(layer.descriptor.digest) is not usable: \(error)"))
                    continue
                }
            }
            writeCacheRecord(record, key: key)
            return record
        }
        return nil
    }
}

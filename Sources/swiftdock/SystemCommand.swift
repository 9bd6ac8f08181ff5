import ArgumentParser
import enum DockerfileSyntax.GoDuration
import Foundation
import ImageModel
import ImageStore

/// `swiftdock system prune [-a] [-f] [--filter until=…]`: frees what no tagged image needs — untagged (dangling)
/// images, unreferenced blobs, the root file systems unpacked for RUN and dead build-cache records (all
/// of the build cache, cache mounts included, with `-a`) — as `docker system prune` frees a daemon's leftovers.
/// `system df` shows what the store holds.
struct SystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage the local store.", subcommands: [SystemPruneCommand.self, SystemDfCommand.self])
}

struct SystemPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete dangling images, blobs no image references and the cached root file systems.", usage: Synopsis.prune)

    @Flag(name: [.customShort("f"), .long], help: "Do not ask for confirmation.")
    var force = false

    @Flag(name: [.customShort("a"), .long], help: "Also remove the whole build cache (every step-cache record, then the layers only it kept, and the RUN cache mounts).")
    var all = false

    @Option(help: "until=DURATION|TIMESTAMP: only build cache and cache mounts last used, and dangling images created, before then (e.g. until=24h).")
    var filter: [String] = []

    @OptionGroup var store: StoreOptions

    func run() throws {
        let cutoff = try Self.untilCutoff(filter)
        let store = try self.store.openStore()
        if !force {
            let age = cutoff == nil ? "" : " (older than the filter)"
            print("WARNING! This will remove:")
            print("  - all dangling images (untagged: <none>:<none>)\(age)")
            print("  - all blobs no tagged image references (layers of untagged images, interrupted pulls)")
            if cutoff == nil { print("  - all root file systems cached for RUN steps (rebuilt on the next RUN)") }
            print(all ? "  - all build cache records (and the layers only they kept) and RUN cache mounts\(age)"
                      : "  - build cache records whose layers are gone" + (cutoff == nil ? "" : ", and those unused since the filter"))
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            StandardOutput.flush()
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else { return }
        }
        let images = try store.pruneDanglingImages(createdBefore: cutoff.map { Date(timeIntervalSince1970: $0) })
        // Records first: with --all their layers are then free for pruneBlobs.
        let records = try store.pruneStepCache(all: all, lastUsedBefore: cutoff)
        let mounts = all || cutoff != nil ? try store.removeCacheMounts(lastUsedBefore: cutoff) : (entries: 0, bytes: 0)
        let blobs = try store.pruneBlobs()
        // The RUN root file systems are derived from images in use; a filtered prune keeps them.
        let cache = cutoff == nil ? try store.removeRootfsCache() : (entries: 0, bytes: 0)
        let imageIDs = images.compactMap(\.deletedImageID)
        if !imageIDs.isEmpty {
            print("Deleted Images:")
            for id in imageIDs { print("deleted: \(id)") }
            print("")
        }
        if !blobs.isEmpty {
            print("Deleted blobs:")
            for blob in blobs { print("deleted: \(blob.digest)") }
            print("")
        }
        if cache.entries > 0 {
            print("Deleted \(cache.entries) cached root file system\(cache.entries == 1 ? "" : "s")")
            print("")
        }
        if records > 0 {
            print("Deleted \(records) build cache record\(records == 1 ? "" : "s")")
            print("")
        }
        if mounts.entries > 0 {
            print("Deleted \(mounts.entries) cache mount\(mounts.entries == 1 ? "" : "s")")
            print("")
        }
        let imageBytes = images.reduce(Int64(0)) { $0 + $1.deletedBytes }
        print("Total reclaimed space: \(formatSize(imageBytes + blobs.reduce(0) { $0 + $1.size } + cache.bytes + mounts.bytes))")
    }

    /// The `until=` filter as seconds since the epoch, as docker reads it: a Go duration before
    /// now (`24h`, `90m`), a Unix time (`1700000000`), or an RFC 3339 time. Other filters are
    /// usage errors.
    static func untilCutoff(_ filters: [String], now: Date = Date()) throws -> TimeInterval? {
        var cutoff: TimeInterval?
        for filter in filters {
            let pair = filter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0] == "until" else {
                throw ValidationError("invalid filter \"\(filter)\": only until=DURATION|TIMESTAMP is supported")
            }
            guard cutoff == nil else { throw ValidationError("invalid filter \"\(filter)\": until given twice") }
            let value = pair[1]
            if let seconds = Double(value), value.allSatisfy({ $0.isNumber || $0 == "." }) {
                cutoff = seconds
            } else if let date = Timestamp.parse(value) {
                cutoff = date.timeIntervalSince1970
            } else if let nanoseconds = try? GoDuration.parse(value), nanoseconds >= 0 {
                cutoff = now.timeIntervalSince1970 - Double(nanoseconds) / 1e9
            } else {
                throw ValidationError("invalid filter \"\(filter)\": expected a duration (24h), a Unix time or an RFC 3339 time")
            }
        }
        return cutoff
    }
}

/// `swiftdock system df`: what the store holds — images, build cache, RUN cache mounts — as
/// `docker system df` prints it.
struct SystemDfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "df", abstract: "Show how much disk the store's images, build cache and cache mounts use.", usage: Synopsis.df)

    @OptionGroup var store: StoreOptions

    func run() throws {
        let usage = try store.openStore().diskUsage()
        print(Self.table(usage), terminator: "")
    }

    /// docker's columns: TYPE TOTAL ACTIVE SIZE RECLAIMABLE (with the percentage of SIZE).
    static func table(_ usage: DiskUsage) -> String {
        let rows: [(String, DiskUsage.Row)] = [("Images", usage.images), ("Build Cache", usage.buildCache),
                                               ("Cache Mounts", usage.cacheMounts)]
        var lines = [["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]]
        for (name, row) in rows {
            let percent = row.size > 0 ? Int((Double(row.reclaimable) / Double(row.size) * 100).rounded()) : 0
            lines.append([name, String(row.total), String(row.active), formatSize(row.size),
                          "\(formatSize(row.reclaimable)) (\(percent)%)"])
        }
        let widths = (0..<5).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { $0.offset == 4 ? $0.element : $0.element.padding(toLength: widths[$0.offset] + 3, withPad: " ", startingAt: 0) }
                .joined()
        }.joined(separator: "\n") + "\n"
    }
}

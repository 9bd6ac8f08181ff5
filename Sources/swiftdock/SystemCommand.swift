import ArgumentParser
import Foundation
import ImageStore

/// `swiftdock system prune [-a] [-f]`: frees what no tagged image needs — untagged (dangling) images,
/// unreferenced blobs, the root file systems unpacked for RUN and dead build-cache records (all
/// of the build cache with `-a`) — as `docker system prune` frees a daemon's leftovers.
struct SystemCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage the local store.", subcommands: [SystemPruneCommand.self])
}

struct SystemPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune", abstract: "Delete dangling images, blobs no image references and the cached root file systems.", usage: Synopsis.prune)

    @Flag(name: [.customShort("f"), .long], help: "Do not ask for confirmation.")
    var force = false

    @Flag(name: [.customShort("a"), .long], help: "Also remove the whole build cache (every step-cache record, then the layers only it kept).")
    var all = false

    @OptionGroup var store: StoreOptions

    func run() throws {
        let store = try self.store.openStore()
        if !force {
            print("WARNING! This will remove:")
            print("  - all dangling images (untagged: <none>:<none>)")
            print("  - all blobs no tagged image references (layers of untagged images, interrupted pulls)")
            print("  - all root file systems cached for RUN steps (rebuilt on the next RUN)")
            print(all ? "  - all build cache records (and the layers only they kept)"
                      : "  - build cache records whose layers are gone")
            print("Are you sure you want to continue? [y/N] ", terminator: "")
            fflush(stdout)
            guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else { return }
        }
        let images = try store.pruneDanglingImages()
        // Records first: with --all their layers are then free for pruneBlobs.
        let records = try store.pruneStepCache(all: all)
        let blobs = try store.pruneBlobs()
        let cache = try store.removeRootfsCache()
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
        let imageBytes = images.reduce(Int64(0)) { $0 + $1.deletedBytes }
        print("Total reclaimed space: \(formatSize(imageBytes + blobs.reduce(0) { $0 + $1.size } + cache.bytes))")
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ImageModel
@testable import ImageStore
import Layers
import PathEncoding
import XCTest

/// The rootfs cache with a `SubordinateOwnership` (an unprivileged builder with subordinate
/// ids): only the paths the layers give to someone other than root are handed to it, once per
/// entry; the map is recorded, and an entry made before (no map) or under another map is
/// unpacked again. The real thing (the sandbox's user namespace) is tested end to end in
/// RunOwnersTests; here a recording stand-in.
final class SubordinateOwnershipTests: XCTestCase {
    /// Records what it is asked; gives nothing.
    final class Recorder: SubordinateOwnership, @unchecked Sendable {
        // `@unchecked Sendable`: the store calls it from the test's thread only; `lock` guards anyway.
        let mapping: String
        private let lock = NSLock()
        private var given: [(root: String, owners: [PendingOwner])] = []
        init(mapping: String) { self.mapping = mapping }
        var calls: [(root: String, owners: [PendingOwner])] { lock.withLock { given } }
        func applyOwners(_ owners: [PendingOwner], under root: String) throws { lock.withLock { given.append((root, owners)) } }
        func removeTree(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }
    }

    /// A layer whose `home/app` belongs to 1001:1001 and `srv/f` to 42:43 (mode 0640); the rest root's.
    private func layerWithOwners(_ store: ImageStore, scratch: String) throws -> (digest: Digest, diffID: Digest) {
        let directory = scratch + "/owned"
        try runChecked(["sh", "-c", """
            mkdir -p '\(directory)/home/app' '\(directory)/srv' '\(directory)/etc' && echo x > '\(directory)/srv/f' && echo r > '\(directory)/etc/r' \
            && chown 1001:1001 '\(directory)/home/app' && chown 42:43 '\(directory)/srv/f' && chmod 640 '\(directory)/srv/f' \
            && tar --sort=name --numeric-owner --mtime=@0 -C '\(directory)' -cf '\(directory).tar' . && gzip -kn '\(directory).tar'
            """])
        let diffID = try sha256sum(directory + ".tar")
        let digest = try sha256sum(directory + ".tar.gz")
        let temporary = try store.makeTemporaryFile()
        try FileManager.default.removeItem(atPath: temporary)
        try FileManager.default.copyItem(atPath: directory + ".tar.gz", toPath: temporary)
        try store.ingest(temporaryFile: temporary, digest: digest, verify: true)
        return (digest, diffID)
    }

    func testOnlyNonRootOwnersAreGivenOnceAndTheMapIsRecorded() throws {
        guard geteuid() == 0 else { throw XCTSkip("making a layer with other owners needs root") }
        let scratch = try makeScratchDirectory(self)
        let recorder = Recorder(mapping: "map A")
        let store = try ImageStore(root: scratch + "/store", ownership: recorder)
        let layer = try layerWithOwners(store, scratch: scratch)

        // Made before owners were given (no map recorded): unpacked again, owners given.
        let plain = try ImageStore(root: scratch + "/store").rootfs(forLayers: [layer])
        XCTAssertEqual(recorder.calls.count, 0)
        let first = try store.rootfs(forLayers: [layer])
        XCTAssertEqual(first.path, plain.path)
        XCTAssertEqual(recorder.calls.count, 1)
        XCTAssertEqual(recorder.calls.first?.owners, [
            PendingOwner(path: "home/app", uid: 1001, gid: 1001, mode: 0o755),
            PendingOwner(path: "srv/f", uid: 42, gid: 43, mode: 0o640),
        ])
        // Given once: the entry is used as it is now.
        _ = try store.rootfs(forLayers: [layer])
        XCTAssertEqual(recorder.calls.count, 1)
        // Under another map: unpacked again.
        let other = Recorder(mapping: "map B")
        _ = try ImageStore(root: scratch + "/store", ownership: other).rootfs(forLayers: [layer])
        XCTAssertEqual(other.calls.count, 1)
        // Not giving owners (copy isolation): an entry whose files are the real user's, made again.
        let unowned = try store.rootfs(forLayers: [layer], givingOwners: false)
        XCTAssertEqual(recorder.calls.count, 1)
        XCTAssertEqual(unowned.owners.nonRootOwners(under: unowned.path).map(\.path), ["home/app", "srv/f"])
        _ = try store.rootfs(forLayers: [layer], givingOwners: false)
        XCTAssertEqual(recorder.calls.count, 1, "the entry made without owners is used as it is")
        // And a store without ownership (root) uses an entry made without a map.
        _ = try ImageStore(root: scratch + "/store").rootfs(forLayers: [layer])
        XCTAssertEqual(recorder.calls.count + other.calls.count, 2)
    }
}

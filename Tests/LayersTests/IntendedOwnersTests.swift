import Foundation
import Layers
import PathEncoding
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The owners an unprivileged builder gives its trees afterwards: which paths (never root's),
/// the reverse id map, and a copy-isolated RUN's copy getting them (`TreeCopy.materialise(owners:)`).
final class IntendedOwnersTests: XCTestCase {
    func testNonRootOwnersOfATableAndOfLayerItems() {
        let table = OwnershipTable(
            owners: ["etc/passwd": Owner(uid: 0, gid: 0), "home/app": Owner(uid: 1001, gid: 1001), "srv/g": Owner(uid: 0, gid: 50),
                     "bad": Owner(uid: -1, gid: 0)],
            modes: ["home/app": 0o700, "srv/g": 0o2775])
        XCTAssertEqual(table.nonRootOwners(under: "/nonexistent"), [
            PendingOwner(path: "home/app", uid: 1001, gid: 1001, mode: 0o700),
            PendingOwner(path: "srv/g", uid: 0, gid: 50, mode: 0o2775),
        ])
        func entry(_ path: String, _ kind: LayerEntry.Kind, uid: Int, gid: Int, mode: UInt32) -> LayerItem {
            .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: uid, gid: gid, mtimeSeconds: 0))
        }
        let items: [LayerItem] = [
            entry("", .directory, uid: 5, gid: 5, mode: 0o755),
            entry("d", .directory, uid: 42, gid: 43, mode: 0o750),
            entry("d/f", .regularFile(.bytes([])), uid: 42, gid: 43, mode: 0o640),
            entry("d/h", .hardlink(target: "d/f"), uid: 42, gid: 43, mode: 0o640),
            entry("r", .regularFile(.bytes([])), uid: 0, gid: 0, mode: 0o644),
        ]
        XCTAssertEqual(PendingOwner.nonRoot(of: items), [
            PendingOwner(path: "d", uid: 42, gid: 43, mode: 0o750),
            PendingOwner(path: "d/f", uid: 42, gid: 43, mode: 0o640),
        ])
    }

    func testReverseIDMap() {
        let map = IDMap(hostToContainerUID: [(host: 999, container: 0, count: 1), (host: 300000, container: 1, count: 65536)],
                        hostToContainerGID: [(host: 995, container: 0, count: 1), (host: 300000, container: 1, count: 65536)])
        let cases: [(container: UInt32, uid: UInt32?, gid: UInt32?)] = [(0, 999, 995), (1, 300000, 300000), (42, 300041, 300041),
                                                                        (65536, 365535, 365535), (65537, nil, nil)]
        for c in cases {
            XCTAssertEqual(map.hostUID(c.container), c.uid, "\(c.container)")
            XCTAssertEqual(map.hostGID(c.container), c.gid, "\(c.container)")
            if let uid = c.uid { XCTAssertEqual(map.containerUID(uid), c.container) }
        }
        XCTAssertEqual(IDMap.identity.hostUID(70000), 70000)
    }

    /// The copy of a file whose layer gives it an owner on paper only gets it (as root, on
    /// disk at once, as the host id the sandbox's map shows as it), and its mode; the
    /// snapshot agrees, so the owner is no change of the RUN's.
    func testCopyGetsTheIntendedOwnerAndMode() throws {
        guard geteuid() == 0 else { throw XCTSkip("giving owners on disk needs root here; RunOwnersTests covers subordinate ids") }
        let base = NSTemporaryDirectory() + "swiftdock-intended-\(UUID().uuidString.prefix(8))"
        defer { TreeCopy.remove(base) }
        let lower = base + "/lower", upper = base + "/upper"
        try FileManager.default.createDirectory(atPath: lower + "/home/app", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: upper + "/home", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: lower + "/home/app/f"))
        try Data("y".utf8).write(to: URL(fileURLWithPath: upper + "/home/g"))
        let map = IDMap(hostToContainerUID: [(host: 0, container: 0, count: 1), (host: 300000, container: 1, count: 65536)],
                        hostToContainerGID: [(host: 0, container: 0, count: 1), (host: 300000, container: 1, count: 65536)])
        let owners: [String: [PathKey: PendingOwner]] = [
            lower: ["home/app": PendingOwner(path: "home/app", uid: 1001, gid: 1001, mode: 0o700),
                    "home/app/f": PendingOwner(path: "home/app/f", uid: 42, gid: 43, mode: 0o600),
                    "home/g": PendingOwner(path: "home/g", uid: 7, gid: 7, mode: 0o600)],  // upper's file: not this layer's
        ]
        let copied = try TreeCopy.materialise(layers: [upper, lower], into: base + "/root", idMap: map, owners: owners)
        XCTAssertEqual(copied.pendingOwners, [], "root gives owners on disk at once")
        let cases: [(path: String, uid: uid_t, gid: gid_t, mode: mode_t)] = [
            ("home/app", 301000, 301000, 0o700), ("home/app/f", 300041, 300042, 0o600), ("home/g", 0, 0, 0o644),
        ]
        for c in cases {
            let st = try XCTUnwrap(TreeIOStatus.lstat(base + "/root/" + c.path), c.path)
            XCTAssertEqual(st.st_uid, c.uid, c.path)
            XCTAssertEqual(st.st_gid, c.gid, c.path)
            XCTAssertEqual(st.st_mode & 0o7777, c.mode, c.path)
        }
        let changes = try TreeDiff.changes(root: base + "/root", snapshot: copied.snapshot, idMap: map, excluding: [], sourceDateEpoch: nil)
        XCTAssertEqual(changes.items.count, 0, "the given owners are no change")
    }
}

private enum TreeIOStatus {
    static func lstat(_ path: String) -> stat? {
        var st = stat()
        return Glibc.lstat(path, &st) == 0 ? st : nil
    }
}

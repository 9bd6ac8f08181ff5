import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// `run -u` / USER lookups read passwd and group from the layers with their digests checked,
/// as every other blob read is (issue 10).
final class ImageUsersTests: XCTestCase {
    func layer(_ files: [String: String], at path: String) throws -> WrittenLayer {
        let items = [LayerItem.entry(LayerEntry(path: "etc", kind: .directory, mode: 0o755, mtimeSeconds: 0))]
            + files.sorted { $0.key < $1.key }.map {
                LayerItem.entry(LayerEntry(path: $0.key, kind: .regularFile(.bytes(Array($0.value.utf8))), mode: 0o644, mtimeSeconds: 0))
            }
        return try LayerWriter().writeBlocking(items, to: path)
    }

    func testLookupsVerifyEachLayerTheyRead() throws {
        let dir = NSTemporaryDirectory() + "image-users-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let base = try layer(["etc/passwd": "root:x:0:0::/root:/bin/sh\nsvc:x:2001:2002::/srv:/bin/sh\n",
                              "etc/group": "root:x:0:\nsvc:x:2002:\nextra:x:3000:\n"], at: dir + "/base")
        let top = try layer(["etc/motd": "hello\n"], at: dir + "/top")
        let blobs = [LayerBlob(path: dir + "/base", digest: base.digest), LayerBlob(path: dir + "/top", digest: top.digest)]

        let db = try ImageUsers.database(blobs)
        XCTAssertEqual(db.users.map(\.name), ["root", "svc"])
        XCTAssertEqual(db.groups.map(\.gid), [0, 2002, 3000])

        // The base layer's bytes change under its digest (a damaged store): refused instead of
        // trusting its passwd.
        _ = try layer(["etc/passwd": "root:x:0:0::/root:/bin/sh\nsvc:x:0:0::/:/bin/sh\n"], at: dir + "/base")
        XCTAssertThrowsError(try ImageUsers.database(blobs)) { error in
            guard case LayerError.digestMismatch(_, let expected, _)? = error as? LayerError else { return XCTFail("\(error)") }
            XCTAssertEqual(expected, base.digest)
        }
    }
}

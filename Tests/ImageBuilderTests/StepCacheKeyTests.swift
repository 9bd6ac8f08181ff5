import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// Step-cache keys: a fixed encoding (the same inputs give the same key in any process), every
/// input that matters changes the key, and mtimes do not.
final class StepCacheKeyTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "stepkey-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testKnownAnswerPinsTheEncoding() {
        // Pinned so a change of the encoding (which invalidates every cache) is deliberate.
        var key = StepCacheKey(parent: "p")
        key.add("instruction", "RUN true")
        XCTAssertEqual(key.value, Self.expectedKnownAnswer)
        XCTAssertEqual(key.value.count, 64)
    }

    /// The SHA-256 of the encoding written out by hand: each field is an 8-byte big-endian length
    /// and the bytes, for label then value.
    static let expectedKnownAnswer: String = {
        var bytes: [UInt8] = []
        for part in ["swiftdock-step-cache", "v2", "parent", "p", "instruction", "RUN true"] {
            let utf8 = Array(part.utf8)
            bytes += withUnsafeBytes(of: UInt64(utf8.count).bigEndian) { Array($0) } + utf8
        }
        return SHA256Stream.digest(of: bytes).encoded
    }()

    func testFieldBoundariesMatter() {
        let cases: [[(String, String)]] = [
            [("a", "bc")], [("ab", "c")], [("a", "b"), ("c", "")], [("a", ""), ("b", "c")], [],
        ]
        let keys = cases.map { fields -> String in
            var key = StepCacheKey(parent: "x")
            for (label, value) in fields { key.add(label, value) }
            return key.value
        }
        XCTAssertEqual(Set(keys).count, cases.count, "no two field lists share a key")
    }

    func testBaseParents() throws {
        let a = try Digest(sha256Hex: String(repeating: "a", count: 64))
        let b = try Digest(sha256Hex: String(repeating: "b", count: 64))
        XCTAssertEqual(StepCacheKey.imageParent(manifest: a), StepCacheKey.imageParent(manifest: a))
        XCTAssertNotEqual(StepCacheKey.imageParent(manifest: a), StepCacheKey.imageParent(manifest: b))
        XCTAssertNotEqual(StepCacheKey.imageParent(manifest: a), StepCacheKey.scratchParent())
        XCTAssertNotEqual(StepCacheKey.stageParent(StepCacheKey.scratchParent()), StepCacheKey.scratchParent())
    }

    private func file(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    private func entry(_ path: String, _ kind: LayerEntry.Kind, mode: UInt32 = 0o644, uid: Int = 0, gid: Int = 0,
                       mtime: Int64 = 1) -> LayerItem {
        .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: uid, gid: gid, mtimeSeconds: mtime))
    }

    func testContentDigestChangesWithEveryWrittenPropertyButNotMtime() throws {
        let one = try file("one", "hello")
        let same = try file("same", "hello")
        let other = try file("other", "hellO")
        let base = entry("app/a.txt", .regularFile(.file(path: one, size: 5)))
        let reference = try StepCacheKey.contentDigest(of: [base])
        let cases: [(name: String, items: [LayerItem], changes: Bool)] = [
            ("same bytes in another file", [entry("app/a.txt", .regularFile(.file(path: same, size: 5)))], false),
            ("other mtime", [entry("app/a.txt", .regularFile(.file(path: one, size: 5)), mtime: 999)], false),
            ("same bytes given inline", [entry("app/a.txt", .regularFile(.bytes(Array("hello".utf8))))], false),
            ("other bytes", [entry("app/a.txt", .regularFile(.file(path: other, size: 5)))], true),
            ("other path", [entry("app/b.txt", .regularFile(.file(path: one, size: 5)))], true),
            ("other mode", [entry("app/a.txt", .regularFile(.file(path: one, size: 5)), mode: 0o755)], true),
            ("other uid", [entry("app/a.txt", .regularFile(.file(path: one, size: 5)), uid: 1000)], true),
            ("other gid", [entry("app/a.txt", .regularFile(.file(path: one, size: 5)), gid: 100)], true),
            ("a symlink", [entry("app/a.txt", .symlink(target: one))], true),
            ("a directory", [entry("app/a.txt", .directory)], true),
            ("one more item", [base, entry("app", .directory)], true),
            ("no items", [], true),
        ]
        for c in cases {
            let key = try StepCacheKey.contentDigest(of: c.items)
            XCTAssertEqual(key != reference, c.changes, c.name)
        }
        XCTAssertNotEqual(try StepCacheKey.contentDigest(of: [entry("l", .symlink(target: "x"))]),
                          try StepCacheKey.contentDigest(of: [entry("l", .symlink(target: "y"))]), "symlink target")
    }

    func testTreeDigestFollowsContentNotMtime() throws {
        let tree = directory + "/tree"
        try FileManager.default.createDirectory(atPath: tree + "/sub", withIntermediateDirectories: true)
        try "x".write(toFile: tree + "/sub/f", atomically: false, encoding: .utf8)
        let first = try StepCacheKey.treeDigest(of: tree)
        utimes(tree + "/sub/f", nil)
        XCTAssertEqual(try StepCacheKey.treeDigest(of: tree), first, "touch alone changes nothing")
        try "y".write(toFile: tree + "/sub/f", atomically: false, encoding: .utf8)
        let edited = try StepCacheKey.treeDigest(of: tree)
        XCTAssertNotEqual(edited, first, "edited bytes")
        chmod(tree + "/sub/f", 0o600)
        XCTAssertNotEqual(try StepCacheKey.treeDigest(of: tree), edited, "changed mode")
        XCTAssertThrowsError(try StepCacheKey.treeDigest(of: tree + "/missing"))
    }

    /// `contentDigest` feeds its fields through a buffered hasher with owner and digest fields
    /// written without making strings; the key must be the SHA-256 of the plain encoding,
    /// written out here field by field — with enough items to cross the hasher's 16 KiB runs
    /// and owners of every shape (negative, large, zero).
    func testContentDigestKnownAnswer() throws {
        let one = try file("one", "hello")
        var items: [LayerItem] = []
        var fields: [(String, String)] = []
        let owners = [(0, 0), (1000, 100), (-1, -2), (Int.max, Int.min + 1), (4_294_967_294, 65_534)]
        for n in 0..<1500 {
            let (uid, gid) = owners[n % owners.count]
            let path = "dir\(n / 100)/f\(n)"
            let kinds: [(LayerEntry.Kind, (String, String))] = [
                (.regularFile(.file(path: one, size: 5)), ("file", SHA256Stream.digest(of: Array("hello".utf8)).description)),
                (.regularFile(.bytes(Array("b\(n)".utf8))), ("file", SHA256Stream.digest(of: Array("b\(n)".utf8)).description)),
                (.directory, ("type", "dir")),
                (.symlink(target: "t\(n)"), ("symlink", "t\(n)")),
                (.hardlink(target: "h\(n)"), ("hardlink", "h\(n)")),
            ]
            let (kind, field) = kinds[n % kinds.count]
            // Modes written as octal digits without a String: every width, 0 and the widest included.
            let modes: [UInt32] = [0, 0o7, 0o10, 0o644, 0o4755, 0o7777, 0o100 + UInt32(n % 0o700), UInt32.max]
            let mode = modes[n % modes.count]
            items.append(entry(path, kind, mode: mode, uid: uid, gid: gid))
            fields += [("path", path), ("mode", String(mode, radix: 8)), ("owner", "\(uid):\(gid)"), field]
        }
        var bytes: [UInt8] = []
        for part in ["swiftdock-step-cache", "v2", "parent", ""] + fields.flatMap({ [$0.0, $0.1] }) {
            let utf8 = Array(part.utf8)
            bytes += withUnsafeBytes(of: UInt64(utf8.count).bigEndian) { Array($0) } + utf8
        }
        XCTAssertGreaterThan(bytes.count, 3 * (16 << 10))
        XCTAssertEqual(try StepCacheKey.contentDigest(of: items), SHA256Stream.digest(of: bytes).encoded)
    }
}

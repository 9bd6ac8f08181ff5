import CArchive
import Foundation
import ImageModel
import XCTest
@testable import Layers

final class LayerWriterTests: XCTestCase {
    let longDir = "app/" + String(repeating: "d", count: 95)
    var longPath: String { longDir + "/" + String(repeating: "f", count: 110) }
    let longTarget = "/" + String(repeating: "t", count: 149)
    let bigContent = pseudoRandom(count: 5 * 1024 * 1024 + 12345, seed: 42, textEvery: 2)

    /// The reference layer: every kind of entry and the awkward cases.
    func sampleItems(_ scratch: Scratch) throws -> [LayerItem] {
        let big = scratch.file("big.bin")
        try Data(bigContent).write(to: URL(fileURLWithPath: big))
        func e(_ path: String, _ kind: LayerEntry.Kind, _ mode: UInt32, uid: Int = 0, gid: Int = 0,
               mtime: Int64 = 1_700_000_000, nanos: Int32 = 0) -> LayerItem {
            .entry(LayerEntry(path: path, kind: kind, mode: mode, uid: uid, gid: gid, mtimeSeconds: mtime, mtimeNanoseconds: nanos))
        }
        return [
            e("app", .directory, 0o755),
            e("app/empty", .regularFile(.bytes([])), 0o644),
            e("app/small.txt", .regularFile(.bytes(Array("hello\n".utf8))), 0o644, uid: 1000, gid: 1000, mtime: 1_000_000_000),
            e("app/big.bin", .regularFile(.file(path: big, size: Int64(bigContent.count))), 0o600, uid: 100000, gid: 100000),
            e("app/binary", .regularFile(.bytes((0...255).map { UInt8($0) })), 0o644, nanos: 500_000_000),
            e("app/link", .symlink(target: "small.txt"), 0o777),
            e("app/hard", .hardlink(target: "app/small.txt"), 0o644, uid: 1000, gid: 1000),
            e("app/setuid", .regularFile(.bytes([0x7f, 0x45])), 0o4755),
            e(longDir, .directory, 0o750, nanos: 123_456_789),
            e(longPath, .regularFile(.bytes(Array("long\n".utf8))), 0o644),
            e("app/longlink", .symlink(target: longTarget), 0o777),
            e("tmp", .directory, 0o1777),
        ]
    }

    func testWrittenLayerReadsBackWithLibarchive() async throws {
        let scratch = Scratch()
        let out = scratch.file("layer.tgz")
        let layer = try await LayerWriter().write(try sampleItems(scratch), to: out)
        let entries = try readArchive(out)
        XCTAssertEqual(entries.map(\.path), [
            "app/", "app/empty", "app/small.txt", "app/big.bin", "app/binary", "app/link", "app/hard",
            "app/setuid", longDir + "/", longPath, "app/longlink", "tmp/",
        ])
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
        let cases: [(String, UInt32, UInt32, Int, Int, Int64, [UInt8]?)] = [
            ("app/", FileType.directory, 0o755, 0, 0, 1_700_000_000, []),
            ("app/empty", FileType.regular, 0o644, 0, 0, 1_700_000_000, []),
            ("app/small.txt", FileType.regular, 0o644, 1000, 1000, 1_000_000_000, Array("hello\n".utf8)),
            ("app/big.bin", FileType.regular, 0o600, 100000, 100000, 1_700_000_000, bigContent),
            ("app/binary", FileType.regular, 0o644, 0, 0, 1_700_000_000, (0...255).map { UInt8($0) }),
            ("app/link", FileType.symlink, 0o777, 0, 0, 1_700_000_000, nil),
            ("app/setuid", FileType.regular, 0o4755, 0, 0, 1_700_000_000, [0x7f, 0x45]),
            (longPath, FileType.regular, 0o644, 0, 0, 1_700_000_000, Array("long\n".utf8)),
            (longDir + "/", FileType.directory, 0o750, 0, 0, 1_700_000_000, []),
            ("tmp/", FileType.directory, 0o1777, 0, 0, 1_700_000_000, []),
        ]
        for (path, type, perm, uid, gid, mtime, content) in cases {
            guard let entry = byPath[path] else { XCTFail("missing \(path)"); continue }
            XCTAssertEqual(entry.type, type, path)
            XCTAssertEqual(entry.perm, perm, path)
            XCTAssertEqual(entry.uid, uid, path)
            XCTAssertEqual(entry.gid, gid, path)
            XCTAssertEqual(entry.mtime, mtime, path)
            XCTAssertEqual(entry.mtimeNanos, 0, path)  // whole seconds, even with a pax header
            XCTAssertEqual(entry.uname ?? "", "", path)
            if let content { XCTAssertEqual(entry.content, content, path) }
        }
        XCTAssertEqual(byPath["app/link"]?.symlink, "small.txt")
        XCTAssertEqual(byPath["app/longlink"]?.symlink, longTarget)
        XCTAssertEqual(byPath["app/hard"]?.hardlink, "app/small.txt")
        XCTAssertGreaterThan(layer.uncompressedSize, Int64(bigContent.count))
    }

    func testSystemToolsAgreeForEveryCompression() async throws {
        let cases: [(LayerCompression, Bool)] = [
            (.gzip(level: 1), true), (.gzip(level: 2), true), (.gzip(level: 3), true),
            (.gzip(level: 0), true), (.gzip(level: 6), true), (.gzip(level: 9), true), (.none, false),
        ]
        let scratch = Scratch()
        let items = try sampleItems(scratch)
        for (compression, gzipped) in cases {
            let out = scratch.file("layer-\(compression)")
            let layer = try await LayerWriter(compression: compression).write(items, to: out)
            let name = "\(compression)"
            let size = try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int
            XCTAssertEqual(Int64(size ?? -1), layer.size, name)
            XCTAssertEqual(try sha256sum("cat '\(out)'"), layer.digest.encoded, name)
            let cat = gzipped ? "gunzip -c '\(out)'" : "cat '\(out)'"
            XCTAssertEqual(try sha256sum(cat), layer.diffID.encoded, name)
            XCTAssertEqual(try shell(cat + " | wc -c").text.trimmingCharacters(in: .whitespacesAndNewlines),
                           "\(layer.uncompressedSize)", name)
            if gzipped {
                XCTAssertEqual(try shell("gzip -t '\(out)'").status, 0, name)
            } else {
                XCTAssertEqual(layer.digest, layer.diffID, name)
            }
            let listing = try shell("tar -tvf '\(out)'")
            XCTAssertEqual(listing.status, 0, name)
            XCTAssertEqual(listing.text.split(separator: "\n").count, 12, name)
            let dest = scratch.file("x-\(compression)")
            try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
            XCTAssertEqual(try shell("tar -xf '\(out)' -C '\(dest)'").status, 0, name)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dest + "/app/big.bin")), Data(bigContent), name)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dest + "/app/link"), "small.txt", name)
            XCTAssertEqual(try String(contentsOfFile: dest + "/" + longPath, encoding: .utf8), "long\n", name)
            XCTAssertEqual(try shell("stat -c %h '\(dest)/app/hard'").text, "2\n", name)
        }
    }

    func testOutputIsDeterministic() async throws {
        let scratch = Scratch()
        let items = try sampleItems(scratch)
        for compression in [LayerCompression.gzip(level: 1), .gzip(level: 6), .none] {
            let a = try await LayerWriter(compression: compression).write(items, to: scratch.file("a"))
            let b = try await LayerWriter(compression: compression).write(items, to: scratch.file("b"))
            XCTAssertEqual(a, b)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: scratch.file("a"))),
                           try Data(contentsOf: URL(fileURLWithPath: scratch.file("b"))))
        }
        // Fixed gzip header: mtime 0, no name, OS 255.
        try await _ = LayerWriter().write(items, to: scratch.file("h"))
        let header = try Data(contentsOf: URL(fileURLWithPath: scratch.file("h"))).prefix(10)
        XCTAssertEqual(Array(header), [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])
    }

    func testSourceDateEpochClampsMtimes() async throws {
        let scratch = Scratch()
        let items: [LayerItem] = [(1_000, "old"), (5_000, "new"), (2_000, "equal")].map { mtime, name in
            .entry(LayerEntry(path: name, kind: .regularFile(.bytes([1])), mode: 0o644, mtimeSeconds: mtime))
        }
        _ = try await LayerWriter(sourceDateEpoch: 2_000).write(items, to: scratch.file("l"))
        let mtimes = try readArchive(scratch.file("l")).map { ($0.path, $0.mtime) }
        XCTAssertEqual(mtimes.map(\.0), ["old", "new", "equal"])
        XCTAssertEqual(mtimes.map(\.1), [1_000, 2_000, 2_000])
    }

    func testConcurrentWritesAreIndependent() async throws {
        let scratch = Scratch()
        let items = try sampleItems(scratch)
        let expected = try await LayerWriter().write(items, to: scratch.file("ref"))
        let results = try await withThrowingTaskGroup(of: WrittenLayer.self) { group in
            for i in 0..<6 {
                group.addTask { try await LayerWriter().write(items, to: scratch.file("c\(i)")) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 6)
        for result in results { XCTAssertEqual(result, expected) }
    }

    func testDefaultIsIsalLevelTwo() {
        XCTAssertEqual(LayerWriter().compression, .gzip(level: 2))
    }

    func testSHA256StreamMatchesKnownVectors() {
        var s = SHA256Stream()
        XCTAssertEqual(s.finalize().encoded, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        s.update(Array("ab".utf8))
        let copy = s
        s.update(Array("c".utf8))
        XCTAssertEqual(s.finalize().encoded, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(copy.finalize().encoded, "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603")
    }

    // MARK: Errors

    func testErrorsAreOneLineAndNameThePath() async throws {
        let scratch = Scratch()
        let missing = scratch.file("missing.txt")
        let short = scratch.file("short.txt")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: short))
        let corrupt = scratch.file("corrupt.tar.gz")
        try Data([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3] + [UInt8](repeating: 0x55, count: 2000)).write(to: URL(fileURLWithPath: corrupt))
        func file(_ path: String, _ size: Int64) -> LayerItem {
            .entry(LayerEntry(path: "f", kind: .regularFile(.file(path: path, size: size)), mode: 0o644, mtimeSeconds: 0))
        }
        let cases: [(String, [LayerItem], String, String)] = [
            ("missing source", [file(missing, 4)], scratch.file("o1"), missing),
            ("shrunk source", [file(short, 10)], scratch.file("o2"), short),
            ("grown source", [file(short, 2)], scratch.file("o3"), short),
            ("unwritable destination", [], "/nonexistent-dir/layer", "/nonexistent-dir/layer"),
            ("corrupt archive", [.archive(archivePath: corrupt, destination: "x", owner: nil)], scratch.file("o4"), corrupt),
        ]
        for (name, items, out, path) in cases {
            do {
                _ = try await LayerWriter().write(items, to: out)
                XCTFail("\(name): no error")
            } catch {
                XCTAssertTrue(error is LayerError, name)
                assertOneLine(error, mentions: path)
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name): partial file left")
            }
        }
    }
}

import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// Changed files read ahead on several threads (`FileDigestIndex.prehash`) give exactly what
/// reading them in order gives: the same digests, the same step key, the same files counted
/// as read and the same stored index.
final class FileDigestIndexPrehashTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "prehash-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8)
        var times = [timespec(tv_sec: 978_307_200, tv_nsec: 0), timespec(tv_sec: 978_307_200, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, root + "/" + name, &times, 0), 0)
    }

    /// The files as a build asks for them, with the walk's stamps.
    private func files(_ names: [String]) throws -> [(path: String, stamp: FileDigestIndex.Stamp)] {
        try names.map { (root + "/" + $0, try FileDigestIndex.status(root + "/" + $0)) }
    }

    private func items(_ files: [(path: String, stamp: FileDigestIndex.Stamp)]) -> [LayerItem] {
        files.map { .entry(LayerEntry(path: "app/" + ($0.path as NSString).lastPathComponent,
                                      kind: .regularFile(.file(path: $0.path, size: $0.stamp.size)), mode: 0o644, uid: 0, gid: 0, mtimeSeconds: 1)) }
    }

    func testReadAheadEqualsReadingInOrder() throws {
        var names = (0..<60).map { "f\($0)" }
        for (n, name) in names.enumerated() { try write(name, String(repeating: "content \(n) ", count: n * 50 + 1)) }
        // A first build, its entries then settled (hashed long after their last change).
        let first = FileDigestIndex(root: root, encoded: nil)
        for file in try files(names) { _ = try first.digest(ofFile: file.path, stamp: file.stamp) }
        var entries = try XCTUnwrap(FileDigestIndex.decode(first.encoded()))
        for path in entries.keys { entries[path]!.hashedAt = entries[path]!.ctime + 10_000_000_000 }
        let stored = FileDigestIndex.encode(entries)

        // Twenty files edited, five added (in the middle of the order), the rest untouched.
        for n in stride(from: 0, to: 60, by: 3) { try write(names[n], "edited \(n)") }
        for n in 0..<5 { try write("new\(n)", "new file \(n)") }
        names.insert(contentsOf: (0..<5).map { "new\($0)" }, at: 30)
        let asked = try files(names)

        let inOrder = FileDigestIndex(root: root, encoded: stored)
        let keyInOrder = try StepCacheKey.contentDigest(of: items(asked)) { position, path in
            try inOrder.digest(ofFile: path, stamp: asked[position].stamp)
        }
        let ahead = FileDigestIndex(root: root, encoded: stored)
        XCTAssertEqual(Set(ahead.filesToRead(asked).map(\.path)),
                       Set((stride(from: 0, to: 60, by: 3).map { "f\($0)" } + (0..<5).map { "new\($0)" }).map { root + "/" + $0 }))
        ahead.prehash(asked, jobs: 4)
        XCTAssertEqual(ahead.prehashed.count, 25, "exactly the edited and new files were read ahead")
        let keyAhead = try StepCacheKey.contentDigest(of: items(asked)) { position, path in
            try ahead.digest(ofFile: path, stamp: asked[position].stamp)
        }
        XCTAssertTrue(ahead.prehashed.isEmpty, "every file read ahead was taken")
        XCTAssertEqual(keyAhead, keyInOrder)
        XCTAssertEqual(ahead.hashedFiles, inOrder.hashedFiles)
        XCTAssertEqual(ahead.hashedFiles, 25)
        // The stored index: same entries in the same order (hashedAt is the moment of reading).
        func withoutMoments(_ index: FileDigestIndex) throws -> [String: FileDigestIndex.Stamp] {
            try XCTUnwrap(FileDigestIndex.decode(index.encoded())).mapValues(\.stamp)
        }
        XCTAssertEqual(try withoutMoments(ahead), try withoutMoments(inOrder))
        XCTAssertEqual(try XCTUnwrap(FileDigestIndex.decode(ahead.encoded())).mapValues(\.digest),
                       try XCTUnwrap(FileDigestIndex.decode(inOrder.encoded())).mapValues(\.digest))
        XCTAssertEqual(FileDigestIndex.parse(ahead.encoded())?.map { FileDigestIndex.path(of: $0, in: ahead.encoded()) },
                       FileDigestIndex.parse(inOrder.encoded())?.map { FileDigestIndex.path(of: $0, in: inOrder.encoded()) })
    }

    func testAnUnreadableFileFailsInOrderWithItsOwnError() throws {
        for name in ["a", "b", "c"] { try write(name, name) }
        let asked = try files(["a", "b", "c"])
        try FileManager.default.removeItem(atPath: root + "/b")
        let index = FileDigestIndex(root: root, encoded: nil)
        index.prehash(asked, jobs: 2)
        XCTAssertEqual(index.prehashed.count, 2, "the missing file is left for the lookup")
        XCTAssertNoThrow(try index.digest(ofFile: asked[0].path, stamp: asked[0].stamp))
        XCTAssertThrowsError(try index.digest(ofFile: asked[1].path, stamp: asked[1].stamp)) { error in
            XCTAssertTrue("\(error)".contains("/b"), "\(error)")
        }
    }
}

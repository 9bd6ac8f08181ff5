import BuildContext
import DockerfileSyntax
import Foundation
import ImageModel
import Layers
import XCTest
@testable import ImageBuilder

/// What a rebuild of `COPY . /dst/` keys on, through the same parts a build uses — the context
/// walk, `CopyPlanner` (its stamps), `FileDigestIndex` carried from one build to the next, and
/// `StepCacheKey.contentDigest`: content changes the key, stat alone never does, and only files
/// whose stat changed are read again.
final class CopyKeyRulesTests: XCTestCase {
    private var root: String!

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "copykey-\(UUID().uuidString.prefix(8))"
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A fresh context: two files, a symlink, a directory, a `.dockerignore` that hides itself.
    private func makeContext() throws {
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
        try write("a.txt", "alpha")
        try write("sub/b.txt", "bravo")
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: "a.txt")
        try write(".dockerignore", "Dockerfile\n.dockerignore\n")
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: root + "/" + name, atomically: false, encoding: .utf8)
    }

    /// One build's COPY key; `index` is the stored file index, carried to the next build.
    private func copyKey(_ index: inout [UInt8]?) throws -> (key: String, read: Int) {
        let context = try ContextDirectory.buildContext(root: root, dockerfilePath: root + "/Dockerfile")
        var planner = CopyPlanner(instruction: CopyInstruction(sources: ["."], destination: "/dst/"), isAdd: false,
                                  source: .init(directory: context, owners: nil), workdir: "/", view: FilesystemView(),
                                  owner: nil, chmod: nil, now: 0)
        let items = try planner.plan()
        let stamps = planner.plannedStamps
        XCTAssertEqual(stamps.count, items.count)
        let files = FileDigestIndex(root: context.root, encoded: index)
        let key = try StepCacheKey.contentDigest(of: items) { position, path in
            try files.digest(ofFile: path, stamp: stamps[position])
        }
        XCTAssertEqual(key, try StepCacheKey.contentDigest(of: items), "the index gives the digests a full read gives")
        index = files.encoded()
        return (key, files.hashedFiles)
    }

    /// Lets the kernel's coarse clock move past the files' last change, so the index trusts them.
    private func settle() { usleep(30_000) }

    func testEachChangeKeysByContentAndReadsOnlyChangedFiles() throws {
        let a = { self.root + "/a.txt" }
        let cases: [(name: String, change: () throws -> Void, sameKey: Bool, read: Int)] = [
            ("nothing", {}, true, 0),
            ("touched: same bytes, new mtime", { XCTAssertEqual(utimes(a(), nil), 0) }, true, 1),
            ("same size, same mtime, other bytes (only ctime tells)", {
                var st = stat()
                XCTAssertEqual(lstat(a(), &st), 0)
                try self.write("a.txt", "ALPHA")
                var times = [st.st_atim, st.st_mtim]
                XCTAssertEqual(utimensat(AT_FDCWD, a(), &times, AT_SYMLINK_NOFOLLOW), 0)
            }, false, 1),
            ("replaced by a copy: new inode, same bytes and mtime", {
                var st = stat()
                XCTAssertEqual(lstat(a(), &st), 0)
                try FileManager.default.removeItem(atPath: a())
                try self.write("a.txt", "alpha")
                var times = [st.st_atim, st.st_mtim]
                XCTAssertEqual(utimensat(AT_FDCWD, a(), &times, AT_SYMLINK_NOFOLLOW), 0)
            }, true, 1),
            ("renamed", { XCTAssertEqual(rename(a(), self.root + "/c.txt"), 0) }, false, 1),
            ("mode changed", { XCTAssertEqual(chmod(a(), 0o600), 0) }, false, 1),
            ("symlink target changed", {
                try FileManager.default.removeItem(atPath: self.root + "/link")
                try FileManager.default.createSymbolicLink(atPath: self.root + "/link", withDestinationPath: "sub/b.txt")
            }, false, 0),
            (".dockerignore now excludes a file", { try self.write(".dockerignore", "Dockerfile\n.dockerignore\nsub/b.txt\n") }, false, 0),
            ("new empty directory", { try FileManager.default.createDirectory(atPath: self.root + "/empty", withIntermediateDirectories: false) },
             false, 0),
        ]
        for c in cases {
            try makeContext()
            settle()
            var index: [UInt8]? = nil
            let cold = try copyKey(&index)
            XCTAssertEqual(cold.read, 2, "\(c.name): the cold build reads every file once")
            settle()
            try c.change()
            settle()
            let rebuilt = try copyKey(&index)
            XCTAssertEqual(rebuilt.key == cold.key, c.sameKey, c.name)
            XCTAssertEqual(rebuilt.read, c.read, "\(c.name): files read again")
            let again = try copyKey(&index)
            XCTAssertEqual(again.key, rebuilt.key, "\(c.name): a further rebuild")
            XCTAssertEqual(again.read, 0, "\(c.name): nothing read the third time")
        }
    }

    /// A directory source's files land below the destination by their bytes, also when a name
    /// starts with a combining mark (which forms one Character with the `/` before it).
    func testDirectorySourceTargetsKeepNameBytes() throws {
        try makeContext()
        for name in ["\u{301}x", "e\u{301}", "\u{E9}", "plain"] { try write("sub/" + name, name) }
        let context = try ContextDirectory.buildContext(root: root, dockerfilePath: root + "/Dockerfile")
        let cases: [(source: String, destination: String, expected: [String])] = [
            ("sub", "/dst/", ["dst", "dst/b.txt", "dst/e\u{301}", "dst/plain", "dst/\u{E9}", "dst/\u{301}x"]),
            ("sub", "/", ["b.txt", "e\u{301}", "plain", "\u{E9}", "\u{301}x"]),
            ("./sub/", "/d/e/", ["d", "d/e", "d/e/b.txt", "d/e/e\u{301}", "d/e/plain", "d/e/\u{E9}", "d/e/\u{301}x"]),
        ]
        for c in cases {
            var planner = CopyPlanner(instruction: CopyInstruction(sources: [c.source], destination: c.destination), isAdd: false,
                                      source: .init(directory: context, owners: nil), workdir: "/", view: FilesystemView(),
                                      owner: nil, chmod: nil, now: 0)
            let paths = try planner.plan().compactMap { item -> [UInt8]? in
                guard case .entry(let entry) = item else { return nil }
                return Array(entry.path.utf8)
            }
            XCTAssertEqual(paths, c.expected.map { Array($0.utf8) }, "COPY \(c.source) \(c.destination)")
        }
    }
}

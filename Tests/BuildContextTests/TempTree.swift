import Foundation
import TemporaryDirectories

/// A throw-away directory tree for file-system tests, removed when the test ends
/// (`TemporaryDirectories.makeTemporaryDirectory`).
final class TempTree {
    let root: String

    init() throws {
        let base = try makeTemporaryDirectory("bctx")
        root = URL(fileURLWithPath: base).resolvingSymlinksInPath().path
    }

    /// Creates files (`a/b.txt`) and directories (`a/c/`); parents are created as needed.
    @discardableResult
    func make(_ paths: [String], content: String = "x") throws -> TempTree {
        for p in paths {
            let full = root + "/" + p
            if p.hasSuffix("/") {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try Data(content.utf8).write(to: URL(fileURLWithPath: full))
            }
        }
        return self
    }

    func write(_ path: String, _ text: String) throws {
        try make([path], content: text)
    }

    func symlink(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + path, withDestinationPath: target)
    }
}

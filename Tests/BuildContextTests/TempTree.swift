import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throw-away directory tree for file-system tests.
final class TempTree {
    let root: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path + "/bctx-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
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

    deinit {
        // Restore permissions changed by tests so cleanup succeeds.
        if let e = FileManager.default.enumerator(atPath: root) {
            // Never through a symlink: tests point some outside the tree (at /tmp itself).
            while let p = e.nextObject() as? String {
                var st = stat()
                if lstat(root + "/" + p, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK { chmod(root + "/" + p, 0o755) }
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}

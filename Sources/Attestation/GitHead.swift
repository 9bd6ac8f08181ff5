import FileDescriptorIO
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The commit checked out in the git work tree that holds a directory (the build context), for
/// provenance. Read from `.git` directly — `HEAD`, loose refs, `packed-refs`, and the `gitdir:`
/// / `commondir` indirections of linked work trees and submodules — rather than by running
/// `git rev-parse HEAD`: a build must not depend on git being installed, and a hostile context
/// must not get to choose what runs (a repository's config can name programs git would run).
///
/// Everything read is treated as hostile: only regular files, at most `maxFileSize` bytes
/// (packed-refs `maxPackedRefsSize`), symbolic refs followed at most 5 deep and only below
/// `refs/`, the commit accepted only as 40 (SHA-1) or 64 (SHA-256) lowercase hex digits. The
/// work tree's cleanliness is not checked (that needs the index and every file's content).
public struct GitHead: Sendable, Equatable {
    /// The commit's object name in hex.
    public var commit: String
    /// The branch ref HEAD points at (`refs/heads/main`); nil for a detached HEAD.
    public var ref: String?

    /// The in-toto digest-set key for a git commit.
    public var digestAlgorithm: String { "gitCommit" }

    public init(commit: String, ref: String?) {
        self.commit = commit
        self.ref = ref
    }

    /// What looking for the commit found.
    public enum Lookup: Sendable, Equatable {
        /// No `.git` in the directory or above it.
        case notInWorkTree
        case found(GitHead)
        /// A `.git` exists but no commit could be read (an unborn branch, a damaged or hostile
        /// repository): the reason, for a warning.
        case unreadable(String)
    }

    static let maxFileSize = 64 << 10
    static let maxPackedRefsSize = 32 << 20

    /// The commit of the work tree holding `directory` (searched upwards to `/`).
    public static func lookup(directory: String) -> Lookup {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        for _ in 0..<256 {
            let dotGit = current == "/" ? "/.git" : current + "/.git"
            var info = stat()
            if lstat(dotGit, &info) == 0 {
                do {
                    return .found(try readHead(dotGit: dotGit))
                } catch let error as Failure {
                    return .unreadable(error.reason)
                } catch {
                    return .unreadable("\(error)")
                }
            }
            if current == "/" { break }
            current = (current as NSString).deletingLastPathComponent
            if current.isEmpty { current = "/" }
        }
        return .notInWorkTree
    }

    struct Failure: Error {
        var reason: String
    }

    static func readHead(dotGit: String) throws -> GitHead {
        var info = stat()
        guard stat(dotGit, &info) == 0 else { throw Failure(reason: "\(dotGit): cannot be read") }
        let gitDirectory: String
        if (info.st_mode & S_IFMT) == S_IFDIR {
            gitDirectory = dotGit
        } else {
            // A linked work tree or submodule: `gitdir: PATH`, relative to the file's directory.
            let text = try readText(dotGit, limit: maxFileSize)
            guard text.hasPrefix("gitdir: ") else { throw Failure(reason: "\(dotGit): not a gitdir file") }
            let path = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            gitDirectory = path.hasPrefix("/") ? path : (dotGit as NSString).deletingLastPathComponent + "/" + path
        }
        var commonDirectory = gitDirectory
        if let common = try? readText(gitDirectory + "/commondir", limit: maxFileSize) {
            let path = common.trimmingCharacters(in: .whitespacesAndNewlines)
            commonDirectory = path.hasPrefix("/") ? path : gitDirectory + "/" + path
        }
        var content = try readText(gitDirectory + "/HEAD", limit: maxFileSize).trimmingCharacters(in: .whitespacesAndNewlines)
        var branch: String?
        for _ in 0..<5 {
            guard content.hasPrefix("ref:") else {
                guard isObjectName(content) else { throw Failure(reason: "\(gitDirectory)/HEAD: not a commit or a ref") }
                return GitHead(commit: content, ref: branch)
            }
            let ref = content.dropFirst(4).trimmingCharacters(in: .whitespaces)
            guard isSafeRefName(ref) else { throw Failure(reason: "HEAD names an invalid ref \"\(ref.prefix(80))\"") }
            if branch == nil { branch = ref }
            if let loose = try looseRef(ref, in: [gitDirectory, commonDirectory]) {
                content = loose
            } else if let packed = try packedRef(ref, in: commonDirectory) {
                content = packed
            } else {
                throw Failure(reason: "\(ref) has no commit yet")
            }
        }
        throw Failure(reason: "HEAD: symbolic refs nest more than 5 deep")
    }

    private static func looseRef(_ ref: String, in directories: [String]) throws -> String? {
        for directory in directories {
            let path = directory + "/" + ref
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            return try readText(path, limit: maxFileSize).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }

    /// `packed-refs`: `<hex> <refname>` lines; `#` comments and `^` peeled lines skipped.
    private static func packedRef(_ ref: String, in directory: String) throws -> String? {
        let path = directory + "/packed-refs"
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        for line in try readText(path, limit: maxPackedRefsSize).split(whereSeparator: \.isNewline) {
            guard !line.hasPrefix("#"), !line.hasPrefix("^") else { continue }
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2, fields[1] == ref { return String(fields[0]) }
        }
        return nil
    }

    /// 40 or 64 lowercase hex digits.
    static func isObjectName(_ text: String) -> Bool {
        (text.utf8.count == 40 || text.utf8.count == 64) && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Below `refs/`, no `..`, no empty or hidden components, printable ASCII only.
    static func isSafeRefName(_ ref: String) -> Bool {
        guard ref.hasPrefix("refs/"), ref.utf8.count <= 1024 else { return false }
        guard ref.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\\") }) else { return false }
        return !ref.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0.hasPrefix(".") }
    }

    /// A regular file's content (a FIFO or device never blocks or streams forever), at most `limit` bytes.
    static func readText(_ path: String, limit: Int) throws -> String {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw Failure(reason: "\(path): not a regular file") }
        guard Int(info.st_size) <= limit else { throw Failure(reason: "\(path): larger than \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let total = bytes.withUnsafeMutableBytes { buffer in
            do throws(FileDescriptorIOError) {
                return try FileDescriptorIO.readFully(fd, into: buffer)
            } catch {
                return error.transferred  // a failed read ends the text where it failed
            }
        }
        guard let text = String(validating: bytes[0..<total], as: UTF8.self) else { throw Failure(reason: "\(path): not UTF-8") }
        return text
    }
}

@testable import Attestation
import Foundation
import XCTest

/// `GitHead.lookup` on hand-made `.git` layouts, hostile ones included: each finds the commit
/// HEAD names, or says why not — never a crash, a hang on a FIFO, or a file read outside `refs/`.
final class GitHeadTests: XCTestCase {
    static let commit = "0123456789abcdef0123456789abcdef01234567"
    static let other = String(repeating: "ab", count: 32)

    /// One case: files to write (path → content; `FIFO` makes a named pipe), the directory to
    /// look up from, and what the lookup must say.
    struct Case {
        var name: String
        var files: [String: String]
        var lookIn = "work"
        var expected: GitHead.Lookup
    }

    func testLookup() throws {
        let c = Self.commit
        let cases: [Case] = [
            Case(name: "loose branch", files: ["work/.git/HEAD": "ref: refs/heads/main\n", "work/.git/refs/heads/main": c + "\n"],
                 expected: .found(GitHead(commit: c, ref: "refs/heads/main"))),
            Case(name: "from a subdirectory", files: ["work/.git/HEAD": "ref: refs/heads/main\n",
                                                      "work/.git/refs/heads/main": c, "work/a/b/keep": ""],
                 lookIn: "work/a/b", expected: .found(GitHead(commit: c, ref: "refs/heads/main"))),
            Case(name: "packed ref", files: ["work/.git/HEAD": "ref: refs/heads/dev\n",
                                             "work/.git/packed-refs": "# pack-refs with: peeled\n\(Self.other) refs/heads/main\n\(c) refs/heads/dev\n^\(Self.other)\n"],
                 expected: .found(GitHead(commit: c, ref: "refs/heads/dev"))),
            Case(name: "detached SHA-256", files: ["work/.git/HEAD": Self.other + "\n"],
                 expected: .found(GitHead(commit: Self.other, ref: nil))),
            Case(name: "linked work tree", files: [
                "work/.git": "gitdir: ../main/.git/worktrees/work\n",
                "main/.git/worktrees/work/HEAD": "ref: refs/heads/feature\n",
                "main/.git/worktrees/work/commondir": "../..\n",
                "main/.git/refs/heads/feature": c + "\n"], expected: .found(GitHead(commit: c, ref: "refs/heads/feature"))),
            Case(name: "no repository", files: ["work/file": "x"], expected: .notInWorkTree),
            Case(name: "unborn branch", files: ["work/.git/HEAD": "ref: refs/heads/main\n"],
                 expected: .unreadable("refs/heads/main has no commit yet")),
            Case(name: "ref escaping refs/", files: ["work/.git/HEAD": "ref: refs/../../secret\n", "work/secret": c],
                 expected: .unreadable("HEAD names an invalid ref \"refs/../../secret\"")),
            Case(name: "ref outside refs/", files: ["work/.git/HEAD": "ref: config\n"],
                 expected: .unreadable("HEAD names an invalid ref \"config\"")),
            Case(name: "not a commit", files: ["work/.git/HEAD": "hello\n"], expected: .unreadable("HEAD: not a commit or a ref")),
            Case(name: "upper-case hex", files: ["work/.git/HEAD": c.uppercased()], expected: .unreadable("HEAD: not a commit or a ref")),
            Case(name: "symbolic loop", files: ["work/.git/HEAD": "ref: refs/heads/a\n", "work/.git/refs/heads/a": "ref: refs/heads/a\n"],
                 expected: .unreadable("HEAD: symbolic refs nest more than 5 deep")),
            Case(name: "FIFO as HEAD", files: ["work/.git/HEAD": "FIFO"], expected: .unreadable("HEAD: not a regular file")),
            Case(name: "huge HEAD", files: ["work/.git/HEAD": String(repeating: "a", count: 70_000)],
                 expected: .unreadable("HEAD: larger than 65536 bytes")),
            Case(name: "gitdir file without gitdir", files: ["work/.git": "nonsense\n"], expected: .unreadable(".git: not a gitdir file")),
        ]
        for test in cases {
            let root = NSTemporaryDirectory() + "githead-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: root) }
            for (path, content) in test.files {
                let full = root + "/" + path
                try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                if content == "FIFO" {
                    XCTAssertEqual(mkfifo(full, 0o644), 0, test.name)
                } else {
                    try content.write(toFile: full, atomically: false, encoding: .utf8)
                }
            }
            let result = GitHead.lookup(directory: root + "/" + test.lookIn)
            switch (result, test.expected) {
            case (.unreadable(let reason), .unreadable(let expected)):
                // Reasons name the file by its full path; compare the part after the root.
                XCTAssertTrue(reason.replacingOccurrences(of: root + "/work/.git/", with: "")
                    .replacingOccurrences(of: root + "/work/", with: "").hasPrefix(expected), "\(test.name): \(reason)")
            default:
                XCTAssertEqual(result, test.expected, test.name)
            }
        }
    }

    func testSecretLookingBuildArgNames() {
        let cases: [(String, Bool)] = [
            ("API_TOKEN", true), ("DB_PASSWORD", true), ("AWS_SECRET_ACCESS_KEY", true), ("key", true), ("GITHUB_AUTH", true),
            ("PUBLIC_KEY", false), ("TOKENIZER", false), ("KEYBOARD", false), ("VERSION", false), ("PASSAGE", false),
            ("NPM_CREDENTIALS", true), ("passwd", true),
        ]
        for (name, secret) in cases {
            XCTAssertEqual(ProvenanceRequest.looksSecret(name), secret, name)
        }
    }
}

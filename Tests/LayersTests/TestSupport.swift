import CArchive
import Foundation
import TemporaryDirectories
import TestSupport
import XCTest
@testable import Layers

/// Scratch directory removed when the test ends (`TemporaryDirectories.makeTemporaryDirectory`: a
/// deinit would come only when XCTest lets go of the test case, at the end of the run or never).
/// Immutable, so tasks may share it.
final class Scratch: Sendable {
    let path: String
    init() {
        path = try! makeTemporaryDirectory("layers-test")
    }
    func file(_ name: String) -> String { path + "/" + name }
}

/// Runs `/bin/sh -c script` (extra `arguments` become `$0`, `$1`, …), collecting its output.
@discardableResult
func shell(_ script: String, _ arguments: String...) throws -> ChildProcessResult {
    try runChildProcess("/bin/sh", ["-c", script] + arguments)
}

extension ChildProcessResult {
    var text: String { stdoutText }
}

func hasTool(_ name: String) -> Bool {
    (try? shell("command -v \(name) >/dev/null"))?.status == 0
}

/// Deterministic pseudo-random bytes (xorshift), optionally mixed with text runs.
func pseudoRandom(count: Int, seed: UInt64, textEvery: Int = 0) -> [UInt8] {
    var state = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    let text = Array("the quick brown fox jumps over the lazy dog 0123456789\n".utf8)
    for i in 0..<count {
        if textEvery > 0 && (i / 4096) % textEvery == 0 {
            out[i] = text[i % text.count]
        } else {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            out[i] = UInt8(truncatingIfNeeded: state)
        }
    }
    return out
}

/// One entry as read back by libarchive.
struct ReadEntry: Equatable {
    var path: String
    var type: UInt32
    var perm: UInt32
    var uid: Int
    var gid: Int
    var mtime: Int64
    var mtimeNanos: Int
    var size: Int64
    var symlink: String?
    var hardlink: String?
    var uname: String?
    var content: [UInt8]
}

/// Reads every entry of a (compressed) tar with libarchive.
func readArchive(_ path: String) throws -> [ReadEntry] {
    let reader = try TarReader(path: path)
    var entries: [ReadEntry] = []
    while let e = try reader.next() {
        let hardlink = TarReader.hardlink(of: e)
        entries.append(ReadEntry(
            path: reader.entryPath(e), type: archive_entry_filetype(e),
            perm: UInt32(archive_entry_perm(e)), uid: Int(archive_entry_uid(e)), gid: Int(archive_entry_gid(e)),
            mtime: Int64(archive_entry_mtime(e)), mtimeNanos: archive_entry_mtime_nsec(e),
            size: archive_entry_size(e),
            symlink: archive_entry_filetype(e) == FileType.symlink ? TarReader.symlink(of: e) : nil,
            hardlink: hardlink, uname: archive_entry_uname(e).map { String(cString: $0) },
            content: try reader.readAll()))
    }
    return entries
}

func sha256sum(_ command: String) throws -> String {
    String(try shell(command + " | sha256sum").text.prefix(64))
}

extension XCTestCase {
    func assertOneLine(_ error: Error, mentions path: String, file: StaticString = #filePath, line: UInt = #line) {
        let text = String(describing: error)
        XCTAssertFalse(text.contains("\n"), "multi-line: \(text)", file: file, line: line)
        XCTAssertTrue(text.contains(path), "\(text) does not name \(path)", file: file, line: line)
    }
}

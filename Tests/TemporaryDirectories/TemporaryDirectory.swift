import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Makes a new directory `$TMPDIR/<prefix>-XXXXXXXX` (mkdtemp: never one that existed; mode 0755)
/// that is removed, with everything below it, when the test that made it has finished — its
/// teardown included. Made outside any test (a class's `setUp()`), it is removed when that
/// class's tests have finished (after its class `tearDown()`).
///
/// A target of its own (not in TestSupport): it needs XCTest, and TestSupport is also linked into
/// the registry-fixtures executable, which must not carry XCTest.
///
/// Why one helper: tests made 24,000 directories in /tmp a day (a store per end-to-end test,
/// a context, an output layout…) and removed few; a CI runner with a small disk fills up.
/// Every test target makes its scratch space here, so none forgets. Each caller keeps its own
/// prefix, so a directory that outlives its run (a crash) still says who made it.
public func makeTemporaryDirectory(_ prefix: String) throws -> String {
    let base = NSTemporaryDirectory()
    let separator = base.hasSuffix("/") ? "" : "/"
    var template = Array("\(base)\(separator)\(prefix)-XXXXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [
            NSFilePathErrorKey: base, NSLocalizedDescriptionKey: "mkdtemp in \(base): \(String(cString: strerror(errno)))",
        ])
    }
    let path = String(cString: made)
    TemporaryDirectoryRemoval.shared.remember(path)
    // mkdtemp makes it 0700; tests that switch to an unprivileged user (setpriv) expect what
    // FileManager.createDirectory gave them before: readable and searchable by others.
    chmod(path, 0o755)
    return path
}

/// Removes the directories `makeTemporaryDirectory` made when their test (or class) ends.
///
/// XCTest tells an observer when each test case and each suite starts and finishes; the
/// observer is registered at the first `makeTemporaryDirectory`, which may already be inside
/// a test or inside a class's `setUp()`. Which one is known at the next event: a test case
/// starting means the class was setting up (so its directories live until the class's
/// suite finishes), a test case finishing means they were the test's.
final class TemporaryDirectoryRemoval: NSObject, XCTestObservation, @unchecked Sendable {
    // @unchecked: every stored property is read and written under `lock` (XCTest calls the
    // observer on the thread that runs the tests; a test may make directories on any thread).
    private let lock = NSLock()
    private var registered = false
    /// Whether a test case is running: nil until the first event after registration.
    private var insideTestCase: Bool?
    private var unplaced: [String] = []
    private var testCaseDirectories: [String] = []
    private var suiteDirectories: [String] = []

    static let shared = TemporaryDirectoryRemoval()

    func remember(_ path: String) {
        lock.lock()
        switch insideTestCase {
        case true?: testCaseDirectories.append(path)
        case false?: suiteDirectories.append(path)
        case nil: unplaced.append(path)
        }
        let register = !registered
        registered = true
        lock.unlock()
        if register { XCTestObservationCenter.shared.addTestObserver(self) }
    }

    func testCaseWillStart(_ testCase: XCTestCase) {
        lock.lock()
        suiteDirectories += unplaced
        unplaced = []
        insideTestCase = true
        lock.unlock()
    }

    func testCaseDidFinish(_ testCase: XCTestCase) {
        lock.lock()
        let finished = unplaced + testCaseDirectories
        unplaced = []
        testCaseDirectories = []
        insideTestCase = false
        lock.unlock()
        Self.remove(finished)
    }

    func testSuiteDidFinish(_ testSuite: XCTestSuite) {
        lock.lock()
        let finished = unplaced + testCaseDirectories + suiteDirectories
        unplaced = []
        testCaseDirectories = []
        suiteDirectories = []
        insideTestCase = false
        lock.unlock()
        Self.remove(finished)
    }

    /// FileManager first; for what it cannot remove (a tree deeper than PATH_MAX, a directory a
    /// test left without permissions for a non-root run), every directory is given u+rwx (find
    /// acts on a directory before it reads it, and never follows a symlink), then GNU rm removes
    /// the rest walking by descriptor. What neither removes is reported, not failed: the test ran.
    private static func remove(_ paths: [String]) {
        for path in paths.reversed() {
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch {
                var st = stat()
                if lstat(path, &st) != 0 && errno == ENOENT { continue }  // the test removed it
                let script = #"find "$1" -xdev -type d ! -perm -u=rwx -exec chmod u+rwx {} \; 2>/dev/null; rm -rf --one-file-system -- "$1""#
                let rm = try? runChildProcess("/bin/sh", ["-c", script, "sh", path])
                if rm?.status != 0 {
                    FileHandle.standardError.write(Data("TestSupport: cannot remove \(path): \(rm?.stderrText ?? "\(error)")\n".utf8))
                }
            }
        }
    }
}

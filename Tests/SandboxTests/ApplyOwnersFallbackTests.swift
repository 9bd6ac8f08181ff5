import Foundation
import ProcessWaiting
import TemporaryDirectories
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// ops.c gives a mode through the entry's O_PATH descriptor with `fchmodat2` (Linux 6.6+) and,
/// where the kernel lacks it (ENOSYS: Debian bookworm's 6.1, for one) or an outer sandbox's
/// seccomp policy refuses it (EPERM), with `chmod("/proc/self/fd/N")`. This kernel has
/// `fchmodat2`, so the fallback would never run here: these tests re-run `ApplyOwnersTests`
/// (the kinds of entry, and the symlink-swapping race) in a child of this test binary under a
/// seccomp filter that answers `fchmodat2` with each of those errors. The filter is installed
/// by a few lines of Python (ctypes, `prctl`), which first checks that it holds: a bare
/// `fchmodat2` in that process must fail with the chosen error, or the child is not run.
final class ApplyOwnersFallbackTests: XCTestCase {
    /// Set in the child: `ApplyOwnersTests` runs there; this class must not recurse.
    static let childVariable = "SWIFTDOCK_TEST_FCHMODAT2_REFUSED"

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment[Self.childVariable] == nil else {
            throw XCTSkip("the child run of ApplyOwnersTests")
        }
        guard geteuid() == 0 else { throw XCTSkip("ApplyOwnersTests need root (the identity map)") }
        guard ProcessInfo.processInfo.arguments[0].hasSuffix(".xctest") else {
            throw XCTSkip("test binary \(ProcessInfo.processInfo.arguments[0]) cannot be re-run as a child")
        }
    }

    func testOwnersAndModesThroughProcSelfFdWhenFchmodat2IsRefused() throws {
        for (name, errnoValue) in [("ENOSYS", ENOSYS), ("EPERM", EPERM)] {
            let log = try makeTemporaryDirectory("swiftdock-fchmodat2-refused") + "/child.log"
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            child.arguments = ["python3", "-c", Self.refuseFchmodat2, "\(errnoValue)",
                               ProcessInfo.processInfo.arguments[0], "SandboxTests.ApplyOwnersTests"]
            child.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: name]) { $1 }
            FileManager.default.createFile(atPath: log, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            child.standardOutput = output
            child.standardError = output
            let exit = try ProcessExit.start(child)
            exit.wait()
            try output.close()
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            XCTAssertEqual(child.terminationStatus, 0, "fchmodat2 refused with \(name):\n\(text.suffix(3000))")
            // The child really ran both tests (a skip would also exit 0).
            XCTAssertTrue(text.contains("Executed 2 tests, with 0 failures"), "fchmodat2 refused with \(name):\n\(text.suffix(3000))")
            XCTAssertFalse(text.contains("skipped"), "fchmodat2 refused with \(name): a test was skipped:\n\(text.suffix(3000))")
        }
    }

    /// argv: ERRNO PROGRAM ARGS…: installs a seccomp filter answering syscall 452 (`fchmodat2`,
    /// the same number on every architecture) with ERRNO and allowing everything else, checks
    /// that it holds, then execs PROGRAM (the filter is inherited across exec and fork).
    static let refuseFchmodat2 = """
    import ctypes, os, platform, struct, sys
    err = int(sys.argv[1])
    arch = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}[platform.machine()]
    def op(code, k, jt=0, jf=0): return struct.pack("HBBI", code, jt, jf, k)
    LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06
    program = b"".join([
        op(LD_W_ABS, 4),                 # seccomp_data.arch
        op(JEQ_K, arch, 0, 3),           # another architecture: allow
        op(LD_W_ABS, 0),                 # seccomp_data.nr
        op(JEQ_K, 452, 0, 1),
        op(RET_K, 0x00050000 | err),     # SECCOMP_RET_ERRNO | err
        op(RET_K, 0x7FFF0000),           # SECCOMP_RET_ALLOW
    ])
    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]
    libc = ctypes.CDLL(None, use_errno=True)
    fprog = Fprog(len(program) // 8, program)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        sys.exit("seccomp: " + os.strerror(ctypes.get_errno()))
    if libc.syscall(452, -100, b".", 0o755, 0) != -1 or ctypes.get_errno() != err:
        sys.exit("the filter does not refuse fchmodat2 with errno %d" % err)
    os.execv(sys.argv[2], sys.argv[2:])
    """
}

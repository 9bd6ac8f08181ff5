import Foundation
import ProcessWaiting
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ProcessExitTests: XCTestCase {
    private func shell(_ script: String) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        return process
    }

    /// Exit codes and signals come through as Foundation reports them, for both waits.
    func testStatusAndSignal() async throws {
        let cases: [(script: String, reason: Process.TerminationReason, status: Int32)] = [
            ("exit 0", .exit, 0),
            ("exit 3", .exit, 3),
            ("exit 255", .exit, 255),
            ("kill -KILL $$", .uncaughtSignal, SIGKILL),
        ]
        for c in cases {
            let blocking = shell(c.script)
            let exit = try ProcessExit.start(blocking)
            exit.wait()
            exit.wait()  // a second wait returns at once
            XCTAssertEqual(blocking.terminationReason, c.reason, c.script)
            XCTAssertEqual(blocking.terminationStatus, c.status, c.script)

            let suspending = shell(c.script)
            await (try ProcessExit.start(suspending)).ended()
            XCTAssertFalse(suspending.isRunning, c.script)
            XCTAssertEqual(suspending.terminationReason, c.reason, c.script)
            XCTAssertEqual(suspending.terminationStatus, c.status, c.script)
        }
    }

    /// A child killed from outside while it is waited on. (SIGKILL: a child inherits the
    /// spawning thread's signal mask, and Swift's threads may block catchable signals.)
    func testKilledWhileWaitedOn() async throws {
        let child = shell("exec sleep 30")
        let exit = try ProcessExit.start(child)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { kill(child.processIdentifier, SIGKILL) }
        await exit.ended()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        XCTAssertEqual(child.terminationStatus, SIGKILL)
    }

    /// A child that ends before anyone waits, and one that cannot start.
    func testEarlyExitAndLaunchFailure() throws {
        let quick = shell("exit 7")
        let exit = try ProcessExit.start(quick)
        usleep(200_000)
        exit.wait()
        XCTAssertEqual(quick.terminationStatus, 7)

        let missing = Process()
        missing.executableURL = URL(fileURLWithPath: "/no/such/program")
        XCTAssertThrowsError(try ProcessExit.start(missing))
        XCTAssertThrowsError(try missing.runToExit())
    }

    /// The waiting thread sleeps until the child ends. Foundation's `waitUntilExit()` runs the
    /// thread's run loop in 50 ms slices: with a run loop that has no sources (a plain thread, as
    /// under XCTest) each slice returns at once and the thread spins on the CPU for the whole wait;
    /// elsewhere it wakes some 20 times a second. Counted with getrusage(RUSAGE_THREAD) on a
    /// dedicated thread: CPU time and voluntary context switches during a 1-second wait.
    func testWaitingThreadIsNotWokenWhileTheChildRuns() throws {
        let child = shell("sleep 1")
        let exit = try ProcessExit.start(child)
        final class Usage: @unchecked Sendable { var switches = 0, microseconds = 0 }  // written before `done` is signalled, read after
        let usage = Usage()
        let done = DispatchSemaphore(value: 0)
        let rusageThread = __rusage_who_t(1)  // RUSAGE_THREAD (Linux); Swift does not import the macro
        let thread = Thread {
            var before = rusage(), after = rusage()
            getrusage(rusageThread, &before)
            exit.wait()
            getrusage(rusageThread, &after)
            func microseconds(_ r: rusage) -> Int {
                (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1_000_000 + r.ru_utime.tv_usec + r.ru_stime.tv_usec
            }
            usage.switches = after.ru_nvcsw - before.ru_nvcsw
            usage.microseconds = microseconds(after) - microseconds(before)
            done.signal()
        }
        thread.start()
        done.wait()
        XCTAssertEqual(child.terminationStatus, 0)
        XCTAssertLessThanOrEqual(usage.switches, 5, "the waiting thread was woken \(usage.switches) times during a 1 s wait")
        XCTAssertLessThan(usage.microseconds, 100_000, "the waiting thread used \(usage.microseconds) µs of CPU during a 1 s wait")
    }

    /// Children started and waited for (both ways) leave no descriptor behind: each one's pipes
    /// are closed once the `Process` goes. Before, each child kept its `Process` and two pipe
    /// ends alive, and the test process crashed in Foundation's `Process.run()` at ~1,500.
    func testWaitedChildrenLeaveNoDescriptorsOpen() async throws {
        func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }
        func child() throws -> ProcessExit {
            let process = shell("echo out; echo err >&2")
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let exit = try ProcessExit.start(process)
            _ = out.fileHandleForReading.readDataToEndOfFile()
            _ = err.fileHandleForReading.readDataToEndOfFile()
            return exit
        }
        for _ in 0..<3 { try child().wait() }  // Foundation's own one-time descriptors
        let before = try openDescriptors()
        for round in 0..<40 {
            if round.isMultiple(of: 2) { try child().wait() } else { await try child().ended() }
        }
        XCTAssertLessThanOrEqual(try openDescriptors() - before, 4, "descriptors left open by 40 waited children")
    }
}

import CSandbox
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The spawned helper; `kill` is safe against PID reuse (the zombie is kept until marked).
/// `@unchecked Sendable` is safe: the cancellation handler (`kill`) and the thread that runs
/// the helper race on `pid`, `exited` and `cancelled`, and touch them only while `lock` is held;
/// the one unlocked read, `pid` in `wait`, is on the thread that set it in `started`.
final class SandboxProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: Int32 = 0
    private var exited = false
    private var cancelled = false

    func started(_ pid: Int32) {
        lock.lock()
        self.pid = pid
        let kill = cancelled
        lock.unlock()
        if kill { Glibc.kill(pid, SIGKILL) }
    }

    func kill() {
        lock.lock()
        defer { lock.unlock() }
        cancelled = true
        if pid > 0 && !exited { _ = Glibc.kill(pid, SIGKILL) }
    }

    func wait() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        lock.lock()
        exited = true
        lock.unlock()
        return csb_wait(pid)
    }
}

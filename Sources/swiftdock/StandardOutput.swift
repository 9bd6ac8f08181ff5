// `@preconcurrency` only for C's `stdout`: glibc declares it `extern FILE *stdout`, a mutable
// global Swift 6 refuses to read. It is safe here: the C library sets it before main and
// nothing in swiftdock assigns it, so every read sees the same stream; the FILE itself locks.
@preconcurrency import Glibc

/// The process's standard output stream as C's stdio (and Swift's `print`) buffer it: the one
/// place the CLI reaches C's `stdout`, so the exemption above stays in one file.
enum StandardOutput {
    /// Line buffering, so results reach a pipe line by line as they are printed.
    static func useLineBuffering() { setvbuf(stdout, nil, _IOLBF, 0) }

    /// Writes out what `print` has buffered (a prompt without newline, a followed log).
    static func flush() { fflush(stdout) }
}

#ifndef CSANDBOX_H
#define CSANDBOX_H
#include <stddef.h>

/// Name of the environment variable that turns a re-executed `/proc/self/exe` into the sandbox
/// helper (handled by a constructor in this library, before Swift's `main`).
#define CSB_MARKER "SWIFTDOCK_SANDBOX_INIT"

/// Spawns `/proc/self/exe` as the sandbox helper. `spec` is the serialized spec (see Sandbox.serialize),
/// `fd0..fd2` become the helper's (and the command's) stdio. On success returns 0, sets `*pid`
/// and `*errfd` (read end of the pipe the helper writes a one-line error to; EOF without data =
/// no sandbox error). On failure returns an errno value and writes a message into `msg`.
int csb_spawn(const void *spec, size_t len, int fd0, int fd1, int fd2,
              int *pid, int *errfd, char *msg, size_t msglen);

/// pipe2(fds, O_CLOEXEC) (Glibc does not export pipe2 to Swift). Returns 0 or -1 with errno.
int csb_pipe(int fds[2]);

/// Waits for `pid` (retrying on EINTR). Returns the exit status, 128+N for signal N, or -errno.
int csb_wait(int pid);

/// The file system `path` is on: its type (statfs's f_type, a magic number) and id (f_fsid).
/// Returns 0, or -1 with errno.
int csb_file_system(const char *path, unsigned long long *type, unsigned long long *id);

/// How `csb_open_in_root` resolves: openat2(RESOLVE_IN_ROOT) falling back to the userspace walk
/// where the kernel lacks it (`AUTO`), only the kernel, or only the userspace walk (tests).
#define CSB_RESOLVE_AUTO 0
#define CSB_RESOLVE_KERNEL 1
#define CSB_RESOLVE_USERSPACE 2

/// Opens `path` (relative; a leading `/` means the root) inside the directory `root` with every
/// component, symlinks included, resolved inside it: an O_PATH|O_CLOEXEC descriptor, or -1 with
/// errno.
int csb_open_in_root(const char *root, const char *path, int method);

#endif

// Parent side: spawn /proc/self/exe as the sandbox helper (posix_spawn, safe in a threaded
// process) with the serialized spec on fd 3 and the error pipe on fd 4.
#define _GNU_SOURCE
#include "csandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int spec_fd(const void *spec, size_t len) {
    int fd = memfd_create("swiftdock-sandbox-spec", MFD_CLOEXEC);
    if (fd < 0) {
        fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) return -1;
    }
    const char *p = spec;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) { if (errno == EINTR) continue; int e = errno; close(fd); errno = e; return -1; }
        p += n; left -= (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) { int e = errno; close(fd); errno = e; return -1; }
    return fd;
}

int csb_spawn(const void *spec, size_t len, int fd0, int fd1, int fd2,
              int *pid, int *errfd, char *msg, size_t msglen) {
    int tmp[5] = {-1, -1, -1, -1, -1};
    int errpipe[2] = {-1, -1};
    int rc = 0;
    char **env = NULL;
    posix_spawn_file_actions_t fa;
    int fa_init = 0;

    int sfd = spec_fd(spec, len);
    if (sfd < 0) { rc = errno; snprintf(msg, msglen, "memfd_create (sandbox spec): %s", strerror(rc)); goto out; }
    if (pipe2(errpipe, O_CLOEXEC) < 0) { rc = errno; snprintf(msg, msglen, "pipe2: %s", strerror(rc)); goto out; }
    // Move every source above the targets 0..4 so the dup2s cannot clobber each other.
    int src[5] = {fd0, fd1, fd2, sfd, errpipe[1]};
    for (int i = 0; i < 5; i++) {
        tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10);
        if (tmp[i] < 0) { rc = errno; snprintf(msg, msglen, "fcntl F_DUPFD_CLOEXEC fd %d: %s", src[i], strerror(rc)); goto out; }
    }
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0) { snprintf(msg, msglen, "posix_spawn_file_actions_init: %s", strerror(rc)); goto out; }
    fa_init = 1;
    for (int i = 0; i < 5; i++) posix_spawn_file_actions_adddup2(&fa, tmp[i], i);

    size_t n = 0;
    while (environ && environ[n]) n++;
    env = calloc(n + 2, sizeof(char *));
    if (!env) { rc = ENOMEM; snprintf(msg, msglen, "out of memory"); goto out; }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], CSB_MARKER "=", strlen(CSB_MARKER) + 1) != 0) env[k++] = environ[i];
    // The parent's pid lets the helper close the PR_SET_PDEATHSIG race. The death signal is tied
    // to the spawning thread: Sandbox.run spawns and waits on the same dedicated thread.
    char marker[64];
    snprintf(marker, sizeof marker, CSB_MARKER "=3,4,%d", (int)getpid());
    env[k++] = marker;
    env[k] = NULL;

    char *argv[] = {"swiftdock-sandbox", NULL};
    pid_t child;
    rc = posix_spawn(&child, "/proc/self/exe", &fa, NULL, argv, env);
    if (rc != 0) { snprintf(msg, msglen, "posix_spawn /proc/self/exe: %s", strerror(rc)); goto out; }
    *pid = child;
    *errfd = errpipe[0];
    errpipe[0] = -1;
out:
    if (fa_init) posix_spawn_file_actions_destroy(&fa);
    free(env);
    for (int i = 0; i < 5; i++) if (tmp[i] >= 0) close(tmp[i]);
    if (sfd >= 0) close(sfd);
    if (errpipe[0] >= 0) close(errpipe[0]);
    if (errpipe[1] >= 0) close(errpipe[1]);
    return rc;
}

int csb_wait(int pid) {
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, 0);
        if (r < 0) { if (errno == EINTR) continue; return -errno; }
        break;
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 255;
}

int csb_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

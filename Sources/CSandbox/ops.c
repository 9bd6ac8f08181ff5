// Operations on a tree, run by the helper P once it is root of its user namespace (mapped as
// for a RUN) instead of starting a sandbox: what the real user cannot do alone to files owned
// by its subordinate ids. This is how rootless podman/buildah keep their storage (`buildah
// unshare`): lower directories are owned by the ids the image gives, as seen from inside.
//
//   owners   gives each listed path below the directory its owner and mode (csb_apply_owners):
//            a rootfs cache entry or a materialised COPY layer, once, when it is made.
//   remove   removes the directory and everything below it, whatever the owners and modes
//            (root of the namespace passes every permission check on ids it maps).
#define _GNU_SOURCE
#include "csandbox.h"
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// The directory holding `path` (relative to the open directory `root`), reached through real
// directories only: a symlink on the way (which a hostile layer may have put where the table
// expected a directory) is never followed, so nothing outside the tree is ever touched. An
// O_PATH descriptor, `*last` the last component (in `buf`); -1 with errno.
static int open_parent(int root, const char *path, char *buf, size_t buflen, const char **last) {
    size_t len = strlen(path);
    if (len >= buflen) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, path, len + 1);
    while (len > 0 && buf[len - 1] == '/') buf[--len] = 0;
    int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return -1;
    char *p = buf;
    for (char *slash; (slash = strchr(p, '/')) != NULL; p = slash + 1) {
        *slash = 0;
        if (*p == 0 || strcmp(p, ".") == 0) continue;
        if (strcmp(p, "..") == 0) { close(fd); errno = EINVAL; return -1; }
        int next = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        if (next < 0) return -1;
        fd = next;
    }
    if (*p == 0 || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) { close(fd); errno = EINVAL; return -1; }
    *last = p;
    return fd;
}

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452   // the same number on every architecture (Linux 6.6); glibc 2.36 lacks it
#endif

// Gives the file `fd` (an O_PATH descriptor, never a symlink) the mode `mode`, through that
// descriptor: fchmodat2(fd, "", AT_EMPTY_PATH) where the kernel has it (6.6+), else chmod of
// /proc/self/fd/N, which names the open file itself and never a path that could have changed
// since it was opened. (fchmod refuses O_PATH descriptors; an open for real would open a FIFO
// or a device.) -1 with errno.
static int chmod_descriptor(int fd, mode_t mode) {
    if (syscall(__NR_fchmodat2, fd, "", mode, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0) return 0;
    // ENOSYS: an older kernel; EPERM: an outer sandbox's seccomp policy that does not know it.
    if (errno != ENOSYS && errno != EPERM) return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return chmod(proc, mode);
}

// Gives each listed path its owner, then its mode (chown clears setuid/setgid, and an
// unprivileged unpack added u+rw(x) for its own use, which would now be the new owner's). A
// path that is not in the tree as a plain path (missing, or below a symlink) is skipped, and
// so is an id this namespace does not map (the file stays the real user's).
//
// Every change acts on the entry that was looked at: it is opened O_PATH|O_NOFOLLOW once, and
// its type, owner and mode are read and changed through that descriptor. Checked by path and
// changed by path, a RUN's own process could swap a symlink in between and the chmod would
// land on whatever it points at, outside the tree. A symlink is chowned (itself) and never
// given a mode.
void csb_apply_owners(struct spec *s) {
    int root = open(s->rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) DIE("sandbox: open %s: %s", s->rootdir, ERR);
    char buf[MAX_PATH_BUF];
    for (int i = 0; i < s->nowners; i++) {
        struct owner *o = &s->owners[i];
        const char *last;
        int dir = open_parent(root, o->path, buf, sizeof buf, &last);
        if (dir < 0) {
            if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == EINVAL) continue;
            DIE("sandbox: open the directory of %s/%s: %s", s->rootdir, o->path, ERR);
        }
        int fd = openat(dir, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        close(dir);
        if (fd < 0) {
            if (errno == ENOENT) continue;
            DIE("sandbox: open %s/%s: %s", s->rootdir, o->path, ERR);
        }
        struct stat st;
        if (fstat(fd, &st) < 0) DIE("sandbox: stat %s/%s: %s", s->rootdir, o->path, ERR);
        if (fchownat(fd, "", o->uid, o->gid, AT_EMPTY_PATH) < 0 && errno != EINVAL)
            DIE("sandbox: chown %s/%s to %u:%u: %s", s->rootdir, o->path, o->uid, o->gid, ERR);
        if (!S_ISLNK(st.st_mode) && chmod_descriptor(fd, o->mode & 07777) < 0)
            DIE("sandbox: chmod %s/%s: %s", s->rootdir, o->path, ERR);
        close(fd);
    }
    close(root);
}

void csb_run_op(struct spec *s) {
    switch (s->op) {
    case OP_OWNERS:
        csb_apply_owners(s);
        _exit(0);
    case OP_REMOVE: {
        struct stat st;
        if (lstat(s->rootdir, &st) < 0 && errno == ENOENT) _exit(0);
        // coreutils rm walks by descriptors (trees deeper than PATH_MAX included) and never
        // follows a symlink; --one-file-system keeps it off anything mounted below. Its own
        // message goes to stderr, which the caller captures; a failure is its exit status.
        char *argv[] = {"rm", "-rf", "--one-file-system", "--", s->rootdir, NULL};
        static const char *const rms[] = {"/usr/bin/rm", "/bin/rm", NULL};
        for (int i = 0; rms[i]; i++) execv(rms[i], argv);
        DIE("sandbox: exec rm (to remove %s): %s", s->rootdir, ERR);
    }
    case OP_NONE:
        break;
    }
    DIE("sandbox: no operation");
}

// Opening a path inside a directory tree without ever leaving it: every component is resolved
// relative to the tree's root, symlinks included (an absolute link target or a `..` above the
// root lands on the root), as BuildKit and runc resolve mount sources (securejoin semantics).
// The result is an O_PATH descriptor that later mounts use as their source (/proc/self/fd/N), so
// no path is ever resolved a second time by the kernel.
//
// openat2(RESOLVE_IN_ROOT) does this in the kernel (Linux 5.6+); the userspace walk below is the
// fallback for kernels without it. It is hand-written because no Debian C library offers it
// (securejoin is Go): a stack of O_PATH descriptors, one per resolved directory, so `..` pops to
// a directory already proven to be inside the root instead of trusting the file system's `..`.
#define _GNU_SOURCE
#include "csandbox.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_LINKS 40
#define MAX_DEPTH 4096

static int kernel_open_in_root(int rootfd, const char *path) {
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const char *p = *path ? path : ".";
    for (;;) {
        long fd = syscall(SYS_openat2, rootfd, p, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno == EINTR || errno == EAGAIN) continue;   // EAGAIN: a concurrent rename; retry
        return -1;
    }
#else
    (void)rootfd; (void)path;
    errno = ENOSYS;
    return -1;
#endif
}

static void close_stack(int *stack, int depth) {
    for (int i = 1; i < depth; i++) close(stack[i]);   // stack[0] is the caller's root
}

// The userspace walk: `todo` holds the path still to resolve (rewritten when a symlink is met).
static int user_open_in_root(int rootfd, const char *path) {
    int *stack = malloc(sizeof(int) * MAX_DEPTH);
    char *todo = malloc(PATH_MAX * 2), *next = malloc(PATH_MAX * 2), *link = malloc(PATH_MAX);
    int depth = 1, links = 0, result = -1, saved = 0;
    if (!stack || !todo || !next || !link) { saved = ENOMEM; goto out; }
    stack[0] = rootfd;
    if (strlen(path) >= PATH_MAX) { saved = ENAMETOOLONG; goto out; }
    strcpy(todo, path);
    char *p = todo;
    for (;;) {
        while (*p == '/') p++;
        if (!*p) break;
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        char comp[NAME_MAX + 1];
        if (len > NAME_MAX) { saved = ENAMETOOLONG; goto out; }
        memcpy(comp, p, len);
        comp[len] = 0;
        p += len;
        if (strcmp(comp, ".") == 0) continue;
        if (strcmp(comp, "..") == 0) {
            if (depth > 1) close(stack[--depth]);
            continue;
        }
        int fd = openat(stack[depth - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) { saved = errno; goto out; }
        struct stat st;
        if (fstat(fd, &st) < 0) { saved = errno; close(fd); goto out; }
        if (S_ISLNK(st.st_mode)) {
            if (++links > MAX_LINKS) { saved = ELOOP; close(fd); goto out; }
            ssize_t n = readlinkat(fd, "", link, PATH_MAX - 1);
            close(fd);
            if (n < 0) { saved = errno; goto out; }
            link[n] = 0;
            if (link[0] == '/') { close_stack(stack, depth); depth = 1; }
            if ((size_t)n + strlen(p) + 2 > PATH_MAX * 2) { saved = ENAMETOOLONG; goto out; }
            strcpy(next, link);
            strcat(next, "/");
            strcat(next, p);
            strcpy(todo, next);
            p = todo;
            continue;
        }
        // Only directories may be walked through.
        while (*p == '/') p++;
        if (*p && !S_ISDIR(st.st_mode)) { saved = ENOTDIR; close(fd); goto out; }
        if (depth == MAX_DEPTH) { saved = ENAMETOOLONG; close(fd); goto out; }
        stack[depth++] = fd;
    }
    if (depth > 1) {
        result = stack[--depth];
    } else {
        result = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (result < 0) saved = errno;
    }
out:
    if (stack) close_stack(stack, depth);
    free(stack); free(todo); free(next); free(link);
    if (result < 0) errno = saved ? saved : EINVAL;
    return result;
}

int csb_open_in_root(const char *root, const char *path, int method) {
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return -1;
    int fd = -1;
    if (method != CSB_RESOLVE_USERSPACE) {
        fd = kernel_open_in_root(rootfd, path);
        // ENOSYS: no openat2; EPERM: a seccomp policy of an outer sandbox refusing it.
        if (fd < 0 && (method == CSB_RESOLVE_KERNEL || (errno != ENOSYS && errno != EPERM))) {
            int e = errno; close(rootfd); errno = e; return -1;
        }
    }
    if (fd < 0) fd = user_open_in_root(rootfd, path);
    int e = errno;
    close(rootfd);
    errno = e;
    return fd;
}

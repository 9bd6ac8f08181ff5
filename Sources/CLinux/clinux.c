#define _GNU_SOURCE
#include "clinux.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

ssize_t swiftdock_llistxattr(const char *path, char *list, size_t size) { return llistxattr(path, list, size); }

#ifndef SYS_listxattrat
// The number every architecture shares for syscalls added since 5.1 (x86_64 and aarch64 alike).
#define SYS_listxattrat 465
#endif

ssize_t swiftdock_listxattrat(int dirfd, const char *name, char *list, size_t size) {
    return syscall(SYS_listxattrat, dirfd, name, AT_SYMLINK_NOFOLLOW, list, size);
}

ssize_t swiftdock_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}

int swiftdock_lsetxattr(const char *path, const char *name, const void *value, size_t size) {
    return lsetxattr(path, name, value, size, 0);
}

ssize_t swiftdock_copy_file_range(int in, int out, size_t length) { return copy_file_range(in, NULL, out, NULL, length, 0); }

int swiftdock_ficlone(int out, int in) { return ioctl(out, FICLONE, in); }

int swiftdock_syncfs(int fd) { return syncfs(fd); }

int swiftdock_name_this_thread(const char *name) {
    char cut[16];
    strncpy(cut, name, sizeof cut - 1);
    cut[sizeof cut - 1] = 0;
    return pthread_setname_np(pthread_self(), cut);
}

int swiftdock_tune_allocator(void) {
    return mallopt(M_TOP_PAD, 64 << 20) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
        && mallopt(M_TRIM_THRESHOLD, 64 << 20) == 1;
}

int swiftdock_o_noatime(void) { return O_NOATIME; }

long swiftdock_read_cached(int fd, void *buffer, unsigned long count) {
    struct iovec vector = { .iov_base = buffer, .iov_len = count };
    return preadv2(fd, &vector, 1, -1, RWF_NOWAIT);
}

// Linux calls Swift's Glibc module does not declare (sys/xattr.h, the _GNU_SOURCE ones, and
// ioctl, which is variadic), as plain functions Swift can call.
#pragma once
#include <stddef.h>
#include <sys/types.h>

ssize_t swiftdock_llistxattr(const char *path, char *list, size_t size);
ssize_t swiftdock_lgetxattr(const char *path, const char *name, void *value, size_t size);
int swiftdock_lsetxattr(const char *path, const char *name, const void *value, size_t size);
/// listxattrat(2) (Linux 6.13) of `name` in the directory `dirfd`, not following a symlink: -1
/// with errno ENOSYS on older kernels (glibc has no wrapper yet).
ssize_t swiftdock_listxattrat(int dirfd, const char *name, char *list, size_t size);

/// copy_file_range(2) from the current offsets of both descriptors.
ssize_t swiftdock_copy_file_range(int in, int out, size_t length);

/// ioctl(out, FICLONE, in): `out` shares `in`'s extents (btrfs, xfs); -1 where unsupported.
int swiftdock_ficlone(int out, int in);

int swiftdock_syncfs(int fd);

/// pthread_setname_np(3) of the calling thread, the name cut to the kernel's 15 bytes: what ps,
/// top, perf and gdb show for it. 0, or an error number.
int swiftdock_name_this_thread(const char *name);

/// O_NOATIME (open(2): reading does not update the file's atime; only for the file's owner or
/// root, else EPERM), a _GNU_SOURCE flag.
int swiftdock_o_noatime(void);

/// One read(2) at the file's offset that takes only what the page cache already holds
/// (preadv2 with RWF_NOWAIT, Linux 4.14+): -1 with errno EAGAIN when the data is not there.
/// Needs _GNU_SOURCE, which the Swift Glibc module does not define.
long swiftdock_read_cached(int fd, void *buffer, unsigned long count);

/// glibc's allocator set for a short-lived process that builds large tables (mallopt(3)):
/// each heap grows 64 MiB beyond a request (M_TOP_PAD) instead of 128 KiB, so threads'
/// arenas are not widened by hundreds of mprotect calls; blocks up to 32 MiB come from the
/// heaps (M_MMAP_THRESHOLD, the largest the dynamic threshold reaches anyway) and freed
/// memory is kept for reuse up to 64 MiB at a heap's top (M_TRIM_THRESHOLD), so a table
/// freed and made again is not page-faulted afresh. Returns 1 when all three were taken.
int swiftdock_tune_allocator(void);

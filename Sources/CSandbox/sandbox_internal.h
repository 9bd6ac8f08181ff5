// Private to CSandbox: what the sandbox helper's files (spec.c, idmap.c, rootfs.c, helper.c)
// share. Not the module's public header: that is include/csandbox.h, which Swift imports.
// Shared functions and globals carry the csb_ prefix; everything else stays static in its file.
#ifndef CSANDBOX_SANDBOX_INTERNAL_H
#define CSANDBOX_SANDBOX_INTERNAL_H
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/types.h>

#define MAX_PATH_BUF 8192

// ---------------------------------------------------------------------------------------------
// Errors (spec.c): one line to the error fd, then _exit(code).

// fd 4 once the constructor has read the marker; -1 (stderr) before, 2 once the init has forked
// the command.
extern int csb_errfd;
void csb_die(int code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));
#define DIE(...) csb_die(125, __VA_ARGS__)
#define ERR strerror(errno)

// ---------------------------------------------------------------------------------------------
// Spec (spec.c): NUL-terminated entries, the first byte of each is its key (see Spec.swift).

struct mnt { char *src, *dst; int ro; };
// An owner the unprivileged copy could not set: path relative to the root directory.
struct owner { unsigned uid, gid, mode; char *path; };
struct spec {
    char **lower; int nlower;
    char *upper, *work, *cwd, *hostname;
    char *rootdir;   // copy-and-compare: this directory is the root, no overlay
    struct owner *owners; int nowners;
    char **argv; int nargv;
    char **env; int nenv;
    unsigned uid, gid;
    gid_t *groups; int ngroups;
    int netnone, probe;
    struct mnt *mounts; int nmounts;
};

// Reads the whole spec from `fd` (and closes it); dies when it is malformed or incomplete.
void csb_parse_spec(int fd, struct spec *s);

// ---------------------------------------------------------------------------------------------
// ID mapping (idmap.c).

// How P's user namespace is mapped: swiftdock runs as root (identity map of our own ranges), or
// unprivileged with subordinate IDs (newuidmap/newgidmap), or with neither (only the user's own
// uid/gid, as 0).
enum mode { MODE_ROOT, MODE_SUBID, MODE_SINGLE };
struct subids { unsigned long ustart, ucount, gstart, gcount; char newuidmap[PATH_MAX], newgidmap[PATH_MAX]; };

// The real user's subordinate ranges and the paths of newuidmap/newgidmap; -1 when any is missing.
int csb_subids_for_real_user(struct subids *r);
// Writes the uid/gid maps of `pid` (run by the mapper M, outside P's namespace); -1 with the
// reason in `msg`.
int csb_write_maps(pid_t pid, enum mode mode, struct subids *sub, char *msg, size_t msglen);

#endif

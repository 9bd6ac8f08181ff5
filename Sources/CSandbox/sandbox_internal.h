// Private to CSandbox: what the sandbox helper's files (spec.c, idmap.c, rootfs.c, helper.c)
// share. Not the module's public header: that is include/csandbox.h, which Swift imports.
// Shared functions and globals carry the csb_ prefix; everything else stays static in its file.
#ifndef CSANDBOX_SANDBOX_INTERNAL_H
#define CSANDBOX_SANDBOX_INTERNAL_H
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
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
// Spec (spec.c): NUL-terminated entries, the first byte of each is its key (see Sandbox.serialize).

// How P's user namespace is mapped, decided by Swift (UserNamespaceMap) and given in the spec so
// the builder and the helper agree: swiftdock runs as root (identity map of our own ranges), or
// unprivileged with subordinate IDs (newuidmap/newgidmap), or with neither (only the user's own
// uid/gid, as 0).
enum mode { MODE_UNSET, MODE_ROOT, MODE_SUBID, MODE_SINGLE };
struct subids { unsigned long ustart, ucount, gstart, gcount; char *newuidmap, *newgidmap; };

// A RUN mount: `path` resolved inside `root` (never leaving it), bound on `dst` by descriptor;
// with `upper`/`work`, copy-on-write: an overlay whose writes land in the throw-away upper dir.
// A secret (`secret`, root NULL) is no host path at all: its bytes came in the spec (hex, never
// on the host's disk) and become a file on the sandbox's private tmpfs, owned uid:gid, `mode`.
struct mnt {
    char *root, *path, *dst, *upper, *work; int ro, fd; struct stat st;
    int secret; char *hex; unsigned mode, uid, gid;
};
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
    int probe;
    // Not a command: a change to the tree at `rootdir`, made as root of the user namespace
    // (ops.c), where the real user alone cannot make it (files owned by subordinate ids).
    enum { OP_NONE, OP_OWNERS, OP_REMOVE } op;
    enum { NET_HOST, NET_NONE, NET_PRIVATE } net;
    char *slirp;     // NET_PRIVATE: the slirp4netns executable
    enum mode idmode;
    struct subids sub; // MODE_SUBID: the ranges and the tools that write them
    char *search_path; // where argv[0] is looked up when the environment has no PATH
    struct mnt *mounts; int nmounts;
};

// Reads the whole spec from `fd` (and closes it); dies when it is malformed or incomplete.
void csb_parse_spec(int fd, struct spec *s);

// ---------------------------------------------------------------------------------------------
// ID mapping (idmap.c).

// Writes the uid/gid maps of `pid` as the spec says (run by the mapper M, outside P's
// namespace); -1 with the reason in `msg`.
int csb_write_maps(pid_t pid, const struct spec *s, char *msg, size_t msglen);

// ---------------------------------------------------------------------------------------------
// The root filesystem (rootfs.c).

// The host path of the container path `path` under the host directory `root`, symlinks followed
// without leaving it; `*exists` says whether it exists.
void csb_resolve_in_root(const char *root, const char *path, char *out, size_t outlen, int *exists);
// mkdir -p; the directories it creates are given to uid:gid when `chown_new`.
void csb_mkdir_p(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_new);
// Creates the file `path` when missing.
void csb_touch(const char *path);
// Makes sure the mount point `cpath` (a directory when `dir`) exists in `root`; its host path.
void csb_mount_point(const char *root, const char *cpath, int dir, char *out, size_t outlen);
// The mount flags of `path` the kernel locks on a bind made in a user namespace (a read-only
// remount must repeat them).
unsigned long csb_locked_flags(const char *path);
// Binds `src` on `dst` (recursively), then read-only when `ro`; a failed bind is ignored unless
// `required`.
void csb_bind_mount(const char *src, const char *dst, int ro, int required);
// /sys, read-only; nothing when neither a sysfs nor a bind of the host's (`host_sys`) can be made.
void csb_mount_sys(const char *dst, const char *host_sys);
// Whether `path` (resolved when it exists) is `dir` or below it.
int csb_under(const char *path, const char *dir);
// Mounts on `root` the overlay of the spec's lower, upper and work dirs over the skeleton layer
// `skel` (first given the mount points the image may lack).
void csb_overlay_root(struct spec *s, const char *skel, const char *root);
// Mounts overlayfs on `dst` with `opts` (room for ",userxattr,volatile" at the end, tried first:
// overlay in a user namespace needs userxattr, and the scratch upper needs no syncs; kernels
// without them take fewer options). -1 with errno.
int csb_mount_overlay(const char *dst, char *opts, size_t optslen);
// (ops.c) Gives the spec's owners (and modes) to their files below s->rootdir: copy-and-compare's
// pending owners, or an `owners` operation.
void csb_apply_owners(struct spec *s);

// ---------------------------------------------------------------------------------------------
// Operations (ops.c): run by the helper P as root of its user namespace instead of a sandbox.

// Carries out s->op on s->rootdir and exits (0, or 125 with one line on the error fd).
void csb_run_op(struct spec *s) __attribute__((noreturn));

// ---------------------------------------------------------------------------------------------
// RUN mounts (mounts.c).

// Opens every mount source inside its root (before anything is mounted over the host's paths).
void csb_open_mounts(struct spec *s);
// Binds the opened sources into the new root at `root`; `stage` is the private staging dir.
void csb_bind_run_mounts(struct spec *s, const char *root, const char *stage);

// ---------------------------------------------------------------------------------------------
// The container profile (profile.c): docker's default one.

// Masks and makes read-only what runc's default spec does, in the new root's /proc and /sys.
void csb_mask_paths(const char *root);
// /sys, and everything mounted below it, read-only; -1 when some mount stays writable.
int csb_sys_readonly(const char *dst);
// In the command, before execve: capability bounding set, inheritable/ambient sets, no_new_privs.
void csb_drop_privileges(void);
// In the command, after setuid: no_new_privs (setuid binaries and file capabilities grant nothing).
void csb_no_new_privs(void);
// In the command, last before execve: docker's default seccomp filter (seccomp.c).
void csb_seccomp(void);

// ---------------------------------------------------------------------------------------------
// The network (network.c): a user-mode stack (slirp4netns) for NET_PRIVATE.

struct netstack { pid_t pid; int go, ready, exitw, log; };
// Before unshare: forks the process that will start slirp4netns for `target` once told to.
void csb_net_prepare(struct spec *s, struct netstack *n, pid_t target);
// After the namespaces exist and are mapped: starts it and waits until the tap is configured.
void csb_net_start(struct spec *s, struct netstack *n);
// The resolv.conf for a private network (slirp4netns's DNS forwarder), written in `stage`.
void csb_private_resolv_conf(const char *stage, char *out, size_t outlen);

#endif

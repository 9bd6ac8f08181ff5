// The container's root filesystem, set up by the init I in its mount namespace: paths resolved
// inside the new root, mount points and bind mounts, the overlay over the layers and, for
// copy-and-compare, the owners the unprivileged copy could not set.
#define _GNU_SOURCE
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Paths inside the new root.

// Resolves the container path `path` under the host directory `root`, following symlinks
// (absolute ones relative to `root`) without leaving it. `out` gets the host path; `*exists`
// whether it exists (when not, the missing trailing components are appended literally).
void csb_resolve_in_root(const char *root, const char *path, char *out, size_t outlen, int *exists) {
    char cur[MAX_PATH_BUF] = "", todo[MAX_PATH_BUF], tmp[MAX_PATH_BUF], link[PATH_MAX];
    snprintf(todo, sizeof todo, "%s", path);
    int links = 0;
    *exists = 1;
    char *p = todo;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        char comp[NAME_MAX + 1];
        if (l > NAME_MAX) DIE("sandbox: path component too long in %s", path);
        memcpy(comp, p, l); comp[l] = 0;
        p += l;
        if (strcmp(comp, ".") == 0) continue;
        if (strcmp(comp, "..") == 0) { char *s = strrchr(cur, '/'); if (s) *s = 0; continue; }
        size_t cl = strlen(cur);
        snprintf(cur + cl, sizeof cur - cl, "/%s", comp);
        snprintf(tmp, sizeof tmp, "%s%s", root, cur);
        struct stat st;
        if (lstat(tmp, &st) < 0) {
            // Missing: the rest is taken literally.
            *exists = 0;
            size_t cl2 = strlen(cur);
            snprintf(cur + cl2, sizeof cur - cl2, "%s", p);
            break;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++links > 40) DIE("sandbox: too many levels of symbolic links resolving %s in the container", path);
            ssize_t n = readlink(tmp, link, sizeof link - 1);
            if (n < 0) DIE("sandbox: readlink %s: %s", tmp, ERR);
            link[n] = 0;
            if (link[0] == '/') cur[0] = 0;
            else { char *s = strrchr(cur, '/'); if (s) *s = 0; }
            snprintf(tmp, sizeof tmp, "%s/%s", link, p);
            snprintf(todo, sizeof todo, "%s", tmp);
            p = todo;
        }
    }
    snprintf(out, outlen, "%s%s", root, cur);
}

void csb_mkdir_p(const char *path, mode_t mode, uid_t uid, gid_t gid, int chown_new) {
    char buf[MAX_PATH_BUF];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = buf + 1; ; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s; *s = 0;
            if (mkdir(buf, mode) == 0) {
                if (chown_new && chown(buf, uid, gid) < 0) DIE("sandbox: chown %s: %s", buf, ERR);
            } else if (errno != EEXIST) DIE("sandbox: mkdir %s: %s", buf, ERR);
            *s = c;
            if (!c) break;
        }
    }
}

void csb_touch(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0 && errno != EEXIST && errno != EISDIR) DIE("sandbox: create %s: %s", path, ERR);
    if (fd >= 0) close(fd);
}

static void parent_dir(const char *path, char *out, size_t outlen) {
    snprintf(out, outlen, "%s", path);
    char *s = strrchr(out, '/');
    if (s && s != out) *s = 0; else snprintf(out, outlen, "/");
}

// Makes sure the mount point `cpath` exists in the root (creating it in the upper dir only when
// the skeleton layer could not supply it) and returns its host path.
void csb_mount_point(const char *root, const char *cpath, int dir, char *out, size_t outlen) {
    int exists;
    csb_resolve_in_root(root, cpath, out, outlen, &exists);
    if (exists) return;
    char parent[MAX_PATH_BUF];
    parent_dir(out, parent, sizeof parent);
    csb_mkdir_p(parent, 0755, 0, 0, 0);
    if (dir) csb_mkdir_p(out, 0755, 0, 0, 0); else csb_touch(out);
}

unsigned long csb_locked_flags(const char *path) {
    struct statvfs sv;
    unsigned long f = 0;
    if (statvfs(path, &sv) < 0) return 0;
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
    return f;
}

void csb_bind_mount(const char *src, const char *dst, int ro, int required) {
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (!required) return;
        DIE("sandbox: bind mount %s on %s: %s", src, dst, ERR);
    }
    if (ro && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | csb_locked_flags(dst), NULL) < 0)
        DIE("sandbox: remount %s read-only: %s", dst, ERR);
}

// /sys on `dst`, read-only as docker has it: a fresh sysfs where the sandbox has its own network
// namespace (the kernel allows that), else the host's bound recursively. Optional: some sandboxes
// (gVisor) refuse both, and few build steps need it; a bind that cannot be made read-only goes.
void csb_mount_sys(const char *dst, const char *host_sys) {
    if (mount("sysfs", dst, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
    if (!host_sys || mount(host_sys, dst, NULL, MS_BIND | MS_REC, NULL) < 0) return;
    // The host's /sys brings its cgroup hierarchies and other submounts: all read-only, or none.
    if (csb_sys_readonly(dst) < 0) umount2(dst, MNT_DETACH);
}

// Appends `s` to the overlay option string, escaping the characters overlay splits on.
static void append_escaped(char *buf, size_t buflen, const char *s) {
    size_t l = strlen(buf);
    for (; *s && l + 2 < buflen; s++) {
        if (*s == ':' || *s == ',' || *s == '\\') buf[l++] = '\\';
        buf[l++] = *s;
    }
    buf[l] = 0;
}

int csb_under(const char *path, const char *dir) {
    char real[PATH_MAX];
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    size_t l = strlen(dir);
    return strncmp(real, dir, l) == 0 && (real[l] == '/' || real[l] == 0);
}

// ---------------------------------------------------------------------------------------------
// The root: the overlay, or the copy with its pending owners.

// The overlay over the lower dirs and the skeleton layer, mounted on `root`.
void csb_overlay_root(struct spec *s, const char *skel, const char *root) {
    char p[MAX_PATH_BUF + 64], q[MAX_PATH_BUF + 64];
    // Skeleton: the bottom lower layer, supplying the mount points the image lacks so they never
    // land in the upper dir. Anything the image has wins over it.
    static const char *skel_dirs[] = {"/proc", "/dev", "/sys", "/etc", NULL};
    for (int i = 0; skel_dirs[i]; i++) { snprintf(p, sizeof p, "%s%s", skel, skel_dirs[i]); csb_mkdir_p(p, 0755, 0, 0, 0); }
    snprintf(p, sizeof p, "%s/etc/resolv.conf", skel); csb_touch(p);
    snprintf(p, sizeof p, "%s/etc/hosts", skel); csb_touch(p);
    for (int i = 0; i < s->nmounts; i++) {
        // The source's type, from the descriptor csb_open_mounts opened inside its root.
        snprintf(p, sizeof p, "%s%s", skel, s->mounts[i].dst);
        if (S_ISDIR(s->mounts[i].st.st_mode)) csb_mkdir_p(p, 0755, 0, 0, 0);
        else { parent_dir(p, q, sizeof q); csb_mkdir_p(q, 0755, 0, 0, 0); csb_touch(p); }
    }

    // The overlay. Long option strings (the mount data is limited to a page) fall back to paths
    // relative to the common parent directory of the layers.
    static char opts[65536];
    for (int rel = 0; rel < 2; rel++) {
        size_t prefix = 0;
        if (rel) {
            const char *first = s->lower[0];
            prefix = strlen(first);
            const char *all[3] = {s->upper, s->work, NULL};
            for (int j = 0; j < s->nlower + 2; j++) {
                const char *x = j < s->nlower ? s->lower[j] : all[j - s->nlower];
                size_t k = 0;
                while (k < prefix && x[k] == first[k]) k++;
                prefix = k;
            }
            while (prefix > 0 && first[prefix - 1] != '/') prefix--;
            if (prefix <= 1) break;
            char dir[PATH_MAX];
            snprintf(dir, sizeof dir, "%.*s", (int)prefix, first);
            if (chdir(dir) < 0) DIE("sandbox: chdir %s: %s", dir, ERR);
        }
        snprintf(opts, sizeof opts, "lowerdir=");
        for (int j = 0; j < s->nlower; j++) { append_escaped(opts, sizeof opts, s->lower[j] + prefix); strcat(opts, ":"); }
        append_escaped(opts, sizeof opts, skel);
        strcat(opts, ",upperdir="); append_escaped(opts, sizeof opts, s->upper + prefix);
        strcat(opts, ",workdir="); append_escaped(opts, sizeof opts, s->work + prefix);
        if (strlen(opts) < 4000) break;
    }
    if (strlen(opts) >= 4000) DIE("sandbox: overlay options too long (%zu bytes, %d layers)", strlen(opts), s->nlower);
    if (csb_mount_overlay(root, opts, sizeof opts) < 0)
        DIE("sandbox: mount overlay on %s (upperdir=%s, %d lower dirs): %s", root, s->upper, s->nlower, ERR);
}

int csb_mount_overlay(const char *dst, char *opts, size_t optslen) {
    // Tried in order while the kernel says EINVAL (an option it does not know): `volatile`
    // (Linux 5.10) drops every sync of the upper dir, which is a scratch dir thrown away after
    // a failure anyway and read back by swiftdock itself (its layer blob is synced by the
    // store): a RUN that fsyncs each file it writes (dpkg, apt) no longer waits for the disk;
    // what the RUN sees is the same. `userxattr`: overlay in a user namespace needs it.
    static const char *const extras[] = {",userxattr,volatile", ",userxattr", ""};
    size_t plain = strlen(opts);
    if (plain + strlen(extras[0]) + 1 >= optslen) { errno = ENAMETOOLONG; return -1; }
    int e = 0;
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        opts[plain] = 0;
        strcat(opts, extras[i]);
        if (mount("overlay", dst, "overlay", 0, opts) == 0) return 0;
        // The error reported is the last userxattr mount's: without userxattr, a user
        // namespace's mount fails for that very reason, which says less.
        if (i < 2) e = errno;
        if (errno != EINVAL) break;
    }
    opts[plain] = 0;
    errno = e;
    return -1;
}

// RUN --mount sources: each is opened inside its own root (csb_open_in_root: a context symlink
// `x -> /` resolves to the context's root, never the host's) before the init mounts anything,
// and bound by that descriptor (/proc/self/fd/N), so the kernel never resolves the path again.
// Writable binds of the context or of a stage are copy-on-write: an overlay over the bound
// source with a throw-away upper dir, so the step's writes vanish with it, as in BuildKit.
#define _GNU_SOURCE
#include "csandbox.h"
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

// An absolute path without `..` components (the target is resolved in the new root later).
static int clean_absolute(const char *path) {
    if (path[0] != '/') return 0;
    for (const char *p = path; (p = strstr(p, "..")) != NULL; p += 2)
        if (p[-1] == '/' && (p[2] == '/' || p[2] == 0)) return 0;
    return 1;
}

void csb_open_mounts(struct spec *s) {
    for (int i = 0; i < s->nmounts; i++) {
        struct mnt *m = &s->mounts[i];
        if (!clean_absolute(m->dst))
            DIE("sandbox: mount target %s is not a clean absolute path", m->dst);
        if (m->secret) { m->st.st_mode = S_IFREG | 0400; continue; }
        m->fd = csb_open_in_root(m->root, m->path, CSB_RESOLVE_AUTO);
        if (m->fd < 0) DIE("sandbox: mount source %s in %s: %s", *m->path ? m->path : "/", m->root, ERR);
        if (fstat(m->fd, &m->st) < 0) DIE("sandbox: mount source %s in %s: fstat: %s", m->path, m->root, ERR);
        // A socket (an ssh agent's, RUN --mount=type=ssh) is bound like a file, read-only.
        if (S_ISSOCK(m->st.st_mode) && m->ro && !m->upper) continue;
        if (!S_ISDIR(m->st.st_mode) && !S_ISREG(m->st.st_mode))
            DIE("sandbox: mount source %s in %s is neither a directory nor a regular file", *m->path ? m->path : "/", m->root);
    }
}

// A regular file's copy in the throw-away upper dir: its writes stay there.
static void copy_file(int from, const char *to) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", from);
    int in = open(proc, O_RDONLY | O_CLOEXEC);
    if (in < 0) DIE("sandbox: open mount source %s: %s", proc, ERR);
    struct stat st;
    if (fstat(in, &st) < 0) DIE("sandbox: fstat mount source: %s", ERR);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, st.st_mode & 07777);
    if (out < 0) DIE("sandbox: create %s: %s", to, ERR);
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0) { if (errno == EINTR) continue; DIE("sandbox: read mount source: %s", ERR); }
        if (n == 0) break;
        for (ssize_t off = 0; off < n; ) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) { if (errno == EINTR) continue; DIE("sandbox: write %s: %s", to, ERR); }
            off += w;
        }
    }
    close(in);
    close(out);
}

static void copy_on_write(struct mnt *m, int index, const char *src, const char *dst, const char *stage) {
    char lower[PATH_MAX], opts[3 * PATH_MAX + 64];
    if (!S_ISDIR(m->st.st_mode)) {
        snprintf(lower, sizeof lower, "%s/file", m->upper);
        copy_file(m->fd, lower);
        csb_bind_mount(lower, dst, 0, 1);
        return;
    }
    // The overlay's lower dir: the source bound in the private staging dir (a plain path there).
    snprintf(lower, sizeof lower, "%s/mount-%d", stage, index);
    csb_mkdir_p(lower, 0755, 0, 0, 0);
    csb_bind_mount(src, lower, 1, 1);
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, m->upper, m->work);
    if (strpbrk(m->upper, ",:\\") || strpbrk(m->work, ",:\\")) DIE("sandbox: scratch dir %s has a character overlayfs cannot take", m->upper);
    if (csb_mount_overlay(dst, opts, sizeof opts) < 0) DIE("sandbox: mount a copy-on-write overlay on %s: %s", m->dst, ERR);
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A secret's file on the private staging tmpfs (outside the container's root, gone with the
// mount namespace), given its owner and mode inside the user namespace. Errors never show the
// bytes.
static void write_secret(struct mnt *m, const char *path) {
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (out < 0) DIE("sandbox: secret for %s: create: %s", m->dst, ERR);
    size_t n = strlen(m->hex);
    if (n % 2) DIE("sandbox: secret for %s: malformed spec", m->dst);
    unsigned char buf[4096];
    size_t used = 0;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(m->hex[i]), lo = hex_value(m->hex[i + 1]);
        if (hi < 0 || lo < 0) DIE("sandbox: secret for %s: malformed spec", m->dst);
        buf[used++] = (unsigned char)(hi << 4 | lo);
        if (used == sizeof buf || i + 2 == n) {
            for (size_t off = 0; off < used; ) {
                ssize_t w = write(out, buf + off, used - off);
                if (w < 0) { if (errno == EINTR) continue; DIE("sandbox: secret for %s: write: %s", m->dst, ERR); }
                off += (size_t)w;
            }
            used = 0;
        }
    }
    explicit_bzero(buf, sizeof buf);
    if (fchown(out, m->uid, m->gid) < 0) DIE("sandbox: secret for %s: chown %u:%u: %s", m->dst, m->uid, m->gid, ERR);
    if (fchmod(out, m->mode & 07777) < 0) DIE("sandbox: secret for %s: chmod %o: %s", m->dst, m->mode, ERR);
    close(out);
}

void csb_bind_run_mounts(struct spec *s, const char *root, const char *stage) {
    char p[MAX_PATH_BUF + 64], src[64];
    for (int i = 0; i < s->nmounts; i++) {
        struct mnt *m = &s->mounts[i];
        csb_mount_point(root, m->dst, S_ISDIR(m->st.st_mode), p, sizeof p);
        if (m->secret) {
            char file[PATH_MAX];
            snprintf(file, sizeof file, "%s/secret-%d", stage, i);
            write_secret(m, file);
            csb_bind_mount(file, p, 1, 1);
            continue;
        }
        snprintf(src, sizeof src, "/proc/self/fd/%d", m->fd);
        if (m->upper && !m->ro) copy_on_write(m, i, src, p, stage);
        else csb_bind_mount(src, p, m->ro, 1);
        close(m->fd);
        m->fd = -1;
    }
}

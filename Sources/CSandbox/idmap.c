// User namespace ID mapping: the uid/gid maps the mapper process M writes for the helper P, as
// the spec says. Which map (and the subordinate ranges in /etc/subuid, /etc/subgid) is read
// once, in Swift (UserNamespaceMap), so the builder's view of owners and these maps agree.
#define _GNU_SOURCE
#include "csandbox.h"
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// ID mapping, done by the mapper M (still in the parent user namespace) for P.

static int write_file(const char *path, const char *data, char *msg, size_t msglen) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) { snprintf(msg, msglen, "open %s: %s", path, ERR); return -1; }
    size_t len = strlen(data);
    ssize_t n = write(fd, data, len);
    if (n != (ssize_t)len) {
        snprintf(msg, msglen, "write %s (%.*s): %s", path, (int)strcspn(data, "\n"), data, n < 0 ? ERR : "short write");
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

// Identity map of every range mapped in our own (the parent) namespace: "0 0 4294967295" on a
// host, the container's own ranges when swiftdock itself runs in a user namespace.
static int identity_map(const char *own, char *out, size_t outlen) {
    FILE *f = fopen(own, "re");
    if (!f) return -1;
    unsigned long in, outid, count;
    size_t used = 0;
    int lines = 0;
    while (fscanf(f, "%lu %lu %lu", &in, &outid, &count) == 3 && lines < 340) {
        int n = snprintf(out + used, outlen - used, "%lu %lu %lu\n", in, in, count);
        if (n < 0 || (size_t)n >= outlen - used) break;
        used += (size_t)n; lines++;
    }
    fclose(f);
    return lines > 0 ? 0 : -1;
}

static int run_prog(char *const argv[], char *msg, size_t msglen) {
    pid_t c = fork();
    if (c < 0) { snprintf(msg, msglen, "fork: %s", ERR); return -1; }
    if (c == 0) { execv(argv[0], argv); _exit(127); }
    int st;
    while (waitpid(c, &st, 0) < 0) if (errno != EINTR) { snprintf(msg, msglen, "waitpid: %s", ERR); return -1; }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        size_t used = 0;
        for (int i = 0; argv[i] && used < msglen; i++) used += (size_t)snprintf(msg + used, msglen - used, "%s%s", i ? " " : "", argv[i]);
        if (used < msglen) snprintf(msg + used, msglen - used, " failed (status %d); check /etc/subuid and /etc/subgid", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        return -1;
    }
    return 0;
}

int csb_write_maps(pid_t pid, const struct spec *s, char *msg, size_t msglen) {
    const struct subids *sub = &s->sub;
    char path[64], map[8192];
    uid_t uid = getuid(); gid_t gid = getgid();
    switch (s->idmode) {
    case MODE_ROOT:
        if (identity_map("/proc/self/uid_map", map, sizeof map) < 0) { snprintf(msg, msglen, "read /proc/self/uid_map: %s", ERR); return -1; }
        snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
        if (write_file(path, map, msg, msglen) < 0) return -1;
        if (identity_map("/proc/self/gid_map", map, sizeof map) < 0) { snprintf(msg, msglen, "read /proc/self/gid_map: %s", ERR); return -1; }
        snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
        return write_file(path, map, msg, msglen);
    case MODE_SUBID: {
        char p[16], u[16], g[16], us[24], uc[24], gs[24], gc[24];
        snprintf(p, sizeof p, "%d", pid); snprintf(u, sizeof u, "%u", uid); snprintf(g, sizeof g, "%u", gid);
        snprintf(us, sizeof us, "%lu", sub->ustart); snprintf(uc, sizeof uc, "%lu", sub->ucount);
        snprintf(gs, sizeof gs, "%lu", sub->gstart); snprintf(gc, sizeof gc, "%lu", sub->gcount);
        char *ua[] = {sub->newuidmap, p, "0", u, "1", "1", us, uc, NULL};
        if (run_prog(ua, msg, msglen) < 0) return -1;
        char *ga[] = {sub->newgidmap, p, "0", g, "1", "1", gs, gc, NULL};
        return run_prog(ga, msg, msglen);
    }
    case MODE_UNSET:
        snprintf(msg, msglen, "no ID map in the spec");
        return -1;
    case MODE_SINGLE:
        snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
        if (write_file(path, "deny", msg, msglen) < 0 && errno != ENOENT) return -1;
        snprintf(map, sizeof map, "0 %u 1\n", uid);
        snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
        if (write_file(path, map, msg, msglen) < 0) return -1;
        snprintf(map, sizeof map, "0 %u 1\n", gid);
        snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
        return write_file(path, map, msg, msglen);
    }
    return -1;
}

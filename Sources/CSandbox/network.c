// RUN's own network namespace with outbound access, as BuildKit gives it: slirp4netns (a
// user-mode TCP/IP stack from Debian) attaches a tap device to the sandbox's namespace and
// makes the connections from the host's namespace on its behalf. `--disable-host-loopback`
// keeps the host's loopback out of reach (10.0.2.2 would otherwise be the host's 127.0.0.1).
//
//   csb_net_prepare   (helper P, before unshare) forks N, still in the host's namespaces, which
//                     waits for P's word;
//   csb_net_start     (P, after unshare and ID mapping) tells N to exec slirp4netns for P's
//                     network namespace and waits for its ready byte (or its failure).
// slirp4netns exits when P (the holder of its exit pipe) is gone, however P ends.
#define _GNU_SOURCE
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// How long slirp4netns may take to configure the tap device.
#define READY_TIMEOUT_MS 20000

void csb_net_prepare(struct spec *s, struct netstack *n, pid_t target) {
    memset(n, 0, sizeof *n);
    n->pid = -1; n->go = n->ready = n->exitw = n->log = -1;
    if (s->net != NET_PRIVATE) return;
    int go[2], ready[2], ex[2];
    if (pipe2(go, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(ex, O_CLOEXEC) < 0) DIE("sandbox: pipe2: %s", ERR);
    int log = memfd_create("swiftdock-slirp4netns-log", MFD_CLOEXEC);
    if (log < 0) DIE("sandbox: memfd_create: %s", ERR);
    pid_t pid = fork();
    if (pid < 0) DIE("sandbox: fork (network helper): %s", ERR);
    if (pid == 0) {
        // Only its own descriptors: any other pipe end held here would keep P's readers waiting.
        for (int fd = 3; fd < 1024; fd++)
            if (fd != go[0] && fd != ready[1] && fd != ex[0] && fd != log) close(fd);
        char c;
        ssize_t r;
        while ((r = read(go[0], &c, 1)) < 0 && errno == EINTR) {}
        if (r != 1) _exit(0);   // P failed before the namespace existed; it reports.
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
        // The two descriptors slirp4netns is given survive the exec.
        int rfd = dup(ready[1]), efd = dup(ex[0]);
        if (rfd < 0 || efd < 0) _exit(126);
        char readyarg[32], exitarg[32], target_s[32];
        snprintf(readyarg, sizeof readyarg, "--ready-fd=%d", rfd);
        snprintf(exitarg, sizeof exitarg, "--exit-fd=%d", efd);
        snprintf(target_s, sizeof target_s, "%d", (int)target);
        char *argv[] = {"slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
                        readyarg, exitarg, target_s, "tap0", NULL};
        execv(s->slirp, argv);
        dprintf(2, "exec %s: %s\n", s->slirp, ERR);
        _exit(127);
    }
    close(go[0]); close(ready[1]); close(ex[0]);
    n->pid = pid; n->go = go[1]; n->ready = ready[0]; n->exitw = ex[1]; n->log = log;
}

// The last line slirp4netns wrote, for the error message.
static void last_log_line(int log, char *out, size_t outlen) {
    char buf[4096];
    off_t size = lseek(log, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(log, buf, sizeof buf - 1, from);
    if (n < 0) n = 0;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    char *line = strrchr(buf, '\n');
    snprintf(out, outlen, "%s", line ? line + 1 : buf);
    for (char *p = out; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';
}

void csb_net_start(struct spec *s, struct netstack *n) {
    if (s->net != NET_PRIVATE) return;
    if (write(n->go, "x", 1) != 1) DIE("sandbox: start the network helper: %s", ERR);
    close(n->go);
    n->go = -1;
    struct pollfd pfd = { .fd = n->ready, .events = POLLIN };
    int r;
    while ((r = poll(&pfd, 1, READY_TIMEOUT_MS)) < 0 && errno == EINTR) {}
    char c = 0, why[1024];
    ssize_t got = r > 0 ? read(n->ready, &c, 1) : 0;
    if (got != 1 || c != '1') {
        kill(n->pid, SIGKILL);
        int st = 0;
        while (waitpid(n->pid, &st, 0) < 0 && errno == EINTR) {}
        last_log_line(n->log, why, sizeof why);
        DIE("sandbox: slirp4netns (RUN's network) %s: %s", r == 0 ? "did not get ready in time" : "failed",
            *why ? why : "no output");
    }
    close(n->ready);
    n->ready = -1;
}

void csb_private_resolv_conf(const char *stage, char *out, size_t outlen) {
    snprintf(out, outlen, "%s/resolv.conf", stage);
    FILE *w = fopen(out, "we");
    if (!w) DIE("sandbox: create %s: %s", out, ERR);
    // slirp4netns's DNS forwarder; the host's search domains and options stay.
    fprintf(w, "nameserver 10.0.2.3\n");
    FILE *r = fopen("/etc/resolv.conf", "re");
    char line[1024];
    while (r && fgets(line, sizeof line, r))
        if (strncmp(line, "search", 6) == 0 || strncmp(line, "options", 7) == 0 || strncmp(line, "domain", 6) == 0) fputs(line, w);
    if (r) fclose(r);
    if (fclose(w) != 0) DIE("sandbox: write %s: %s", out, ERR);
}

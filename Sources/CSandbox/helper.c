// The sandbox helper. `Sandbox.run` spawns /proc/self/exe with SWIFTDOCK_SANDBOX_INIT=3,4,<parent pid> in the
// environment; the constructor below runs before any Swift code (single-threaded, so unshare of
// a user namespace and fork are safe), does the whole setup and never returns:
//
//   helper P (host PID)     reads the spec (fd 3), forks the ID mapper M (and, for a private
//                           network, the network helper N: network.c), unshares
//                           user+mount+pid+uts+ipc(+net) namespaces, M writes P's uid/gid maps
//                           (directly, or through newuidmap/newgidmap), N starts slirp4netns,
//                           P forks I, waits for it and exits with I's status (forwarding
//                           TERM/INT/HUP/QUIT/USR1/USR2).
//   init I (PID 1)          opens every RUN mount source inside its root (mounts.c), mounts the
//                           overlay (or, copy-and-compare, binds the given root directory after
//                           applying its pending owners), /proc, /sys, /dev, resolv.conf/hosts
//                           and the binds, masks and makes read-only docker's default paths
//                           (profile.c), pivot_root, creates the working directory, forks W,
//                           reaps every process, exits with W's status (signal N -> 128+N) as
//                           soon as W ends.
//   command W (PID 2)       drops to docker's default capabilities, setgroups/setgid/setuid,
//                           no_new_privs, chdir, docker's default seccomp filter, execve.
//
// With an operation in the spec (X: ops.c), P does it as root of its user namespace right
// after the maps are written, and exits: no other namespace, no init, no command.
//
// Any failure is written as one line to fd 4 (close-on-exec, so a successful execve closes it)
// and the process exits 125 (127 when the command is not found, 126 when it cannot be executed).
#define _GNU_SOURCE
#include "csandbox.h"
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Signal forwarding, exit status, the loopback interface, the command's PATH and fds.

static volatile pid_t g_fwd = 0;
static void forward(int sig) { if (g_fwd > 0) kill(g_fwd, sig); }
static const int fwd_sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void install_forwarding(pid_t to) {
    g_fwd = to;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fwd_sigs / sizeof fwd_sigs[0]; i++) sigaction(fwd_sigs[i], &sa, NULL);
}

static int status_code(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 255;
}

static void lo_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) DIE("sandbox: socket (bringing lo up): %s", ERR);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) DIE("sandbox: ioctl SIOCGIFFLAGS lo: %s", ERR);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) DIE("sandbox: ioctl SIOCSIFFLAGS lo: %s", ERR);
    close(s);
}

static const char *env_get(struct spec *s, const char *key) {
    size_t kl = strlen(key);
    for (int i = 0; i < s->nenv; i++)
        if (strncmp(s->env[i], key, kl) == 0 && s->env[i][kl] == '=') return s->env[i] + kl + 1;
    return NULL;
}

static void mark_cloexec_from(int lowest) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = lowest; fd < max; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// ---------------------------------------------------------------------------------------------
// The processes: command W, init I, helper P, and the constructor that becomes P.

static void command(struct spec *s, enum mode mode) __attribute__((noreturn));
static void command(struct spec *s, enum mode mode) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (size_t i = 0; i < sizeof fwd_sigs / sizeof fwd_sigs[0]; i++) signal(fwd_sigs[i], SIG_DFL);
    signal(SIGPIPE, SIG_DFL);

    csb_drop_privileges();
    if (mode != MODE_SINGLE && setgroups((size_t)s->ngroups, s->groups) < 0)
        DIE("sandbox: setgroups: %s", ERR);
    if (setresgid(s->gid, s->gid, s->gid) < 0) DIE("sandbox: setgid %u: %s", s->gid, ERR);
    if (setresuid(s->uid, s->uid, s->uid) < 0) DIE("sandbox: setuid %u: %s", s->uid, ERR);
    csb_no_new_privs();
    if (chdir(s->cwd) < 0) DIE("sandbox: chdir %s (as uid %u): %s", s->cwd, s->uid, ERR);
    mark_cloexec_from(3);
    csb_seccomp();

    const char *prog = s->argv[0];
    if (strchr(prog, '/')) {
        execve(prog, s->argv, s->env);
        // docker's codes: 127 not found, 126 found but not executable.
        csb_die(errno == ENOENT || errno == ENOTDIR ? 127 : 126, "sandbox: exec %s: %s", prog, ERR);
    }
    const char *path = env_get(s, "PATH");
    if (!path) path = s->search_path;
    int saved = ENOENT;
    char cand[PATH_MAX];
    for (const char *p = path; ; ) {
        const char *c = strchr(p, ':');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        snprintf(cand, sizeof cand, "%.*s/%s", (int)l, l ? p : ".", prog);
        execve(cand, s->argv, s->env);
        if (errno != ENOENT && errno != ENOTDIR) saved = errno;
        if (!c) break;
        p = c + 1;
    }
    if (saved == ENOENT) csb_die(127, "sandbox: exec %s: executable file not found in $PATH (%s)", prog, path);
    errno = saved;
    csb_die(126, "sandbox: exec %s: %s", prog, ERR);
}

static void init_process(struct spec *s, enum mode mode) __attribute__((noreturn));
static void init_process(struct spec *s, enum mode mode) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) DIE("sandbox: make / private: %s", ERR);
    // Held by descriptor from here on: nothing mounted later can change what they are.
    csb_open_mounts(s);

    // A staging tmpfs over a directory none of our host paths live under (private to this
    // mount namespace, invisible to the host). Not /sys: the container's is bound from there.
    static const char *cands[] = {"/mnt", "/media", "/srv", "/opt", "/run", "/boot", "/tmp", "/home", "/var", NULL};
    const char *stage = NULL;
    for (int i = 0; cands[i] && !stage; i++) {
        struct stat st;
        if (lstat(cands[i], &st) < 0 || !S_ISDIR(st.st_mode)) continue;
        int clash = s->rootdir ? csb_under(s->rootdir, cands[i]) : csb_under(s->upper, cands[i]) || csb_under(s->work, cands[i]);
        for (int j = 0; j < s->nlower && !clash; j++) clash = csb_under(s->lower[j], cands[i]);
        for (int j = 0; j < s->nmounts && !clash; j++)
            clash = s->mounts[j].upper && (csb_under(s->mounts[j].upper, cands[i]) || csb_under(s->mounts[j].work, cands[i]));
        clash = clash || csb_under("/etc/resolv.conf", cands[i]) || csb_under("/etc/hosts", cands[i]);
        if (!clash) stage = cands[i];
    }
    if (!stage) DIE("sandbox: no staging directory (tried /mnt, /media, /srv, ..., /var) outside the layer and mount paths");
    if (mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) DIE("sandbox: mount tmpfs on %s: %s", stage, ERR);
    char skel[PATH_MAX], root[PATH_MAX], p[MAX_PATH_BUF + 64], q[MAX_PATH_BUF + 64];
    snprintf(skel, sizeof skel, "%s/skel", stage);
    snprintf(root, sizeof root, "%s/root", stage);
    csb_mkdir_p(skel, 0755, 0, 0, 0);
    csb_mkdir_p(root, 0755, 0, 0, 0);

    if (s->rootdir) {
        // Copy-and-compare: the copy already holds the mount points; as root of the user
        // namespace we can now give files to the image's other users.
        csb_apply_owners(s);
        if (mount(s->rootdir, root, NULL, MS_BIND | MS_REC, NULL) < 0) DIE("sandbox: bind mount %s on %s: %s", s->rootdir, root, ERR);
    } else {
        csb_overlay_root(s, skel, root);
    }
    if (chdir("/") < 0) DIE("sandbox: chdir /: %s", ERR);
    if (s->probe) _exit(0);

    // /proc of the new PID namespace.
    csb_mount_point(root, "/proc", 1, p, sizeof p);
    if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) DIE("sandbox: mount proc on %s: %s", p, ERR);

    csb_mount_point(root, "/sys", 1, p, sizeof p);
    csb_mount_sys(p, "/sys");
    csb_mask_paths(root);

    // A minimal /dev.
    char dev[MAX_PATH_BUF];
    csb_mount_point(root, "/dev", 1, dev, sizeof dev);
    if (mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=65536k") < 0) DIE("sandbox: mount tmpfs on %s: %s", dev, ERR);
    static const char *nodes[] = {"null", "zero", "full", "random", "urandom", "tty", NULL};
    for (int i = 0; nodes[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dev, nodes[i]);
        snprintf(q, sizeof q, "/dev/%s", nodes[i]);
        csb_touch(p);
        csb_bind_mount(q, p, 0, strcmp(nodes[i], "tty") != 0);
    }
    snprintf(p, sizeof p, "%s/pts", dev); csb_mkdir_p(p, 0755, 0, 0, 0);
    if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") == 0) {
        snprintf(p, sizeof p, "%s/ptmx", dev);
        if (symlink("pts/ptmx", p) < 0) DIE("sandbox: symlink %s: %s", p, ERR);
    }
    snprintf(p, sizeof p, "%s/shm", dev); csb_mkdir_p(p, 01777, 0, 0, 0);
    if (mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k") < 0) DIE("sandbox: mount tmpfs on %s: %s", p, ERR);
    static const char *links[][2] = {{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}, {"core", "/proc/kcore"}};
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dev, links[i][0]);
        if (symlink(links[i][1], p) < 0) DIE("sandbox: symlink %s: %s", p, ERR);
    }

    // The host's resolv.conf and hosts, read-only; skipped when the image deleted the path
    // (whiteout over the skeleton) or has something other than a file there.
    // A private network gets slirp4netns's DNS forwarder instead of the host's resolvers
    // (which may listen on the host's loopback).
    char resolv[PATH_MAX];
    if (s->net == NET_PRIVATE) csb_private_resolv_conf(stage, resolv, sizeof resolv);
    else snprintf(resolv, sizeof resolv, "/etc/resolv.conf");
    const char *etc[][2] = {{"/etc/resolv.conf", resolv}, {"/etc/hosts", "/etc/hosts"}};
    for (int i = 0; i < 2; i++) {
        int exists;
        struct stat st;
        if (stat(etc[i][1], &st) < 0) continue;
        csb_resolve_in_root(root, etc[i][0], p, sizeof p, &exists);
        if (!exists || stat(p, &st) < 0 || !S_ISREG(st.st_mode)) continue;
        csb_bind_mount(etc[i][1], p, 1, 1);
    }

    // RUN --mount binds, by the descriptors opened above.
    csb_bind_run_mounts(s, root, stage);

    if (sethostname(s->hostname, strlen(s->hostname)) < 0) DIE("sandbox: sethostname %s: %s", s->hostname, ERR);

    // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves the new one.
    if (chdir(root) < 0) DIE("sandbox: chdir %s: %s", root, ERR);
    if (syscall(SYS_pivot_root, ".", ".") < 0) DIE("sandbox: pivot_root %s: %s", root, ERR);
    if (umount2(".", MNT_DETACH) < 0) DIE("sandbox: detach the old root: %s", ERR);
    if (chdir("/") < 0) DIE("sandbox: chdir / in the container: %s", ERR);

    // Working directory, created (owned by the user) when missing.
    int exists;
    csb_resolve_in_root("", s->cwd, p, sizeof p, &exists);
    if (!exists) csb_mkdir_p(p, 0755, s->uid, s->gid, 1);

    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t w = fork();
    if (w < 0) DIE("sandbox: fork: %s", ERR);
    if (w == 0) command(s, mode);
    install_forwarding(w);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(csb_errfd);
    csb_errfd = 2;
    for (;;) {
        int st;
        pid_t r = waitpid(-1, &st, 0);
        if (r < 0) { if (errno == EINTR) continue; _exit(255); }
        if (r == w) _exit(status_code(st));
    }
}

static void helper(int specfd) __attribute__((noreturn));
static void helper(int specfd) {
    struct spec s;
    csb_parse_spec(specfd, &s);

    // The map Swift chose (UserNamespaceMap): identity only for root, as it decided.
    enum mode mode = s.idmode;
    const struct subids sub = s.sub;
    uid_t ruid = getuid();
    if ((mode == MODE_ROOT) != (geteuid() == 0))
        DIE("sandbox: the spec's ID map (%s) does not fit euid %u", mode == MODE_ROOT ? "identity" : "unprivileged", (unsigned)geteuid());

    struct passwd *pw = getpwuid(ruid);
    const char *name = pw ? pw->pw_name : "?";
    if (mode == MODE_SINGLE) {
        int extra = 0;
        for (int i = 0; i < s.ngroups; i++) if (s.groups[i] != 0) extra = 1;
        if (s.uid != 0 || s.gid != 0 || extra)
            DIE("sandbox: cannot run as uid %u gid %u: swiftdock runs unprivileged (uid %u, user %s) without subordinate IDs, so only uid/gid 0 exist in the container; install uidmap (newuidmap/newgidmap) and add ranges for %s to /etc/subuid and /etc/subgid (e.g. %s:100000:65536), or run as root",
                s.uid, s.gid, (unsigned)ruid, name, name, name);
    } else if (mode == MODE_SUBID) {
        unsigned long maxg = 0;
        for (int i = 0; i < s.ngroups; i++) if (s.groups[i] > maxg) maxg = s.groups[i];
        if (s.uid > sub.ucount || s.gid > sub.gcount || maxg > sub.gcount)
            DIE("sandbox: cannot run as uid %u gid %u: the subordinate ranges of %s map only uids 0..%lu and gids 0..%lu; widen them in /etc/subuid and /etc/subgid, or run as root",
                s.uid, s.gid, name, sub.ucount, sub.gcount);
    }

    int p2m[2], m2p[2];
    if (pipe2(p2m, O_CLOEXEC) < 0 || pipe2(m2p, O_CLOEXEC) < 0) DIE("sandbox: pipe2: %s", ERR);
    pid_t helper_pid = getpid();
    pid_t m = fork();
    if (m < 0) DIE("sandbox: fork: %s", ERR);
    if (m == 0) {
        close(p2m[1]); close(m2p[0]);
        char c, msg[2048] = "";
        if (read(p2m[0], &c, 1) != 1) _exit(0);   // P failed to unshare; it reports.
        if (csb_write_maps(helper_pid, &s, msg, sizeof msg) < 0) {
            ssize_t w = write(m2p[1], msg, strlen(msg)); (void)w;
            _exit(1);
        }
        _exit(0);
    }
    close(p2m[0]); close(m2p[1]);
    // After M: neither holds the other's pipes (a pipe end left in the wrong process would keep
    // its reader waiting).
    struct netstack net;
    csb_net_prepare(&s, &net, helper_pid);

    int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (s.net != NET_HOST) flags |= CLONE_NEWNET;
    if (s.op) flags = CLONE_NEWUSER;   // an operation (ops.c) needs the id map only
    if (unshare(flags) < 0) {
        int e = errno;
        close(p2m[1]);
        waitpid(m, NULL, 0);
        errno = e;
        DIE("sandbox: unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID%s): %s", s.net != NET_HOST ? "|CLONE_NEWNET" : "", ERR);
    }
    if (write(p2m[1], "x", 1) != 1) DIE("sandbox: write to the ID mapper: %s", ERR);
    char msg[2048];
    size_t ml = 0;
    for (;;) {
        ssize_t n = read(m2p[0], msg + ml, sizeof msg - 1 - ml);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        ml += (size_t)n;
        if (ml >= sizeof msg - 1) break;
    }
    msg[ml] = 0;
    int st;
    while (waitpid(m, &st, 0) < 0 && errno == EINTR) {}
    if (ml > 0) DIE("sandbox: user namespace ID mapping: %s", msg);
    close(p2m[1]); close(m2p[0]);

    if (setresgid(0, 0, 0) < 0) DIE("sandbox: setgid 0 in the user namespace: %s", ERR);
    if (setresuid(0, 0, 0) < 0) DIE("sandbox: setuid 0 in the user namespace: %s", ERR);
    if (mode != MODE_SINGLE && setgroups(0, NULL) < 0) DIE("sandbox: setgroups: %s", ERR);
    if (s.op) csb_run_op(&s);
    if (s.net != NET_HOST) lo_up();
    csb_net_start(&s, &net);

    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    pid_t i = fork();
    if (i < 0) DIE("sandbox: fork (PID namespace init): %s", ERR);
    if (i == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) DIE("sandbox: prctl PR_SET_PDEATHSIG: %s", ERR);
        // (getppid() is 0 here: the parent lives outside the new PID namespace.)
        init_process(&s, mode);
    }
    install_forwarding(i);
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (;;) {
        pid_t r = waitpid(i, &st, 0);
        if (r < 0) { if (errno == EINTR) continue; DIE("sandbox: waitpid: %s", ERR); }
        _exit(status_code(st));
    }
}

__attribute__((constructor)) static void csb_constructor(void) {
    const char *marker = getenv(CSB_MARKER);
    if (!marker) return;
    int specfd = -1, errfd = -1, parent = 0;
    if (sscanf(marker, "%d,%d,%d", &specfd, &errfd, &parent) < 2) return;
    csb_errfd = errfd;
    // Die with the process that started us (and, through the init's own death signal, take the
    // whole sandbox along).
    if (parent > 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) DIE("sandbox: prctl PR_SET_PDEATHSIG: %s", ERR);
        if (getppid() != parent) _exit(125);
    }
    fcntl(errfd, F_SETFD, FD_CLOEXEC);
    fcntl(specfd, F_SETFD, FD_CLOEXEC);
    helper(specfd);
}

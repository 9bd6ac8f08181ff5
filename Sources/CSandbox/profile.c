// The container profile docker's default gives a container, applied to every RUN (also when
// swiftdock runs as root, where the user namespace maps container root to host root and only
// this profile keeps it from the host's kernel settings and cgroups):
//   - runc's default masked paths (a read-only empty tmpfs over directories, /dev/null over
//     files) and read-only paths, as moby's oci.DefaultLinuxSpec lists them;
//   - /sys read-only, every mount below it included (the host's cgroup hierarchies when /sys is
//     the host's bound in);
//   - the capability bounding set reduced to docker's default list, empty inheritable and
//     ambient sets, and no_new_privs.
#define _GNU_SOURCE
#include "sandbox_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *masked[] = {
    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};
static const char *readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };

// docker's default capabilities (moby's caps.DefaultCapabilities).
static const int kept[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
    CAP_AUDIT_WRITE,
};

static int exists(const char *path, struct stat *st) { return lstat(path, st) == 0; }

void csb_mask_paths(const char *root) {
    char p[MAX_PATH_BUF];
    struct stat st;
    for (int i = 0; masked[i]; i++) {
        snprintf(p, sizeof p, "%s%s", root, masked[i]);
        if (!exists(p, &st)) continue;
        if (S_ISDIR(st.st_mode)) {
            if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555") < 0)
                DIE("sandbox: mask %s: %s", masked[i], ERR);
        } else if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0) {
            DIE("sandbox: mask %s: %s", masked[i], ERR);
        }
    }
    for (int i = 0; readonly[i]; i++) {
        snprintf(p, sizeof p, "%s%s", root, readonly[i]);
        if (!exists(p, &st)) continue;
        csb_bind_mount(p, p, 1, 1);
    }
}

// Every mount at or below `dst`, read-only: mount_setattr(AT_RECURSIVE) (Linux 5.12+), else a
// remount of each submount listed in /proc/self/mountinfo. -1 when some mount stays writable.
int csb_sys_readonly(const char *dst) {
#ifdef SYS_mount_setattr
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
#endif
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) return -1;
    int rc = 0;
    char line[8192], mp[PATH_MAX];
    size_t dl = strlen(dst);
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
        if (strncmp(mp, dst, dl) != 0 || (mp[dl] != '/' && mp[dl] != 0)) continue;
        if (mount(NULL, mp, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | csb_locked_flags(mp), NULL) < 0) rc = -1;
    }
    fclose(f);
    return rc;
}

void csb_drop_privileges(void) {
    int last = CAP_LAST_CAP;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) { if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP; fclose(f); }
    for (int cap = 0; cap <= last; cap++) {
        int keep = 0;
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) if (kept[i] == cap) keep = 1;
        if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            DIE("sandbox: drop capability %d from the bounding set: %s", cap, ERR);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        DIE("sandbox: clear the ambient capabilities: %s", ERR);
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) < 0) DIE("sandbox: capget: %s", ERR);
    data[0].inheritable = data[1].inheritable = 0;
    if (syscall(SYS_capset, &hdr, data) < 0) DIE("sandbox: capset: %s", ERR);
}

void csb_no_new_privs(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) DIE("sandbox: prctl PR_SET_NO_NEW_PRIVS: %s", ERR);
}

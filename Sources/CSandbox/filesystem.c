// Which file system a path is on, for the key of the sandbox probe's cached answer
// (Sources/Sandbox/SandboxProbeKey.swift): statfs(2), which Swift's Glibc module does not export.
#define _GNU_SOURCE
#include "csandbox.h"
#include <string.h>
#include <sys/vfs.h>

int csb_file_system(const char *path, unsigned long long *type, unsigned long long *id) {
    struct statfs fs;
    if (statfs(path, &fs) < 0) return -1;
    *type = (unsigned long long)fs.f_type;
    unsigned int words[2];
    memcpy(words, &fs.f_fsid, sizeof words);
    *id = ((unsigned long long)words[0] << 32) | words[1];
    return 0;
}

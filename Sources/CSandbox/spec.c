// The sandbox helper's spec and its error reporting: csb_parse_spec reads the serialized spec
// (fd 3) into a struct spec; csb_die writes a failure as one line to the error fd (fd 4).
#define _GNU_SOURCE
#include "sandbox_internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int csb_errfd = -1;

void csb_die(int code, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    int fd = csb_errfd >= 0 ? csb_errfd : 2;
    ssize_t w = write(fd, buf, (size_t)n);
    (void)w;
    _exit(code);
}

// ---------------------------------------------------------------------------------------------
// Spec: NUL-terminated entries, the first byte of each is its key (see Sandbox.serialize).

static void push(char ***arr, int *n, char *s) {
    *arr = realloc(*arr, sizeof(char *) * (size_t)(*n + 2));
    if (!*arr) DIE("sandbox: out of memory");
    (*arr)[(*n)++] = s;
    (*arr)[*n] = NULL;
}

void csb_parse_spec(int fd, struct spec *s) {
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) DIE("sandbox: out of memory");
        if (len == cap) { cap *= 2; buf = realloc(buf, cap); continue; }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) { if (errno == EINTR) continue; DIE("sandbox: read spec: %s", ERR); }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    memset(s, 0, sizeof *s);
    s->hostname = "swiftdock";
    s->cwd = "/";
    char *p = buf, *end = buf + len;
    while (p < end) {
        char *e = memchr(p, 0, (size_t)(end - p));
        if (!e) DIE("sandbox: malformed spec");
        char key = *p; char *v = p + 1;
        switch (key) {
        case 'L': push(&s->lower, &s->nlower, v); break;
        case 'U': s->upper = v; break;
        case 'W': s->work = v; break;
        case 'A': push(&s->argv, &s->nargv, v); break;
        case 'E': push(&s->env, &s->nenv, v); break;
        case 'C': s->cwd = v; break;
        case 'u': s->uid = (unsigned)strtoul(v, NULL, 10); break;
        case 'g': s->gid = (unsigned)strtoul(v, NULL, 10); break;
        case 'G':
            s->groups = realloc(s->groups, sizeof(gid_t) * (size_t)(s->ngroups + 1));
            if (!s->groups) DIE("sandbox: out of memory");
            s->groups[s->ngroups++] = (gid_t)strtoul(v, NULL, 10);
            break;
        case 'N':
            s->net = strcmp(v, "none") == 0 ? NET_NONE : strcmp(v, "private") == 0 ? NET_PRIVATE : NET_HOST;
            break;
        case 'n': s->slirp = v; break;
        case 'H': s->hostname = v; break;
        case 'P': s->probe = 1; break;
        case 'X':
            if (strcmp(v, "owners") == 0) s->op = OP_OWNERS;
            else if (strcmp(v, "remove") == 0) s->op = OP_REMOVE;
            else DIE("sandbox: unknown operation %s in the spec", v);
            break;
        case 'R': s->rootdir = v; break;
        case 'S': s->search_path = v; break;
        case 'I':
            s->idmode = strcmp(v, "identity") == 0 ? MODE_ROOT : strcmp(v, "single") == 0 ? MODE_SINGLE
                      : strcmp(v, "subordinate") == 0 ? MODE_SUBID : MODE_UNSET;
            if (s->idmode == MODE_UNSET) DIE("sandbox: unknown ID map %s in the spec", v);
            break;
        case 'i':
            if (sscanf(v, "%lu:%lu:%lu:%lu", &s->sub.ustart, &s->sub.ucount, &s->sub.gstart, &s->sub.gcount) != 4)
                DIE("sandbox: malformed subordinate ranges %s in the spec", v);
            break;
        case 'j': s->sub.newuidmap = v; break;
        case 'k': s->sub.newgidmap = v; break;
        case 'O': {
            // Doubling: an owners operation may list tens of thousands of paths.
            if (s->nowners == 0 || (s->nowners >= 16 && (s->nowners & (s->nowners - 1)) == 0)) {
                s->owners = realloc(s->owners, sizeof(struct owner) * (size_t)(s->nowners ? s->nowners * 2 : 16));
                if (!s->owners) DIE("sandbox: out of memory");
            }
            struct owner *o = &s->owners[s->nowners];
            int used = 0;
            if (sscanf(v, "%u:%u:%o:%n", &o->uid, &o->gid, &o->mode, &used) != 3 || used == 0) DIE("sandbox: malformed owner entry %s", v);
            o->path = v + used;
            s->nowners++;
            break;
        }
        case 'm':
            s->mounts = realloc(s->mounts, sizeof(struct mnt) * (size_t)(s->nmounts + 1));
            if (!s->mounts) DIE("sandbox: out of memory");
            memset(&s->mounts[s->nmounts], 0, sizeof s->mounts[s->nmounts]);
            s->mounts[s->nmounts].root = v; s->mounts[s->nmounts].path = ""; s->mounts[s->nmounts].dst = "/";
            s->mounts[s->nmounts].fd = -1;
            s->nmounts++;
            break;
        case 's':
            s->mounts = realloc(s->mounts, sizeof(struct mnt) * (size_t)(s->nmounts + 1));
            if (!s->mounts) DIE("sandbox: out of memory");
            memset(&s->mounts[s->nmounts], 0, sizeof s->mounts[s->nmounts]);
            s->mounts[s->nmounts].secret = 1; s->mounts[s->nmounts].dst = v; s->mounts[s->nmounts].hex = "";
            s->mounts[s->nmounts].mode = 0400; s->mounts[s->nmounts].ro = 1; s->mounts[s->nmounts].fd = -1;
            s->nmounts++;
            break;
        case 'd': if (s->nmounts && s->mounts[s->nmounts - 1].secret) s->mounts[s->nmounts - 1].hex = v; break;
        case 'M':
            if (s->nmounts && s->mounts[s->nmounts - 1].secret) {
                struct mnt *m = &s->mounts[s->nmounts - 1];
                if (sscanf(v, "%o:%u:%u", &m->mode, &m->uid, &m->gid) != 3) DIE("sandbox: malformed secret owner entry");
            }
            break;
        case 'p': if (s->nmounts) s->mounts[s->nmounts - 1].path = v; break;
        case 't': if (s->nmounts) s->mounts[s->nmounts - 1].dst = v; break;
        case 'r': if (s->nmounts) s->mounts[s->nmounts - 1].ro = v[0] == '1'; break;
        case 'o': if (s->nmounts) s->mounts[s->nmounts - 1].upper = v; break;
        case 'x': if (s->nmounts) s->mounts[s->nmounts - 1].work = v; break;
        default: break;
        }
        p = e + 1;
    }
    if (!s->rootdir && s->nlower == 0) DIE("sandbox: no lower directory in the spec");
    if (!s->rootdir && (!s->upper || !s->work)) DIE("sandbox: no upper or work directory in the spec");
    if (s->op && !s->rootdir) DIE("sandbox: an operation without its directory in the spec");
    if (!s->probe && !s->op && s->nargv == 0) DIE("sandbox: empty argv");
    if (s->idmode == MODE_UNSET) DIE("sandbox: no ID map in the spec");
    if (s->idmode == MODE_SUBID && (!s->sub.newuidmap || !s->sub.newgidmap || s->sub.ucount == 0 || s->sub.gcount == 0))
        DIE("sandbox: subordinate ID map without ranges or newuidmap/newgidmap in the spec");
    if (!s->search_path) DIE("sandbox: no default search path in the spec");
    if (s->net == NET_PRIVATE && !s->slirp) DIE("sandbox: a private network needs the slirp4netns path in the spec");
    for (int i = 0; i < s->nmounts; i++)
        if ((s->mounts[i].upper == NULL) != (s->mounts[i].work == NULL)) DIE("sandbox: mount on %s: upper dir without work dir", s->mounts[i].dst);
}

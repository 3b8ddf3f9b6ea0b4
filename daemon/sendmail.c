/* vigie-sendmail: the submission program. Sendmail-compatible enough for
 * Postfix's pipe(8) and for applications: -f sender, -t, -i/-oi, recipients as
 * arguments, the message on standard input. It stores the mail durably in the
 * spool (tmp/, fsync, rename into new/, fsync) and only then exits 0; when it
 * cannot store durably it exits EX_TEMPFAIL so the MTA keeps the mail and
 * retries. It never accepts a mail it has not stored.
 *
 * The spool folders belong to a group of their own that this program is setgid
 * to (as Postfix's postdrop), so ordinary programs can submit without being able
 * to read others' mail; the files it writes are 0640, owned by the caller. Nothing here parses more
 * than it must: the -t header scan is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "spool.h"

#define HEADERS_MAX (1u << 20) /* -t reads recipients from at most 1 MiB of headers */

struct rcpts {
        char **v;
        size_t n;
};

static int add_rcpt(struct rcpts *r, const char *a, size_t n)
{
        while (n && (*a == ' ' || *a == '\t')) {
                a++;
                n--;
        }
        while (n && (a[n - 1] == ' ' || a[n - 1] == '\t' || a[n - 1] == '\r'))
                n--;
        if (n == 0)
                return 0;
        if (r->n >= VG_ENVELOPE_MAX_RCPTS || n >= VG_ADDR_MAX)
                return -E2BIG;
        char *s = strndup(a, n);
        if (!s)
                return -ENOMEM;
        if (!vg_envelope_addr_ok(s, 0)) {
                free(s);
                return -EINVAL;
        }
        r->v[r->n++] = s;
        return 0;
}

/* One address list (To/Cc/Bcc value): "A <a@x>, b@y, \"C, D\" <c@z>". */
static int parse_list(struct rcpts *r, const char *v)
{
        bool quote = false;
        int angle = 0;
        const char *start = v, *lt = NULL;
        for (const char *p = v;; p++) {
                char c = *p;
                if (c == '"' && (p == v || p[-1] != '\\'))
                        quote = !quote;
                else if (!quote && c == '<') {
                        angle++;
                        lt = p;
                } else if (!quote && c == '>' && angle)
                        angle--;
                if ((c == ',' && !quote && !angle) || c == '\0') {
                        int e = 0;
                        if (lt) {
                                const char *gt = strchr(lt, '>');
                                if (gt && gt < p)
                                        e = add_rcpt(r, lt + 1, (size_t)(gt - lt - 1));
                        } else {
                                e = add_rcpt(r, start, (size_t)(p - start));
                        }
                        if (e < 0)
                                return e;
                        start = p + 1;
                        lt = NULL;
                }
                if (c == '\0')
                        return 0;
        }
}

/* -t: recipients from To, Cc and Bcc (folded lines joined); Bcc is dropped from
 * the stored message, as sendmail does. *hlen is set to the header length. */
static int recipients_from_headers(char *msg, size_t len, struct rcpts *r, size_t *bcc_start,
                                   size_t *bcc_end)
{
        size_t end = len < HEADERS_MAX ? len : HEADERS_MAX;
        size_t i = 0;
        *bcc_start = *bcc_end = 0;
        while (i < end) {
                size_t ls = i;
                /* a header with its continuation lines */
                while (i < end) {
                        char *nl = memchr(msg + i, '\n', end - i);
                        i = nl ? (size_t)(nl - msg) + 1 : end;
                        if (i >= end || (msg[i] != ' ' && msg[i] != '\t'))
                                break;
                }
                size_t le = i;
                if (le - ls <= 2 && (msg[ls] == '\n' || msg[ls] == '\r'))
                        break; /* blank line: end of headers */
                const char *names[] = {"to:", "cc:", "bcc:"};
                for (int k = 0; k < 3; k++) {
                        size_t nl = strlen(names[k]);
                        if (le - ls > nl && strncasecmp(msg + ls, names[k], nl) == 0) {
                                char *v = strndup(msg + ls + nl, le - ls - nl);
                                if (!v)
                                        return -ENOMEM;
                                for (char *p = v; *p; p++)
                                        if (*p == '\r' || *p == '\n')
                                                *p = ' ';
                                int e = parse_list(r, v);
                                free(v);
                                if (e < 0)
                                        return e;
                                if (k == 2 && !*bcc_end) {
                                        *bcc_start = ls;
                                        *bcc_end = le;
                                }
                        }
                }
        }
        return 0;
}

/* Whether the header block (bounded as for -t) has a Message-ID. */
static bool has_message_id(const char *msg, size_t len)
{
        size_t end = len < HEADERS_MAX ? len : HEADERS_MAX;
        for (size_t i = 0; i < end;) {
                if (msg[i] == '\n' || (msg[i] == '\r' && i + 1 < end && msg[i + 1] == '\n'))
                        return false; /* blank line: end of headers */
                if (end - i > 11 && strncasecmp(msg + i, "message-id:", 11) == 0)
                        return true;
                const char *nl = memchr(msg + i, '\n', end - i);
                if (!nl)
                        return false;
                i = (size_t)(nl - msg) + 1;
        }
        return false;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static void usage(void)
{
        fputs("Usage: vigie-sendmail [-c CONFIG] [--route NAME] [-f SENDER] [-t] [-i] [--] "
              "RECIPIENT...\n"
              "Stores the mail read on standard input in the spool of a vigie mail route.\n"
              "Exit status: 0 stored, 75 (EX_TEMPFAIL) could not store durably: try again,\n"
              "64 usage, 65 bad address or message too large, 78 configuration.\n",
              stderr);
}

int main(int argc, char **argv)
{
        /* Installed setgid vigie-mail: the group is needed for the spool and
         * nothing else. It is put aside at once and taken back only to write
         * into the spool, so the configuration (-c FILE included) is read with
         * the caller's own rights: it can name only a file the caller may read. */
        gid_t spool_gid = getegid();
        if (spool_gid != getgid() && setegid(getgid()) < 0)
                return EX_OSERR;
        umask(027);
        const char *config = NULL, *route = NULL, *sender = NULL;
        bool from_headers = false;
        struct rcpts r = {calloc(VG_ENVELOPE_MAX_RCPTS, sizeof(char *)), 0};
        struct vg_config *cfg = NULL;
        char *msg = NULL;
        int td = -1, nd = -1, rc = EX_OK;
        if (!r.v)
                return EX_TEMPFAIL;
        int i = 1;
        for (; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                }
                if (a[0] != '-')
                        break;
                if (strcmp(a, "-c") == 0 && i + 1 < argc)
                        config = argv[++i];
                else if (strcmp(a, "--route") == 0 && i + 1 < argc)
                        route = argv[++i];
                else if (strcmp(a, "-f") == 0 && i + 1 < argc)
                        sender = argv[++i];
                else if (strncmp(a, "-f", 2) == 0 && a[2])
                        sender = a + 2;
                else if (strcmp(a, "-t") == 0)
                        from_headers = true;
                else if (strcmp(a, "-i") == 0 || strcmp(a, "-oi") == 0 ||
                         strncmp(a, "-o", 2) == 0 || strncmp(a, "-B", 2) == 0 ||
                         strncmp(a, "-F", 2) == 0 || strcmp(a, "-odi") == 0)
                        continue; /* accepted for compatibility; -i is our only mode */
                else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        usage();
                        goto out;
                } else {
                        usage();
                        rc = EX_USAGE;
                        goto out;
                }
        }
        for (; i < argc; i++) {
                int e = parse_list(&r, argv[i]);
                if (e < 0) {
                        fprintf(stderr, "vigie-sendmail: bad recipient address\n");
                        {
                                rc = EX_DATAERR;
                                goto out;
                        }
                }
        }
        if (!sender) {
                const char *u = getenv("USER");
                sender = u ? u : "";
        }
        if (!vg_envelope_addr_ok(sender, 1)) {
                fprintf(stderr, "vigie-sendmail: bad sender address\n");
                {
                        rc = EX_DATAERR;
                        goto out;
                }
        }
        char err[1024];
        if (vg_config_load(config, &cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "vigie-sendmail: %s\n", err);
                {
                        rc = EX_CONFIG;
                        goto out;
                }
        }
        const struct vg_route *mr = NULL;
        for (size_t k = 0; k < cfg->nroutes && !mr; k++)
                if (cfg->routes[k].type == VG_ROUTE_MAIL &&
                    (!route || strcmp(cfg->routes[k].name, route) == 0))
                        mr = &cfg->routes[k];
        if (!mr) {
                fprintf(stderr, "vigie-sendmail: %s: no mail route%s%s\n", cfg->path,
                        route ? " named " : "", route ? route : "");
                {
                        rc = EX_CONFIG;
                        goto out;
                }
        }
        uint64_t max = cfg->limits.max_file_size;
        /* Read the whole message: it must be checked (size, -t) before it is
         * accepted, and stored in one piece. */
        size_t cap = 1 << 16, len = 0;
        msg = malloc(cap);
        if (!msg) {
                rc = EX_TEMPFAIL;
                goto out;
        }
        for (;;) {
                if (len == cap) {
                        if (cap > max) {
                                fprintf(stderr,
                                        "vigie-sendmail: message larger than %llu "
                                        "bytes\n",
                                        (unsigned long long)max);
                                {
                                        rc = EX_DATAERR;
                                        goto out;
                                }
                        }
                        char *nm = realloc(msg, cap * 2);
                        if (!nm) {
                                rc = EX_TEMPFAIL;
                                goto out;
                        }
                        msg = nm;
                        cap *= 2;
                }
                ssize_t n = read(STDIN_FILENO, msg + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        rc = EX_TEMPFAIL;
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max) {
                fprintf(stderr, "vigie-sendmail: message larger than %llu bytes\n",
                        (unsigned long long)max);
                {
                        rc = EX_DATAERR;
                        goto out;
                }
        }
        size_t bcc_s = 0, bcc_e = 0;
        if (from_headers && recipients_from_headers(msg, len, &r, &bcc_s, &bcc_e) < 0) {
                fprintf(stderr, "vigie-sendmail: bad recipient address in the headers\n");
                {
                        rc = EX_DATAERR;
                        goto out;
                }
        }
        if (r.n == 0) {
                fprintf(stderr, "vigie-sendmail: no recipient\n");
                {
                        rc = EX_USAGE;
                        goto out;
                }
        }
        char tmpd[4096], newd[4096];
        snprintf(tmpd, sizeof(tmpd), "%s/tmp", mr->spool);
        snprintf(newd, sizeof(newd), "%s/new", mr->spool);
        if (spool_gid != getgid() && setegid(spool_gid) < 0) {
                rc = EX_OSERR;
                goto out;
        }
        /* tmp/ and new/ are 1730 vigie:vigie-mail, as Postfix's maildrop: the
         * group may create and rename but not list, hence O_PATH. */
        td = open(tmpd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        nd = open(newd, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (td < 0 || nd < 0) {
                fprintf(stderr, "vigie-sendmail: spool %s: %s\n", mr->spool, strerror(errno));
                {
                        rc = EX_TEMPFAIL;
                        goto out;
                }
        }
        /* A unique name: time, pid, randomness (Maildir's recipe). */
        unsigned char rnd[8];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
                rc = EX_TEMPFAIL;
                goto out;
        }
        char name[128];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(name, sizeof(name), "%lld.%ld.%d.%02x%02x%02x%02x%02x%02x%02x%02x",
                 (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3],
                 rnd[4], rnd[5], rnd[6], rnd[7]);
        int fd = openat(td, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0) {
                fprintf(stderr, "vigie-sendmail: %s: %s\n", tmpd, strerror(errno));
                {
                        rc = EX_TEMPFAIL;
                        goto out;
                }
        }
        int e = write_all(fd, "VIGIE-ENVELOPE 1\nsender ", 24);
        if (!e)
                e = write_all(fd, sender, strlen(sender));
        for (size_t k = 0; !e && k < r.n; k++) {
                e = write_all(fd, "\nrcpt ", 6);
                if (!e)
                        e = write_all(fd, r.v[k], strlen(r.v[k]));
        }
        if (!e)
                e = write_all(fd, "\nend\n", 5);
        /* Every mail forwarded keeps a stable Message-ID (Postfix adds one
         * before its content filter; a program calling us directly may not):
         * if vigied ever sends a mail twice (a crash at the moment of sending),
         * the copies show as one. */
        if (!e && !has_message_id(msg, len)) {
                char host[256] = "localhost", mid[512];
                if (gethostname(host, sizeof(host) - 1) < 0 || !host[0] || strchr(host, ' '))
                        snprintf(host, sizeof(host), "localhost");
                bool crlf = false;
                const char *nl = memchr(msg, '\n', len);
                if (nl && nl > msg && nl[-1] == '\r')
                        crlf = true;
                int n = snprintf(mid, sizeof(mid), "Message-ID: <%s@%s>%s", name, host,
                                 crlf ? "\r\n" : "\n");
                e = n > 0 && (size_t)n < sizeof(mid) ? write_all(fd, mid, (size_t)n) : -EINVAL;
        }
        if (!e && bcc_e > bcc_s) {
                e = write_all(fd, msg, bcc_s);
                if (!e)
                        e = write_all(fd, msg + bcc_e, len - bcc_e);
        } else if (!e) {
                e = write_all(fd, msg, len);
        }
        if (!e && fsync(fd) < 0)
                e = -errno;
        bool renamed = false;
        if (!e && renameat(td, name, nd, name) < 0)
                e = -errno;
        else if (!e)
                renamed = true;
        /* The new name must be durable too. new/ cannot be opened for reading
         * (no list permission), so it cannot be fsynced: the filesystem is. */
        if (!e && syncfs(fd) < 0)
                e = -errno;
        if (close(fd) < 0 && !e)
                e = -errno;
        if (e) {
                /* Nothing half-written is left where vigied looks. If vigied took
                 * the mail already, the MTA's retry sends it twice: a duplicate
                 * (same Message-ID), never a loss. */
                unlinkat(renamed ? nd : td, name, 0);
                fprintf(stderr, "vigie-sendmail: cannot store the mail: %s\n", strerror(-e));
                {
                        rc = EX_TEMPFAIL;
                        goto out;
                }
        }
        rc = EX_OK;
out:
        if (td >= 0)
                close(td);
        if (nd >= 0)
                close(nd);
        free(msg);
        for (size_t k = 0; k < r.n; k++)
                free(r.v[k]);
        free(r.v);
        vg_config_free(cfg);
        return rc;
}

#include "scan_cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"
#include "log.h"
#include "masker.h"
#include "policy.h"
#include "report_json.h"
#include "scan.h"
#include "worker.h"

#define MAX_DIR_DEPTH 256

/* One top-level file, in the order it was found; results are printed in that
 * order even though the workers finish them in any order. */
struct slot {
        char *path;
        struct vg_report *report;
        bool done;
        int err;
};

struct run {
        struct vg_masker *masker;
        struct vg_pool *pool;
        sd_event *event;
        struct slot *slots;
        size_t nslots;
        size_t cap;
        size_t printed;
        size_t in_flight;
        size_t max_in_flight;
        int fatal;
        const struct vg_policy *policy;
        enum vg_lang lang;
        bool json;
        bool progress;
        unsigned long long files;
        unsigned long long bytes;
        struct timespec start;
        struct timespec last_progress;
        bool progress_shown;
        int status; /* 0 all clean, 1 something flagged or unscannable */
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
        return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* A progress line on a terminal, for scans that take more than a moment. */
static void progress(struct run *r, const char *current)
{
        if (!r->progress)
                return;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double t = elapsed(&r->start, &now);
        if (t < 1.0 || elapsed(&r->last_progress, &now) < 0.2)
                return;
        r->last_progress = now;
        double mb = (double)r->bytes / 1e6;
        fprintf(stderr, "\r\033[K%llu %s, %.1f %s, %.1f %s/s  %.60s", r->files,
                r->lang == VG_LANG_EN ? "files" : "fichiers", mb,
                r->lang == VG_LANG_EN ? "MB" : "Mo", t > 0 ? mb / t : 0.0,
                r->lang == VG_LANG_EN ? "MB" : "Mo", current);
        r->progress_shown = true;
}

static void progress_end(struct run *r)
{
        if (r->progress_shown)
                fputs("\r\033[K", stderr);
}

static void print_human(struct run *r, const struct vg_report *rep)
{
        enum vg_lang l = r->lang;
        if (rep->verdict == VG_VERDICT_CLEAN) {
                printf("[%s] %s\n", vg_i18n_verdict(l, rep->verdict), rep->path);
                return;
        }
        printf("[%s] %s -> %s%s\n", vg_i18n_verdict(l, rep->verdict), rep->path,
               vg_i18n_action(l, rep->action),
               rep->monitor ? (l == VG_LANG_EN ? " (monitor mode)" : " (mode observation)") : "");
        for (size_t i = 0; i < rep->nfindings; i++) {
                const struct vg_finding *f = &rep->findings[i];
                printf("    %s x%llu %s %s", f->detector, (unsigned long long)f->count,
                       vg_i18n_in(l), f->where);
                for (size_t k = 0; k < f->nsamples; k++)
                        printf("%s%s", k ? ", " : " : ", f->samples[k]);
                putchar('\n');
        }
        for (size_t i = 0; i < rep->nunscannable; i++)
                printf("    %s : %s (%s)\n", rep->unscannable[i].where,
                       vg_i18n_reason(l, rep->unscannable[i].reason),
                       vg_reason_name(rep->unscannable[i].reason));
}

static int emit(struct run *r, struct vg_report *rep, const char *path)
{
        char *disp = vg_masker_display(r->masker, path);
        if (!disp)
                return -ENOMEM;
        free(rep->path);
        rep->path = disp;
        int e = vg_policy_apply(r->policy, rep);
        if (e < 0)
                return e;
        if (rep->verdict != VG_VERDICT_CLEAN)
                r->status = 1;
        progress_end(r);
        r->progress_shown = false;
        if (r->json) {
                char *line = vg_report_to_json_line(rep);
                if (!line)
                        return -ENOMEM;
                puts(line);
                free(line);
        } else {
                print_human(r, rep);
        }
        fflush(stdout);
        return 0;
}

static int new_slot(struct run *r, const char *path, size_t *idx)
{
        if (r->nslots == r->cap) {
                size_t ncap = r->cap ? r->cap * 2 : 256;
                struct slot *ns = reallocarray(r->slots, ncap, sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                r->slots = ns;
                r->cap = ncap;
        }
        struct slot *s = &r->slots[r->nslots];
        memset(s, 0, sizeof(*s));
        if (!(s->path = strdup(path)))
                return -ENOMEM;
        *idx = r->nslots++;
        return 0;
}

/* Prints the finished slots that are next in order. */
static void flush_slots(struct run *r)
{
        while (r->printed < r->nslots && r->slots[r->printed].done) {
                struct slot *s = &r->slots[r->printed];
                int e = s->err < 0 ? s->err : emit(r, s->report, s->path);
                if (e < 0 && !r->fatal)
                        r->fatal = e;
                vg_report_free(s->report);
                s->report = NULL;
                free(s->path);
                s->path = NULL;
                r->printed++;
        }
}

/* A path that could not be scanned at all still gets a line: fail closed. */
static int emit_unscannable(struct run *r, const char *path, enum vg_reason reason)
{
        const char *base = strrchr(path, '/');
        base = base && base[1] ? base + 1 : path;
        size_t idx;
        int e = new_slot(r, path, &idx);
        if (e < 0)
                return e;
        struct slot *s = &r->slots[idx];
        char *where = vg_masker_display(r->masker, base);
        s->report = where ? vg_report_new(where) : NULL;
        if (!s->report || vg_report_add_unscannable(s->report, where, reason) < 0)
                s->err = -ENOMEM;
        free(where);
        s->done = true;
        flush_slots(r);
        return 0;
}

struct done_ctx {
        struct run *run;
        size_t idx;
};

static void on_done(void *userdata, struct vg_report *rep, int err)
{
        struct done_ctx *c = userdata;
        struct run *r = c->run;
        struct slot *s = &r->slots[c->idx];
        s->report = rep;
        s->err = err;
        s->done = true;
        r->in_flight--;
        free(c);
        flush_slots(r);
}

static int scan_file(struct run *r, int fd, const char *path)
{
        const char *base = strrchr(path, '/');
        base = base && base[1] ? base + 1 : path;
        struct stat st;
        if (fstat(fd, &st) == 0)
                r->bytes += (unsigned long long)st.st_size;
        r->files++;
        progress(r, path);
        /* Bounded in-flight work: descriptors and reports do not pile up. */
        while (r->in_flight >= r->max_in_flight)
                if (sd_event_run(r->event, UINT64_MAX) < 0)
                        return -EIO;
        size_t idx;
        int e = new_slot(r, path, &idx);
        struct done_ctx *c = e == 0 ? malloc(sizeof(*c)) : NULL;
        if (!c)
                return -ENOMEM;
        *c = (struct done_ctx){r, idx};
        r->in_flight++;
        e = vg_pool_submit(r->pool, fd, base, on_done, c);
        if (e < 0) {
                r->in_flight--;
                free(c);
                r->slots[idx].err = e;
                r->slots[idx].done = true;
                return e;
        }
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(const char *dir, const char *name)
{
        size_t a = strlen(dir), b = strlen(name);
        bool slash = a > 0 && dir[a - 1] != '/';
        char *p = malloc(a + b + 2);
        if (!p)
                return NULL;
        memcpy(p, dir, a);
        if (slash)
                p[a++] = '/';
        memcpy(p + a, name, b + 1);
        return p;
}

static int walk(struct run *r, int dfd, const char *path, unsigned depth);

/* One directory entry, opened relative to its directory, never through a link. */
static int visit(struct run *r, int dfd, const char *name, const char *path, unsigned depth)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return emit_unscannable(r, path, VG_REASON_IO_ERROR);
        if (S_ISDIR(st.st_mode)) {
                if (depth >= MAX_DIR_DEPTH)
                        return emit_unscannable(r, path, VG_REASON_LIMIT_DEPTH);
                int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0)
                        return emit_unscannable(r, path, VG_REASON_IO_ERROR);
                int e = walk(r, sub, path, depth + 1);
                close(sub);
                return e;
        }
        if (!S_ISREG(st.st_mode))
                return emit_unscannable(r, path, VG_REASON_SPECIAL_FILE);
        /* O_NONBLOCK: a file swapped for a FIFO after the stat must not hang us. */
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return emit_unscannable(
                    r, path, errno == ELOOP ? VG_REASON_SPECIAL_FILE : VG_REASON_IO_ERROR);
        struct stat st2;
        int e;
        if (fstat(fd, &st2) < 0 || !S_ISREG(st2.st_mode))
                e = emit_unscannable(r, path, VG_REASON_SPECIAL_FILE);
        else
                e = scan_file(r, fd, path);
        close(fd);
        return e;
}

static int walk(struct run *r, int dfd, const char *path, unsigned depth)
{
        int fd = dup(dfd);
        if (fd < 0)
                return emit_unscannable(r, path, VG_REASON_IO_ERROR);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return emit_unscannable(r, path, VG_REASON_IO_ERROR);
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        int e = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        char **nn = reallocarray(names, ncap, sizeof(*nn));
                        if (!nn) {
                                e = -ENOMEM;
                                break;
                        }
                        names = nn;
                        cap = ncap;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        e = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (e == 0)
                qsort(names, n, sizeof(*names), name_cmp);
        for (size_t i = 0; i < n && e == 0; i++) {
                char *p = join(path, names[i]);
                e = p ? visit(r, dfd, names[i], p, depth) : -ENOMEM;
                free(p);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return e;
}

/* A path named on the command line: followed if it is a link (the admin named
 * it); what is found inside folders is never followed. */
static int scan_arg(struct run *r, const char *path)
{
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                fprintf(stderr, "vigiectl: %s: %s\n", path, strerror(errno));
                return emit_unscannable(r, path, VG_REASON_IO_ERROR);
        }
        struct stat st;
        int e;
        if (fstat(fd, &st) < 0)
                e = emit_unscannable(r, path, VG_REASON_IO_ERROR);
        else if (S_ISDIR(st.st_mode))
                e = walk(r, fd, path, 0);
        else if (!S_ISREG(st.st_mode))
                e = emit_unscannable(r, path, VG_REASON_SPECIAL_FILE);
        else
                e = scan_file(r, fd, path);
        close(fd);
        return e;
}

static void usage(FILE *f)
{
        fputs("Usage: vigiectl scan [-c CONFIG] [--json] [--policy NAME] PATH...\n"
              "Scans files and folders (recursively, links inside folders are not followed)\n"
              "and prints one verdict per file: clean, flagged or unscannable.\n"
              "Exit status: 0 all clean, 1 something flagged or unscannable, 2 usage or\n"
              "configuration error.\n",
              f);
}

int vg_cli_scan(const char *config_path, int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'},
            {"json", no_argument, NULL, 'j'},
            {"policy", required_argument, NULL, 'p'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *policy_name = "default";
        bool json = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "c:jp:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'p':
                        policy_name = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        char err[1024];
        struct vg_config *cfg = NULL;
        if (vg_config_load(config_path, &cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "vigiectl: %s\n", err);
                return 2;
        }
        const struct vg_policy *pol = vg_config_policy(cfg, policy_name);
        if (!pol) {
                fprintf(stderr, "vigiectl: %s: no policy named '%s'\n", cfg->path, policy_name);
                vg_config_free(cfg);
                return 2;
        }
        struct vg_engine_config ec = {
            .limits = cfg->limits, .tmpdir = cfg->workers_tmpdir, .custom = cfg->custom};
        ec.hold_images = cfg->images && strcmp(cfg->images, "hold") == 0;
        struct run r = {
            .policy = pol,
            .lang = vg_lang_from_name(cfg->language),
            .json = json,
            .progress = isatty(STDERR_FILENO) == 1,
        };
        struct vg_pool_config pc = {
            .engine = &ec,
            .count = (unsigned)cfg->workers_count,
            .memory = cfg->workers_memory,
        };
        int e = vg_masker_new(cfg->custom, &r.masker);
        if (e >= 0)
                e = sd_event_new(&r.event);
        if (e >= 0)
                e = vg_pool_new(r.event, &pc, &r.pool);
        if (e < 0) {
                fprintf(stderr, "vigiectl: cannot start the scan workers: %s\n", strerror(-e));
                vg_masker_free(r.masker);
                sd_event_unref(r.event);
                vg_config_free(cfg);
                return 2;
        }
        r.max_in_flight = 4 * (size_t)vg_pool_workers(r.pool) + 4;
        clock_gettime(CLOCK_MONOTONIC, &r.start);
        for (int i = optind; i < argc && e >= 0; i++)
                e = scan_arg(&r, argv[i]);
        while (e >= 0 && r.in_flight > 0)
                if (sd_event_run(r.event, UINT64_MAX) < 0)
                        e = -EIO;
        flush_slots(&r);
        if (e >= 0 && r.fatal)
                e = r.fatal;
        progress_end(&r);
        vg_pool_free(r.pool);
        for (size_t i = r.printed; i < r.nslots; i++) {
                free(r.slots[i].path);
                vg_report_free(r.slots[i].report);
        }
        free(r.slots);
        sd_event_unref(r.event);
        vg_masker_free(r.masker);
        vg_config_free(cfg);
        if (e < 0) {
                fprintf(stderr, "vigiectl: scan stopped: %s\n", strerror(-e));
                return 2;
        }
        return r.status;
}

/* vigie-bench: the in-process half of `make bench` (tests/bench/run_bench.py).
 *
 *   vigie-bench detect LIST   every file of LIST (one path a line) read into
 *                             memory first, then decoded, normalised and run
 *                             through every detector, as the text extractor
 *                             does: the plain-text detection throughput
 *   vigie-bench scan LIST     every file scanned by the engine in this process,
 *                             one at a time, with the engine's stage timer on:
 *                             sniff / unpack / extract / detect, and the cost
 *                             per file
 *
 * One thread, no worker processes, no sandbox: what the engine itself costs.
 * Results are printed as key=value lines for run_bench.py. Never prints a
 * finding, only counts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "charset.h"
#include "config.h"
#include "detect.h"
#include "policy.h"
#include "report.h"
#include "scan.h"
#include "text.h"

/* The chunk the engine's layers use (scan.c TEXT_CHUNK): the same overlap cost. */
#define TEXT_CHUNK (256u * 1024)
#define MAX_FILE   (512u << 20)
#define MAX_LIST   1000000u

struct file {
        char *path;
        unsigned char *data;
        size_t len;
};

static double now_s(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
        struct timespec t;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Reads LIST: one path a line. */
static int read_list(const char *list, struct file **ret, size_t *count)
{
        FILE *f = fopen(list, "re");
        if (!f)
                return -errno;
        struct file *v = NULL;
        size_t n = 0, cap = 0;
        char *line = NULL;
        size_t lcap = 0;
        ssize_t k;
        int e = 0;
        while ((k = getline(&line, &lcap, f)) > 0) {
                while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
                        line[--k] = '\0';
                if (k == 0)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 1024;
                        struct file *nv =
                            ncap <= MAX_LIST ? reallocarray(v, ncap, sizeof(*v)) : NULL;
                        if (!nv) {
                                e = -ENOMEM;
                                break;
                        }
                        v = nv;
                        cap = ncap;
                }
                v[n] = (struct file){.path = strdup(line)};
                if (!v[n].path) {
                        e = -ENOMEM;
                        break;
                }
                n++;
        }
        free(line);
        fclose(f);
        if (e < 0) {
                for (size_t i = 0; i < n; i++)
                        free(v[i].path);
                free(v);
                return e;
        }
        *ret = v;
        *count = n;
        return 0;
}

static void free_files(struct file *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].path);
                free(v[i].data);
        }
        free(v);
}

static int load(struct file *f)
{
        int fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        int e = 0;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE) {
                close(fd);
                return -EINVAL;
        }
        f->len = (size_t)st.st_size;
        f->data = malloc(f->len ? f->len : 1);
        if (!f->data) {
                close(fd);
                return -ENOMEM;
        }
        size_t got = 0;
        while (got < f->len) {
                ssize_t r = read(fd, f->data + got, f->len - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        e = r < 0 ? -errno : -EIO;
                        break;
                }
                got += (size_t)r;
        }
        close(fd);
        return e;
}

static const char *base_name(const char *p)
{
        const char *b = strrchr(p, '/');
        return b && b[1] ? b + 1 : p;
}

/* One file through the text path: charset guess, decoder, normalisation,
 * chunks with overlap, every detector, then the policy. Returns 1 when flagged. */
static int detect_one(struct vg_rules *rules, const struct vg_policy *pol, const struct file *f)
{
        struct vg_detect *det = NULL;
        struct vg_text *t = NULL;
        struct vg_report *rep = NULL;
        int e = vg_detect_new(rules, &det);
        if (e == 0)
                e = vg_text_new(det, TEXT_CHUNK, &t);
        if (e == 0) {
                size_t bom = 0;
                size_t head = f->len < 65536 ? f->len : 65536;
                struct vg_decoder dec;
                vg_decoder_init(&dec, vg_charset_sniff(f->data, head, &bom));
                e = vg_decoder_push(&dec, t, f->data + bom, f->len - bom);
                if (e == 0)
                        e = vg_decoder_end(&dec, t);
                if (e == 0)
                        e = vg_text_end(t);
        }
        if (e == 0 && !(rep = vg_report_new(base_name(f->path))))
                e = -ENOMEM;
        if (e == 0)
                e = vg_detect_report(det, rep, rep->path);
        if (e == 0)
                e = vg_policy_apply(pol, rep);
        if (e == 0)
                e = rep->verdict == VG_VERDICT_FLAGGED;
        vg_report_free(rep);
        vg_text_free(t);
        vg_detect_free(det);
        return e;
}

static int cmd_detect(const struct vg_config *cfg, const struct vg_policy *pol, struct file *v,
                      size_t n)
{
        unsigned long long bytes = 0;
        for (size_t i = 0; i < n; i++) {
                int e = load(&v[i]);
                if (e < 0) {
                        fprintf(stderr, "vigie-bench: %s: %s\n", v[i].path, strerror(-e));
                        return 2;
                }
                bytes += v[i].len;
        }
        struct vg_rules *rules = NULL;
        int e = vg_rules_new(cfg->custom, &rules);
        if (e < 0) {
                fprintf(stderr, "vigie-bench: rules: %s\n", strerror(-e));
                return 2;
        }
        size_t flagged = 0;
        double t0 = now_s(), c0 = cpu_s();
        for (size_t i = 0; i < n && e >= 0; i++) {
                e = detect_one(rules, pol, &v[i]);
                if (e > 0)
                        flagged++;
        }
        double wall = now_s() - t0, cpu = cpu_s() - c0;
        vg_rules_free(rules);
        if (e < 0) {
                fprintf(stderr, "vigie-bench: detection failed: %s\n", strerror(-e));
                return 2;
        }
        printf("mode=detect\nfiles=%zu\nbytes=%llu\nwall_s=%.4f\ncpu_s=%.4f\nmb_s=%.2f\n"
               "flagged=%zu\n",
               n, bytes, wall, cpu, wall > 0 ? (double)bytes / 1e6 / wall : 0.0, flagged);
        return 0;
}

static int cmd_scan(const struct vg_config *cfg, const struct vg_policy *pol, struct file *v,
                    size_t n)
{
        struct vg_engine_config ec = {
            .limits = cfg->limits, .tmpdir = cfg->workers_tmpdir, .custom = cfg->custom};
        ec.hold_images = cfg->images && strcmp(cfg->images, "hold") == 0;
        ec.stage_times = true;
        struct vg_engine *eng = NULL;
        int e = vg_engine_new(&ec, &eng);
        if (e < 0) {
                fprintf(stderr, "vigie-bench: engine: %s\n", strerror(-e));
                return 2;
        }
        unsigned long long bytes = 0;
        size_t flagged = 0, unscannable = 0;
        uint64_t before[VG_STAGE_COUNT], after[VG_STAGE_COUNT];
        vg_engine_stage_times(eng, before);
        double t0 = now_s(), c0 = cpu_s();
        for (size_t i = 0; i < n && e >= 0; i++) {
                int fd = open(v[i].path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (fd < 0) {
                        e = -errno;
                        fprintf(stderr, "vigie-bench: %s: %s\n", v[i].path, strerror(errno));
                        break;
                }
                struct stat st;
                if (fstat(fd, &st) == 0)
                        bytes += (unsigned long long)st.st_size;
                struct vg_report *rep = NULL;
                e = vg_scan_fd(eng, fd, base_name(v[i].path), &rep);
                close(fd);
                if (e == 0)
                        e = vg_policy_apply(pol, rep);
                if (e == 0 && rep->verdict == VG_VERDICT_FLAGGED)
                        flagged++;
                else if (e == 0 && rep->verdict == VG_VERDICT_UNSCANNABLE)
                        unscannable++;
                vg_report_free(rep);
        }
        double wall = now_s() - t0, cpu = cpu_s() - c0;
        vg_engine_stage_times(eng, after);
        vg_engine_free(eng);
        if (e < 0) {
                fprintf(stderr, "vigie-bench: scan failed: %s\n", strerror(-e));
                return 2;
        }
        static const char *const names[VG_STAGE_COUNT] = {"other", "sniff", "unpack", "extract",
                                                          "detect"};
        printf("mode=scan\nfiles=%zu\nbytes=%llu\nwall_s=%.4f\ncpu_s=%.4f\nmb_s=%.2f\n"
               "files_s=%.1f\nms_per_file=%.4f\nflagged=%zu\nunscannable=%zu\n",
               n, bytes, wall, cpu, wall > 0 ? (double)bytes / 1e6 / wall : 0.0,
               wall > 0 ? (double)n / wall : 0.0, n ? wall * 1e3 / (double)n : 0.0, flagged,
               unscannable);
        for (int s = 0; s < VG_STAGE_COUNT; s++)
                printf("stage_%s_s=%.4f\n", names[s], (double)(after[s] - before[s]) / 1e9);
        return 0;
}

int main(int argc, char **argv)
{
        const char *conf = NULL;
        int opt;
        while ((opt = getopt(argc, argv, "c:")) != -1) {
                if (opt != 'c') {
                        fputs("usage: vigie-bench [-c CONFIG] detect|scan LIST\n", stderr);
                        return 2;
                }
                conf = optarg;
        }
        if (argc - optind != 2 ||
            (strcmp(argv[optind], "detect") != 0 && strcmp(argv[optind], "scan") != 0)) {
                fputs("usage: vigie-bench [-c CONFIG] detect|scan LIST\n", stderr);
                return 2;
        }
        char err[1024];
        struct vg_config *cfg = NULL;
        if (vg_config_load(conf, &cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "vigie-bench: %s\n", err);
                return 2;
        }
        const struct vg_policy *pol = vg_config_policy(cfg, "default");
        struct file *v = NULL;
        size_t n = 0;
        int e = pol ? read_list(argv[optind + 1], &v, &n) : -EINVAL;
        int rc = 2;
        if (e < 0)
                fprintf(stderr, "vigie-bench: %s: %s\n", argv[optind + 1], strerror(-e));
        else if (strcmp(argv[optind], "detect") == 0)
                rc = cmd_detect(cfg, pol, v, n);
        else
                rc = cmd_scan(cfg, pol, v, n);
        free_files(v, n);
        vg_config_free(cfg);
        return rc;
}

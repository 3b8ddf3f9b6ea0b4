#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const verdict_names[] = {"clean", "flagged", "unscannable"};
static const char *const action_names[] = {"pass", "alert", "redact", "quarantine"};
static const char *const reason_names[VG_REASON_COUNT_] = {
    [VG_REASON_NONE] = "none",
    [VG_REASON_ENCRYPTED] = "encrypted",
    [VG_REASON_CORRUPT] = "corrupt",
    [VG_REASON_AMBIGUOUS] = "ambiguous",
    [VG_REASON_UNSUPPORTED] = "unsupported",
    [VG_REASON_CHARSET] = "charset",
    [VG_REASON_SPECIAL_FILE] = "special-file",
    [VG_REASON_IO_ERROR] = "io-error",
    [VG_REASON_WORKER_CRASH] = "worker-crash",
    [VG_REASON_LIMIT_SIZE] = "limit:size",
    [VG_REASON_LIMIT_EXPANDED] = "limit:expanded",
    [VG_REASON_LIMIT_RATIO] = "limit:ratio",
    [VG_REASON_LIMIT_DEPTH] = "limit:depth",
    [VG_REASON_LIMIT_MEMBERS] = "limit:members",
    [VG_REASON_LIMIT_TIME] = "limit:time",
    [VG_REASON_LIMIT_MEMORY] = "limit:memory",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int lookup(const char *const *names, size_t n, const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *vg_verdict_name(enum vg_verdict v)
{
        return (unsigned)v < NELEM(verdict_names) ? verdict_names[v] : "?";
}

const char *vg_action_name(enum vg_action a)
{
        return (unsigned)a < NELEM(action_names) ? action_names[a] : "?";
}

const char *vg_reason_name(enum vg_reason r)
{
        return (unsigned)r < NELEM(reason_names) ? reason_names[r] : "?";
}

int vg_verdict_from_name(const char *s)
{
        return lookup(verdict_names, NELEM(verdict_names), s);
}

int vg_action_from_name(const char *s)
{
        return lookup(action_names, NELEM(action_names), s);
}

int vg_reason_from_name(const char *s)
{
        int r = lookup(reason_names, NELEM(reason_names), s);
        return r == VG_REASON_NONE ? -EINVAL : r;
}

struct vg_report *vg_report_new(const char *path)
{
        struct vg_report *r = calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        r->path = strdup(path ? path : "");
        if (!r->path) {
                free(r);
                return NULL;
        }
        return r;
}

static void finding_clear(struct vg_finding *f)
{
        free(f->detector);
        free(f->where);
        for (size_t i = 0; i < f->nsamples; i++)
                free(f->samples[i]);
}

void vg_report_free(struct vg_report *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->nfindings; i++)
                finding_clear(&r->findings[i]);
        for (size_t i = 0; i < r->nunscannable; i++)
                free(r->unscannable[i].where);
        free(r->findings);
        free(r->unscannable);
        free(r->path);
        free(r->type);
        free(r->policy);
        free(r);
}

int vg_report_set_type(struct vg_report *r, const char *type)
{
        char *t = strdup(type);
        if (!t)
                return -ENOMEM;
        free(r->type);
        r->type = t;
        return 0;
}

/* Grows *arr (of element size sz) so that one more element fits. */
static int reserve(void **arr, size_t *cap, size_t n, size_t sz)
{
        if (n < *cap)
                return 0;
        size_t ncap = *cap ? *cap * 2 : 4;
        void *p = reallocarray(*arr, ncap, sz);
        if (!p)
                return -ENOMEM;
        *arr = p;
        *cap = ncap;
        return 0;
}

int vg_report_add_finding(struct vg_report *r, const char *detector, const char *where,
                          uint64_t count, uint64_t distinct, const char *const *samples,
                          size_t nsamples)
{
        if (reserve((void **)&r->findings, &r->findings_cap, r->nfindings, sizeof(*r->findings)))
                return -ENOMEM;
        struct vg_finding f = {.count = count, .distinct = distinct};
        f.detector = strdup(detector);
        f.where = strdup(where);
        if (!f.detector || !f.where)
                goto oom;
        for (size_t i = 0; i < nsamples && i < VG_MAX_SAMPLES; i++) {
                f.samples[i] = strdup(samples[i]);
                if (!f.samples[i])
                        goto oom;
                f.nsamples++;
        }
        r->findings[r->nfindings++] = f;
        return 0;
oom:
        finding_clear(&f);
        return -ENOMEM;
}

int vg_report_add_unscannable(struct vg_report *r, const char *where, enum vg_reason reason)
{
        for (size_t i = 0; i < r->nunscannable; i++)
                if (strcmp(r->unscannable[i].where, where) == 0)
                        return 0;
        if (reserve((void **)&r->unscannable, &r->unscannable_cap, r->nunscannable,
                    sizeof(*r->unscannable)))
                return -ENOMEM;
        char *w = strdup(where);
        if (!w)
                return -ENOMEM;
        r->unscannable[r->nunscannable++] = (struct vg_unscannable){.where = w, .reason = reason};
        return 0;
}

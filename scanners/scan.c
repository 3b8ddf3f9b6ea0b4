#include "scan_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "masker.h"
#include "detect.h"
#include "sniff.h"
#include "text.h"

/* Below this many expanded bytes the ratio is not checked: a 200-byte zip of a
 * 300 KB CSV is legitimate, and a bomb is stopped by max_expanded anyway. */
#define RATIO_FLOOR (1u << 20)
#define TEXT_CHUNK  (256u * 1024)
#define WHERE_MAX   (64u * 1024)

/* Extractors, first match wins: adding a format is adding a file and a row. */
static const struct vg_extractor *const extractors[] = {
    &vg_extract_office, &vg_extract_mime,   &vg_extract_archive, &vg_extract_media,
    &vg_extract_pdf,    &vg_extract_markup, &vg_extract_text,    &vg_extract_binary,
};

static uint64_t now_ns(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The benchmark's stage timer: charges the time since the last switch to the
 * stage that ran, starts `to`, and returns the stage to switch back to. */
static enum vg_stage stage_switch(struct vg_engine *e, enum vg_stage to)
{
        if (!e->cfg.stage_times)
                return to;
        uint64_t t = now_ns();
        enum vg_stage was = e->stage;
        e->stage_ns[was] += t - e->stage_since;
        e->stage_since = t;
        e->stage = to;
        return was;
}

void vg_engine_stage_times(const struct vg_engine *e, uint64_t ns[VG_STAGE_COUNT])
{
        memcpy(ns, e->stage_ns, sizeof(e->stage_ns));
}

int vg_engine_new(const struct vg_engine_config *cfg, struct vg_engine **ret)
{
        struct vg_engine *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->cfg = *cfg;
        e->stage_since = now_ns();
        const char *tmp = cfg->tmpdir ? cfg->tmpdir : getenv("TMPDIR");
        e->tmpdir = strdup(tmp && *tmp ? tmp : "/tmp");
        int r = -ENOMEM;
        if (!e->tmpdir)
                goto fail;
        e->cfg.tmpdir = e->tmpdir;
        if ((r = vg_sniffer_new(&e->sniffer)) < 0 || (r = vg_rules_new(cfg->custom, &e->rules)) < 0)
                goto fail;
        /* poppler's global state is built now, before any worker confines itself. */
        if ((r = vg_pdf_preload()) < 0)
                goto fail;
        /* GMime too (and the charset converters mail needs). */
        if ((r = vg_mime_preload()) < 0)
                goto fail;
        *ret = e;
        return 0;
fail:
        vg_engine_free(e);
        return r;
}

void vg_engine_free(struct vg_engine *e)
{
        if (!e)
                return;
        vg_sniffer_free(e->sniffer);
        vg_rules_free(e->rules);
        free(e->tmpdir);
        free(e);
}

void vg_engine_trim(struct vg_engine *e)
{
        vg_rules_trim(e->rules);
}

char *vg_engine_display_name(struct vg_engine *e, const char *name)
{
        char *masked = vg_rules_mask_string(e->rules, name, strlen(name));
        if (!masked)
                return NULL;
        char *out = vg_escape_name(masked, strlen(masked));
        free(masked);
        return out;
}

static enum vg_reason reason_from_errno(int e)
{
        switch (e) {
        case -EBADMSG:
                return VG_REASON_CORRUPT;
        case -ENOKEY:
                return VG_REASON_ENCRYPTED;
        case -ELOOP:
                return VG_REASON_LIMIT_TIME; /* a PCRE2 limit: pathological text */
        case -ENOMEM:
                return VG_REASON_LIMIT_MEMORY;
        case -EPROTONOSUPPORT:
                return VG_REASON_UNSUPPORTED;
        default:
                return VG_REASON_IO_ERROR;
        }
}

static int scan_abort(struct vg_scan *s, enum vg_reason r)
{
        if (!s->abort_reason)
                s->abort_reason = r;
        return -ECANCELED;
}

int vg_layer_check_time(struct vg_layer *l)
{
        struct vg_scan *s = l->scan;
        if (s->abort_reason)
                return -ECANCELED;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > s->deadline.tv_sec ||
            (now.tv_sec == s->deadline.tv_sec && now.tv_nsec >= s->deadline.tv_nsec))
                return scan_abort(s, VG_REASON_LIMIT_TIME);
        return 0;
}

int vg_layer_charge(struct vg_layer *l, uint64_t n)
{
        struct vg_scan *s = l->scan;
        const struct vg_limits *lim = &s->engine->cfg.limits;
        if (s->abort_reason)
                return -ECANCELED;
        s->expanded += n;
        if (s->expanded > lim->max_expanded)
                return scan_abort(s, VG_REASON_LIMIT_EXPANDED);
        /* The ratio is checked as bytes come out, so a bomb stops early. */
        if (s->expanded > RATIO_FLOOR && s->input_size > 0 &&
            s->expanded / s->input_size >= lim->max_ratio)
                return scan_abort(s, VG_REASON_LIMIT_RATIO);
        return vg_layer_check_time(l);
}

int vg_layer_count_member(struct vg_layer *l)
{
        struct vg_scan *s = l->scan;
        if (s->abort_reason)
                return -ECANCELED;
        if (++s->members > s->engine->cfg.limits.max_members)
                return scan_abort(s, VG_REASON_LIMIT_MEMBERS);
        return 0;
}

int vg_layer_fail(struct vg_layer *l, enum vg_reason r)
{
        if (!l->reason)
                l->reason = r;
        return -ECANCELED;
}

bool vg_layer_aborted(const struct vg_layer *l)
{
        return l->scan->abort_reason != VG_REASON_NONE;
}

const char *vg_layer_tmpdir(const struct vg_layer *l)
{
        return l->scan->engine->tmpdir;
}

static int ensure_text(struct vg_layer *l)
{
        if (l->text)
                return 0;
        int e = vg_text_new(l->det, TEXT_CHUNK, &l->text);
        if (e >= 0)
                vg_text_set_tap(l->text, l->scan->tap);
        return e;
}

int vg_layer_text(struct vg_layer *l, const char *utf8, size_t n)
{
        int e = ensure_text(l);
        if (e < 0)
                return e;
        return vg_text_push(l->text, utf8, n);
}

int vg_layer_text_break(struct vg_layer *l)
{
        int e = ensure_text(l);
        if (e < 0)
                return e;
        return vg_text_break(l->text);
}

static char *child_where(struct vg_layer *parent, const char *name)
{
        char *disp = vg_engine_display_name(parent->scan->engine, name);
        if (!disp)
                return NULL;
        struct vg_buf b;
        vg_buf_init(&b, WHERE_MAX);
        /* A `where` too long to keep is cut; the place stays recognisable. */
        if (vg_buf_appends(&b, parent->where) < 0 || vg_buf_appendc(&b, '/') < 0 ||
            vg_buf_appends(&b, disp) == -ENOMEM) {
                free(disp);
                vg_buf_free(&b);
                return NULL;
        }
        free(disp);
        return vg_buf_take(&b);
}

static const struct vg_extractor *pick(const char *type)
{
        for (size_t i = 0; i < sizeof(extractors) / sizeof(extractors[0]); i++)
                if (extractors[i]->accepts(type))
                        return extractors[i];
        return &vg_extract_binary;
}

static int layer_finish(struct vg_layer *l)
{
        struct vg_scan *s = l->scan;
        int e = 0;
        if (l->text) {
                int te = vg_text_end(l->text);
                if (te == -ELOOP && !l->reason)
                        l->reason = VG_REASON_LIMIT_TIME;
                else if (te < 0 && !l->reason)
                        l->reason = reason_from_errno(te);
                /* The detectors ran within this layer's stage (still the current
                 * one): their time moves to detect. Unsigned: the part not yet
                 * charged is added at the next switch. */
                if (s->engine->cfg.stage_times) {
                        uint64_t d = vg_text_detect_ns(l->text);
                        s->engine->stage_ns[s->engine->stage] -= d;
                        s->engine->stage_ns[VG_STAGE_DETECT] += d;
                }
        }
        if (s->abort_reason && !s->abort_recorded) {
                e = vg_report_add_unscannable(s->report, l->where, s->abort_reason);
                s->abort_recorded = true;
        } else if (l->reason) {
                e = vg_report_add_unscannable(s->report, l->where, l->reason);
        }
        if (!e && l->det)
                e = vg_detect_report(l->det, s->report, l->where);
        vg_text_free(l->text);
        vg_detect_free(l->det);
        free(l->where);
        return e;
}

/* Scans one object: sniff, extract (recursing into members), detect. */
static int layer_run(struct vg_scan *s, struct vg_layer *parent, char *where, const char *name,
                     struct vg_input *in)
{
        struct vg_layer l = {
            .scan = s,
            .parent = parent,
            .name = name,
            .where = where,
            .depth = parent ? parent->depth + 1 : 0,
        };
        int e;
        if (l.depth > s->engine->cfg.limits.max_depth) {
                l.reason = VG_REASON_LIMIT_DEPTH;
                return layer_finish(&l);
        }
        if ((e = vg_detect_new(s->engine->rules, &l.det)) < 0) {
                free(where);
                return e;
        }
        enum vg_stage was = stage_switch(s->engine, VG_STAGE_SNIFF);
        /* Names are content: an identifier in a file name is a finding too. */
        e = vg_layer_text(&l, name, strlen(name));
        if (!e)
                e = vg_layer_text_break(&l);
        if (!e)
                e = vg_input_fill_head(in);
        if (!e) {
                vg_sniff(s->engine->sniffer, in->head, in->head_len, l.type, sizeof(l.type));
                if (!parent && (e = vg_report_set_type(s->report, l.type)) < 0)
                        goto out;
                if (!parent)
                        s->report->type_mismatch = vg_sniff_ext_mismatch(name, l.type);
                const struct vg_extractor *x = pick(l.type);
                stage_switch(s->engine, x == &vg_extract_archive || x == &vg_extract_mime
                                            ? VG_STAGE_UNPACK
                                            : VG_STAGE_EXTRACT);
                e = x->run(&l, in);
                if (e == 0)
                        e = vg_layer_check_time(&l);
        }
        if (e < 0 && e != -ECANCELED && !l.reason)
                l.reason = reason_from_errno(e);
        if (e == -ENOMEM)
                goto out;
        e = 0;
out : {
        int fe = layer_finish(&l);
        stage_switch(s->engine, was);
        return e < 0 ? e : fe;
}
}

int vg_layer_child(struct vg_layer *l, const char *name, struct vg_input *in)
{
        char *where = child_where(l, name);
        if (!where)
                return -ENOMEM;
        int e = layer_run(l->scan, l, where, name, in);
        if (e < 0)
                return e;
        return vg_layer_aborted(l) ? -ECANCELED : 0;
}

int vg_layer_child_unscannable(struct vg_layer *l, const char *name, enum vg_reason r)
{
        char *where = child_where(l, name);
        if (!where)
                return -ENOMEM;
        int e = vg_report_add_unscannable(l->scan->report, where, r);
        free(where);
        return e;
}

static int scan_fd(struct vg_engine *eng, int fd, const char *name, struct vg_buf *tap,
                   struct vg_report **ret)
{
        struct vg_report *r = vg_report_new(name);
        char *where = vg_engine_display_name(eng, name);
        struct vg_input *in = NULL;
        int e = -ENOMEM;
        if (!r || !where)
                goto fail;
        free(r->path);
        r->path = strdup(where);
        if (!r->path)
                goto fail;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                e = vg_report_add_unscannable(r, where, VG_REASON_IO_ERROR);
                goto done;
        }
        r->size = (uint64_t)st.st_size;
        if (!S_ISREG(st.st_mode)) {
                e = vg_report_add_unscannable(r, where, VG_REASON_SPECIAL_FILE);
                goto done;
        }
        if ((uint64_t)st.st_size > eng->cfg.limits.max_file_size) {
                e = vg_report_add_unscannable(r, where, VG_REASON_LIMIT_SIZE);
                goto done;
        }
        in = malloc(sizeof(*in));
        if (!in)
                goto fail;
        vg_input_init_fd(in, fd);
        struct vg_scan s = {
            .engine = eng, .report = r, .input_size = (uint64_t)st.st_size, .tap = tap};
        clock_gettime(CLOCK_MONOTONIC, &s.deadline);
        s.deadline.tv_sec += (time_t)eng->cfg.limits.max_scan_time;
        e = layer_run(&s, NULL, where, name, in);
        where = NULL; /* owned by the layer */
        free(in);
        if (e < 0)
                goto fail;
done:
        free(where);
        where = NULL;
        if (e < 0)
                goto fail;
        *ret = r;
        return 0;
fail:
        free(where);
        vg_report_free(r);
        return e;
}

int vg_scan_fd(struct vg_engine *eng, int fd, const char *name, struct vg_report **ret)
{
        return scan_fd(eng, fd, name, NULL, ret);
}

int vg_scan_fd_text(struct vg_engine *eng, int fd, const char *name, struct vg_buf *text,
                    struct vg_report **ret)
{
        return scan_fd(eng, fd, name, text, ret);
}

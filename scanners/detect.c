#include "detect.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* PCRE2 limits: the JIT ignores the depth and heap limits, so its stack is bounded
 * too. A pattern that needs more than this on some input is a pathological input:
 * the object becomes unscannable rather than clean. */
#define MATCH_LIMIT     1000000u
#define DEPTH_LIMIT     5000u
#define HEAP_LIMIT_KIB  8192u
#define JIT_STACK_START (32u * 1024)
#define JIT_STACK_MAX   (1024u * 1024)
/* Distinct values are kept as 64-bit hashes; past this many, each new value is
 * counted as distinct without being remembered (only ever over-counts). */
#define DISTINCT_MAX (1u << 20)

static const struct vg_detector *const families[] = {
    vg_detectors_bank,    vg_detectors_fr_id,  vg_detectors_secret,
    vg_detectors_marking, vg_detectors_health, vg_detectors_contact,
};

/* Limits on the patterns of custom rules, which come from the admin's files: a
 * typo must not cost every scan its time budget. Built-in patterns are ours. */
#define CUSTOM_PATTERN_MAX 4096u
#define CUSTOM_NEST_MAX    32u

/* A detector id may have several patterns (rows with the same id): each row is a
 * rule, and the rules of one id share their counts (a state). Literal-led
 * patterns are searched for much faster one by one than as one alternation. */
struct rule {
        const struct vg_detector *det;
        pcre2_code *code;
        size_t state;
};

struct vg_rules {
        struct rule *rules;
        size_t n;
        const struct vg_detector **state_det; /* the first row of each id */
        size_t nstates;
        /* The engine's own copy of the custom rules, and the detectors made of
         * them (they point into it). */
        struct vg_custom *custom;
        struct vg_detector *custom_dets;
        bool any_folded;
        /* The folded copy of the current chunk, and where each byte came from. */
        char *fold;
        uint32_t *fold_map;
        size_t fold_cap;
        pcre2_match_data *md;
        pcre2_match_context *mctx;
        pcre2_jit_stack *stack;
};

void vg_rules_free(struct vg_rules *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                pcre2_code_free(r->rules[i].code);
        free(r->rules);
        free(r->state_det);
        /* the patterns built for dictionaries are ours */
        for (size_t i = 0; r->custom_dets && i < r->custom->nrules; i++)
                if (r->custom_dets[i].folded)
                        free((char *)r->custom_dets[i].pattern);
        free(r->custom_dets);
        vg_custom_free(r->custom);
        free(r->fold);
        free(r->fold_map);
        pcre2_match_data_free(r->md);
        pcre2_match_context_free(r->mctx);
        pcre2_jit_stack_free(r->stack);
        free(r);
}

static int add_rule(struct vg_rules *r, const struct vg_detector *det, pcre2_compile_context *cc)
{
        int err;
        PCRE2_SIZE off;
        char *built = NULL;
        const char *pattern = det->pattern;
        if (det->build) {
                if (!(built = det->build(r->custom)))
                        return -ENOMEM;
                pattern = built;
        }
        pcre2_code *code =
            pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, det->options, &err, &off, cc);
        free(built);
        if (!code)
                return err == PCRE2_ERROR_PATTERN_TOO_LARGE ? -E2BIG : -EINVAL;
        /* JIT failure is not fatal: the interpreter gives the same results, slower. */
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        r->rules[r->n++] = (struct rule){.det = det, .code = code};
        if (det->folded)
                r->any_folded = true;
        return 0;
}

/* Custom rules become detectors of their own: a pattern (checked again here:
 * the engine does not trust its caller with untrusted patterns) or a dictionary
 * (folded, whole words), and the shared check (validator, masking). */
static int make_custom(struct vg_rules *r)
{
        struct vg_custom *c = r->custom;
        if (!c->nrules)
                return 0;
        r->custom_dets = calloc(c->nrules, sizeof(*r->custom_dets));
        if (!r->custom_dets)
                return -ENOMEM;
        for (size_t i = 0; i < c->nrules; i++) {
                const struct vg_custom_rule *cr = &c->rules[i];
                struct vg_detector *d = &r->custom_dets[i];
                *d = (struct vg_detector){
                    .id = cr->id,
                    .check = vg_custom_check,
                    .context = (const char *const *)cr->context,
                    .window = cr->window,
                    .context_required = cr->context != NULL,
                    .data = cr,
                };
                if (cr->pattern) {
                        char err[8];
                        if (vg_custom_pattern_check(cr->pattern, err, sizeof(err)) < 0)
                                return -EINVAL;
                        d->pattern = cr->pattern;
                        d->options = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C;
                } else {
                        if (!(d->pattern =
                                  vg_phrases_pattern((const char *const *)cr->terms, cr->nterms)))
                                return -ENOMEM;
                        d->folded = true;
                }
        }
        return 0;
}

/* extra: a family compiled for this set only (the names redaction looks for). */
static int rules_new(const struct vg_custom *custom, const struct vg_detector *extra,
                     struct vg_rules **ret)
{
        struct vg_rules *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        int e = -ENOMEM;
        pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
        if (!cc || !(r->custom = vg_custom_dup(custom)) || (e = make_custom(r)) < 0)
                goto fail;
        size_t total = r->custom->nrules;
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        total++;
        for (const struct vg_detector *d = extra; d && d->id; d++)
                total++;
        e = -ENOMEM;
        r->rules = calloc(total, sizeof(*r->rules));
        r->md = pcre2_match_data_create(16, NULL);
        r->mctx = pcre2_match_context_create(NULL);
        r->stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
        if (!r->rules || !r->md || !r->mctx || !r->stack)
                goto fail;
        pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
        pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
        pcre2_set_heap_limit(r->mctx, HEAP_LIMIT_KIB);
        pcre2_jit_stack_assign(r->mctx, NULL, r->stack);
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        if ((e = add_rule(r, d, NULL)) < 0)
                                goto fail;
        for (const struct vg_detector *d = extra; d && d->id; d++)
                if ((e = add_rule(r, d, NULL)) < 0)
                        goto fail;
        for (size_t i = 0; i < r->custom->nrules; i++) {
                const struct vg_detector *d = &r->custom_dets[i];
                /* Generated dictionary patterns may be long; the admin's own
                 * patterns may not, nor nest deeply. */
                pcre2_set_max_pattern_length(cc, d->folded ? PCRE2_UNSET : CUSTOM_PATTERN_MAX);
                pcre2_set_parens_nest_limit(cc, d->folded ? 250 : CUSTOM_NEST_MAX);
                if ((e = add_rule(r, d, cc)) < 0)
                        goto fail;
        }
        pcre2_compile_context_free(cc);
        cc = NULL;
        e = -ENOMEM;
        if (!(r->state_det = calloc(r->n, sizeof(*r->state_det))))
                goto fail;
        for (size_t i = 0; i < r->n; i++) {
                size_t k = 0;
                while (k < r->nstates && strcmp(r->state_det[k]->id, r->rules[i].det->id) != 0)
                        k++;
                if (k == r->nstates)
                        r->state_det[r->nstates++] = r->rules[i].det;
                r->rules[i].state = k;
        }
        *ret = r;
        return 0;
fail:
        pcre2_compile_context_free(cc);
        vg_rules_free(r);
        return e;
}

int vg_rules_new(const struct vg_custom *custom, struct vg_rules **ret)
{
        return rules_new(custom, NULL, ret);
}

int vg_rules_new_redaction(const struct vg_custom *custom, struct vg_rules **ret)
{
        return rules_new(custom, vg_detectors_person, ret);
}

bool vg_detector_builtin(const char *id)
{
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        if (strcmp(d->id, id) == 0)
                                return true;
        return false;
}

size_t vg_rules_count(const struct vg_rules *r)
{
        return r->nstates;
}

const char *vg_rules_id(const struct vg_rules *r, size_t i)
{
        return i < r->nstates ? r->state_det[i]->id : NULL;
}

/* Calls fn for every validated hit of rule i in buf[0,len) starting in
 * [from, until). Returns 0, a negative errno from fn, or -ELOOP on a PCRE2 limit. */
typedef int (*hit_fn)(void *ctx, size_t rule, size_t start, const struct vg_hit *hit);

/* The text a rule runs over, and for folded text the original it came from. */
struct subject {
        const char *buf;
        size_t len;
        const char *raw;
        size_t raw_len;
        const uint32_t *map; /* folded offset -> raw offset, or NULL */
};

static int run_rule(struct vg_rules *r, size_t i, const struct subject *sj, size_t from,
                    size_t until, hit_fn fn, void *ctx)
{
        const char *buf = sj->buf;
        size_t len = sj->len;
        const struct rule *rule = &r->rules[i];
        const struct vg_detector *det = rule->det;
        size_t off = from;
        while (off < len && off < until) {
                int rc = pcre2_match(rule->code, (PCRE2_SPTR)buf, len, off, 0, r->md, r->mctx);
                if (rc == PCRE2_ERROR_NOMATCH)
                        return 0;
                if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                    rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
                        return -ELOOP;
                if (rc < 0)
                        return -EIO;
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
                size_t s = ov[0], e = ov[1];
                if (s >= until)
                        return 0;
                if (e - s > VG_MAX_MATCH)
                        e = s + VG_MAX_MATCH;
                struct vg_match m = {.buf = buf,
                                     .len = len,
                                     .start = s,
                                     .end = e,
                                     .raw = sj->raw,
                                     .raw_len = sj->raw_len,
                                     .raw_start = sj->map ? sj->map[s] : s,
                                     .raw_end = !sj->map  ? e
                                                : e < len ? sj->map[e]
                                                          : sj->raw_len,
                                     .det = det};
                struct vg_hit hit = {.used = e - s};
                bool ok =
                    !det->context_required || vg_match_has_context(&m, det->context, det->window);
                if (ok && det->check) {
                        ok = det->check(&m, &hit);
                } else if (ok) {
                        size_t c = e - s < sizeof(hit.canon) - 1 ? e - s : sizeof(hit.canon) - 1;
                        memcpy(hit.canon, buf + s, c);
                        hit.canon[c] = '\0';
                        hit.canon_len = c;
                        memcpy(hit.masked, hit.canon, c + 1);
                }
                if (ok && hit.used > 0) {
                        int fe = fn(ctx, i, s, &hit);
                        if (fe < 0)
                                return fe;
                        off = s + hit.used;
                } else {
                        off = s + 1;
                }
        }
        return 0;
}

/* A set of 64-bit hashes (open addressing, 0 = empty). */
struct hset {
        uint64_t *slots;
        size_t cap;
        size_t n;
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h | 1;
}

/* Returns 1 if new, 0 if already present, -ENOMEM. */
static int hset_add(struct hset *h, uint64_t v)
{
        if (h->n >= DISTINCT_MAX)
                return 1;
        if ((h->n + 1) * 2 > h->cap) {
                size_t ncap = h->cap ? h->cap * 2 : 16;
                uint64_t *ns = calloc(ncap, sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                for (size_t i = 0; i < h->cap; i++) {
                        uint64_t x = h->slots[i];
                        if (!x)
                                continue;
                        size_t j = x & (ncap - 1);
                        while (ns[j])
                                j = (j + 1) & (ncap - 1);
                        ns[j] = x;
                }
                free(h->slots);
                h->slots = ns;
                h->cap = ncap;
        }
        size_t j = v & (h->cap - 1);
        while (h->slots[j]) {
                if (h->slots[j] == v)
                        return 0;
                j = (j + 1) & (h->cap - 1);
        }
        h->slots[j] = v;
        h->n++;
        return 1;
}

struct state {
        uint64_t count;
        uint64_t distinct;
        uint64_t weight;
        uint64_t weight_distinct;
        uint64_t against;
        struct hset seen;
        size_t nsamples;
        char *samples[VG_MAX_SAMPLES];
};

struct vg_detect {
        struct vg_rules *rules;
        struct state *st;
        uint64_t text_bytes;
};

int vg_detect_new(struct vg_rules *rules, struct vg_detect **ret)
{
        struct vg_detect *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->rules = rules;
        d->st = calloc(rules->nstates, sizeof(*d->st));
        if (!d->st) {
                free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void vg_detect_free(struct vg_detect *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->rules->nstates; i++) {
                free(d->st[i].seen.slots);
                for (size_t k = 0; k < d->st[i].nsamples; k++)
                        free(d->st[i].samples[k]);
        }
        free(d->st);
        free(d);
}

static int count_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        (void)start;
        struct vg_detect *d = ctx;
        struct state *st = &d->st[d->rules->rules[rule].state];
        if (hit->weight < 0) {
                st->against += (uint64_t)(-(int64_t)hit->weight);
                return 0; /* evidence against, not an occurrence */
        }
        st->weight += (uint64_t)hit->weight;
        st->count++;
        int n = hset_add(&st->seen, fnv1a(hit->canon, hit->canon_len));
        if (n < 0)
                return n;
        st->distinct += (uint64_t)n;
        if (n)
                st->weight_distinct += (uint64_t)hit->weight;
        if (n == 0 || st->nsamples >= VG_MAX_SAMPLES)
                return 0;
        for (size_t k = 0; k < st->nsamples; k++)
                if (strcmp(st->samples[k], hit->masked) == 0)
                        return 0;
        char *m = strdup(hit->masked);
        if (!m)
                return -ENOMEM;
        st->samples[st->nsamples++] = m;
        return 0;
}

/* First folded offset whose byte comes from raw offset >= raw. */
static size_t fold_pos(const uint32_t *map, size_t n, size_t raw)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (map[mid] < raw)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int fold_chunk(struct vg_rules *r, const char *buf, size_t len, size_t *flen)
{
        size_t need = 2 * len + 1;
        if (need > r->fold_cap) {
                char *f = realloc(r->fold, need);
                if (!f)
                        return -ENOMEM;
                r->fold = f;
                uint32_t *m = reallocarray(r->fold_map, need, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                r->fold_map = m;
                r->fold_cap = need;
        }
        *flen = vg_fold(buf, len, r->fold, r->fold_map);
        return 0;
}

int vg_detect_run(struct vg_detect *d, const char *buf, size_t len, size_t from, size_t until)
{
        struct vg_rules *r = d->rules;
        size_t flen = 0, ffrom = 0, funtil = 0;
        if (r->any_folded) {
                int e = fold_chunk(r, buf, len, &flen);
                if (e < 0)
                        return e;
                ffrom = fold_pos(r->fold_map, flen, from);
                funtil = until >= len ? flen : fold_pos(r->fold_map, flen, until);
        }
        if (until > from)
                d->text_bytes += (until < len ? until : len) - from;
        const struct subject plain = {.buf = buf, .len = len, .raw = buf, .raw_len = len};
        const struct subject folded = {
            .buf = r->fold, .len = flen, .raw = buf, .raw_len = len, .map = r->fold_map};
        for (size_t i = 0; i < r->n; i++) {
                int e = r->rules[i].det->folded
                            ? run_rule(r, i, &folded, ffrom, funtil, count_hit, d)
                            : run_rule(r, i, &plain, from, until, count_hit, d);
                if (e < 0)
                        return e;
        }
        return 0;
}

uint64_t vg_detect_count(const struct vg_detect *d, const char *id)
{
        uint64_t n = 0;
        for (size_t i = 0; i < d->rules->nstates; i++)
                if (strcmp(d->rules->state_det[i]->id, id) == 0)
                        n += d->st[i].count;
        return n;
}

bool vg_detect_any(const struct vg_detect *d)
{
        for (size_t i = 0; i < d->rules->nstates; i++)
                if (d->st[i].count)
                        return true;
        return false;
}

int vg_detect_report(const struct vg_detect *d, struct vg_report *r, const char *where)
{
        for (size_t i = 0; i < d->rules->nstates; i++) {
                const struct state *st = &d->st[i];
                const struct vg_detector *det = d->rules->state_det[i];
                if (!st->count)
                        continue;
                if (det->finish) {
                        const struct vg_score sc = {
                            .count = st->count,
                            .distinct = st->distinct,
                            .weight = st->weight,
                            .weight_distinct = st->weight_distinct,
                            .against = st->against,
                            .text_bytes = d->text_bytes,
                            .det = d,
                            .custom = d->rules->custom,
                        };
                        if (!det->finish(&sc))
                                continue;
                }
                int e = vg_report_add_finding(r, det->id, where, st->count, st->distinct,
                                              (const char *const *)st->samples, st->nsamples);
                if (e < 0)
                        return e;
        }
        return 0;
}

struct span {
        size_t start;
        size_t len;
        char masked[sizeof(((struct vg_hit *)0)->masked)];
};

struct spans {
        struct span *v;
        size_t n;
        size_t cap;
};

static int collect_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        (void)rule;
        struct spans *sp = ctx;
        if (sp->n == sp->cap) {
                size_t ncap = sp->cap ? sp->cap * 2 : 4;
                struct span *nv = reallocarray(sp->v, ncap, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                sp->v = nv;
                sp->cap = ncap;
        }
        struct span *s = &sp->v[sp->n++];
        s->start = start;
        s->len = hit->used;
        memcpy(s->masked, hit->masked, sizeof(s->masked));
        return 0;
}

static int span_cmp(const void *a, const void *b)
{
        const struct span *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

char *vg_rules_mask_string(struct vg_rules *rules, const char *s, size_t n)
{
        struct spans sp = {0};
        const struct subject name = {.buf = s, .len = n, .raw = s, .raw_len = n};
        struct vg_buf out;
        char *ret = NULL;
        vg_buf_init(&out, n * 4 + 64);
        for (size_t i = 0; i < rules->n; i++)
                /* Identifiers only (words are not masked); a limit hit on a name
                 * masks nothing more, names are short. */
                if (!rules->rules[i].det->folded &&
                    run_rule(rules, i, &name, 0, n, collect_hit, &sp) == -ENOMEM)
                        goto done;
        if (sp.n > 1)
                qsort(sp.v, sp.n, sizeof(*sp.v), span_cmp);
        size_t pos = 0;
        for (size_t k = 0; k < sp.n; k++) {
                if (sp.v[k].start < pos)
                        continue; /* overlaps a span already masked */
                if (vg_buf_append(&out, s + pos, sp.v[k].start - pos) < 0 ||
                    vg_buf_appends(&out, sp.v[k].masked) < 0)
                        goto done;
                pos = sp.v[k].start + sp.v[k].len;
        }
        if (vg_buf_append(&out, s + pos, n - pos) < 0)
                goto done;
        ret = vg_buf_take(&out);
done:
        vg_buf_free(&out);
        free(sp.v);
        return ret;
}

/* ---- Redaction: every validated hit with its place ---- */

struct find_ctx {
        struct vg_rules *rules;
        const uint32_t *map; /* folded -> raw offsets, or NULL */
        size_t map_len;
        size_t raw_len;
        vg_found_fn fn;
        void *ctx;
};

static int find_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        struct find_ctx *fc = ctx;
        if (hit->weight < 0)
                return 0;
        size_t end = start + hit->used;
        if (fc->map) {
                size_t rs = fc->map[start];
                end = end < fc->map_len ? fc->map[end] : fc->raw_len;
                start = rs;
        }
        const struct vg_found f = {
            .id = fc->rules->rules[rule].det->id,
            .start = start,
            .end = end,
            .canon = hit->canon,
            .canon_len = hit->canon_len,
            .masked = hit->masked,
        };
        return fc->fn(fc->ctx, &f);
}

int vg_rules_find(struct vg_rules *r, const char *buf, size_t len, vg_found_fn fn, void *ctx)
{
        const struct subject plain = {.buf = buf, .len = len, .raw = buf, .raw_len = len};
        struct find_ctx fc = {.rules = r, .raw_len = len, .fn = fn, .ctx = ctx};
        size_t flen = 0;
        if (r->any_folded) {
                int e = fold_chunk(r, buf, len, &flen);
                if (e < 0)
                        return e;
        }
        const struct subject folded = {
            .buf = r->fold, .len = flen, .raw = buf, .raw_len = len, .map = r->fold_map};
        for (size_t i = 0; i < r->n; i++) {
                bool f = r->rules[i].det->folded;
                fc.map = f ? r->fold_map : NULL;
                fc.map_len = flen;
                int e = run_rule(r, i, f ? &folded : &plain, 0, f ? flen : len, find_hit, &fc);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* Redaction (see redact.h). Three writers share one redactor (the placeholders
 * of one document): text kept in its format, OOXML/ODF XML parts rewritten in
 * place, and the extracted text. Each finds values the same way: the text as the
 * detectors see it (normalised, text.c), a map from each of its bytes back to
 * the bytes it came from, every hit of every redactable rule, overlaps merged,
 * and the source ranges replaced. */
#include "redact.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "detect.h"
#include "scan_internal.h"
#include "text.h"

/* A text file or an XML part is redacted whole in memory, with a 16-byte map
 * per byte: past this it is refused rather than half done. */
#define WHOLE_MAX (64u << 20)
/* The extracted text kept for a text copy. */
#define TEXT_MAX (256u << 20)
/* How far a private key block may run to its END line. */
#define KEY_MAX (64u * 1024)

/* ---- Placeholders ---- */

struct label {
        const char *id;
        const char *fr;
        const char *en;
        bool numbered; /* secrets are not told apart: one word for all */
};

static const struct label labels[] = {
    {"fr_nir", "NIR", "NIR", true},
    {"iban", "IBAN", "IBAN", true},
    {"fr_rib", "RIB", "RIB", true},
    {"credit_card", "CARTE", "CARD", true},
    {"fr_cni", "CNI", "ID-CARD", true},
    {"fr_passport", "PASSEPORT", "PASSPORT", true},
    {"fr_tax_id", "NUMERO-FISCAL", "TAX-ID", true},
    {"fr_driving_licence", "PERMIS", "DRIVING-LICENCE", true},
    {"fr_health_id", "NUMERO-SANTE", "HEALTH-ID", true},
    {"email", "EMAIL", "EMAIL", true},
    {"phone_fr", "TELEPHONE", "PHONE", true},
    {"person_name", "PERSONNE", "PERSON", true},
    {"secret_key", "CLE-PRIVEE", "PRIVATE-KEY", false},
    {"api_token", "JETON-API", "API-TOKEN", false},
    {"password", "MOT-DE-PASSE", "PASSWORD", false},
};

/* Detectors whose findings are words a document is about, not values in it. */
static bool about_words(const char *id)
{
        return strcmp(id, "marking") == 0 || strcmp(id, "health") == 0;
}

static const struct label *label_of(const char *id)
{
        for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
                if (strcmp(labels[i].id, id) == 0)
                        return &labels[i];
        return NULL;
}

bool vg_redactable(const char *id)
{
        /* the admin's rules are values they chose to protect: [ID-n] */
        return !about_words(id);
}

struct assigned {
        size_t entry; /* index: entries move as they grow */
        uint64_t hash;
        unsigned n;
};

struct redactor {
        struct vg_rules *rules;
        bool english;
        struct assigned *as;
        size_t nas, capas;
        struct vg_redact_entry *entries;
        size_t nentries;
};

static uint64_t hash(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h;
}

static struct vg_redact_entry *entry_of(struct redactor *rd, const char *id)
{
        for (size_t i = 0; i < rd->nentries; i++)
                if (strcmp(rd->entries[i].detector, id) == 0)
                        return &rd->entries[i];
        struct vg_redact_entry *ne = reallocarray(rd->entries, rd->nentries + 1, sizeof(*ne));
        if (!ne)
                return NULL;
        rd->entries = ne;
        struct vg_redact_entry *e = &ne[rd->nentries++];
        memset(e, 0, sizeof(*e));
        snprintf(e->detector, sizeof(e->detector), "%s", id);
        const struct label *l = label_of(id);
        if (l) {
                snprintf(e->label, sizeof(e->label), "%s", rd->english ? l->en : l->fr);
        } else {
                /* a custom rule: its id in capitals, '_' as '-', nothing that
                 * could mean something in XML or HTML */
                size_t k = 0;
                for (size_t i = 0; id[i] && k + 1 < sizeof(e->label); i++) {
                        char c = id[i];
                        if (c >= 'a' && c <= 'z')
                                e->label[k++] = (char)(c - 32);
                        else if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                                e->label[k++] = c;
                        else if (c == '_' || c == '-')
                                e->label[k++] = '-';
                }
                e->label[k] = '\0';
        }
        return e;
}

/* The placeholder of one value: the same value is always the same number. */
static int placeholder(struct redactor *rd, const char *id, const char *canon, size_t canon_len,
                       const char *masked, char *out, size_t outsz)
{
        struct vg_redact_entry *e = entry_of(rd, id);
        if (!e)
                return -ENOMEM;
        const struct label *l = label_of(id);
        bool numbered = !l || l->numbered;
        uint64_t h = hash(canon, canon_len);
        unsigned n = 0;
        /* an open-addressing table (n == 0: empty): a document may hold many
         * thousands of values */
        size_t ent = (size_t)(e - rd->entries);
        uint64_t key = h ^ ((uint64_t)(ent + 1) * 0x9e3779b97f4a7c15ull);
        size_t mask = rd->capas - 1, i = rd->capas ? (size_t)key & mask : 0;
        while (rd->capas && rd->as[i].n) {
                if (rd->as[i].hash == h && rd->as[i].entry == ent) {
                        n = rd->as[i].n;
                        break;
                }
                i = (i + 1) & mask;
        }
        bool fresh = !n;
        if (fresh) {
                if ((rd->nas + 1) * 2 > rd->capas) {
                        size_t nc = rd->capas ? rd->capas * 2 : 64;
                        struct assigned *na = calloc(nc, sizeof(*na));
                        if (!na)
                                return -ENOMEM;
                        for (size_t k = 0; k < rd->capas; k++) {
                                if (!rd->as[k].n)
                                        continue;
                                uint64_t kk = rd->as[k].hash ^ ((uint64_t)(rd->as[k].entry + 1) *
                                                                0x9e3779b97f4a7c15ull);
                                size_t j = (size_t)kk & (nc - 1);
                                while (na[j].n)
                                        j = (j + 1) & (nc - 1);
                                na[j] = rd->as[k];
                        }
                        free(rd->as);
                        rd->as = na;
                        rd->capas = nc;
                        mask = nc - 1;
                        i = (size_t)key & mask;
                        while (rd->as[i].n)
                                i = (i + 1) & mask;
                }
                n = (unsigned)++e->distinct;
                rd->as[i] = (struct assigned){.entry = ent, .hash = h, .n = n};
                rd->nas++;
        }
        e->count++;
        if (numbered)
                snprintf(out, outsz, "[%s-%u]", e->label, n);
        else
                snprintf(out, outsz, "[%s]", e->label);
        if (fresh && e->nsamples < VG_MAX_SAMPLES)
                snprintf(e->samples[e->nsamples++], sizeof(e->samples[0]), "%s -> %s", masked, out);
        return 0;
}

/* ---- Text as the detectors see it, mapped back to its source ---- */

/* norm[i] came from src[rs[i], re[i]); a byte the writer made up (a break, a tab
 * element) has rs == re. */
struct mapped {
        struct vg_buf norm;
        uint32_t *rs, *re;
        size_t cap;
};

static void mapped_init(struct mapped *m)
{
        memset(m, 0, sizeof(*m));
        vg_buf_init(&m->norm, WHOLE_MAX);
}

static void mapped_free(struct mapped *m)
{
        vg_buf_free(&m->norm);
        free(m->rs);
        free(m->re);
}

static int mapped_put(struct mapped *m, const char *s, size_t n, uint32_t rs, uint32_t re,
                      bool per_byte)
{
        size_t at = m->norm.len;
        if (at + n > m->cap) {
                size_t nc = m->cap ? m->cap : 4096;
                while (nc < at + n)
                        nc *= 2;
                uint32_t *a = reallocarray(m->rs, nc, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                m->rs = a;
                uint32_t *b = reallocarray(m->re, nc, sizeof(*b));
                if (!b)
                        return -ENOMEM;
                m->re = b;
                m->cap = nc;
        }
        int e = vg_buf_append(&m->norm, s, n);
        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                m->rs[at + i] = per_byte ? rs + (uint32_t)i : rs;
                m->re[at + i] = per_byte ? rs + (uint32_t)i + 1 : re;
        }
        return 0;
}

/* Appends src[0,n) (at source offset base), normalised as text.c does; bytes
 * that are not UTF-8 are read as Latin-1 (a CSV from an old spreadsheet). */
static int mapped_text(struct mapped *m, const char *src, size_t n, uint32_t base)
{
        const unsigned char *s = (const unsigned char *)src;
        size_t i = 0;
        int e;
        while (i < n) {
                size_t run = i;
                while (i < n && s[i] < 0x80)
                        i++;
                if (i > run &&
                    (e = mapped_put(m, src + run, i - run, base + (uint32_t)run, 0, true)) < 0)
                        return e;
                if (i >= n)
                        break;
                size_t k = vg_utf8_seq_len(s[i]);
                bool valid = k > 1 && i + k <= n;
                for (size_t j = 1; valid && j < k; j++)
                        valid = (s[i + j] & 0xc0) == 0x80;
                uint32_t rs = base + (uint32_t)i;
                if (!valid) {
                        char l1[2] = {(char)(0xc0 | (s[i] >> 6)), (char)(0x80 | (s[i] & 0x3f))};
                        if ((e = mapped_put(m, l1, 2, rs, rs + 1, false)) < 0)
                                return e;
                        i++;
                        continue;
                }
                char tmp[2];
                const char *rep = vg_text_fold_seq(s + i, k, tmp);
                if (rep)
                        e = mapped_put(m, rep, strlen(rep), rs, rs + (uint32_t)k, false);
                else
                        e = mapped_put(m, src + i, k, rs, rs + (uint32_t)k, false);
                if (e < 0)
                        return e;
                i += k;
        }
        return 0;
}

/* ---- Hits ---- */

struct hit {
        size_t start, end; /* in the normalised text */
        const char *id;
        char canon[128];
        size_t canon_len;
        char masked[160];
};

struct hits {
        struct hit *v;
        size_t n, cap;
        const char *text;
        size_t len;
        bool sweep; /* raw XML: identifiers only, never across markup */
};

static const char *memrmem(const char *h, size_t hn, const char *n, size_t nn)
{
        if (nn == 0 || nn > hn)
                return NULL;
        for (size_t i = hn - nn + 1; i-- > 0;)
                if (memcmp(h + i, n, nn) == 0)
                        return h + i;
        return NULL;
}

static bool is_b64c(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=';
}

/* The bytes to replace: for a secret, the value and not the name before it; for
 * a key block, through its END line. */
static void value_span(const struct hits *hs, struct hit *h)
{
        const char *t = hs->text;
        if (strcmp(h->id, "password") == 0 || strcmp(h->id, "api_token") == 0) {
                const char *v = memrmem(t + h->start, h->end - h->start, h->canon, h->canon_len);
                if (v && h->canon_len >= 3) {
                        h->start = (size_t)(v - t);
                        /* a canon cut at its size: the value runs on to the span's end */
                        if (h->canon_len < sizeof(h->canon) - 1)
                                h->end = h->start + h->canon_len;
                }
        } else if (strcmp(h->id, "secret_key") == 0) {
                size_t lim = h->end + KEY_MAX < hs->len ? h->end + KEY_MAX : hs->len;
                const char *endl = memmem(t + h->end, lim - h->end, "-----END ", 9);
                const char *close =
                    endl ? memmem(endl + 9, (size_t)(t + lim - endl - 9), "-----", 5) : NULL;
                if (close) {
                        h->end = (size_t)(close - t) + 5;
                } else {
                        size_t e = h->end;
                        while (e < lim && (is_b64c(t[e]) || t[e] == '\n' || t[e] == '\r' ||
                                           t[e] == ' ' || t[e] == '\\' || t[e] == ':'))
                                e++;
                        h->end = e;
                }
        }
}

static const char *const sweep_ids[] = {
    "fr_nir", "iban",     "fr_rib",    "credit_card",        "fr_cni",       "fr_passport",
    "email",  "phone_fr", "fr_tax_id", "fr_driving_licence", "fr_health_id", NULL,
};

static int on_found(void *ctx, const struct vg_found *f)
{
        struct hits *hs = ctx;
        if (!vg_redactable(f->id))
                return 0;
        if (hs->sweep) {
                bool ok = false;
                for (const char *const *s = sweep_ids; *s && !ok; s++)
                        ok = strcmp(*s, f->id) == 0;
                for (size_t i = f->start; ok && i < f->end; i++)
                        ok = !strchr("<>\"'=&", hs->text[i]);
                if (!ok)
                        return 0;
        }
        if (hs->n == hs->cap) {
                size_t nc = hs->cap ? hs->cap * 2 : 16;
                struct hit *nv = reallocarray(hs->v, nc, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                hs->v = nv;
                hs->cap = nc;
        }
        struct hit *h = &hs->v[hs->n];
        memset(h, 0, sizeof(*h));
        h->start = f->start;
        h->end = f->end;
        h->id = f->id;
        h->canon_len = f->canon_len < sizeof(h->canon) - 1 ? f->canon_len : sizeof(h->canon) - 1;
        memcpy(h->canon, f->canon, h->canon_len);
        snprintf(h->masked, sizeof(h->masked), "%s", f->masked);
        value_span(hs, h);
        if (h->end > h->start)
                hs->n++;
        return 0;
}

static int hit_cmp(const void *a, const void *b)
{
        const struct hit *x = a, *y = b;
        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        /* the longer first: it wins an overlap */
        return x->end > y->end ? -1 : x->end < y->end;
}

/* Finds the hits in text[0,len), sorted, overlaps merged into the first. */
static int find_hits(struct redactor *rd, const char *text, size_t len, bool sweep, struct hits *hs)
{
        *hs = (struct hits){.text = text, .len = len, .sweep = sweep};
        int e = vg_rules_find(rd->rules, text, len, on_found, hs);
        if (e < 0)
                return e;
        if (hs->n > 1)
                qsort(hs->v, hs->n, sizeof(*hs->v), hit_cmp);
        size_t k = 0;
        for (size_t i = 0; i < hs->n; i++) {
                if (k > 0 && hs->v[i].start < hs->v[k - 1].end) {
                        if (hs->v[i].end > hs->v[k - 1].end)
                                hs->v[k - 1].end = hs->v[i].end;
                        continue;
                }
                hs->v[k++] = hs->v[i];
        }
        hs->n = k;
        return 0;
}

/* ---- Edits of a source ---- */

struct edit {
        size_t start, end; /* source bytes replaced */
        char with[64];
};

struct edits {
        struct edit *v;
        size_t n, cap;
};

static int edit_add(struct edits *ed, size_t start, size_t end, const char *with)
{
        if (ed->n == ed->cap) {
                size_t nc = ed->cap ? ed->cap * 2 : 16;
                struct edit *nv = reallocarray(ed->v, nc, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                ed->v = nv;
                ed->cap = nc;
        }
        struct edit *x = &ed->v[ed->n++];
        x->start = start;
        x->end = end;
        snprintf(x->with, sizeof(x->with), "%s", with);
        return 0;
}

static int edit_cmp(const void *a, const void *b)
{
        const struct edit *x = a, *y = b;
        if (x->start != y->start)
                return x->start < y->start ? -1 : 1;
        return x->end < y->end ? -1 : x->end > y->end;
}

/* The source with the edits applied (they never overlap: they come from merged
 * hits, and the bytes of one normalised byte belong to it alone). */
static int apply_edits(const char *src, size_t n, struct edits *ed, struct vg_buf *out)
{
        if (ed->n > 1)
                qsort(ed->v, ed->n, sizeof(*ed->v), edit_cmp);
        size_t pos = 0;
        int e;
        for (size_t i = 0; i < ed->n; i++) {
                const struct edit *x = &ed->v[i];
                if (x->start < pos || x->end > n)
                        continue;
                if ((e = vg_buf_append(out, src + pos, x->start - pos)) < 0 ||
                    (e = vg_buf_appends(out, x->with)) < 0)
                        return e;
                pos = x->end;
        }
        return vg_buf_append(out, src + pos, n - pos);
}

/* Turns the hits of a mapped text into edits of its source: the placeholder
 * where the value starts, and the value's bytes in the following runs removed
 * (an identifier typed in several runs keeps the runs, not the digits). */
static int hits_to_edits(struct redactor *rd, const struct mapped *m, const struct hits *hs,
                         struct edits *ed)
{
        for (size_t k = 0; k < hs->n; k++) {
                const struct hit *h = &hs->v[k];
                char ph[64];
                int e = placeholder(rd, h->id, h->canon, h->canon_len, h->masked, ph, sizeof(ph));
                if (e < 0)
                        return e;
                bool placed = false;
                size_t i = h->start;
                while (i < h->end) {
                        if (m->rs[i] == m->re[i]) {
                                i++; /* made up by the reader: nothing to remove */
                                continue;
                        }
                        size_t rs = m->rs[i], re = m->re[i], prs = rs;
                        i++;
                        /* one source range while the bytes follow each other (the
                         * bytes of one decoded sequence share their range) */
                        while (i < h->end && m->rs[i] != m->re[i] &&
                               (m->rs[i] == re || (m->rs[i] == prs && m->re[i] == re))) {
                                prs = m->rs[i];
                                re = m->re[i];
                                i++;
                        }
                        if ((e = edit_add(ed, rs, re, placed ? "" : ph)) < 0)
                                return e;
                        placed = true;
                }
        }
        return 0;
}

/* Redacts src[0,n) into out: the identifiers of its mapped text are found
 * (xml: the text is XML markup, swept for values in attributes too) and
 * replaced in place. */
static int redact_mapped(struct redactor *rd, const char *src, size_t n, bool xml,
                         struct vg_buf *out)
{
        struct mapped m;
        struct hits hs = {0};
        struct edits ed = {0};
        mapped_init(&m);
        int e = mapped_text(&m, src, n, 0);
        if (e >= 0)
                e = find_hits(rd, m.norm.data ? m.norm.data : "", m.norm.len, xml, &hs);
        if (e >= 0)
                e = hits_to_edits(rd, &m, &hs, &ed);
        if (e >= 0)
                e = apply_edits(src, n, &ed, out);
        free(hs.v);
        free(ed.v);
        mapped_free(&m);
        return e;
}

/* Redacts src[0,n) as plain text into out. */
static int redact_text(struct redactor *rd, const char *src, size_t n, struct vg_buf *out)
{
        return redact_mapped(rd, src, n, false, out);
}

/* ---- XML parts of office documents ---- */

enum xmode {
        X_OOXML, /* text in <t> (w:t, a:t, sml t), <v>; blocks break */
        X_ODF,   /* text in <text:p>, <text:h> and what they hold */
        X_ALL,   /* every text node, a line each */
};

enum {
        F_TEXT = 1 << 0,
        F_BREAK = 1 << 1,
        F_SPACE = 1 << 2,
        F_SPACES = 1 << 3,
        F_SKIP = 1 << 4,
        F_CELL = 1 << 5,
        F_VALUE = 1 << 6,
};

struct xelem {
        const char *name;
        unsigned flags;
};

/* The same structure extract_office.c reads, so both see the same text. */
static const struct xelem ooxml[] = {
    {"t", F_TEXT},
    {"delText", F_TEXT},
    {"instrText", F_TEXT},
    {"v", F_TEXT | F_VALUE},
    {"oddHeader", F_TEXT | F_BREAK},
    {"oddFooter", F_TEXT | F_BREAK},
    {"evenHeader", F_TEXT | F_BREAK},
    {"evenFooter", F_TEXT | F_BREAK},
    {"firstHeader", F_TEXT | F_BREAK},
    {"firstFooter", F_TEXT | F_BREAK},
    {"p", F_BREAK},
    {"tbl", F_BREAK},
    {"tr", F_BREAK},
    {"tc", F_BREAK},
    {"txbxContent", F_BREAK},
    {"hdr", F_BREAK},
    {"ftr", F_BREAK},
    {"footnote", F_BREAK},
    {"endnote", F_BREAK},
    {"comment", F_BREAK},
    {"sp", F_BREAK},
    {"txBody", F_BREAK},
    {"pt", F_BREAK},
    {"si", F_BREAK},
    {"is", F_BREAK},
    {"row", F_BREAK},
    {"c", F_BREAK | F_CELL},
    {"br", F_BREAK},
    {"cr", F_BREAK},
    {"tab", F_SPACE},
    {"ptab", F_SPACE},
    {"binData", F_SKIP},
    {"fldData", F_SKIP},
};

static const struct xelem odf[] = {
    {"p", F_TEXT | F_BREAK}, {"h", F_TEXT | F_BREAK},         {"table-row", F_BREAK},
    {"table-cell", F_BREAK}, {"covered-table-cell", F_BREAK}, {"frame", F_BREAK},
    {"note-body", F_BREAK},  {"annotation", F_BREAK},         {"header", F_BREAK},
    {"footer", F_BREAK},     {"line-break", F_BREAK},         {"tab", F_SPACE},
    {"s", F_SPACES},         {"note-citation", F_SKIP},       {"binary-data", F_SKIP},
};

#define XDEPTH 1024

struct xframe {
        bool in_text, skip;
};

struct xpart {
        XML_Parser p;
        enum xmode mode;
        const char *src;
        struct mapped m;
        int err;
        unsigned depth;
        struct xframe st[XDEPTH];
        /* SpreadsheetML: a number cell whose value becomes a placeholder must
         * say it holds a string (t="str"), or the file no longer opens. */
        size_t cell_tag_end, cell_fix_end; /* what to replace, or 0 */
        struct {
                size_t vs, ve, at, to;
        } * numv;
        size_t nnumv, capnumv;
        size_t vstart;
        bool in_numv;
};

static unsigned xflags(enum xmode m, const char *local)
{
        const struct xelem *t = m == X_OOXML ? ooxml : m == X_ODF ? odf : NULL;
        size_t n = m == X_OOXML ? sizeof(ooxml) / sizeof(ooxml[0])
                   : m == X_ODF ? sizeof(odf) / sizeof(odf[0])
                                : 0;
        for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].name, local) == 0)
                        return t[i].flags;
        return 0;
}

static const char *xlocal(const char *name)
{
        const char *sep = strrchr(name, '\x01');
        return sep ? sep + 1 : name;
}

static void xfail(struct xpart *x, int e)
{
        if (!x->err)
                x->err = e;
        XML_StopParser(x->p, XML_FALSE);
}

static void xsynth(struct xpart *x, const char *s, size_t n)
{
        if (x->err)
                return;
        /* made-up bytes map to an empty range where the parser is */
        uint32_t at = (uint32_t)XML_GetCurrentByteIndex(x->p);
        int e = mapped_put(&x->m, s, n, at, at, false);
        if (e < 0)
                xfail(x, e);
}

static void xbreak(struct xpart *x)
{
        if (x->m.norm.len && x->m.norm.data[x->m.norm.len - 1] != '\n')
                xsynth(x, "\n", 1);
}

static void XMLCALL x_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
        struct xpart *x = ud;
        if (x->err)
                return;
        if (x->depth >= XDEPTH) {
                xfail(x, -EBADMSG);
                return;
        }
        const struct xframe *parent = x->depth ? &x->st[x->depth - 1] : NULL;
        struct xframe *f = &x->st[x->depth++];
        const char *ln = xlocal(name);
        unsigned fl = xflags(x->mode, ln);
        f->in_text = parent && parent->in_text;
        f->skip = (parent && parent->skip) || (fl & F_SKIP);
        if (f->skip)
                return;
        if (x->mode == X_ALL) {
                xbreak(x);
                f->in_text = true;
                return;
        }
        if (fl & F_BREAK) {
                xbreak(x);
                f->in_text = false;
        }
        if (fl & F_TEXT)
                f->in_text = true;
        if (fl & F_SPACE)
                xsynth(x, " ", 1);
        if (fl & F_SPACES)
                xsynth(x, " ", 1);
        if (fl & F_CELL) {
                const char *t = NULL;
                for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
                        if (strcmp(xlocal(atts[i]), "t") == 0)
                                t = atts[i + 1];
                /* the start tag: insert t="str" before its '>' (not "/>": no
                 * value to fix), or rewrite an explicit t="n" */
                size_t idx = (size_t)XML_GetCurrentByteIndex(x->p);
                size_t cnt = (size_t)XML_GetCurrentByteCount(x->p);
                x->cell_tag_end = 0;
                x->cell_fix_end = 0;
                if (!t && cnt >= 2 && x->src[idx + cnt - 1] == '>' &&
                    x->src[idx + cnt - 2] != '/') {
                        x->cell_tag_end = idx + cnt - 1;
                        x->cell_fix_end = x->cell_tag_end;
                } else if (t && strcmp(t, "n") == 0) {
                        const char *ta = memmem(x->src + idx, cnt, " t=\"n\"", 6);
                        if (!ta)
                                ta = memmem(x->src + idx, cnt, " t='n'", 6);
                        if (ta) {
                                x->cell_tag_end = (size_t)(ta - x->src);
                                x->cell_fix_end = x->cell_tag_end + 6;
                        }
                }
        }
        if ((fl & F_VALUE) && x->cell_tag_end) {
                x->in_numv = true;
                x->vstart =
                    (size_t)XML_GetCurrentByteIndex(x->p) + (size_t)XML_GetCurrentByteCount(x->p);
        }
}

static void XMLCALL x_end(void *ud, const XML_Char *name)
{
        struct xpart *x = ud;
        if (x->err || x->depth == 0)
                return;
        const struct xframe *f = &x->st[--x->depth];
        if (f->skip)
                return;
        unsigned fl = xflags(x->mode, xlocal(name));
        if (x->mode == X_ALL || (fl & F_BREAK))
                xbreak(x);
        if (fl & F_CELL)
                x->cell_tag_end = x->cell_fix_end = 0;
        if ((fl & F_VALUE) && x->in_numv) {
                x->in_numv = false;
                if (x->nnumv == x->capnumv) {
                        size_t nc = x->capnumv ? x->capnumv * 2 : 16;
                        void *nv = reallocarray(x->numv, nc, sizeof(*x->numv));
                        if (!nv) {
                                xfail(x, -ENOMEM);
                                return;
                        }
                        x->numv = nv;
                        x->capnumv = nc;
                }
                x->numv[x->nnumv].vs = x->vstart;
                x->numv[x->nnumv].ve = (size_t)XML_GetCurrentByteIndex(x->p);
                x->numv[x->nnumv].at = x->cell_tag_end;
                x->numv[x->nnumv].to = x->cell_fix_end;
                x->nnumv++;
        }
}

static void XMLCALL x_text(void *ud, const XML_Char *s, int len)
{
        struct xpart *x = ud;
        if (x->err || x->depth == 0 || len <= 0)
                return;
        const struct xframe *f = &x->st[x->depth - 1];
        if (f->skip || !f->in_text)
                return;
        size_t idx = (size_t)XML_GetCurrentByteIndex(x->p);
        size_t cnt = (size_t)XML_GetCurrentByteCount(x->p);
        int e;
        if (cnt == (size_t)len && memcmp(x->src + idx, s, cnt) == 0) {
                e = mapped_text(&x->m, s, (size_t)len, (uint32_t)idx);
        } else {
                /* an entity (&amp;) or a line end the parser rewrote: the
                 * decoded bytes all stand for the whole source range */
                size_t at = x->m.norm.len;
                e = mapped_text(&x->m, s, (size_t)len, (uint32_t)idx);
                for (size_t i = at; e >= 0 && i < x->m.norm.len; i++) {
                        x->m.rs[i] = (uint32_t)idx;
                        x->m.re[i] = (uint32_t)(idx + cnt);
                }
        }
        if (e < 0)
                xfail(x, e);
}

static void XMLCALL x_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                              const XML_Char *pubid, int has_internal_subset)
{
        (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
        xfail(ud, -EBADMSG); /* OPC and ODF forbid DTDs (see extract_office.c) */
}

static int XMLCALL x_extent(XML_Parser p, const XML_Char *context, const XML_Char *base,
                            const XML_Char *sysid, const XML_Char *pubid)
{
        (void)p, (void)context, (void)base, (void)sysid, (void)pubid;
        return XML_STATUS_ERROR;
}

/* Pass one: the text runs, as the document shows them. */
static int xml_runs(struct redactor *rd, const char *src, size_t n, enum xmode mode,
                    struct vg_buf *out)
{
        struct xpart *x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        struct hits hs = {0};
        struct edits ed = {0};
        int e = -ENOMEM;
        x->mode = mode;
        x->src = src;
        mapped_init(&x->m);
        x->p = XML_ParserCreateNS(NULL, '\x01');
        if (!x->p)
                goto done;
        XML_SetUserData(x->p, x);
        XML_SetElementHandler(x->p, x_start, x_end);
        XML_SetCharacterDataHandler(x->p, x_text);
        XML_SetStartDoctypeDeclHandler(x->p, x_doctype);
        XML_SetExternalEntityRefHandler(x->p, x_extent);
        if (XML_Parse(x->p, src, (int)n, XML_TRUE) != XML_STATUS_OK && !x->err)
                x->err = -EBADMSG;
        if ((e = x->err) < 0)
                goto done;
        if ((e = find_hits(rd, x->m.norm.data ? x->m.norm.data : "", x->m.norm.len, false, &hs)) <
                0 ||
            (e = hits_to_edits(rd, &x->m, &hs, &ed)) < 0)
                goto done;
        /* number cells whose value was replaced now hold a string */
        size_t nvalue_edits = ed.n;
        for (size_t k = 0; k < x->nnumv; k++)
                for (size_t i = 0; i < nvalue_edits; i++)
                        if (ed.v[i].start >= x->numv[k].vs && ed.v[i].end <= x->numv[k].ve) {
                                if ((e = edit_add(&ed, x->numv[k].at, x->numv[k].to,
                                                  " t=\"str\"")) < 0)
                                        goto done;
                                break;
                        }
        e = apply_edits(src, n, &ed, out);
done:
        if (x->p)
                XML_ParserFree(x->p);
        mapped_free(&x->m);
        free(x->numv);
        free(x);
        free(hs.v);
        free(ed.v);
        return e;
}

/* Pass two: identifiers anywhere else in the part (attribute values such as an
 * ODF cell's office:value, a mailto: link target, chart caches). */
static int xml_sweep(struct redactor *rd, const char *src, size_t n, struct vg_buf *out)
{
        return redact_mapped(rd, src, n, true, out);
}

/* An ODF number cell whose office:value became a placeholder: it becomes a text
 * cell showing that placeholder (its shown text was the number, formatted:
 * "1,92083E+14" gives digits away), or the file would read as 0 or fail. */
static int odf_cells(const char *src, size_t n, struct vg_buf *out)
{
        static const char key[] = " office:value=\"[";
        size_t pos = 0;
        int e;
        for (;;) {
                const char *hit = memmem(src + pos, n - pos, key, sizeof(key) - 1);
                if (!hit)
                        break;
                size_t a = (size_t)(hit - src);
                size_t vs = a + sizeof(key) - 2; /* the placeholder, from '[' */
                const char *q = memchr(src + vs, '"', n - vs);
                const char *gt = q ? memchr(q, '>', (size_t)(src + n - q)) : NULL;
                size_t lt = a;
                while (lt > pos && src[lt] != '<')
                        lt--;
                if (!q || !gt || src[lt] != '<' ||
                    strncmp(src + lt, "<table:table-cell", 17) != 0) {
                        if ((e = vg_buf_append(out, src + pos, vs - pos)) < 0)
                                return e;
                        pos = vs;
                        continue;
                }
                size_t ve = (size_t)(q - src);
                char ph[64];
                size_t pn = ve - vs < sizeof(ph) - 1 ? ve - vs : sizeof(ph) - 1;
                memcpy(ph, src + vs, pn);
                ph[pn] = '\0';
                /* the tag, with the value dropped and the types made string */
                size_t tag_end = (size_t)(gt - src) + 1;
                struct vg_buf tag;
                vg_buf_init(&tag, 1u << 20);
                if ((e = vg_buf_append(&tag, src + lt, a - lt)) < 0 ||
                    (e = vg_buf_append(&tag, src + ve + 1, tag_end - ve - 1)) < 0) {
                        vg_buf_free(&tag);
                        return e;
                }
                static const char *const types[] = {"\"float\"", "\"percentage\"", "\"currency\""};
                for (size_t k = 0; k < 3; k++) {
                        char *t;
                        while ((t = strstr(tag.data, types[k])) != NULL) {
                                size_t tl = strlen(types[k]);
                                size_t off = (size_t)(t - tag.data);
                                struct vg_buf nt;
                                vg_buf_init(&nt, 1u << 20);
                                if ((e = vg_buf_append(&nt, tag.data, off)) < 0 ||
                                    (e = vg_buf_appends(&nt, "\"string\"")) < 0 ||
                                    (e = vg_buf_appends(&nt, tag.data + off + tl)) < 0) {
                                        vg_buf_free(&nt);
                                        vg_buf_free(&tag);
                                        return e;
                                }
                                vg_buf_free(&tag);
                                tag = nt;
                        }
                }
                e = vg_buf_append(out, src + pos, lt - pos);
                if (e >= 0)
                        e = vg_buf_append(out, tag.data, tag.len);
                vg_buf_free(&tag);
                if (e < 0)
                        return e;
                pos = tag_end;
                /* its first paragraph shows the placeholder */
                const char *endc = memmem(src + pos, n - pos, "</table:table-cell>", 19);
                const char *tp = memmem(src + pos, n - pos, "<text:p", 7);
                if (endc && tp && tp < endc) {
                        const char *pg = memchr(tp, '>', (size_t)(endc - tp));
                        const char *close =
                            pg ? memmem(pg, (size_t)(endc - pg), "</text:p>", 9) : NULL;
                        if (pg && pg[-1] != '/' && close) {
                                if ((e = vg_buf_append(out, src + pos,
                                                       (size_t)(pg + 1 - (src + pos)))) < 0 ||
                                    (e = vg_buf_appends(out, ph)) < 0)
                                        return e;
                                pos = (size_t)(close - src);
                        }
                }
        }
        return vg_buf_append(out, src + pos, n - pos);
}

static bool ends_with(const char *s, const char *suf)
{
        size_t n = strlen(s), k = strlen(suf);
        return n >= k && strcmp(s + n - k, suf) == 0;
}

static enum xmode part_mode(bool is_odf, const char *name)
{
        if (is_odf)
                return strcmp(name, "content.xml") == 0 || strcmp(name, "styles.xml") == 0 ? X_ODF
                                                                                           : X_ALL;
        if (strncmp(name, "word/", 5) == 0 || strncmp(name, "xl/", 3) == 0 ||
            strncmp(name, "ppt/", 4) == 0)
                return X_OOXML;
        return X_ALL;
}

static int redact_part(struct redactor *rd, bool is_odf, const char *name, const char *src,
                       size_t n, struct vg_buf *out)
{
        struct vg_buf mid;
        vg_buf_init(&mid, WHOLE_MAX);
        int e = xml_runs(rd, src, n, part_mode(is_odf, name), &mid);
        if (e < 0 || !is_odf) {
                if (e >= 0)
                        e = xml_sweep(rd, mid.data ? mid.data : "", mid.len, out);
                vg_buf_free(&mid);
                return e;
        }
        struct vg_buf swept;
        vg_buf_init(&swept, WHOLE_MAX);
        e = xml_sweep(rd, mid.data ? mid.data : "", mid.len, &swept);
        if (e >= 0)
                e = odf_cells(swept.data ? swept.data : "", swept.len, out);
        vg_buf_free(&swept);
        vg_buf_free(&mid);
        return e;
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

/* Rewrites the zip: XML parts redacted, every other member copied as it is,
 * in the same order; ODF's mimetype stays first and stored. */
static int redact_zip(struct redactor *rd, const struct vg_limits *lim, bool is_odf, int in,
                      int out)
{
        struct archive *r = archive_read_new(), *w = archive_write_new();
        struct vg_buf data, red;
        vg_buf_init(&data, WHOLE_MAX);
        vg_buf_init(&red, WHOLE_MAX);
        uint64_t total = 0, members = 0;
        int e = -ENOMEM;
        if (!r || !w)
                goto done;
        e = -EBADMSG;
        if (lseek(in, 0, SEEK_SET) < 0 ||
            archive_read_support_format_zip_seekable(r) != ARCHIVE_OK ||
            archive_read_open_fd(r, in, 64 * 1024) != ARCHIVE_OK)
                goto done;
        e = -EIO;
        if (archive_write_set_format_zip(w) != ARCHIVE_OK ||
            archive_write_open_fd(w, out) != ARCHIVE_OK)
                goto done;
        struct archive_entry *ent;
        int rc;
        while ((rc = archive_read_next_header(r, &ent)) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(ent);
                if (!name || ++members > lim->max_members) {
                        e = -E2BIG;
                        goto done;
                }
                vg_buf_reset(&data);
                vg_buf_reset(&red);
                char blk[64 * 1024];
                la_ssize_t k;
                while ((k = archive_read_data(r, blk, sizeof(blk))) > 0) {
                        total += (uint64_t)k;
                        if (total > lim->max_expanded) {
                                e = -E2BIG;
                                goto done;
                        }
                        if ((e = vg_buf_append(&data, blk, (size_t)k)) < 0)
                                goto done;
                }
                if (k < 0) {
                        e = -EBADMSG;
                        goto done;
                }
                const char *body = data.data ? data.data : "";
                size_t blen = data.len;
                if (ends_with(name, ".xml") || ends_with(name, ".rels")) {
                        if ((e = redact_part(rd, is_odf, name, body, blen, &red)) < 0)
                                goto done;
                        body = red.data ? red.data : "";
                        blen = red.len;
                }
                struct archive_entry *oe = archive_entry_new();
                if (!oe) {
                        e = -ENOMEM;
                        goto done;
                }
                archive_entry_set_pathname(oe, name);
                bool dir = archive_entry_filetype(ent) == AE_IFDIR;
                archive_entry_set_filetype(oe, dir ? AE_IFDIR : AE_IFREG);
                archive_entry_set_perm(oe, dir ? 0755 : 0644);
                archive_entry_set_size(oe, (la_int64_t)blen);
                if (archive_entry_mtime_is_set(ent))
                        archive_entry_set_mtime(oe, archive_entry_mtime(ent), 0);
                /* ODF: "mimetype" is read as the file's signature, uncompressed */
                if (strcmp(name, "mimetype") == 0)
                        archive_write_zip_set_compression_store(w);
                else
                        archive_write_zip_set_compression_deflate(w);
                e = -EIO;
                if (archive_write_header(w, oe) != ARCHIVE_OK ||
                    (blen && archive_write_data(w, body, blen) != (la_ssize_t)blen)) {
                        archive_entry_free(oe);
                        goto done;
                }
                archive_entry_free(oe);
        }
        e = rc == ARCHIVE_EOF ? 0 : -EBADMSG;
        if (e == 0 && archive_write_close(w) != ARCHIVE_OK)
                e = -EIO;
done:
        archive_read_free(r);
        archive_write_free(w);
        vg_buf_free(&data);
        vg_buf_free(&red);
        return e;
}

/* ---- The document ---- */

static int read_whole(int fd, size_t max, struct vg_buf *b)
{
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        char blk[64 * 1024];
        for (;;) {
                ssize_t k = read(fd, blk, sizeof(blk));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                if (b->len + (size_t)k > max)
                        return -EFBIG;
                int e = vg_buf_append(b, blk, (size_t)k);
                if (e < 0)
                        return e;
        }
}

enum kind { K_TEXT, K_OFFICE, K_EXTRACTED };

static bool office_type(const char *type, bool *is_odf)
{
        *is_odf = strncmp(type, "application/vnd.oasis.opendocument.", 35) == 0;
        return *is_odf || strncmp(type, "application/vnd.openxmlformats-officedocument.", 46) == 0;
}

/* Formats whose bytes are their text (UTF-8, ASCII or Latin-1; not UTF-16). */
static bool text_type(const char *type, const char *head, size_t n)
{
        if (n >= 2 && (((unsigned char)head[0] == 0xff && (unsigned char)head[1] == 0xfe) ||
                       ((unsigned char)head[0] == 0xfe && (unsigned char)head[1] == 0xff)))
                return false;
        if (memchr(head, '\0', n))
                return false;
        return strncmp(type, "text/", 5) == 0 || strcmp(type, "application/json") == 0 ||
               strcmp(type, "application/xml") == 0 || strcmp(type, "message/rfc822") == 0 ||
               strcmp(type, "application/javascript") == 0 ||
               strcmp(type, "application/x-ndjson") == 0 || strcmp(type, "application/csv") == 0;
}

static void set_why(struct vg_redact_result *res, const char *s)
{
        size_t k = strlen(res->why);
        if (k && k + 2 < sizeof(res->why))
                snprintf(res->why + k, sizeof(res->why) - k, ", ");
        k = strlen(res->why);
        if (!strstr(res->why, s))
                snprintf(res->why + k, sizeof(res->why) - k, "%s", s);
}

/* Whether the policy flags a finding of the report (what would hold it). */
static bool flags(const struct vg_policy *p, const struct vg_finding *f)
{
        const struct vg_policy_rule *rule = vg_policy_rule(p, f->detector);
        if (!rule || rule->ignore)
                return false;
        uint64_t v = vg_policy_counts_distinct(f->detector) ? f->distinct : f->count;
        return v >= rule->threshold;
}

/* Whether the copy still holds a value redaction replaces (names aside: they
 * are found by context, and a placeholder next to a title is one). */
static bool leftover(const struct vg_report *copy)
{
        for (size_t i = 0; copy && i < copy->nfindings; i++)
                if (vg_redactable(copy->findings[i].detector) &&
                    strcmp(copy->findings[i].detector, "person_name") != 0)
                        return true;
        return false;
}

static int rescan(struct vg_engine *eng, const struct vg_policy *policy, int out, const char *name,
                  struct vg_redact_result *res)
{
        struct vg_report *rep = NULL;
        if (lseek(out, 0, SEEK_SET) < 0)
                return -errno;
        int e = vg_scan_fd(eng, out, name, &rep);
        if (e < 0)
                return e;
        res->copy = rep;
        if (!policy)
                return 0;
        if ((e = vg_policy_apply(policy, rep)) < 0)
                return e;
        for (size_t i = 0; i < rep->nfindings; i++)
                if (flags(policy, &rep->findings[i])) {
                        res->status = VG_REDACT_STILL_FLAGGED;
                        set_why(res, rep->findings[i].detector);
                }
        if (rep->nunscannable > 0) {
                res->status = VG_REDACT_STILL_FLAGGED;
                set_why(res, vg_reason_name(rep->unscannable[0].reason));
        }
        return 0;
}

int vg_redact_fd(struct vg_engine *eng, const struct vg_policy *policy, int in, const char *name,
                 const struct vg_redact_opts *opts, int out, struct vg_redact_result **ret)
{
        struct vg_redact_result *res = calloc(1, sizeof(*res));
        struct redactor rd = {.english = opts->english};
        struct vg_buf text, src, dst;
        uint64_t cap = eng->cfg.limits.max_expanded + eng->cfg.limits.max_file_size;
        vg_buf_init(&text, cap < TEXT_MAX ? (size_t)cap : TEXT_MAX);
        vg_buf_init(&src, WHOLE_MAX);
        vg_buf_init(&dst, WHOLE_MAX);
        int e = -ENOMEM;
        if (!res)
                goto fail;
        /* the scan's rules and the names; compiled per document, so that scans
         * (all but a few files) never pay for them */
        if ((e = vg_rules_new_redaction(eng->cfg.custom, &rd.rules)) < 0)
                goto fail;
        /* the original, as the daemon would judge it, keeping its text */
        if ((e = vg_scan_fd_text(eng, in, name, &text, &res->report)) < 0 ||
            (policy && (e = vg_policy_apply(policy, res->report)) < 0))
                goto fail;
        const struct vg_report *rep = res->report;
        if (rep->nunscannable > 0) {
                res->status = VG_REDACT_UNREADABLE;
                for (size_t i = 0; i < rep->nunscannable; i++)
                        set_why(res, vg_reason_name(rep->unscannable[i].reason));
                goto out;
        }
        for (size_t i = 0; i < rep->nfindings; i++)
                if (!vg_redactable(rep->findings[i].detector) && flags(policy, &rep->findings[i])) {
                        res->status = VG_REDACT_NOT_REDACTABLE;
                        set_why(res, rep->findings[i].detector);
                }
        if (res->status != VG_REDACT_DONE)
                goto out;
        bool is_odf = false;
        char head[4096];
        ssize_t hn = pread(in, head, sizeof(head), 0);
        if (hn < 0) {
                e = -errno;
                goto fail;
        }
        enum kind kind = K_EXTRACTED;
        if (opts->format == VG_REDACT_SAME && office_type(rep->type, &is_odf))
                kind = K_OFFICE;
        else if (opts->format == VG_REDACT_SAME && text_type(rep->type, head, (size_t)hn))
                kind = K_TEXT;
again:
        res->as_text = kind == K_EXTRACTED;
        if (kind == K_OFFICE) {
                if ((e = redact_zip(&rd, &eng->cfg.limits, is_odf, in, out)) < 0)
                        goto fail;
        } else {
                const char *s = text.data ? text.data : "";
                size_t n = text.len;
                if (kind == K_TEXT) {
                        vg_buf_reset(&src);
                        if ((e = read_whole(in, WHOLE_MAX, &src)) < 0)
                                goto fail;
                        s = src.data ? src.data : "";
                        n = src.len;
                }
                vg_buf_reset(&dst);
                if ((e = redact_text(&rd, s, n, &dst)) < 0 ||
                    (e = write_all(out, dst.data ? dst.data : "", dst.len)) < 0)
                        goto fail;
        }
        if (fsync(out) < 0 && errno != EINVAL) {
                e = -errno;
                goto fail;
        }
        if ((e = rescan(eng, policy, out, name, res)) < 0)
                goto fail;
        /* A value the rewriting in place could not reach (a base64 mail part, a
         * number formatted in a cell) is still in the copy: the extracted text,
         * redacted, instead, from a clean slate. */
        if (kind != K_EXTRACTED && leftover(res->copy)) {
                if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0) {
                        e = -errno;
                        goto fail;
                }
                vg_report_free(res->copy);
                res->copy = NULL;
                res->status = VG_REDACT_DONE;
                res->why[0] = '\0';
                free(rd.entries);
                rd.entries = NULL;
                rd.nentries = 0;
                free(rd.as);
                rd.as = NULL;
                rd.nas = rd.capas = 0;
                kind = K_EXTRACTED;
                goto again;
        }
out:
        res->entries = rd.entries;
        res->nentries = rd.nentries;
        rd.entries = NULL;
        free(rd.as);
        vg_rules_free(rd.rules);
        vg_buf_free(&text);
        vg_buf_free(&src);
        vg_buf_free(&dst);
        *ret = res;
        return 0;
fail:
        free(rd.as);
        free(rd.entries);
        vg_rules_free(rd.rules);
        vg_buf_free(&text);
        vg_buf_free(&src);
        vg_buf_free(&dst);
        vg_redact_result_free(res);
        return e;
}

void vg_redact_result_free(struct vg_redact_result *r)
{
        if (!r)
                return;
        free(r->entries);
        vg_report_free(r->report);
        vg_report_free(r->copy);
        free(r);
}

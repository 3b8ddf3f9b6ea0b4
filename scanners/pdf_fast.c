/* The PDF fast path: the text of the PDFs that most offices produce, read
 * directly; poppler (extract_pdf.c) for everything else.
 *
 * Why: on the benchmark corpus (tests/bench, 300 PDFs, 20.5 MB) poppler-glib's
 * text extraction cost 7.4 s of an 18 s single-process scan of the whole corpus,
 * 25 ms per PDF or 2.6 MB/s: the single largest cost of a scan. Most of it is
 * poppler building a whole text page (fonts, glyph boxes, blocks, flows) for
 * what is, in the common case, a Flate stream of Tj operators in a standard or
 * ToUnicode font. This file reads that case directly: the 300 corpus PDFs all
 * take it, and their scan went from 5.2 s to 1.1 s of CPU (extraction from 4.8 s
 * to 0.7 s, vigie-bench, one process).
 *
 * What it reads: the header, xref tables and xref streams (object streams of
 * PDF 1.5), incremental updates, the trailer, the document info strings, the
 * page tree (cycle and depth guarded), each page's content streams (FlateDecode
 * or unfiltered), the text operators with the graphics state that places text,
 * and fonts: simple fonts in WinAnsi, Standard or MacRoman (ASCII) encoding with
 * /Differences in standard glyph names, the twelve Latin standard fonts with
 * poppler's own widths, and any font (Type0 /Identity-H included) with a
 * ToUnicode CMap. Link annotations' text is read as poppler-glib reads it.
 *
 * VIGIE_PDF_FAST (extract_pdf.c, read once per process): "off" for poppler
 * alone, "only" for this path alone (tests).
 *
 * When it is unsure, it says so and poppler reads the file, so that the outcome
 * is poppler's, fail-closed reasons included. It is unsure on anything it does
 * not fully understand, among others: encryption, embedded files, annotations
 * other than plain links, AcroForm, optional content, ActualText, form
 * XObjects, inline images, Type3 fonts, fonts without a usable map to Unicode,
 * predefined CMaps, filters other than Flate, a broken or missing xref, an
 * object it cannot find or that is not what it should be, a stream whose
 * /Length does not end at endstream, info strings it cannot decode, rotated or
 * skewed text, text near or past the page's edges, text drawn out of reading
 * order (upwards, backwards, overlapping, or lines that do not overlap the line
 * above as one column does), horizontal gaps that could make poppler see
 * columns, spacing too close to poppler's word-break thresholds to be sure, its
 * own limits (pages, objects, memory, decoded bytes), and anything that would
 * make a scan limit trip where poppler's charge would not.
 *
 * Text is poppler's as far as findings go: poppler rebuilds words and lines from
 * glyph boxes (TextOutputDev: a glyph box is its advance without Tc and Tw, a
 * new word where the gap after a glyph is more than 0.1 of the font size or the
 * size changes, never for a font change alone, a space between words whose gap
 * is at least 0.03 of it, a line per baseline, lines joined by newlines, whole
 * lines of one-letter words spaced by their own rule); the same rules are applied
 * here to the same boxes, with a guard band around each threshold inside which
 * the fast path falls back rather than guess. tests/integration/test_pdf_fast.py
 * runs both paths over every test PDF and compares the findings.
 *
 * Nothing is pushed until the whole file has been read: a fall back at the last
 * page must leave nothing behind. The text is kept in a bounded buffer, the
 * decoded bytes are counted, and both are charged (vg_layer_charge) at the end,
 * after checking that the charge cannot trip a limit poppler's would not (the
 * poppler path charges the text only). The time limit is checked as it goes. */
#include "pdf_fast.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "buf.h"
#include "scan_internal.h"

/* Internal: "not sure, let poppler read it". Never returned to the caller. */
#ifdef VG_PDF_FAST_DEBUG
#include <stdio.h>
static int unsure_at(int line)
{
        fprintf(stderr, "pdf_fast: unsure at line %d\n", line);
        return -EDOM;
}
#define UNSURE (unsure_at(__LINE__))
#else
#define UNSURE (-EDOM)
#endif

/* Own limits: past one, poppler reads the file (and applies the scan limits). */
#define FAST_MAX_PAGES   4096        /* poppler checks the time between pages */
#define FAST_MAX_OBJECTS (1u << 20)  /* xref entries */
#define FAST_MAX_ARENA   (32u << 20) /* parsed objects, object streams, CMaps */
#define FAST_MAX_STREAM  (32u << 20) /* one decoded stream */
#define FAST_MAX_DECODED (96u << 20) /* bytes inflated in all */
#define FAST_MAX_TEXT    (16u << 20) /* text kept until the end */
#define FAST_MAX_DEPTH   32          /* nesting of objects, page tree depth */
#define FAST_MAX_XREFS   64          /* xref sections chained by /Prev */
#define FAST_MAX_ARGS    33          /* operands of one operator (as poppler) */
#define FAST_MAX_GSTACK  64          /* q nesting */
#define FAST_MAX_ARRAY   (1u << 20)  /* items of one array */
#define FAST_MAX_FONTS   256         /* fonts built (direct font dicts: at each Tf) */
#define FAST_MAX_WIDTHS  (1u << 20)  /* widths set by the /W arrays of a file */
#define FAST_TIME_EVERY  4096        /* operators between time checks */

/* ------------------------------------------------------------------ memory */

struct chunk {
        struct chunk *next;
        size_t used, cap;
        unsigned char data[];
};

enum otype { T_NULL, T_BOOL, T_NUM, T_NAME, T_STR, T_ARR, T_DICT, T_REF, T_STREAM };

struct obj {
        uint8_t t;
        bool is_int;
        union {
                bool b;
                double num;
                struct {
                        uint32_t num, gen;
                } ref;
                struct {
                        const char *p; /* names: NUL-terminated */
                        size_t n;
                } s;
                struct {
                        struct obj *v; /* dicts: key, value, key, value... */
                        size_t n;      /* items (dicts: pairs) */
                } a;
        } u;
        /* T_STREAM: the dict is u.a, the raw data here */
        const unsigned char *data;
        size_t data_len;
};

enum xtype { X_NONE, X_FREE, X_OFFSET, X_IN_STREAM };

struct xent {
        uint8_t type;
        bool loading;
        uint32_t gen_or_index;
        uint64_t off_or_stream;
        struct obj *obj; /* parsed, or NULL */
};

struct font;
struct objstm;

struct doc {
        struct vg_layer *l;
        const unsigned char *buf;
        size_t len;
        struct chunk *arena;
        size_t arena_total;
        struct xent *x;
        size_t nx;
        struct obj *trailer;
        uint64_t decoded;     /* bytes inflated */
        uint64_t decoded_max; /* FAST_MAX_DECODED or less, to stay below the limits */
        struct font *fonts;   /* built so far (by object number) */
        struct objstm *stm;   /* OBJSTM_CACHE decoded object streams */
        unsigned load_depth;  /* objects being loaded, one needing the next */
        unsigned nfonts;
        uint64_t width_sets; /* widths written by /W arrays */
        unsigned stm_age;
        struct vg_buf out; /* pieces of text, each ended by a NUL */
        unsigned pages;
        unsigned ops;
};

static void *arena_alloc(struct doc *d, size_t n, int *err)
{
        n = (n + 15) & ~(size_t)15;
        if (n > FAST_MAX_ARENA || d->arena_total + n > FAST_MAX_ARENA) {
                *err = UNSURE;
                return NULL;
        }
        struct chunk *c = d->arena;
        if (!c || c->cap - c->used < n) {
                size_t cap = n > (64u << 10) ? n : (64u << 10);
                c = malloc(sizeof(*c) + cap);
                if (!c) {
                        *err = -ENOMEM;
                        return NULL;
                }
                c->next = d->arena;
                c->used = 0;
                c->cap = cap;
                d->arena = c;
                d->arena_total += cap;
        }
        void *p = c->data + c->used;
        c->used += n;
        return p;
}

static void arena_free(struct doc *d)
{
        struct chunk *c = d->arena;
        while (c) {
                struct chunk *next = c->next;
                free(c);
                c = next;
        }
        d->arena = NULL;
}

/* ------------------------------------------------------------------ lexer */

struct lex {
        const unsigned char *p, *end;
};

static bool is_ws(unsigned char c)
{
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0;
}

static bool is_delim(unsigned char c)
{
        return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
               c == '}' || c == '/' || c == '%';
}

static bool is_regular(unsigned char c)
{
        return !is_ws(c) && !is_delim(c);
}

static void skip_ws(struct lex *x)
{
        while (x->p < x->end) {
                if (is_ws(*x->p)) {
                        x->p++;
                } else if (*x->p == '%') {
                        while (x->p < x->end && *x->p != '\n' && *x->p != '\r')
                                x->p++;
                } else {
                        break;
                }
        }
}

static int hexval(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* A number: [+-]digits[.digits], as PDF writes them (no exponent). */
static bool lex_number(struct lex *x, double *v, bool *is_int)
{
        const unsigned char *p = x->p;
        bool neg = false, any = false, dot = false;
        double r = 0, scale = 1;
        if (p < x->end && (*p == '+' || *p == '-'))
                neg = *p++ == '-';
        for (; p < x->end; p++) {
                if (*p >= '0' && *p <= '9') {
                        any = true;
                        if (dot) {
                                scale /= 10;
                                r += (*p - '0') * scale;
                        } else {
                                r = r * 10 + (*p - '0');
                        }
                } else if (*p == '.' && !dot) {
                        dot = true;
                } else {
                        break;
                }
        }
        if (!any || (p < x->end && is_regular(*p)) || r > 1e15)
                return false;
        x->p = p;
        *v = neg ? -r : r;
        *is_int = !dot;
        return true;
}

/* Decodes a literal string (x->p after the opening parenthesis) into out (at
 * most as long as the source). Returns the length or UNSURE. */
static int lex_literal(struct lex *x, unsigned char *out, size_t *ret_n)
{
        size_t n = 0;
        int depth = 1;
        while (x->p < x->end) {
                unsigned char c = *x->p++;
                if (c == '(') {
                        depth++;
                } else if (c == ')') {
                        if (--depth == 0) {
                                *ret_n = n;
                                return 0;
                        }
                } else if (c == '\\') {
                        if (x->p >= x->end)
                                return UNSURE;
                        c = *x->p++;
                        switch (c) {
                        case 'n':
                                c = '\n';
                                break;
                        case 'r':
                                c = '\r';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case 'b':
                                c = '\b';
                                break;
                        case 'f':
                                c = '\f';
                                break;
                        case '\r':
                                if (x->p < x->end && *x->p == '\n')
                                        x->p++;
                                continue;
                        case '\n':
                                continue;
                        default:
                                if (c >= '0' && c <= '7') {
                                        unsigned v = c - '0';
                                        for (int i = 0;
                                             i < 2 && x->p < x->end && *x->p >= '0' && *x->p <= '7';
                                             i++)
                                                v = v * 8 + (*x->p++ - '0');
                                        c = (unsigned char)v;
                                }
                                /* else: the character itself, \( \) \\ included */
                        }
                } else if (c == '\r') {
                        /* an end of line in a string is read as \n */
                        if (x->p < x->end && *x->p == '\n')
                                x->p++;
                        c = '\n';
                }
                if (out)
                        out[n] = c;
                n++;
        }
        return UNSURE;
}

/* A hex string (x->p after '<'). */
static int lex_hex(struct lex *x, unsigned char *out, size_t *ret_n)
{
        size_t n = 0;
        int hi = -1;
        while (x->p < x->end) {
                unsigned char c = *x->p++;
                if (c == '>') {
                        if (hi >= 0) {
                                if (out)
                                        out[n] = (unsigned char)(hi << 4);
                                n++;
                        }
                        *ret_n = n;
                        return 0;
                }
                if (is_ws(c))
                        continue;
                int v = hexval(c);
                if (v < 0)
                        return UNSURE;
                if (hi < 0) {
                        hi = v;
                } else {
                        if (out)
                                out[n] = (unsigned char)(hi << 4 | v);
                        n++;
                        hi = -1;
                }
        }
        return UNSURE;
}

/* A name (x->p after '/'), #xx escapes decoded, into the arena. */
static int lex_name(struct doc *d, struct lex *x, struct obj *o)
{
        const unsigned char *s = x->p;
        while (x->p < x->end && is_regular(*x->p))
                x->p++;
        size_t n = (size_t)(x->p - s);
        int e = 0;
        char *out = arena_alloc(d, n + 1, &e);
        if (!out)
                return e;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i] == '#' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        out[k++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
                        i += 2;
                } else {
                        out[k++] = (char)s[i];
                }
        }
        out[k] = 0;
        if (memchr(out, 0, k))
                return UNSURE;
        o->t = T_NAME;
        o->u.s.p = out;
        o->u.s.n = k;
        return 0;
}

static bool lex_keyword(struct lex *x, const char *kw)
{
        size_t n = strlen(kw);
        if ((size_t)(x->end - x->p) < n || memcmp(x->p, kw, n) != 0)
                return false;
        if (x->p + n < x->end && is_regular(x->p[n]))
                return false;
        x->p += n;
        return true;
}

/* ------------------------------------------------------------------ objects */

static int parse_obj(struct doc *d, struct lex *x, struct obj *o, unsigned depth);

/* Items up to the closing delimiter, copied into the arena. */
static int parse_items(struct doc *d, struct lex *x, struct obj *o, unsigned depth, bool dict)
{
        size_t n = 0, cap = 0;
        struct obj *v = NULL;
        int e = 0;
        for (;;) {
                skip_ws(x);
                if (x->p >= x->end) {
                        e = UNSURE;
                        break;
                }
                if (!dict && *x->p == ']') {
                        x->p++;
                        break;
                }
                if (dict && x->end - x->p >= 2 && x->p[0] == '>' && x->p[1] == '>') {
                        x->p += 2;
                        break;
                }
                if (n >= FAST_MAX_ARRAY) {
                        e = UNSURE;
                        break;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 8;
                        struct obj *nv = realloc(v, cap * sizeof(*v));
                        if (!nv) {
                                e = -ENOMEM;
                                break;
                        }
                        v = nv;
                }
                memset(&v[n], 0, sizeof(v[n]));
                if ((e = parse_obj(d, x, &v[n], depth + 1)) < 0)
                        break;
                if (dict && n % 2 == 0 && v[n].t != T_NAME) {
                        e = UNSURE;
                        break;
                }
                n++;
        }
        if (!e && dict && n % 2) /* a key without a value */
                e = UNSURE;
        if (!e) {
                struct obj *copy = n ? arena_alloc(d, n * sizeof(*v), &e) : NULL;
                if (n && copy)
                        memcpy(copy, v, n * sizeof(*v));
                o->t = dict ? T_DICT : T_ARR;
                o->u.a.v = copy;
                o->u.a.n = dict ? n / 2 : n;
        }
        free(v);
        return e;
}

static int parse_string(struct doc *d, struct lex *x, struct obj *o, bool hex)
{
        struct lex probe = *x;
        size_t n = 0;
        int e = hex ? lex_hex(&probe, NULL, &n) : lex_literal(&probe, NULL, &n);
        if (e < 0)
                return e;
        unsigned char *out = arena_alloc(d, n + 1, &e);
        if (!out)
                return e;
        e = hex ? lex_hex(x, out, &n) : lex_literal(x, out, &n);
        if (e < 0)
                return e;
        o->t = T_STR;
        o->u.s.p = (const char *)out;
        o->u.s.n = n;
        return 0;
}

static int parse_obj(struct doc *d, struct lex *x, struct obj *o, unsigned depth)
{
        if (depth > FAST_MAX_DEPTH)
                return UNSURE;
        skip_ws(x);
        if (x->p >= x->end)
                return UNSURE;
        unsigned char c = *x->p;
        if (c == '/') {
                x->p++;
                return lex_name(d, x, o);
        }
        if (c == '(') {
                x->p++;
                return parse_string(d, x, o, false);
        }
        if (c == '<') {
                if (x->end - x->p >= 2 && x->p[1] == '<') {
                        x->p += 2;
                        return parse_items(d, x, o, depth, true);
                }
                x->p++;
                return parse_string(d, x, o, true);
        }
        if (c == '[') {
                x->p++;
                return parse_items(d, x, o, depth, false);
        }
        if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                double v;
                bool is_int;
                if (!lex_number(x, &v, &is_int))
                        return UNSURE;
                o->t = T_NUM;
                o->u.num = v;
                o->is_int = is_int;
                /* "num gen R" */
                if (is_int && v >= 0 && v < 1e10) {
                        struct lex y = *x;
                        skip_ws(&y);
                        double g;
                        bool gi;
                        if (y.p < y.end && *y.p >= '0' && *y.p <= '9' && lex_number(&y, &g, &gi) &&
                            gi && g >= 0 && g < 65536) {
                                skip_ws(&y);
                                if (lex_keyword(&y, "R")) {
                                        o->t = T_REF;
                                        o->u.ref.num = (uint32_t)v;
                                        o->u.ref.gen = (uint32_t)g;
                                        *x = y;
                                }
                        }
                }
                return 0;
        }
        if (lex_keyword(x, "true") || lex_keyword(x, "false")) {
                o->t = T_BOOL;
                o->u.b = x->p[-1] == 'e' && x->p[-2] == 'u';
                return 0;
        }
        if (lex_keyword(x, "null")) {
                o->t = T_NULL;
                return 0;
        }
        return UNSURE;
}

static struct obj *dget(const struct obj *dict, const char *key)
{
        if (!dict || (dict->t != T_DICT && dict->t != T_STREAM))
                return NULL;
        for (size_t i = 0; i < dict->u.a.n; i++)
                if (strcmp(dict->u.a.v[2 * i].u.s.p, key) == 0)
                        return &dict->u.a.v[2 * i + 1];
        return NULL;
}

static int load(struct doc *d, uint32_t num, struct obj **ret);

/* Follows references; NULL objects and missing keys come back as NULL. */
static int resolve(struct doc *d, struct obj *o, struct obj **ret)
{
        for (int i = 0; o && o->t == T_REF; i++) {
                if (i > 8)
                        return UNSURE;
                int e = load(d, o->u.ref.num, &o);
                if (e < 0)
                        return e;
        }
        *ret = o && o->t != T_NULL ? o : NULL;
        return 0;
}

static int rget(struct doc *d, const struct obj *dict, const char *key, struct obj **ret)
{
        return resolve(d, dget(dict, key), ret);
}

static bool is_name(const struct obj *o, const char *name)
{
        return o && o->t == T_NAME && strcmp(o->u.s.p, name) == 0;
}

static bool num_of(const struct obj *o, double *v)
{
        if (!o || o->t != T_NUM)
                return false;
        *v = o->u.num;
        return true;
}

/* ------------------------------------------------------------------ streams */

/* Inflates src into a malloc'd buffer (caller frees), counting every byte. */
static int inflate_all(struct doc *d, const unsigned char *src, size_t n, unsigned char **ret,
                       size_t *ret_n)
{
        z_stream z = {0};
        if (inflateInit(&z) != Z_OK)
                return -ENOMEM;
        size_t cap = n * 4 + 4096, len = 0;
        unsigned char *out = NULL;
        int e = 0;
        z.next_in = (unsigned char *)src;
        z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
        for (;;) {
                if (!out || len == cap) {
                        if (out)
                                cap *= 2;
                        if (cap > d->decoded_max - d->decoded + 1)
                                cap = d->decoded_max - d->decoded + 1;
                        if (cap > FAST_MAX_STREAM + 1)
                                cap = FAST_MAX_STREAM + 1;
                        if (cap <= len) {
                                e = UNSURE; /* own limit: poppler reads it */
                                break;
                        }
                        unsigned char *nout = realloc(out, cap);
                        if (!nout) {
                                e = -ENOMEM;
                                break;
                        }
                        out = nout;
                }
                z.next_out = out + len;
                z.avail_out = (uInt)(cap - len > UINT32_MAX ? UINT32_MAX : cap - len);
                int r = inflate(&z, Z_NO_FLUSH);
                len = (size_t)(z.next_out - out);
                if (r == Z_STREAM_END)
                        break;
                if (r != Z_OK && !(r == Z_BUF_ERROR && z.avail_out == 0)) {
                        e = UNSURE; /* damaged: poppler decides what it is worth */
                        break;
                }
                if (len > d->decoded_max - d->decoded) {
                        e = UNSURE;
                        break;
                }
        }
        inflateEnd(&z);
        if (e < 0) {
                free(out);
                return e;
        }
        d->decoded += len;
        if (d->decoded > d->decoded_max) {
                free(out);
                return UNSURE;
        }
        *ret = out;
        *ret_n = len;
        return 0;
}

/* PNG predictors (xref and object streams only). */
static int unpredict(unsigned char *buf, size_t *n, size_t columns, size_t colors, size_t bpc)
{
        if (bpc != 8 || colors < 1 || colors > 4 || columns < 1 || columns > 65536)
                return UNSURE;
        size_t bpp = colors, row = columns * colors;
        if (*n % (row + 1))
                return UNSURE;
        size_t rows = *n / (row + 1);
        unsigned char *prev = calloc(row, 1);
        if (!prev)
                return -ENOMEM;
        size_t w = 0;
        for (size_t r = 0; r < rows; r++) {
                unsigned char *in = buf + r * (row + 1);
                unsigned type = in[0];
                unsigned char *cur = buf + w;
                memmove(cur, in + 1, row);
                for (size_t i = 0; i < row; i++) {
                        unsigned a = i >= bpp ? cur[i - bpp] : 0, b = prev[i],
                                 c = i >= bpp ? prev[i - bpp] : 0;
                        switch (type) {
                        case 0:
                                break;
                        case 1:
                                cur[i] = (unsigned char)(cur[i] + a);
                                break;
                        case 2:
                                cur[i] = (unsigned char)(cur[i] + b);
                                break;
                        case 3:
                                cur[i] = (unsigned char)(cur[i] + (a + b) / 2);
                                break;
                        case 4: {
                                int p = (int)a + (int)b - (int)c;
                                int pa = abs(p - (int)a), pb = abs(p - (int)b),
                                    pc = abs(p - (int)c);
                                unsigned pr = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                                cur[i] = (unsigned char)(cur[i] + pr);
                                break;
                        }
                        default:
                                free(prev);
                                return UNSURE;
                        }
                }
                memcpy(prev, cur, row);
                w += row;
        }
        free(prev);
        *n = w;
        return 0;
}

/* The decoded data of a stream object: no filter or FlateDecode alone; a PNG
 * predictor only where `predictors` (xref and object streams). Caller frees. */
static int decode_stream(struct doc *d, struct obj *s, bool predictors, unsigned char **ret,
                         size_t *ret_n)
{
        if (!s || s->t != T_STREAM)
                return UNSURE;
        struct obj *f = NULL, *parms = NULL;
        int e;
        if ((e = rget(d, s, "Filter", &f)) < 0 || (e = rget(d, s, "DecodeParms", &parms)) < 0)
                return e;
        if (dget(s, "F")) /* data in an external file */
                return UNSURE;
        if (f && f->t == T_ARR) {
                if (f->u.a.n > 1)
                        return UNSURE;
                f = f->u.a.n ? &f->u.a.v[0] : NULL;
                if (parms && parms->t == T_ARR) {
                        if (parms->u.a.n > 1)
                                return UNSURE;
                        if ((e = resolve(d, parms->u.a.n ? &parms->u.a.v[0] : NULL, &parms)) < 0)
                                return e;
                }
        }
        if (!f) {
                if (parms)
                        return UNSURE;
                if (s->data_len > d->decoded_max - d->decoded)
                        return UNSURE;
                unsigned char *out = malloc(s->data_len + 1);
                if (!out)
                        return -ENOMEM;
                memcpy(out, s->data, s->data_len);
                *ret = out;
                *ret_n = s->data_len;
                return 0;
        }
        if (!is_name(f, "FlateDecode"))
                return UNSURE;
        double pred = 1, columns = 1, colors = 1, bpc = 8;
        if (parms) {
                if (parms->t != T_DICT)
                        return UNSURE;
                struct obj *v;
                if ((v = dget(parms, "Predictor")) && !num_of(v, &pred))
                        return UNSURE;
                if ((v = dget(parms, "Columns")) && !num_of(v, &columns))
                        return UNSURE;
                if ((v = dget(parms, "Colors")) && !num_of(v, &colors))
                        return UNSURE;
                if ((v = dget(parms, "BitsPerComponent")) && !num_of(v, &bpc))
                        return UNSURE;
        }
        if (pred != 1 && (!predictors || pred < 10 || pred > 15))
                return UNSURE;
        unsigned char *out;
        size_t n;
        if ((e = inflate_all(d, s->data, s->data_len, &out, &n)) < 0)
                return e;
        if (pred != 1 &&
            (e = unpredict(out, &n, (size_t)columns, (size_t)colors, (size_t)bpc)) < 0) {
                free(out);
                return e;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}

/* Stream data after its dict: "stream" EOL data[Length] EOL? "endstream". */
static int parse_stream_data(struct doc *d, struct lex *x, struct obj *o)
{
        if (!lex_keyword(x, "stream"))
                return UNSURE;
        if (x->p < x->end && *x->p == '\r')
                x->p++;
        if (x->p >= x->end || *x->p != '\n')
                return UNSURE;
        x->p++;
        struct obj *len = NULL;
        int e = rget(d, o, "Length", &len);
        if (e < 0)
                return e;
        double n;
        if (!num_of(len, &n) || !len->is_int || n < 0 || n > (double)(x->end - x->p))
                return UNSURE;
        o->t = T_STREAM;
        o->data = x->p;
        o->data_len = (size_t)n;
        x->p += (size_t)n;
        skip_ws(x);
        if (!lex_keyword(x, "endstream"))
                return UNSURE; /* poppler would look for endstream itself */
        return 0;
}

/* "num gen obj": true with the object number in *num (an integer), x after
 * "obj". */
static bool obj_header(struct lex *x, double *num)
{
        double g;
        bool ni, gi;
        skip_ws(x);
        if (!lex_number(x, num, &ni) || !ni)
                return false;
        skip_ws(x);
        if (!lex_number(x, &g, &gi) || !gi)
                return false;
        skip_ws(x);
        return lex_keyword(x, "obj");
}

/* An indirect object at `off` in buf: "num gen obj" object ["stream"...]. */
static int parse_indirect(struct doc *d, uint64_t off, uint32_t num, struct obj **ret)
{
        if (off >= d->len)
                return UNSURE;
        struct lex x = {d->buf + off, d->buf + d->len};
        double n;
        if (!obj_header(&x, &n) || n != num)
                return UNSURE;
        int e = 0;
        struct obj *o = arena_alloc(d, sizeof(*o), &e);
        if (!o)
                return e;
        memset(o, 0, sizeof(*o));
        if ((e = parse_obj(d, &x, o, 0)) < 0)
                return e;
        skip_ws(&x);
        if (o->t == T_DICT && x.end - x.p >= 6 && memcmp(x.p, "stream", 6) == 0) {
                if ((e = parse_stream_data(d, &x, o)) < 0)
                        return e;
                skip_ws(&x);
        }
        if (!lex_keyword(&x, "endobj"))
                return UNSURE;
        *ret = o;
        return 0;
}

/* Object streams, decoded once each while they are used: a few are kept (they
 * are read in bursts), with the offsets of their objects. */
#define OBJSTM_CACHE 4

struct objstm {
        uint32_t num; /* 0: empty slot */
        unsigned char *data;
        size_t len;
        size_t n;
        uint32_t *nums;
        size_t *offs;
        unsigned age;
};

static void objstm_clear(struct objstm *t)
{
        free(t->data);
        free(t->nums);
        free(t->offs);
        memset(t, 0, sizeof(*t));
}

static int objstm_get(struct doc *d, uint32_t stm_num, struct objstm **ret)
{
        struct objstm *slot = &d->stm[0];
        d->stm_age++;
        for (int i = 0; i < OBJSTM_CACHE; i++) {
                if (d->stm[i].num == stm_num) {
                        d->stm[i].age = d->stm_age;
                        *ret = &d->stm[i];
                        return 0;
                }
                if (d->stm[i].age < slot->age)
                        slot = &d->stm[i];
        }
        struct obj *s;
        int e = load(d, stm_num, &s);
        if (e < 0)
                return e;
        if (!s || s->t != T_STREAM || !is_name(dget(s, "Type"), "ObjStm"))
                return UNSURE;
        double nn, first;
        if (!num_of(dget(s, "N"), &nn) || !num_of(dget(s, "First"), &first) || nn < 0 || nn > 1e6 ||
            first < 0)
                return UNSURE;
        objstm_clear(slot);
        struct objstm t = {0};
        if ((e = decode_stream(d, s, true, &t.data, &t.len)) < 0)
                return e;
        t.n = (size_t)nn;
        t.nums = calloc(t.n + 1, sizeof(*t.nums));
        t.offs = calloc(t.n + 1, sizeof(*t.offs));
        e = t.nums && t.offs ? 0 : -ENOMEM;
        struct lex x = {t.data, t.data + t.len};
        for (size_t i = 0; i < t.n && !e; i++) {
                double on, oo;
                bool a, b;
                skip_ws(&x);
                if (!lex_number(&x, &on, &a) || !a || on < 0 || on > UINT32_MAX) {
                        e = UNSURE;
                        break;
                }
                skip_ws(&x);
                if (!lex_number(&x, &oo, &b) || !b || oo < 0 || first + oo >= (double)t.len) {
                        e = UNSURE;
                        break;
                }
                t.nums[i] = (uint32_t)on;
                t.offs[i] = (size_t)(first + oo);
        }
        if (e < 0) {
                objstm_clear(&t);
                return e;
        }
        t.num = stm_num;
        t.age = d->stm_age;
        *slot = t;
        *ret = slot;
        return 0;
}

static void objstm_free(struct doc *d)
{
        for (int i = 0; i < OBJSTM_CACHE; i++)
                objstm_clear(&d->stm[i]);
}

static int load_from_stream(struct doc *d, uint32_t stm_num, uint32_t index, uint32_t num,
                            struct obj **ret)
{
        struct objstm *t;
        int e = objstm_get(d, stm_num, &t);
        if (e < 0)
                return e;
        if (index >= t->n || t->nums[index] != num)
                return UNSURE;
        struct lex y = {t->data + t->offs[index], t->data + t->len};
        /* Strings and names are copied into the arena by the parser, so the
         * object outlives the cached stream. */
        struct obj *o = arena_alloc(d, sizeof(*o), &e);
        if (!o)
                return e;
        memset(o, 0, sizeof(*o));
        if ((e = parse_obj(d, &y, o, 0)) < 0)
                return e;
        *ret = o;
        return 0;
}

static int load(struct doc *d, uint32_t num, struct obj **ret)
{
        if (num >= d->nx) {
                *ret = NULL; /* poppler reads a missing object as null */
                return UNSURE;
        }
        struct xent *x = &d->x[num];
        if (x->obj) {
                *ret = x->obj;
                return 0;
        }
        if (x->loading || (x->type != X_OFFSET && x->type != X_IN_STREAM))
                return UNSURE;
        /* an object may need another to be read (an indirect /Length, its
         * object stream): a chain of those is bounded */
        if (d->load_depth >= FAST_MAX_DEPTH)
                return UNSURE;
        d->load_depth++;
        x->loading = true;
        int e;
        struct obj *o = NULL;
        if (x->type == X_OFFSET)
                e = parse_indirect(d, x->off_or_stream, num, &o);
        else
                e = x->off_or_stream < d->nx
                        ? load_from_stream(d, (uint32_t)x->off_or_stream, x->gen_or_index, num, &o)
                        : UNSURE;
        x->loading = false;
        d->load_depth--;
        if (e < 0)
                return e;
        x->obj = o;
        *ret = o;
        return 0;
}

/* ------------------------------------------------------------------ xref */

static int xref_set(struct doc *d, uint64_t num, uint8_t type, uint64_t a, uint32_t b)
{
        if (num >= d->nx)
                return UNSURE;
        struct xent *x = &d->x[num];
        if (x->type != X_NONE) /* a newer section already said */
                return 0;
        x->type = type;
        x->off_or_stream = a;
        x->gen_or_index = b;
        return 0;
}

static int xref_size(struct doc *d, struct obj *trailer)
{
        double size;
        if (!num_of(dget(trailer, "Size"), &size) || size < 1 || size > FAST_MAX_OBJECTS)
                return UNSURE;
        if (d->x)
                return (size_t)size <= d->nx ? 0 : UNSURE; /* older sections are smaller */
        d->x = calloc((size_t)size, sizeof(*d->x));
        if (!d->x)
                return -ENOMEM;
        d->nx = (size_t)size;
        return 0;
}

static int read_digits(const unsigned char *p, size_t n, uint64_t *v)
{
        uint64_t r = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return UNSURE;
                r = r * 10 + (uint64_t)(p[i] - '0');
        }
        *v = r;
        return 0;
}

static int read_xref_table(struct doc *d, struct lex *x, struct obj **ret_trailer)
{
        /* Entries are recorded after the trailer gives the size. */
        const unsigned char *start = x->p;
        for (int pass = 0; pass < 2; pass++) {
                x->p = start;
                for (;;) {
                        skip_ws(x);
                        if (lex_keyword(x, "trailer"))
                                break;
                        double first, count;
                        bool a, b;
                        if (!lex_number(x, &first, &a) || !a || first < 0)
                                return UNSURE;
                        skip_ws(x);
                        if (!lex_number(x, &count, &b) || !b || count < 0 ||
                            count > FAST_MAX_OBJECTS)
                                return UNSURE;
                        /* the end of the subsection line */
                        while (x->p < x->end && (*x->p == ' ' || *x->p == '\t'))
                                x->p++;
                        if (x->p < x->end && *x->p == '\r')
                                x->p++;
                        if (x->p < x->end && *x->p == '\n')
                                x->p++;
                        for (size_t i = 0; i < (size_t)count; i++) {
                                if (x->end - x->p < 20)
                                        return UNSURE;
                                const unsigned char *p = x->p;
                                uint64_t off, gen;
                                if (read_digits(p, 10, &off) < 0 || p[10] != ' ' ||
                                    read_digits(p + 11, 5, &gen) < 0 || p[16] != ' ' ||
                                    (p[17] != 'n' && p[17] != 'f') || !is_ws(p[18]) ||
                                    !is_ws(p[19]))
                                        return UNSURE;
                                if (pass == 1) {
                                        int e = xref_set(d, (uint64_t)first + i,
                                                         p[17] == 'n' ? X_OFFSET : X_FREE, off,
                                                         (uint32_t)gen);
                                        if (e < 0)
                                                return e;
                                }
                                x->p += 20;
                        }
                }
                if (pass == 0) {
                        struct obj *t = NULL;
                        int e = 0;
                        t = arena_alloc(d, sizeof(*t), &e);
                        if (!t)
                                return e;
                        memset(t, 0, sizeof(*t));
                        if ((e = parse_obj(d, x, t, 0)) < 0)
                                return e;
                        if (t->t != T_DICT)
                                return UNSURE;
                        if ((e = xref_size(d, t)) < 0)
                                return e;
                        *ret_trailer = t;
                }
        }
        return 0;
}

static int read_xref_stream(struct doc *d, uint64_t off, struct obj **ret_trailer)
{
        /* Parsed directly (the xref is not known yet). */
        struct lex x = {d->buf + off, d->buf + d->len};
        double n;
        if (!obj_header(&x, &n) || n < 0)
                return UNSURE;
        int e = 0;
        struct obj *s = arena_alloc(d, sizeof(*s), &e);
        if (!s)
                return e;
        memset(s, 0, sizeof(*s));
        if ((e = parse_obj(d, &x, s, 0)) < 0)
                return e;
        if (s->t != T_DICT || !is_name(dget(s, "Type"), "XRef"))
                return UNSURE;
        struct obj *len = dget(s, "Length");
        if (!len || len->t != T_NUM) /* an indirect Length cannot be resolved yet */
                return UNSURE;
        skip_ws(&x);
        if ((e = parse_stream_data(d, &x, s)) < 0)
                return e;
        if ((e = xref_size(d, s)) < 0)
                return e;
        struct obj *w = dget(s, "W"), *index = dget(s, "Index");
        if (!w || w->t != T_ARR || w->u.a.n != 3)
                return UNSURE;
        size_t wd[3], row = 0;
        for (int i = 0; i < 3; i++) {
                double v;
                if (!num_of(&w->u.a.v[i], &v) || v < 0 || v > 8)
                        return UNSURE;
                wd[i] = (size_t)v;
                row += wd[i];
        }
        if (row == 0)
                return UNSURE;
        unsigned char *data;
        size_t dn;
        if ((e = decode_stream(d, s, true, &data, &dn)) < 0)
                return e;
        double size = 0;
        num_of(dget(s, "Size"), &size);
        size_t pos = 0, nsec = index ? index->u.a.n / 2 : 1;
        if (index && (index->t != T_ARR || index->u.a.n % 2))
                e = UNSURE;
        for (size_t k = 0; k < nsec && !e; k++) {
                double first = 0, count = size;
                if (index && (!num_of(&index->u.a.v[2 * k], &first) ||
                              !num_of(&index->u.a.v[2 * k + 1], &count) || first < 0 || count < 0 ||
                              count > FAST_MAX_OBJECTS)) {
                        e = UNSURE;
                        break;
                }
                for (size_t i = 0; i < (size_t)count && !e; i++) {
                        if (dn - pos < row) {
                                e = UNSURE;
                                break;
                        }
                        uint64_t f[3];
                        for (int j = 0; j < 3; j++) {
                                f[j] = 0;
                                for (size_t b = 0; b < wd[j]; b++)
                                        f[j] = f[j] << 8 | data[pos++];
                        }
                        if (wd[0] == 0)
                                f[0] = 1;
                        uint8_t type = f[0] == 0   ? X_FREE
                                       : f[0] == 1 ? X_OFFSET
                                       : f[0] == 2 ? X_IN_STREAM
                                                   : X_NONE;
                        if (type == X_NONE)
                                continue; /* reserved types: null objects */
                        e = xref_set(d, (uint64_t)first + i, type, f[1],
                                     (uint32_t)(f[2] > UINT32_MAX ? UINT32_MAX : f[2]));
                }
        }
        free(data);
        if (e < 0)
                return e;
        *ret_trailer = s;
        return 0;
}

static int read_xrefs(struct doc *d)
{
        /* startxref in the last KiB (extract_pdf.c checked %%EOF is there). */
        size_t tail = d->len < 1024 + 64 ? d->len : 1024 + 64;
        const unsigned char *t = d->buf + d->len - tail, *sx = NULL;
        for (const unsigned char *p = t; (p = memmem(p, tail - (size_t)(p - t), "startxref", 9));
             p += 9)
                sx = p;
        if (!sx)
                return UNSURE;
        struct lex x = {sx + 9, d->buf + d->len};
        skip_ws(&x);
        double off;
        bool is_int;
        if (!lex_number(&x, &off, &is_int) || !is_int || off <= 0 || off >= (double)d->len)
                return UNSURE;
        uint64_t offs[FAST_MAX_XREFS];
        size_t n = 0;
        uint64_t at = (uint64_t)off;
        for (;;) {
                for (size_t i = 0; i < n; i++)
                        if (offs[i] == at)
                                return UNSURE; /* a loop of /Prev */
                if (n == FAST_MAX_XREFS)
                        return UNSURE;
                offs[n++] = at;
                struct lex y = {d->buf + at, d->buf + d->len};
                skip_ws(&y);
                struct obj *tr = NULL;
                int e;
                if (lex_keyword(&y, "xref")) {
                        if ((e = read_xref_table(d, &y, &tr)) < 0)
                                return e;
                        /* a hybrid file: the xref stream's entries come next */
                        double stm;
                        if (num_of(dget(tr, "XRefStm"), &stm)) {
                                struct obj *ignored;
                                if (stm <= 0 || stm >= (double)d->len ||
                                    (e = read_xref_stream(d, (uint64_t)stm, &ignored)) < 0)
                                        return e < 0 ? e : UNSURE;
                        }
                } else if ((e = read_xref_stream(d, at, &tr)) < 0) {
                        return e;
                }
                if (!d->trailer)
                        d->trailer = tr;
                double prev;
                struct obj *p = dget(tr, "Prev");
                if (!p)
                        break;
                if (!num_of(p, &prev) || prev <= 0 || prev >= (double)d->len)
                        return UNSURE;
                at = (uint64_t)prev;
        }
        return 0;
}

/* ------------------------------------------------------------------ text out */

static int out_utf8(struct vg_buf *b, uint32_t u)
{
        char s[4];
        size_t n;
        if (u < 0x80) {
                s[0] = (char)u;
                n = 1;
        } else if (u < 0x800) {
                s[0] = (char)(0xC0 | u >> 6);
                s[1] = (char)(0x80 | (u & 0x3F));
                n = 2;
        } else if (u < 0x10000) {
                s[0] = (char)(0xE0 | u >> 12);
                s[1] = (char)(0x80 | ((u >> 6) & 0x3F));
                s[2] = (char)(0x80 | (u & 0x3F));
                n = 3;
        } else {
                s[0] = (char)(0xF0 | u >> 18);
                s[1] = (char)(0x80 | ((u >> 12) & 0x3F));
                s[2] = (char)(0x80 | ((u >> 6) & 0x3F));
                s[3] = (char)(0x80 | (u & 0x3F));
                n = 4;
        }
        int e = vg_buf_append(b, s, n);
        return e == -ENOBUFS ? UNSURE : e;
}

/* Ends a piece of text (a paragraph: an info string or a page). */
static int out_end_piece(struct doc *d, size_t start)
{
        if (d->out.len == start)
                return 0;
        int e = vg_buf_appendc(&d->out, 0);
        return e == -ENOBUFS ? UNSURE : e;
}

/* A text string outside content streams, as poppler-glib gives it: UTF-16BE
 * with its BOM, or PDFDocEncoding, which is ASCII for printable ASCII. Anything
 * else (other PDFDocEncoding bytes, UTF-8 BOMs, language escapes, NULs, lone
 * surrogates) is left to poppler. */
static int out_text_string(struct doc *d, const struct obj *s)
{
        size_t start = d->out.len;
        const unsigned char *p = (const unsigned char *)s->u.s.p;
        size_t n = s->u.s.n;
        int e = 0;
        if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
                if (n % 2)
                        return UNSURE;
                for (size_t i = 2; i < n && !e; i += 2) {
                        uint32_t u = (uint32_t)p[i] << 8 | p[i + 1];
                        if (u >= 0xD800 && u <= 0xDBFF) {
                                if (i + 3 >= n)
                                        return UNSURE;
                                uint32_t lo = (uint32_t)p[i + 2] << 8 | p[i + 3];
                                if (lo < 0xDC00 || lo > 0xDFFF)
                                        return UNSURE;
                                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                i += 2;
                        } else if ((u >= 0xDC00 && u <= 0xDFFF) || u < 0x20 || u == 0xFEFF ||
                                   u == 0xFFFE) {
                                /* poppler-glib keeps control characters; the text
                                 * sink may not treat them as we would guess */
                                return UNSURE;
                        }
                        e = out_utf8(&d->out, u);
                }
        } else {
                for (size_t i = 0; i < n; i++)
                        if (p[i] < 0x20 || p[i] > 0x7E)
                                return UNSURE;
                e = vg_buf_append(&d->out, p, n);
                if (e == -ENOBUFS)
                        e = UNSURE;
        }
        if (e < 0)
                return e;
        return out_end_piece(d, start);
}

static int read_info(struct doc *d)
{
        struct obj *info = NULL;
        int e = rget(d, d->trailer, "Info", &info);
        if (e < 0)
                return e;
        if (!info)
                return 0;
        if (info->t != T_DICT)
                return UNSURE;
        static const char *const keys[] = {"Title", "Author", "Subject", "Keywords"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                struct obj *s = NULL;
                if ((e = rget(d, info, keys[i], &s)) < 0)
                        return e;
                if (!s)
                        continue;
                if (s->t != T_STR)
                        return UNSURE;
                if ((e = out_text_string(d, s)) < 0)
                        return e;
        }
        return 0;
}

/* ------------------------------------------------------------------ fonts */

struct font {
        struct font *next;
        uint32_t num; /* object number (0: a direct dict) */
        bool two_byte;
        /* code -> Unicode: map[code] is an index into uni (0: none); uni[i] is a
         * count followed by that many code points */
        uint32_t *map;
        uint32_t *uni;
        size_t nuni;
        /* widths in thousandths by code; < 0: unknown */
        float *width;
        float dw; /* Type0 default width */
};

static int font_put(struct font *f, uint32_t code, const uint32_t *u, size_t n)
{
        if (n == 0 || n > 16)
                return UNSURE;
        for (size_t i = 0; i < n; i++) {
                uint32_t c = u[i];
                /* nothing poppler would drop, join, reorder or render oddly:
                 * controls, combining marks, right-to-left scripts, surrogates,
                 * private use */
                if (c < 0x20 || (c >= 0x7F && c < 0xA0) || (c >= 0x300 && c < 0x370) ||
                    (c >= 0x590 && c < 0x900) || (c >= 0xD800 && c < 0xF900) ||
                    (c >= 0xFB1D && c < 0xFE00) || (c >= 0xFE70 && c < 0xFF00) ||
                    (c >= 0x1AB0 && c < 0x1B00) || (c >= 0x1DC0 && c < 0x1E00) ||
                    (c >= 0x20D0 && c < 0x2100) || (c >= 0xFE20 && c < 0xFE30) || c > 0x10FFFF ||
                    (c >= 0xF0000))
                        return UNSURE;
        }
        int e = 0;
        if (f->nuni + n + 1 > (f->two_byte ? 65536u * 4 : 2048u))
                return UNSURE;
        size_t at = f->nuni;
        f->uni[at] = (uint32_t)n;
        memcpy(&f->uni[at + 1], u, n * sizeof(*u));
        f->nuni += n + 1;
        f->map[code] = (uint32_t)at;
        return e;
}

/* Standard glyph names: those of WinAnsiEncoding, uniXXXX and uXXXX[XX]. */
static int glyph_lookup(const char *name, uint32_t *u, int *winansi_code)
{
        *winansi_code = -1;
        for (int i = 0; i < 224; i++)
                if (strcmp(vg_pdf_winansi[i].name, name) == 0) {
                        *u = vg_pdf_winansi[i].unicode;
                        *winansi_code = i + 32;
                        return 0;
                }
        size_t n = strlen(name);
        const char *hex = NULL;
        if (n == 7 && strncmp(name, "uni", 3) == 0)
                hex = name + 3;
        else if ((n == 5 || n == 7) && name[0] == 'u')
                hex = name + 1;
        if (!hex)
                return UNSURE;
        uint32_t v = 0;
        for (const char *p = hex; *p; p++) {
                int h = hexval((unsigned char)*p);
                if (h < 0 || (*p >= 'a' && *p <= 'f')) /* AGL: upper-case hex only */
                        return UNSURE;
                v = v << 4 | (uint32_t)h;
        }
        *u = v;
        return 0;
}

static const struct vg_pdf_base14 *base14(const char *name)
{
        for (int i = 0; i < VG_PDF_BASE14_N; i++)
                if (strcmp(vg_pdf_base14[i].name, name) == 0)
                        return &vg_pdf_base14[i];
        return NULL;
}

/* A ToUnicode CMap: codespace ranges, bfchar and bfrange (the only parts a
 * ToUnicode CMap needs); usecmap, cidchar and anything else: unsure. */
static int read_hex_token(struct lex *x, unsigned char *b, size_t max, size_t *n)
{
        skip_ws(x);
        if (x->p >= x->end || *x->p != '<')
                return UNSURE;
        x->p++;
        struct lex probe = *x;
        size_t k;
        int e = lex_hex(&probe, NULL, &k);
        if (e < 0 || k > max || k == 0)
                return UNSURE;
        lex_hex(x, b, n);
        return 0;
}

static int utf16_to_cps(const unsigned char *b, size_t n, uint32_t *u, size_t *nu)
{
        size_t k = 0;
        if (n % 2)
                return UNSURE;
        for (size_t i = 0; i < n; i += 2) {
                uint32_t c = (uint32_t)b[i] << 8 | b[i + 1];
                if (c >= 0xD800 && c <= 0xDBFF && i + 3 < n) {
                        uint32_t lo = (uint32_t)b[i + 2] << 8 | b[i + 3];
                        if (lo < 0xDC00 || lo > 0xDFFF)
                                return UNSURE;
                        c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
                        i += 2;
                }
                if (k == 16)
                        return UNSURE;
                u[k++] = c;
        }
        *nu = k;
        return 0;
}

static int read_tounicode(struct doc *d, struct font *f, struct obj *s)
{
        unsigned char *data;
        size_t n;
        int e = decode_stream(d, s, false, &data, &n);
        if (e < 0)
                return e;
        size_t clen = f->two_byte ? 2 : 1;
        struct lex x = {data, data + n};
        e = 0;
        while (!e) {
                skip_ws(&x);
                if (x.p >= x.end)
                        break;
                if (lex_keyword(&x, "usecmap") || lex_keyword(&x, "begincidchar") ||
                    lex_keyword(&x, "begincidrange") || lex_keyword(&x, "beginnotdefrange")) {
                        e = UNSURE;
                } else if (lex_keyword(&x, "begincodespacerange")) {
                        for (;;) {
                                skip_ws(&x);
                                if (lex_keyword(&x, "endcodespacerange"))
                                        break;
                                unsigned char lo[4], hi[4];
                                size_t nl, nh;
                                if ((e = read_hex_token(&x, lo, 4, &nl)) < 0 ||
                                    (e = read_hex_token(&x, hi, 4, &nh)) < 0)
                                        break;
                                if (nl != clen || nh != clen) {
                                        e = UNSURE;
                                        break;
                                }
                        }
                } else if (lex_keyword(&x, "beginbfchar")) {
                        for (;;) {
                                skip_ws(&x);
                                if (lex_keyword(&x, "endbfchar"))
                                        break;
                                unsigned char src[4], dst[64];
                                size_t ns, nd, nu;
                                uint32_t u[16];
                                if ((e = read_hex_token(&x, src, 4, &ns)) < 0)
                                        break;
                                skip_ws(&x);
                                if (x.p < x.end && *x.p == '/') { /* a glyph name */
                                        e = UNSURE;
                                        break;
                                }
                                if ((e = read_hex_token(&x, dst, sizeof(dst), &nd)) < 0 ||
                                    (e = utf16_to_cps(dst, nd, u, &nu)) < 0)
                                        break;
                                if (ns != clen) {
                                        e = UNSURE;
                                        break;
                                }
                                uint32_t code = clen == 2 ? (uint32_t)src[0] << 8 | src[1] : src[0];
                                if (f->map[code]) { /* poppler: the last one wins */
                                        e = UNSURE;
                                        break;
                                }
                                e = font_put(f, code, u, nu);
                        }
                } else if (lex_keyword(&x, "beginbfrange")) {
                        for (;;) {
                                skip_ws(&x);
                                if (lex_keyword(&x, "endbfrange"))
                                        break;
                                unsigned char lo[4], hi[4], dst[64];
                                size_t nl, nh, nd, nu;
                                if ((e = read_hex_token(&x, lo, 4, &nl)) < 0 ||
                                    (e = read_hex_token(&x, hi, 4, &nh)) < 0)
                                        break;
                                if (nl != clen || nh != clen) {
                                        e = UNSURE;
                                        break;
                                }
                                uint32_t a = clen == 2 ? (uint32_t)lo[0] << 8 | lo[1] : lo[0];
                                uint32_t b = clen == 2 ? (uint32_t)hi[0] << 8 | hi[1] : hi[0];
                                if (b < a || (clen == 2 && lo[0] != hi[0] && b - a > 255)) {
                                        e = UNSURE;
                                        break;
                                }
                                skip_ws(&x);
                                if (x.p < x.end && *x.p == '[') {
                                        x.p++;
                                        for (uint32_t c = a; c <= b && !e; c++) {
                                                uint32_t u[16];
                                                if ((e = read_hex_token(&x, dst, sizeof(dst),
                                                                        &nd)) < 0 ||
                                                    (e = utf16_to_cps(dst, nd, u, &nu)) < 0)
                                                        break;
                                                if (f->map[c])
                                                        e = UNSURE;
                                                else
                                                        e = font_put(f, c, u, nu);
                                        }
                                        skip_ws(&x);
                                        if (!e && (x.p >= x.end || *x.p != ']'))
                                                e = UNSURE;
                                        if (e)
                                                break;
                                        x.p++;
                                        continue;
                                }
                                uint32_t u[16];
                                if ((e = read_hex_token(&x, dst, sizeof(dst), &nd)) < 0 ||
                                    (e = utf16_to_cps(dst, nd, u, &nu)) < 0)
                                        break;
                                for (uint32_t c = a; c <= b && !e; c++) {
                                        if (f->map[c]) {
                                                e = UNSURE;
                                                break;
                                        }
                                        /* the last code point counts up, within its
                                         * UTF-16 unit as poppler does */
                                        uint32_t v[16];
                                        memcpy(v, u, nu * sizeof(*u));
                                        v[nu - 1] += c - a;
                                        if (u[nu - 1] < 0x10000 &&
                                            (u[nu - 1] & 0xFF) + (c - a) > 0xFF) {
                                                e = UNSURE;
                                                break;
                                        }
                                        e = font_put(f, c, v, nu);
                                }
                        }
                } else {
                        /* anything else: skip one token (PostScript around the
                         * CMap: names, dicts, numbers, keywords) */
                        struct obj tmp;
                        struct lex y = x;
                        if (*x.p == '/' || *x.p == '(' || *x.p == '<' || *x.p == '[' ||
                            (*x.p >= '0' && *x.p <= '9')) {
                                memset(&tmp, 0, sizeof(tmp));
                                if ((e = parse_obj(d, &x, &tmp, 0)) < 0)
                                        break;
                        } else {
                                while (x.p < x.end && is_regular(*x.p))
                                        x.p++;
                                if (x.p == y.p)
                                        x.p++; /* a stray delimiter: } { ] > */
                        }
                }
        }
        free(data);
        return e;
}

/* The width array of a Type0 font's descendant: c [w ...] and c1 c2 w. */
static int read_cid_widths(struct doc *d, struct font *f, struct obj *w)
{
        for (size_t i = 0; i < w->u.a.n;) {
                double c1, c2, v;
                struct obj *next = NULL;
                if (!num_of(&w->u.a.v[i], &c1) || c1 < 0 || c1 > 65535 || i + 1 >= w->u.a.n)
                        return UNSURE;
                int e = resolve(d, &w->u.a.v[i + 1], &next);
                if (e < 0)
                        return e;
                if (next && next->t == T_ARR) {
                        for (size_t k = 0; k < next->u.a.n; k++) {
                                if (!num_of(&next->u.a.v[k], &v) || c1 + (double)k > 65535)
                                        return UNSURE;
                                f->width[(size_t)c1 + k] = (float)v;
                        }
                        i += 2;
                } else {
                        if (!num_of(next, &c2) || i + 2 >= w->u.a.n ||
                            !num_of(&w->u.a.v[i + 2], &v) || c2 < c1 || c2 > 65535)
                                return UNSURE;
                        d->width_sets += (size_t)c2 - (size_t)c1 + 1;
                        if (d->width_sets > FAST_MAX_WIDTHS)
                                return UNSURE; /* overlapping ranges over and over */
                        for (size_t c = (size_t)c1; c <= (size_t)c2; c++)
                                f->width[c] = (float)v;
                        i += 3;
                }
        }
        return 0;
}

static int font_simple_encoding(struct doc *d, struct font *f, struct obj *fd, const char *subtype,
                                const struct vg_pdf_base14 *b14, bool have_tounicode)
{
        struct obj *enc = NULL;
        int e = rget(d, fd, "Encoding", &enc);
        if (e < 0)
                return e;
        /* code -> glyph name index of WinAnsi (code-32), or -1 */
        int names[256];
        uint32_t uni[256];
        for (int c = 0; c < 256; c++) {
                names[c] = -1;
                uni[c] = 0;
        }
        const char *base = NULL;
        struct obj *diffs = NULL;
        if (enc && enc->t == T_NAME) {
                base = enc->u.s.p;
        } else if (enc && enc->t == T_DICT) {
                struct obj *be = NULL;
                if ((e = rget(d, enc, "BaseEncoding", &be)) < 0 ||
                    (e = rget(d, enc, "Differences", &diffs)) < 0)
                        return e;
                if (be && be->t != T_NAME)
                        return UNSURE;
                base = be ? be->u.s.p : NULL;
                if (diffs && diffs->t != T_ARR)
                        return UNSURE;
        } else if (enc) {
                return UNSURE;
        }
        if (!base) {
                /* The font's own encoding: known only for the Latin standard
                 * fonts not embedded (StandardEncoding); TrueType and embedded
                 * fonts go by their ToUnicode alone. */
                if (b14 && strcmp(subtype, "Type1") == 0)
                        base = "StandardEncoding";
        }
        if (base && strcmp(base, "WinAnsiEncoding") == 0) {
                for (int c = 32; c < 256; c++)
                        names[c] = c - 32;
        } else if (base && (strcmp(base, "StandardEncoding") == 0 ||
                            strcmp(base, "MacRomanEncoding") == 0)) {
                /* ASCII alike; StandardEncoding's quotes at 0x27 and 0x60 are
                 * quoteright and quoteleft */
                bool std = strcmp(base, "StandardEncoding") == 0;
                for (int c = 32; c < 127; c++)
                        names[c] = c - 32;
                if (std) {
                        names[0x27] = 0x92 - 32;
                        names[0x60] = 0x91 - 32;
                }
        } else if (base) {
                return UNSURE;
        }
        if (diffs) {
                double code = -1;
                for (size_t i = 0; i < diffs->u.a.n; i++) {
                        struct obj *v = &diffs->u.a.v[i];
                        if (v->t == T_NUM) {
                                code = v->u.num;
                                if (code < 0 || code > 255)
                                        return UNSURE;
                        } else if (v->t == T_NAME) {
                                if (code < 0 || code > 255)
                                        return UNSURE;
                                uint32_t u;
                                int wc;
                                if (glyph_lookup(v->u.s.p, &u, &wc) < 0) {
                                        names[(int)code] = -2; /* unknown: unsure if shown */
                                } else if (wc >= 0) {
                                        names[(int)code] = wc - 32;
                                } else {
                                        names[(int)code] = -3; /* uniXXXX */
                                        uni[(int)code] = u;
                                }
                                code++;
                        } else {
                                return UNSURE;
                        }
                }
        }
        for (int c = 0; c < 256; c++) {
                uint32_t u;
                int wc = -1;
                if (names[c] >= 0) {
                        u = vg_pdf_winansi[names[c]].unicode;
                        wc = names[c] + 32;
                } else if (names[c] == -3) {
                        u = uni[c];
                } else {
                        continue;
                }
                if (!f->map[c] && !have_tounicode) {
                        if ((e = font_put(f, (uint32_t)c, &u, 1)) < 0) {
                                if (e != -EDOM)
                                        return e;
                                /* not a code we can turn to text: unsure if shown */
                                f->map[c] = 0;
                        }
                } else if (!f->map[c] && have_tounicode) {
                        /* poppler falls back on the encoding for codes the
                         * ToUnicode map lacks; so do we */
                        if ((e = font_put(f, (uint32_t)c, &u, 1)) < 0 && e != -EDOM)
                                return e;
                }
                if (b14 && f->width[c] < 0 && wc >= 32)
                        f->width[c] = b14->width[wc - 32];
        }
        return 0;
}

static int font_build(struct doc *d, struct obj *fd, uint32_t num, struct font **ret)
{
        if (!fd || fd->t != T_DICT)
                return UNSURE;
        struct obj *subtype = NULL, *basefont = NULL, *tu = NULL;
        int e;
        if ((e = rget(d, fd, "Subtype", &subtype)) < 0 ||
            (e = rget(d, fd, "BaseFont", &basefont)) < 0 || (e = rget(d, fd, "ToUnicode", &tu)) < 0)
                return e;
        if (!subtype || subtype->t != T_NAME)
                return UNSURE;
        const char *st = subtype->u.s.p;
        bool type0 = strcmp(st, "Type0") == 0;
        if (!type0 && strcmp(st, "Type1") && strcmp(st, "TrueType") && strcmp(st, "MMType1"))
                return UNSURE; /* Type3 among others */
        if (tu && tu->t != T_STREAM)
                return UNSURE; /* a predefined name: poppler-data's tables */
        struct font *f = arena_alloc(d, sizeof(*f), &e);
        if (!f)
                return e;
        memset(f, 0, sizeof(*f));
        f->num = num;
        f->two_byte = type0;
        size_t ncodes = type0 ? 65536 : 256;
        f->map = arena_alloc(d, ncodes * sizeof(*f->map), &e);
        f->width = f->map ? arena_alloc(d, ncodes * sizeof(*f->width), &e) : NULL;
        f->uni =
            f->width ? arena_alloc(d, (type0 ? 65536u * 4 : 2048u) * sizeof(*f->uni), &e) : NULL;
        if (!f->uni)
                return e;
        memset(f->map, 0, ncodes * sizeof(*f->map));
        for (size_t i = 0; i < ncodes; i++)
                f->width[i] = -1;
        f->nuni = 1; /* index 0: no mapping */
        if (tu && (e = read_tounicode(d, f, tu)) < 0)
                return e;
        if (type0) {
                struct obj *enc = NULL, *desc = NULL, *df = NULL, *dsub = NULL, *w = NULL,
                           *dw = NULL;
                if ((e = rget(d, fd, "Encoding", &enc)) < 0 ||
                    (e = rget(d, fd, "DescendantFonts", &desc)) < 0)
                        return e;
                if (!tu || !is_name(enc, "Identity-H") || !desc || desc->t != T_ARR ||
                    desc->u.a.n != 1)
                        return UNSURE;
                if ((e = resolve(d, &desc->u.a.v[0], &df)) < 0)
                        return e;
                if (!df || df->t != T_DICT || (e = rget(d, df, "Subtype", &dsub)) < 0 ||
                    (e = rget(d, df, "W", &w)) < 0 || (e = rget(d, df, "DW", &dw)) < 0)
                        return e < 0 ? e : UNSURE;
                if (!is_name(dsub, "CIDFontType2") && !is_name(dsub, "CIDFontType0"))
                        return UNSURE;
                double v = 1000;
                if (dw && !num_of(dw, &v))
                        return UNSURE;
                f->dw = (float)v;
                if (w && (w->t != T_ARR || (e = read_cid_widths(d, f, w)) < 0))
                        return e < 0 ? e : UNSURE;
                for (size_t i = 0; i < ncodes; i++)
                        if (f->width[i] < 0)
                                f->width[i] = f->dw;
                *ret = f;
                return 0;
        }
        /* Simple fonts: /Widths, else the standard font's own metrics. */
        struct obj *widths = NULL, *fc = NULL, *desc = NULL;
        if ((e = rget(d, fd, "Widths", &widths)) < 0 || (e = rget(d, fd, "FirstChar", &fc)) < 0 ||
            (e = rget(d, fd, "FontDescriptor", &desc)) < 0)
                return e;
        const struct vg_pdf_base14 *b14 = NULL;
        if (widths) {
                double first;
                if (widths->t != T_ARR || !num_of(fc, &first) || first < 0 || first > 255)
                        return UNSURE;
                for (size_t i = 0; i < widths->u.a.n; i++) {
                        struct obj *v = NULL;
                        double wv;
                        if ((e = resolve(d, &widths->u.a.v[i], &v)) < 0)
                                return e;
                        if (!num_of(v, &wv) || first + (double)i > 255)
                                return UNSURE;
                        f->width[(size_t)first + i] = (float)wv;
                }
        } else {
                if (!basefont || basefont->t != T_NAME || desc)
                        return UNSURE;
                if (!(b14 = base14(basefont->u.s.p)))
                        return UNSURE;
        }
        if (strcmp(st, "TrueType") == 0 && !tu)
                return UNSURE; /* poppler reads TrueType encodings through the font's cmap */
        if (desc && !b14) {
                /* a symbolic font's codes mean what its program says */
                struct obj *flags = NULL;
                double fl = 0;
                if ((e = rget(d, desc, "Flags", &flags)) < 0)
                        return e;
                if (flags && !num_of(flags, &fl))
                        return UNSURE;
                if (((uint32_t)fl & 4) && !tu)
                        return UNSURE;
        }
        if ((e = font_simple_encoding(d, f, fd, st, b14, tu != NULL)) < 0)
                return e;
        *ret = f;
        return 0;
}

static int font_get(struct doc *d, struct obj *resources, const char *name, struct font **ret)
{
        struct obj *fonts = NULL, *ref, *fd = NULL;
        int e = rget(d, resources, "Font", &fonts);
        if (e < 0)
                return e;
        if (!fonts || fonts->t != T_DICT || !(ref = dget(fonts, name)))
                return UNSURE; /* poppler: "No font in show" */
        uint32_t num = ref->t == T_REF ? ref->u.ref.num : 0;
        if (num)
                for (struct font *f = d->fonts; f; f = f->next)
                        if (f->num == num) {
                                *ret = f;
                                return 0;
                        }
        if ((e = resolve(d, ref, &fd)) < 0)
                return e;
        struct font *f = NULL;
        if (++d->nfonts > FAST_MAX_FONTS)
                return UNSURE;
        if ((e = font_build(d, fd, num, &f)) < 0)
                return e;
        f->next = d->fonts;
        d->fonts = f;
        *ret = f;
        return 0;
}

/* ------------------------------------------------------------------ layout */

/* Thresholds, as fractions of the font size, from poppler's TextOutputDev.cc
 * (poppler 22): a gap after a glyph of more than minWordBreakSpace (0.1) starts a
 * new word, words whose gap is at least maxCharSpacing (0.03) get a space, a
 * baseline that moves by more than 0.5 point starts a new word and, past
 * maxIntraLineDelta (0.5), a new line. Each threshold has a guard band. */
#define WORD_BREAK      0.10
#define WORD_BREAK_LOW  0.07
#define WORD_BREAK_HIGH 0.13
#define SPACE_LOW       0.01
#define SPACE_HIGH      0.05
#define GAP_MAX         0.90 /* beyond: possibly a column or a table cell */
#define GLYPH_MIN       0.15 /* narrower: poppler's duplicate and combining rules */
#define LINE_STEP_MIN   1.00 /* a new line below the last by at least this */

struct layout {
        struct doc *d;
        double x0, y0, x1, y1; /* the page's box */
        bool in_line;
        double base, line_fs, end_x, start_x, fs;
        const struct font *font;
        bool pending_space;
        unsigned word_len, words;
        bool multi; /* a word of the line is longer than one character */
        double lxmin, lxmax;
        bool have_prev;
        double pxmin, pxmax;
        /* text of the page on its way to d->out, in blocks */
        size_t stage_len;
        char stage[4096];
};

static int stage_flush(struct layout *L)
{
        int e = vg_buf_append(&L->d->out, L->stage, L->stage_len);
        L->stage_len = 0;
        return e == -ENOBUFS ? UNSURE : e;
}

static int stage_put(struct layout *L, uint32_t u)
{
        if (L->stage_len + 4 > sizeof(L->stage)) {
                int e = stage_flush(L);
                if (e < 0)
                        return e;
        }
        char *s = L->stage + L->stage_len;
        if (u < 0x80) {
                s[0] = (char)u;
                L->stage_len += 1;
        } else if (u < 0x800) {
                s[0] = (char)(0xC0 | u >> 6);
                s[1] = (char)(0x80 | (u & 0x3F));
                L->stage_len += 2;
        } else if (u < 0x10000) {
                s[0] = (char)(0xE0 | u >> 12);
                s[1] = (char)(0x80 | ((u >> 6) & 0x3F));
                s[2] = (char)(0x80 | (u & 0x3F));
                L->stage_len += 3;
        } else {
                s[0] = (char)(0xF0 | u >> 18);
                s[1] = (char)(0x80 | ((u >> 12) & 0x3F));
                s[2] = (char)(0x80 | ((u >> 6) & 0x3F));
                s[3] = (char)(0x80 | (u & 0x3F));
                L->stage_len += 4;
        }
        return 0;
}

static int line_end(struct layout *L)
{
        if (!L->in_line)
                return 0;
        /* a line of one-character words only: poppler then takes the line's
         * narrowest gap as its word spacing (TextLine::coalesce) */
        if (L->word_len != 1)
                L->multi = true;
        if (L->words >= 2 && !L->multi)
                return UNSURE;
        /* one column: each line overlaps the one above */
        if (L->have_prev && !(L->lxmin < L->pxmax && L->pxmin < L->lxmax))
                return UNSURE;
        L->have_prev = true;
        L->pxmin = L->lxmin;
        L->pxmax = L->lxmax;
        L->in_line = false;
        return 0;
}

static void word_break(struct layout *L)
{
        if (L->word_len != 1)
                L->multi = true;
        L->words++;
        L->word_len = 0;
}

/* One glyph at (x, base) in device space, dx wide, fs the font size. */
static int glyph(struct layout *L, const struct font *f, double x, double base, double dx,
                 double fs, const uint32_t *u, size_t nu)
{
        if (nu == 1 && (u[0] == 0x20 || u[0] == 0xA0 || u[0] == 0x09 ||
                        (u[0] >= 0x2000 && u[0] <= 0x200A) || u[0] == 0x3000 || u[0] == 0x202F ||
                        u[0] == 0x205F || u[0] == 0x2028 || u[0] == 0x2029)) {
                /* poppler's UnicodeIsWhitespace (UTF.cc; the controls among them
                 * never get here, see font_put): the word ends, no glyph kept */
                L->pending_space = true;
                return 0;
        }
        for (size_t i = 0; i < nu; i++)
                if (u[i] == 0x20 || u[i] == 0xA0 || (u[i] >= 0x2000 && u[i] <= 0x200B) ||
                    u[i] == 0x3000 || u[i] == 0x85 || u[i] == 0x2028 || u[i] == 0x2029)
                        return UNSURE; /* a space inside a multi-character glyph */
        if (fs < 2 || dx < GLYPH_MIN * fs || dx > 4 * fs)
                return UNSURE;
        /* poppler drops what lies outside the page: stay clear of the edges */
        if (x < L->x0 + 0.5 || x + dx > L->x1 - 0.5 || base < L->y0 + 0.5 || base > L->y1 - 0.5)
                return UNSURE;
        int e;
        if (L->in_line && fabs(base - L->base) > 0.01) {
                /* a new line: strictly below, far enough not to be a sub- or
                 * superscript of the last */
                double step = L->base - base;
                if (step < LINE_STEP_MIN * (fs > L->fs ? fs : L->fs))
                        return UNSURE;
                if ((e = line_end(L)) < 0)
                        return e;
                if ((e = stage_put(L, '\n')) < 0)
                        return e;
        }
        if (!L->in_line) {
                L->in_line = true;
                L->base = base;
                L->line_fs = fs;
                L->lxmin = x;
                L->lxmax = x + dx;
                L->words = 1;
                L->word_len = 0;
                L->multi = false;
        } else {
                double gap = x - L->end_x;
                bool space;
                /* a change of size starts a new word for poppler and, between
                 * sizes far enough apart, a new block it may place elsewhere:
                 * one size per line (a font change alone is not a break) */
                if (fs != L->line_fs)
                        return UNSURE;
                /* poppler starts a new word when glyphs overlap by more than
                 * minDupBreakOverlap (0.2); a tighter kerning is one word */
                if (gap < -0.15 * L->fs)
                        return UNSURE; /* backwards or overlapping */
                /* a glyph starting within 0.1 em of the last one's start is a
                 * duplicate to poppler (fake bold), which drops it */
                if (x - L->start_x < 0.15 * L->fs)
                        return UNSURE;
                if (gap > GAP_MAX * L->fs || gap > GAP_MAX * fs)
                        return UNSURE;
                if (L->pending_space) {
                        /* a new word anyway: a space when the gap reaches 0.03 */
                        if (gap > SPACE_LOW * L->line_fs && gap < SPACE_HIGH * L->line_fs)
                                return UNSURE;
                        space = gap >= SPACE_HIGH * L->line_fs;
                        word_break(L);
                } else {
                        if (gap > WORD_BREAK_LOW * L->fs && gap < WORD_BREAK_HIGH * L->fs)
                                return UNSURE;
                        if (gap >= WORD_BREAK_HIGH * L->fs) {
                                if (gap < SPACE_HIGH * L->line_fs)
                                        return UNSURE;
                                space = true;
                                word_break(L);
                        } else {
                                space = false;
                        }
                }
                if (space && (e = stage_put(L, ' ')) < 0)
                        return e;
                if (x + dx > L->lxmax)
                        L->lxmax = x + dx;
        }
        L->pending_space = false;
        L->font = f;
        L->fs = fs;
        L->end_x = x + dx;
        L->start_x = x;
        L->word_len += (unsigned)nu;
        for (size_t i = 0; i < nu; i++)
                if ((e = stage_put(L, u[i])) < 0)
                        return e;
        return 0;
}

/* ------------------------------------------------------------------ content */

struct mat {
        double a, b, c, d, e, f;
};

static struct mat mat_mul(struct mat m, struct mat n) /* m then n */
{
        return (struct mat){m.a * n.a + m.b * n.c,       m.a * n.b + m.b * n.d,
                            m.c * n.a + m.d * n.c,       m.c * n.b + m.d * n.d,
                            m.e * n.a + m.f * n.c + n.e, m.e * n.b + m.f * n.d + n.f};
}

struct gstate {
        struct mat ctm;
        struct font *font;
        double size, tc, tw, tl;
        bool have_font;
};

enum argt { A_NUM, A_NAME, A_STR, A_ARR, A_DICT, A_OTHER };

struct arg {
        enum argt t;
        double num;
        const unsigned char *p; /* names, strings (raw, with delimiters), arrays */
        size_t n;
};

struct interp {
        struct doc *d;
        struct layout L;
        struct obj *res;
        struct gstate gs[FAST_MAX_GSTACK];
        unsigned gsp;
        struct mat tm, tlm;
        bool in_text;
        struct arg args[FAST_MAX_ARGS];
        unsigned nargs;
};

/* Skips a string, array or dict in a content stream (raw), bounded. */
static int skip_raw(struct lex *x, unsigned depth)
{
        if (depth > FAST_MAX_DEPTH || x->p >= x->end)
                return UNSURE;
        unsigned char c = *x->p;
        size_t n;
        if (c == '(') {
                x->p++;
                return lex_literal(x, NULL, &n);
        }
        if (c == '<' && x->end - x->p >= 2 && x->p[1] != '<') {
                x->p++;
                return lex_hex(x, NULL, &n);
        }
        bool dict = c == '<';
        x->p += dict ? 2 : 1;
        for (;;) {
                skip_ws(x);
                if (x->p >= x->end)
                        return UNSURE;
                if (!dict && *x->p == ']') {
                        x->p++;
                        return 0;
                }
                if (dict && *x->p == '>') {
                        if (x->end - x->p < 2 || x->p[1] != '>')
                                return UNSURE;
                        x->p += 2;
                        return 0;
                }
                c = *x->p;
                if (c == '(' || c == '<' || c == '[') {
                        int e = skip_raw(x, depth + 1);
                        if (e < 0)
                                return e;
                } else if (c == '/') {
                        x->p++;
                        while (x->p < x->end && is_regular(*x->p))
                                x->p++;
                } else if (is_regular(c)) {
                        while (x->p < x->end && is_regular(*x->p))
                                x->p++;
                } else {
                        return UNSURE; /* ) } { > */
                }
        }
}

/* Shows the bytes of a string with the current font. */
static int show(struct interp *I, const unsigned char *s, size_t n)
{
        struct gstate *g = &I->gs[I->gsp];
        if (!g->have_font || !g->font)
                return UNSURE; /* poppler: "No font in show" */
        const struct font *f = g->font;
        size_t step = f->two_byte ? 2 : 1;
        if (n % step)
                return UNSURE;
        /* device space: the text matrix then the CTM, both without rotation or
         * skew (checked when set), so x and y scale and move independently */
        const struct mat *c = &g->ctm;
        double ax = I->tm.a * c->a, y = I->tm.f * c->d + c->f, fs = g->size * I->tm.d * c->d;
        for (size_t i = 0; i < n; i += step) {
                uint32_t code = step == 2 ? (uint32_t)s[i] << 8 | s[i + 1] : s[i];
                uint32_t at = f->map[code];
                if (!at || f->width[code] < 0)
                        return UNSURE; /* a code without text or width */
                /* the pen moves by the glyph's width plus the character and
                 * word spacing; poppler's glyph box is the width alone
                 * (TextPage::addChar subtracts the spacing), so spacing shows as a
                 * gap between glyphs, as it does to poppler */
                double w = f->width[code] / 1000.0 * g->size;
                double tx = w + g->tc + (step == 1 && code == 32 ? g->tw : 0);
                if (step == 2 && code == 32 && g->tw != 0)
                        return UNSURE; /* poppler subtracts a word space never added */
                double x = I->tm.e * c->a + c->e;
                int e = glyph(&I->L, f, x, y, w * ax, fs, &f->uni[at + 1], f->uni[at]);
                if (e < 0)
                        return e;
                I->tm.e += tx * I->tm.a;
        }
        return 0;
}

static int show_arg(struct interp *I, const struct arg *a)
{
        unsigned char small[1024], *b = small;
        if (a->n > sizeof(small) && !(b = malloc(a->n)))
                return -ENOMEM;
        struct lex x = {a->p + 1, a->p + a->n};
        size_t len = 0;
        int e = a->p[0] == '<' ? lex_hex(&x, b, &len) : lex_literal(&x, b, &len);
        if (!e)
                e = show(I, b, len);
        if (b != small)
                free(b);
        return e;
}

static int show_array(struct interp *I, const struct arg *a)
{
        struct gstate *g = &I->gs[I->gsp];
        struct lex x = {a->p + 1, a->p + a->n - 1};
        for (;;) {
                skip_ws(&x);
                if (x.p >= x.end)
                        return 0;
                unsigned char c = *x.p;
                if (c == '(' || c == '<') {
                        const unsigned char *s = x.p;
                        int e = skip_raw(&x, 1);
                        if (e < 0)
                                return e;
                        struct arg sa = {A_STR, 0, s, (size_t)(x.p - s)};
                        if ((e = show_arg(I, &sa)) < 0)
                                return e;
                } else {
                        double v;
                        bool is_int;
                        if (!lex_number(&x, &v, &is_int))
                                return UNSURE;
                        double tx = -v / 1000.0 * g->size;
                        I->tm.e += tx * I->tm.a;
                        I->tm.f += tx * I->tm.b;
                }
        }
}

static bool plain(struct mat m)
{
        return m.b == 0 && m.c == 0 && m.a > 0 && m.d > 0;
}

static int td(struct interp *I, double tx, double ty)
{
        struct mat t = {1, 0, 0, 1, tx, ty};
        I->tlm = mat_mul(t, I->tlm);
        I->tm = I->tlm;
        return 0;
}

/* Operators poppler knows, with their operand counts (Gfx.cc's table); -1:
 * variable. Operands are checked where the value matters. */
enum { OP_TEXT = 1, OP_HANDLED = 2 };

struct op {
        const char *name;
        int nargs;
        unsigned flags; /* OP_TEXT: only between BT and ET; OP_HANDLED: see exec_op */
};

static const struct op ops[] = {
    {"\"", 3, OP_TEXT | OP_HANDLED},
    {"'", 1, OP_TEXT | OP_HANDLED},
    {"B", 0, 0},
    {"B*", 0, 0},
    {"BDC", 2, OP_HANDLED},
    {"BI", 0, OP_HANDLED},
    {"BMC", 1, 0},
    {"BT", 0, OP_HANDLED},
    {"BX", 0, OP_HANDLED},
    {"CS", 1, 0},
    {"DP", 2, OP_HANDLED},
    {"Do", 1, OP_HANDLED},
    {"EI", 0, OP_HANDLED},
    {"EMC", 0, 0},
    {"ET", 0, OP_HANDLED},
    {"EX", 0, OP_HANDLED},
    {"F", 0, 0},
    {"G", 1, 0},
    {"ID", 0, OP_HANDLED},
    {"J", 1, 0},
    {"K", 4, 0},
    {"M", 1, 0},
    {"MP", 1, 0},
    {"Q", 0, OP_HANDLED},
    {"RG", 3, 0},
    {"S", 0, 0},
    {"SC", -1, 0},
    {"SCN", -1, 0},
    {"T*", 0, OP_TEXT | OP_HANDLED},
    {"TD", 2, OP_TEXT | OP_HANDLED},
    {"TJ", 1, OP_TEXT | OP_HANDLED},
    {"TL", 1, OP_HANDLED},
    {"Tc", 1, OP_HANDLED},
    {"Td", 2, OP_TEXT | OP_HANDLED},
    {"Tf", 2, OP_HANDLED},
    {"Tj", 1, OP_TEXT | OP_HANDLED},
    {"Tm", 6, OP_TEXT | OP_HANDLED},
    {"Tr", 1, OP_HANDLED},
    {"Ts", 1, OP_HANDLED},
    {"Tw", 1, OP_HANDLED},
    {"Tz", 1, OP_HANDLED},
    {"W", 0, 0},
    {"W*", 0, 0},
    {"b", 0, 0},
    {"b*", 0, 0},
    {"c", 6, 0},
    {"cm", 6, OP_HANDLED},
    {"cs", 1, 0},
    {"d", 2, 0},
    {"d0", 2, OP_HANDLED},
    {"d1", 6, OP_HANDLED},
    {"f", 0, 0},
    {"f*", 0, 0},
    {"g", 1, 0},
    {"gs", 1, OP_HANDLED},
    {"h", 0, 0},
    {"i", 1, 0},
    {"j", 1, 0},
    {"k", 4, 0},
    {"l", 2, 0},
    {"m", 2, 0},
    {"n", 0, 0},
    {"q", 0, OP_HANDLED},
    {"re", 4, 0},
    {"rg", 3, 0},
    {"ri", 1, 0},
    {"s", 0, 0},
    {"sc", -1, 0},
    {"scn", -1, 0},
    {"sh", 1, 0},
    {"v", 4, 0},
    {"w", 1, 0},
    {"y", 4, 0},
};

static const struct op *op_find(const unsigned char *p, size_t n)
{
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                if (ops[i].name[0] == p[0] && strncmp(ops[i].name, (const char *)p, n) == 0 &&
                    ops[i].name[n] == 0)
                        return &ops[i];
        return NULL;
}

static bool args_num(const struct interp *I, unsigned from, unsigned n)
{
        for (unsigned i = from; i < from + n; i++)
                if (I->args[i].t != A_NUM)
                        return false;
        return true;
}

static bool name_is(const struct arg *a, const char *s)
{
        return a->t == A_NAME && a->n == strlen(s) && memcmp(a->p, s, a->n) == 0;
}

/* A resource by name (a content-stream name, #xx escapes not supported). */
static int resource(struct interp *I, const char *cat, const struct arg *a, struct obj **ret)
{
        char name[128];
        if (a->t != A_NAME || a->n >= sizeof(name) || memchr(a->p, '#', a->n))
                return UNSURE;
        memcpy(name, a->p, a->n);
        name[a->n] = 0;
        struct obj *dict = NULL;
        int e = rget(I->d, I->res, cat, &dict);
        if (e < 0)
                return e;
        if (!dict || dict->t != T_DICT)
                return UNSURE;
        if ((e = resolve(I->d, dget(dict, name), ret)) < 0)
                return e;
        return *ret ? 0 : UNSURE;
}

static int exec_op(struct interp *I, const struct op *op)
{
        struct gstate *g = &I->gs[I->gsp];
        struct arg *A = I->args;
        const char *n = op->name;
        int e;
        if (op->nargs >= 0 && I->nargs != (unsigned)op->nargs)
                return UNSURE;
        if (!(op->flags & OP_HANDLED))
                return 0; /* painting, colour, paths, clipping: no text */
        if ((op->flags & OP_TEXT) && !I->in_text)
                return UNSURE; /* outside BT/ET: poppler's rules differ */
        if (n[0] == 'T' && (n[1] == 'j' || n[1] == 'J') && !n[2]) { /* the most common */
                if (A[0].t != (n[1] == 'j' ? A_STR : A_ARR))
                        return UNSURE;
                return n[1] == 'j' ? show_arg(I, &A[0]) : show_array(I, &A[0]);
        }
        if (!strcmp(n, "BT")) {
                if (I->in_text)
                        return UNSURE;
                I->in_text = true;
                I->tm = I->tlm = (struct mat){1, 0, 0, 1, 0, 0};
        } else if (!strcmp(n, "ET")) {
                if (!I->in_text)
                        return UNSURE;
                I->in_text = false;
        } else if (!strcmp(n, "q")) {
                if (I->gsp + 1 >= FAST_MAX_GSTACK)
                        return UNSURE;
                I->gs[I->gsp + 1] = *g;
                I->gsp++;
        } else if (!strcmp(n, "Q")) {
                if (I->gsp == 0)
                        return UNSURE;
                I->gsp--;
        } else if (!strcmp(n, "cm")) {
                if (!args_num(I, 0, 6))
                        return UNSURE;
                struct mat m = {A[0].num, A[1].num, A[2].num, A[3].num, A[4].num, A[5].num};
                g->ctm = mat_mul(m, g->ctm);
                if (!plain(g->ctm))
                        return UNSURE; /* rotated, skewed or mirrored */
        } else if (!strcmp(n, "Tf")) {
                if (A[0].t != A_NAME || A[1].t != A_NUM || A[1].num <= 0)
                        return UNSURE;
                char name[128];
                if (A[0].n >= sizeof(name) || memchr(A[0].p, '#', A[0].n))
                        return UNSURE;
                memcpy(name, A[0].p, A[0].n);
                name[A[0].n] = 0;
                if ((e = font_get(I->d, I->res, name, &g->font)) < 0)
                        return e;
                g->size = A[1].num;
                g->have_font = true;
        } else if (!strcmp(n, "Tc") || !strcmp(n, "Tw") || !strcmp(n, "TL") || !strcmp(n, "Tz") ||
                   !strcmp(n, "Ts") || !strcmp(n, "Tr")) {
                if (A[0].t != A_NUM)
                        return UNSURE;
                double v = A[0].num;
                if (n[1] == 'c')
                        g->tc = v;
                else if (n[1] == 'w')
                        g->tw = v;
                else if (n[1] == 'L')
                        g->tl = v;
                else if ((n[1] == 'z' && v != 100) || (n[1] != 'z' && v != 0))
                        return UNSURE; /* scaling, rise, rendering modes */
        } else if (!strcmp(n, "Td") || !strcmp(n, "TD")) {
                if (!args_num(I, 0, 2))
                        return UNSURE;
                if (n[1] == 'D')
                        g->tl = -A[1].num;
                td(I, A[0].num, A[1].num);
        } else if (!strcmp(n, "Tm")) {
                if (!args_num(I, 0, 6))
                        return UNSURE;
                I->tm = I->tlm =
                    (struct mat){A[0].num, A[1].num, A[2].num, A[3].num, A[4].num, A[5].num};
                if (!plain(I->tm))
                        return UNSURE;
        } else if (!strcmp(n, "T*")) {
                td(I, 0, -g->tl);
        } else if (!strcmp(n, "'")) {
                if (A[0].t != A_STR)
                        return UNSURE;
                td(I, 0, -g->tl);
                return show_arg(I, &A[0]);
        } else if (!strcmp(n, "\"")) {
                if (!args_num(I, 0, 2) || A[2].t != A_STR)
                        return UNSURE;
                g->tw = A[0].num;
                g->tc = A[1].num;
                td(I, 0, -g->tl);
                return show_arg(I, &A[2]);
        } else if (!strcmp(n, "Do")) {
                struct obj *xo;
                if ((e = resource(I, "XObject", &A[0], &xo)) < 0)
                        return e;
                if (xo->t != T_STREAM || !is_name(dget(xo, "Subtype"), "Image"))
                        return UNSURE; /* form XObjects hold text of their own */
        } else if (!strcmp(n, "gs")) {
                struct obj *gd;
                if ((e = resource(I, "ExtGState", &A[0], &gd)) < 0)
                        return e;
                if (gd->t != T_DICT || dget(gd, "Font"))
                        return UNSURE;
        } else if (!strcmp(n, "BDC") || !strcmp(n, "DP")) {
                /* optional content hides text from poppler; ActualText replaces
                 * it */
                if (name_is(&A[0], "OC") || A[1].t != A_DICT ||
                    memmem(A[1].p, A[1].n, "ActualText", 10) || memmem(A[1].p, A[1].n, "/OC", 3))
                        return UNSURE;
        } else if (!strcmp(n, "BI") || !strcmp(n, "ID") || !strcmp(n, "EI") || !strcmp(n, "d0") ||
                   !strcmp(n, "d1") || !strcmp(n, "BX") || !strcmp(n, "EX")) {
                return UNSURE; /* inline images, Type3 glyphs, compatibility sections */
        }
        /* everything else: painting, colour, paths, clipping: no text */
        return 0;
}

static int run_content(struct interp *I, const unsigned char *p, size_t n)
{
        struct lex x = {p, p + n};
        for (;;) {
                skip_ws(&x);
                if (x.p >= x.end)
                        break;
                unsigned char c = *x.p;
                if (I->nargs >= FAST_MAX_ARGS)
                        return UNSURE;
                struct arg *a = &I->args[I->nargs];
                if (c == '/') {
                        x.p++;
                        a->t = A_NAME;
                        a->p = x.p;
                        while (x.p < x.end && is_regular(*x.p))
                                x.p++;
                        a->n = (size_t)(x.p - a->p);
                        I->nargs++;
                } else if (c == '(' || c == '<' || c == '[') {
                        a->t = c == '['                                          ? A_ARR
                               : (c == '<' && x.end - x.p >= 2 && x.p[1] == '<') ? A_DICT
                                                                                 : A_STR;
                        a->p = x.p;
                        int e = skip_raw(&x, 0);
                        if (e < 0)
                                return e;
                        a->n = (size_t)(x.p - a->p);
                        I->nargs++;
                } else if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
                        bool is_int;
                        if (!lex_number(&x, &a->num, &is_int))
                                return UNSURE;
                        a->t = A_NUM;
                        I->nargs++;
                } else if (is_regular(c)) {
                        const unsigned char *s = x.p;
                        while (x.p < x.end && is_regular(*x.p))
                                x.p++;
                        size_t len = (size_t)(x.p - s);
                        if ((len == 4 && !memcmp(s, "true", 4)) ||
                            (len == 5 && !memcmp(s, "false", 5)) ||
                            (len == 4 && !memcmp(s, "null", 4))) {
                                a->t = A_OTHER;
                                I->nargs++;
                                continue;
                        }
                        const struct op *op = op_find(s, len);
                        if (!op)
                                return UNSURE; /* an operator poppler does not know */
                        int e = exec_op(I, op);
                        if (e < 0)
                                return e;
                        I->nargs = 0;
                        if (++I->d->ops % FAST_TIME_EVERY == 0 &&
                            (e = vg_layer_check_time(I->d->l)) < 0)
                                return e;
                } else {
                        return UNSURE; /* ) { } > */
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ pages */

struct inherit {
        struct obj *res, *mbox, *cbox, *rotate;
};

static bool read_box(struct obj *o, double b[4], double min)
{
        if (!o || o->t != T_ARR || o->u.a.n != 4)
                return false;
        for (int i = 0; i < 4; i++)
                if (!num_of(&o->u.a.v[i], &b[i]))
                        return false;
        double t;
        if (b[0] > b[2]) {
                t = b[0];
                b[0] = b[2];
                b[2] = t;
        }
        if (b[1] > b[3]) {
                t = b[1];
                b[1] = b[3];
                b[3] = t;
        }
        return b[2] - b[0] >= min && b[3] - b[1] >= min;
}

/* Annotations, after the page's text as poppler-glib gives them: only links,
 * whose text (/Contents, a footnote number in LibreOffice's PDFs) is read as
 * extract_pdf.c reads it; any other annotation (notes, markup, files, widgets):
 * poppler reads the file. */
static int read_annots(struct doc *d, struct obj *page)
{
        struct obj *annots = NULL;
        int e = rget(d, page, "Annots", &annots);
        if (e < 0 || !annots)
                return e;
        if (annots->t != T_ARR)
                return UNSURE;
        for (size_t i = 0; i < annots->u.a.n; i++) {
                struct obj *a = NULL, *rect = NULL, *contents = NULL;
                double box[4];
                if ((e = resolve(d, &annots->u.a.v[i], &a)) < 0)
                        return e;
                if (!a || a->t != T_DICT || !is_name(dget(a, "Subtype"), "Link") || dget(a, "T") ||
                    dget(a, "Subj") || dget(a, "RC") || dget(a, "Popup"))
                        return UNSURE;
                if ((e = rget(d, a, "Rect", &rect)) < 0 ||
                    (e = rget(d, a, "Contents", &contents)) < 0)
                        return e;
                if (!read_box(rect, box, 0))
                        return UNSURE; /* poppler drops an annotation without a Rect */
                if (contents && contents->t != T_STR)
                        return UNSURE;
                if (contents && (e = out_text_string(d, contents)) < 0)
                        return e;
        }
        return 0;
}

static int read_page(struct doc *d, struct obj *page, const struct inherit *in)
{
        int e;
        if ((e = vg_layer_check_time(d->l)) < 0)
                return e;
        if (++d->pages > FAST_MAX_PAGES)
                return UNSURE;
        if (dget(page, "UserUnit"))
                return UNSURE;
        struct obj *res = NULL, *rot = NULL, *mb = NULL, *cb = NULL, *contents = NULL;
        if ((e = resolve(d, in->res, &res)) < 0 || (e = resolve(d, in->rotate, &rot)) < 0 ||
            (e = resolve(d, in->mbox, &mb)) < 0 || (e = resolve(d, in->cbox, &cb)) < 0 ||
            (e = rget(d, page, "Contents", &contents)) < 0)
                return e;
        double r = 0;
        if (rot && (!num_of(rot, &r) || fmod(r, 360) != 0))
                return UNSURE;
        double box[4], crop[4];
        if (!read_box(mb, box, 10))
                return UNSURE;
        if (cb) {
                if (!read_box(cb, crop, 10))
                        return UNSURE;
                for (int i = 0; i < 4; i++)
                        if (fabs(crop[i] - box[i]) > 0.01)
                                return UNSURE;
        }
        if (res && res->t != T_DICT)
                return UNSURE;
        struct interp *I = calloc(1, sizeof(*I));
        if (!I)
                return -ENOMEM;
        I->d = d;
        I->res = res;
        I->gs[0].ctm = (struct mat){1, 0, 0, 1, 0, 0};
        I->L = (struct layout){.d = d, .x0 = box[0], .y0 = box[1], .x1 = box[2], .y1 = box[3]};
        size_t start = d->out.len;
        e = 0;
        if (contents) {
                struct obj *one = contents;
                size_t n = 1;
                if (contents->t == T_ARR) {
                        n = contents->u.a.n;
                        if (n > 4096)
                                e = UNSURE;
                }
                /* The streams of an array are one content stream: concatenated
                 * (an operator may not be split across them in practice; poppler
                 * allows it, so a split shows as unsure here). */
                for (size_t i = 0; i < n && !e; i++) {
                        struct obj *s = NULL;
                        if (contents->t == T_ARR && (e = resolve(d, &contents->u.a.v[i], &s)) < 0)
                                break;
                        if (contents->t != T_ARR)
                                s = one;
                        if (!s || s->t != T_STREAM) {
                                e = UNSURE;
                                break;
                        }
                        unsigned char *data;
                        size_t len;
                        if ((e = decode_stream(d, s, false, &data, &len)) < 0)
                                break;
                        e = run_content(I, data, len);
                        free(data);
                        if (!e && I->nargs)
                                e = UNSURE; /* operands left over at a stream's end */
                }
        }
        if (!e && I->in_text)
                e = UNSURE; /* BT without ET */
        if (!e)
                e = line_end(&I->L);
        if (!e)
                e = stage_flush(&I->L);
        free(I);
        if (e < 0 || (e = out_end_piece(d, start)) < 0)
                return e;
        return read_annots(d, page);
}

static int walk_pages(struct doc *d, struct obj *node, uint32_t num, struct inherit in,
                      unsigned depth, uint8_t *seen)
{
        if (depth > FAST_MAX_DEPTH || !node || node->t != T_DICT)
                return UNSURE;
        if (num) {
                if (num >= d->nx || seen[num])
                        return UNSURE; /* a cycle, or a page listed twice */
                seen[num] = 1;
        }
        struct obj *v;
        if ((v = dget(node, "Resources")))
                in.res = v;
        if ((v = dget(node, "MediaBox")))
                in.mbox = v;
        if ((v = dget(node, "CropBox")))
                in.cbox = v;
        if ((v = dget(node, "Rotate")))
                in.rotate = v;
        struct obj *type = NULL, *kids = NULL;
        int e;
        if ((e = rget(d, node, "Type", &type)) < 0)
                return e;
        if (is_name(type, "Page"))
                return read_page(d, node, &in);
        if (!is_name(type, "Pages"))
                return UNSURE;
        if ((e = rget(d, node, "Kids", &kids)) < 0)
                return e;
        if (!kids || kids->t != T_ARR)
                return UNSURE;
        for (size_t i = 0; i < kids->u.a.n; i++) {
                struct obj *k = &kids->u.a.v[i], *kid = NULL;
                if (k->t != T_REF)
                        return UNSURE;
                if ((e = resolve(d, k, &kid)) < 0 ||
                    (e = walk_pages(d, kid, k->u.ref.num, in, depth + 1, seen)) < 0)
                        return e;
        }
        return 0;
}

static int read_document(struct doc *d)
{
        int e;
        if (d->len < 16 || memcmp(d->buf, "%PDF-1.", 7) != 0)
                return UNSURE; /* PDF 2.0 and headers after junk: poppler */
        if ((e = read_xrefs(d)) < 0)
                return e;
        if (!d->trailer || dget(d->trailer, "Encrypt"))
                return UNSURE;
        struct obj *root = NULL, *pages = NULL, *v = NULL;
        if ((e = rget(d, d->trailer, "Root", &root)) < 0)
                return e;
        if (!root || root->t != T_DICT || !is_name(dget(root, "Type"), "Catalog"))
                return UNSURE;
        /* What poppler-glib reads besides the pages (embedded files) and what
         * changes what a page shows (forms, optional content): poppler's. */
        if (dget(root, "AcroForm") || dget(root, "OCProperties") || dget(root, "Collection"))
                return UNSURE;
        if ((e = rget(d, root, "Names", &v)) < 0)
                return e;
        if (v && (v->t != T_DICT || dget(v, "EmbeddedFiles")))
                return UNSURE;
        if ((e = read_info(d)) < 0)
                return e;
        if ((e = rget(d, root, "Pages", &pages)) < 0)
                return e;
        struct obj *pref = dget(root, "Pages");
        if (!pages || !pref || pref->t != T_REF)
                return UNSURE;
        double count;
        if (!num_of(dget(pages, "Count"), &count) || count < 0 || count > FAST_MAX_PAGES)
                return UNSURE;
        uint8_t *seen = calloc(d->nx, 1);
        if (!seen)
                return -ENOMEM;
        e = walk_pages(d, pages, pref->u.ref.num, (struct inherit){0}, 0, seen);
        free(seen);
        if (e < 0)
                return e;
        if ((double)d->pages != count)
                return UNSURE; /* poppler trusts /Count in ways we do not copy */
        return 0;
}

/* Charges what was decoded and pushes the text, unless the charge would trip a
 * limit the poppler path (which charges the text only) might not: then poppler
 * reads the file and the limits apply to it. */
static int commit(struct doc *d)
{
        struct vg_scan *s = d->l->scan;
        const struct vg_limits *lim = &s->engine->cfg.limits;
        uint64_t after = s->expanded + d->decoded + d->out.len;
        if (after > lim->max_expanded ||
            (s->input_size > 0 && after / s->input_size >= lim->max_ratio))
                return UNSURE;
#ifdef VG_PDF_FAST_DEBUG
        for (size_t i = 0; i < d->out.len; i++)
                fputc(d->out.data[i] ? d->out.data[i] : '|', stderr);
        fputc('\n', stderr);
#endif
        int e = vg_layer_charge(d->l, d->decoded);
        for (size_t at = 0; !e && at < d->out.len;) {
                const char *p = d->out.data + at;
                size_t n = strlen(p);
                e = vg_layer_charge(d->l, n);
                if (!e)
                        e = vg_layer_text(d->l, p, n);
                if (!e)
                        e = vg_layer_text_break(d->l);
                at += n + 1;
        }
        return e;
}

int vg_pdf_fast(struct vg_layer *l, const unsigned char *data, size_t len)
{
        struct objstm stm[OBJSTM_CACHE] = {0};
        struct doc d = {
            .l = l, .buf = data, .len = len, .decoded_max = FAST_MAX_DECODED, .stm = stm};
        vg_buf_init(&d.out, FAST_MAX_TEXT);
        /* stop decoding where the scan limits would stop the charge (commit) */
        const struct vg_scan *s = l->scan;
        const struct vg_limits *lim = &s->engine->cfg.limits;
        uint64_t room = lim->max_expanded > s->expanded ? lim->max_expanded - s->expanded : 0;
        if (s->input_size > 0 && lim->max_ratio > 0 &&
            s->input_size <= UINT64_MAX / lim->max_ratio) {
                uint64_t by_ratio = s->input_size * lim->max_ratio;
                by_ratio = by_ratio > s->expanded ? by_ratio - s->expanded : 0;
                if (by_ratio < room)
                        room = by_ratio;
        }
        if (room < d.decoded_max)
                d.decoded_max = room;
        int e = read_document(&d);
        if (!e)
                e = commit(&d);
        objstm_free(&d);
        free(d.x);
        arena_free(&d);
        vg_buf_free(&d.out);
        if (e == -EDOM)
                return 0;
        return e < 0 ? e : 1;
}

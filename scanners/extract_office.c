/* Office documents: Office Open XML (docx, xlsx, pptx and their macro-enabled
 * variants docm, xlsm, pptm) and OpenDocument (odt, ods, odp, odg...). Both are
 * zips of XML parts. The zip is read with libarchive (seekable: spooled to an
 * unlinked temporary file when it comes as a stream); the text parts are parsed
 * with expat as their bytes come out, so a large part is never held whole; every
 * other part (images, embedded workbooks, OLE objects, macros) is scanned as a
 * member of its own: `rapport.docx/word/embeddings/Feuille.xlsx`.
 *
 * The text of all parts belongs to the document itself (`where` is the
 * document's), in the order of the zip. Runs are joined, so an identifier typed
 * in two runs is one identifier; paragraphs, cells, rows, headers and footers
 * are separated by breaks, so two cells never form one identifier and a header
 * stays on a line of its own.
 *
 * XML with a DOCTYPE is refused (OPC and ODF forbid DTDs): no entity is ever
 * declared, so none is expanded (billion laughs) or fetched (XXE). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "extract_office.h"
#include "scan_internal.h"
#include "zip_map.h"

#define BLOCK (64 * 1024)
/* Deeper XML than this is not a document an office suite wrote; expat keeps a
 * frame per open element, so an endless nesting would otherwise eat memory. */
#define XML_DEPTH_MAX 1024
/* Expat holds a token (a tag with its attributes, a comment) whole until it
 * ends, and re-reads it on every feed. Past this many bytes without a single
 * event the part is refused instead of buffered (limit:memory). */
#define TOKEN_MAX (8u * 1024 * 1024)
/* A cell value or a header/footer is buffered to be rewritten (numbers, &-codes);
 * past this it is passed on as it is. Excel caps both far below. */
#define VALUE_MAX 4096
/* Spaces an ODF <text:s text:c="N"/> stands for, at most. */
#define SPACES_MAX 64

enum family {
        FAM_NONE,
        FAM_PROBE, /* a zip: its members say whether it is a document */
        FAM_OOXML,
        FAM_ODF,
};

static enum family family_of_type(const char *type)
{
        if (strncmp(type, "application/vnd.openxmlformats-officedocument.", 46) == 0)
                return FAM_OOXML;
        if (strncmp(type, "application/vnd.oasis.opendocument.", 35) == 0)
                return FAM_ODF;
        /* docm, xlsm, pptm, should a libmagic name them (5.44 calls them docx...
         * or application/zip, depending on the order of the members). */
        if (strncmp(type, "application/vnd.ms-", 19) == 0 && strcasestr(type, ".macroenabled"))
                return FAM_OOXML;
        /* libmagic names an OOXML file by its first members; LibreOffice and
         * many generators order them otherwise, and the file is "a zip". */
        if (strcmp(type, "application/zip") == 0)
                return FAM_PROBE;
        return FAM_NONE;
}

static bool accepts(const char *type)
{
        return family_of_type(type) != FAM_NONE;
}

/* ---- Numbers: cells as a person reads them ---- */

size_t vg_office_number(const char *s, size_t n, char *out, size_t outsz)
{
        while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                s++, n--;
        while (n > 0 &&
               (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        size_t i = 0;
        bool neg = false;
        if (i < n && (s[i] == '-' || s[i] == '+'))
                neg = s[i++] == '-';
        /* The significant digits, without the point, and where the point goes. */
        char dig[64];
        size_t nd = 0, seen = 0;
        long nint = 0; /* digits before the point; negative when zeros follow it */
        bool point = false;
        for (; i < n; i++) {
                if (s[i] >= '0' && s[i] <= '9') {
                        seen++;
                        if (nd == 0 && s[i] == '0') {
                                /* a leading zero moves the point, adds nothing */
                                if (point)
                                        nint--;
                                continue;
                        }
                        if (nd == sizeof(dig))
                                return 0;
                        dig[nd++] = s[i];
                        if (!point)
                                nint++;
                } else if (s[i] == '.' && !point) {
                        point = true;
                } else {
                        break;
                }
        }
        if (seen == 0)
                return 0;
        long exp = 0;
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                bool eneg = false;
                if (i < n && (s[i] == '-' || s[i] == '+'))
                        eneg = s[i++] == '-';
                size_t from = i;
                for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
                        exp = exp * 10 + (s[i] - '0');
                        if (exp > 64)
                                return 0; /* no cell holds that many digits */
                }
                if (i == from)
                        return 0;
                if (eneg)
                        exp = -exp;
        }
        if (i != n)
                return 0;
        long pos = nint + exp; /* where the point goes in dig */
        while (nd > 0 && dig[nd - 1] == '0' && (long)nd > pos)
                nd--; /* trailing zeros after the point */
        size_t o = 0;
#define PUT(c)                                                                                     \
        do {                                                                                       \
                if (o + 1 >= outsz)                                                                \
                        return 0;                                                                  \
                out[o++] = (c);                                                                    \
        } while (0)
        if (nd == 0) {
                PUT('0');
                out[o] = '\0';
                return o;
        }
        if (neg)
                PUT('-');
        if (pos <= 0) {
                PUT('0');
                PUT('.');
                for (long k = pos; k < 0; k++)
                        PUT('0');
                for (size_t k = 0; k < nd; k++)
                        PUT(dig[k]);
        } else {
                for (long k = 0; k < pos; k++)
                        PUT((size_t)k < nd ? dig[k] : '0');
                if ((size_t)pos < nd) {
                        PUT('.');
                        for (size_t k = (size_t)pos; k < nd; k++)
                                PUT(dig[k]);
                }
        }
#undef PUT
        out[o] = '\0';
        return o;
}

/* ---- XML parts ---- */

enum mode {
        M_OOXML, /* WordprocessingML, SpreadsheetML, PresentationML, DrawingML */
        M_ODF,   /* content.xml, styles.xml, meta.xml */
        M_ALL,   /* anything else: every text node and attribute value, a line each */
};

/* What an element does to the text, by local name (prefixes vary). */
enum {
        E_TEXT = 1 << 0,   /* its whitespace is text; inline children do not break */
        E_BREAK = 1 << 1,  /* a block: a break before and after, and not inline text */
        E_BR = 1 << 2,     /* a line break */
        E_SPACE = 1 << 3,  /* stands for a space (tab) */
        E_SPACES = 1 << 4, /* ODF text:s, c="N" spaces */
        E_HYPHEN = 1 << 5, /* non-breaking hyphen */
        E_SKIP = 1 << 6,   /* not text: base64 data, footnote numbers */
        E_VALUE = 1 << 7,  /* a SpreadsheetML or chart value: numbers in full */
        E_HF = 1 << 8,     /* a SpreadsheetML header or footer, with &-codes */
        E_CELL = 1 << 9,   /* a spreadsheet cell: its type says how its value reads */
        E_NAME = 1 << 10,  /* sheet or slide: its name attribute, on a line */
        E_ALT = 1 << 11,   /* a drawing: alternative text (descr, title attributes) */
};

struct elem {
        const char *name;
        unsigned flags;
};

static const struct elem ooxml_elems[] = {
    /* w:t, a:t (DrawingML: slides, charts, SmartArt, text boxes), sml t */
    {"t", E_TEXT},
    {"delText", E_TEXT}, /* tracked deletions are still in the file */
    {"instrText", E_TEXT},
    {"delInstrText", E_TEXT},
    {"p", E_BREAK},
    {"tbl", E_BREAK},
    {"tr", E_BREAK},
    {"tc", E_BREAK},
    {"txbxContent", E_BREAK},
    {"hdr", E_BREAK},
    {"ftr", E_BREAK},
    {"footnote", E_BREAK},
    {"endnote", E_BREAK},
    {"comment", E_BREAK},
    {"sp", E_BREAK},
    {"txBody", E_BREAK},
    {"pt", E_BREAK},
    {"si", E_BREAK}, /* shared string */
    {"is", E_BREAK}, /* inline string */
    {"row", E_BREAK},
    {"c", E_BREAK | E_CELL},
    {"br", E_BR},
    {"cr", E_BR},
    {"tab", E_SPACE},
    {"ptab", E_SPACE},
    {"noBreakHyphen", E_HYPHEN},
    {"v", E_VALUE},
    {"oddHeader", E_HF},
    {"oddFooter", E_HF},
    {"evenHeader", E_HF},
    {"evenFooter", E_HF},
    {"firstHeader", E_HF},
    {"firstFooter", E_HF},
    {"sheet", E_NAME},
    {"docPr", E_ALT},
    {"cNvPr", E_ALT},
    {"binData", E_SKIP},
    {"fldData", E_SKIP},
};

static const struct elem odf_elems[] = {
    {"p", E_TEXT | E_BREAK},
    {"h", E_TEXT | E_BREAK},
    {"table", E_BREAK | E_NAME},
    {"table-row", E_BREAK},
    {"table-cell", E_BREAK | E_CELL},
    {"covered-table-cell", E_BREAK | E_CELL},
    {"page", E_BREAK | E_NAME},
    {"frame", E_BREAK},
    {"note-body", E_BREAK},
    {"annotation", E_BREAK},
    {"header", E_BREAK},
    {"footer", E_BREAK},
    {"line-break", E_BR},
    {"tab", E_SPACE},
    {"s", E_SPACES},
    /* the footnote's number, shown inline: glued to a number before it, it
     * would change it */
    {"note-citation", E_SKIP},
    {"binary-data", E_SKIP},
};

static unsigned elem_flags(enum mode m, const char *local)
{
        const struct elem *t = m == M_OOXML ? ooxml_elems : m == M_ODF ? odf_elems : NULL;
        size_t n = m == M_OOXML ? sizeof(ooxml_elems) / sizeof(ooxml_elems[0])
                   : m == M_ODF ? sizeof(odf_elems) / sizeof(odf_elems[0])
                                : 0;
        /* the first byte first: a sheet has an element or two per cell, and a
         * strcmp with every row was 10 % of an xlsx's scan */
        for (size_t i = 0; i < n; i++)
                if (t[i].name[0] == local[0] && strcmp(t[i].name, local) == 0)
                        return t[i].flags;
        return 0;
}

/* How a SpreadsheetML cell's <v> reads (its t attribute). */
enum cell {
        CELL_NONE, /* not in a cell: a chart value */
        CELL_NUM,
        CELL_TEXT,  /* str (formula result), inlineStr, d (date), e (error) */
        CELL_INDEX, /* s: an index into the shared strings, b: a boolean */
};

struct frame {
        unsigned flags;
        bool in_text;  /* whitespace is text, inline elements do not break */
        bool skip;     /* not text, nor anything below */
        bool had_text; /* text outside a text element: a break after it */
        bool buffered; /* its text goes to xp.val (E_VALUE, E_HF) */
};

struct xp {
        struct vg_layer *l;
        XML_Parser p;
        enum mode mode;
        int err;            /* a negative errno from the text sink */
        enum vg_reason why; /* the part cannot be read */
        bool progress;      /* an event since the last feed */
        bool encrypted;     /* ODF manifest: <manifest:encryption-data> */
        enum cell cell;
        unsigned depth;
        struct vg_buf val;
        /* An ODF number cell: its value, written out at its end unless the cell
         * already shows exactly that (then it would count twice). */
        bool have_cellval;
        bool shown_over;
        size_t ncellval, nshown;
        char cellval[160];
        char shown[160];
        struct frame stack[XML_DEPTH_MAX];
};

static void stop(struct xp *x, int err, enum vg_reason why)
{
        if (!x->err && !x->why) {
                x->err = err;
                x->why = why;
        }
        XML_StopParser(x->p, XML_FALSE);
}

static void put(struct xp *x, const char *s, size_t n)
{
        if (x->err || x->why || n == 0)
                return;
        if (x->have_cellval) {
                if (n > sizeof(x->shown) - x->nshown) {
                        x->shown_over = true;
                } else {
                        memcpy(x->shown + x->nshown, s, n);
                        x->nshown += n;
                }
        }
        int e = vg_layer_text(x->l, s, n);
        if (e < 0)
                stop(x, e, VG_REASON_NONE);
}

static void put_break(struct xp *x)
{
        if (x->err || x->why)
                return;
        int e = vg_layer_text_break(x->l);
        if (e < 0)
                stop(x, e, VG_REASON_NONE);
}

/* Text with its tabs and line ends as spaces: in XML they are whitespace like a
 * space, and only the document's structure makes lines here. */
static void put_flat(struct xp *x, const char *s, size_t n)
{
        char tmp[1024];
        while (n > 0 && !x->err && !x->why) {
                size_t k = n < sizeof(tmp) ? n : sizeof(tmp);
                for (size_t i = 0; i < k; i++)
                        tmp[i] = (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') ? ' ' : s[i];
                put(x, tmp, k);
                s += k;
                n -= k;
        }
}

static void put_line(struct xp *x, const char *s)
{
        put_break(x);
        put_flat(x, s, strlen(s));
        put_break(x);
}

static const char *local_name(const char *name)
{
        const char *sep = strrchr(name, '\x01');
        return sep ? sep + 1 : name;
}

static const char *attr(const char **atts, const char *local)
{
        for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
                if (strcmp(local_name(atts[i]), local) == 0)
                        return atts[i + 1];
        return NULL;
}

static bool all_space(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                        return false;
        return true;
}

static void put_number_or_text(struct xp *x, const char *s, size_t n);

/* The end of an ODF cell with a value: the value, unless the cell showed it. */
static void put_cell_value(struct xp *x)
{
        if (!x->have_cellval)
                return;
        x->have_cellval = false;
        const char *s = x->shown;
        size_t n = x->nshown;
        while (n > 0 && *s == ' ')
                s++, n--;
        while (n > 0 && s[n - 1] == ' ')
                n--;
        if (x->shown_over || n != x->ncellval || memcmp(s, x->cellval, n) != 0)
                put_number_or_text(x, x->cellval, x->ncellval);
}

static void put_number_or_text(struct xp *x, const char *s, size_t n)
{
        char num[160];
        size_t k = vg_office_number(s, n, num, sizeof(num));
        put_break(x);
        if (k)
                put(x, num, k);
        else
                put_flat(x, s, n);
        put_break(x);
}

/* A SpreadsheetML header or footer: "&L", "&C", "&R" start a section (a line of
 * its own), "&&" is '&', the other codes (page number, fonts, sizes, colours)
 * are dropped. */
static void put_header_footer(struct xp *x, const char *s, size_t n)
{
        size_t run = 0, i = 0;
        put_break(x);
        while (i < n) {
                if (s[i] != '&') {
                        i++;
                        continue;
                }
                put_flat(x, s + run, i - run);
                i++;
                if (i >= n) {
                        run = i;
                        break;
                }
                char c = s[i++];
                if (c == '&') {
                        put(x, "&", 1);
                } else if (c == 'L' || c == 'C' || c == 'R') {
                        put_break(x);
                } else if (c == '"') {
                        while (i < n && s[i] != '"')
                                i++;
                        i += i < n;
                } else if (c >= '0' && c <= '9') {
                        while (i < n && s[i] >= '0' && s[i] <= '9')
                                i++;
                } else if (c == 'K') {
                        i = n - i < 6 ? n : i + 6;
                }
                run = i;
        }
        put_flat(x, s + run, n - run);
        put_break(x);
}

static void put_spaces(struct xp *x, const char *count)
{
        unsigned long k = 1;
        if (count) {
                char *end;
                errno = 0;
                k = strtoul(count, &end, 10);
                if (errno || *end || k == 0)
                        k = 1;
                if (k > SPACES_MAX)
                        k = SPACES_MAX;
        }
        static const char sp[SPACES_MAX] = "                                "
                                           "                                ";
        put(x, sp, k);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
        struct xp *x = ud;
        x->progress = true;
        if (x->err || x->why)
                return;
        if (x->depth >= XML_DEPTH_MAX) {
                stop(x, 0, VG_REASON_LIMIT_DEPTH);
                return;
        }
        const struct frame *parent = x->depth ? &x->stack[x->depth - 1] : NULL;
        const char *ln = local_name(name);
        struct frame *f = &x->stack[x->depth++];
        unsigned fl = elem_flags(x->mode, ln);
        *f = (struct frame){
            .flags = fl,
            .in_text = parent && parent->in_text,
            .skip = parent && parent->skip,
        };
        if (strcmp(ln, "encryption-data") == 0)
                x->encrypted = true;
        if (f->skip || (fl & E_SKIP)) {
                f->skip = true;
                return;
        }
        if (fl & E_BREAK) {
                put_break(x);
                f->in_text = false;
        }
        if (fl & E_TEXT)
                f->in_text = true;
        if (fl & E_BR)
                put_break(x);
        if (fl & E_SPACE)
                put(x, " ", 1);
        if (fl & E_SPACES)
                put_spaces(x, attr(atts, "c"));
        if (fl & E_HYPHEN)
                put(x, "-", 1);
        if ((fl & E_CELL) && x->mode == M_OOXML) {
                const char *t = attr(atts, "t");
                x->cell = !t || strcmp(t, "n") == 0                    ? CELL_NUM
                          : strcmp(t, "s") == 0 || strcmp(t, "b") == 0 ? CELL_INDEX
                                                                       : CELL_TEXT;
        }
        if ((fl & E_CELL) && x->mode == M_ODF) {
                /* The cell shows its value formatted ("1,85E+14"); the value
                 * itself is in an attribute. */
                const char *t = attr(atts, "value-type");
                const char *v = attr(atts, "value");
                put_cell_value(x); /* a cell in a cell: the outer one's first */
                if (t && v &&
                    (strcmp(t, "float") == 0 || strcmp(t, "percentage") == 0 ||
                     strcmp(t, "currency") == 0)) {
                        size_t k = vg_office_number(v, strlen(v), x->cellval, sizeof(x->cellval));
                        if (!k) {
                                k = strnlen(v, sizeof(x->cellval) - 1);
                                memcpy(x->cellval, v, k);
                        }
                        x->ncellval = k;
                        x->nshown = 0;
                        x->shown_over = false;
                        x->have_cellval = true;
                }
        }
        if (fl & (E_VALUE | E_HF)) {
                if ((fl & E_VALUE) && x->cell == CELL_INDEX) {
                        f->skip = true;
                        return;
                }
                f->buffered = true;
                vg_buf_reset(&x->val);
        }
        if (fl & E_NAME) {
                const char *v = attr(atts, "name");
                if (v)
                        put_line(x, v);
        }
        if (fl & E_ALT) {
                const char *v = attr(atts, "descr");
                if (v && *v)
                        put_line(x, v);
                if ((v = attr(atts, "title")) && *v)
                        put_line(x, v);
        }
        if (x->mode == M_ALL)
                for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
                        if (*atts[i + 1])
                                put_line(x, atts[i + 1]);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
        struct xp *x = ud;
        (void)name;
        x->progress = true;
        if (x->depth == 0)
                return;
        struct frame *f = &x->stack[--x->depth];
        if (f->skip || x->err || x->why)
                return;
        if (f->buffered) {
                if (f->flags & E_HF)
                        put_header_footer(x, x->val.data ? x->val.data : "", x->val.len);
                else if (x->cell == CELL_TEXT)
                        put_line(x, x->val.data ? x->val.data : "");
                else
                        put_number_or_text(x, x->val.data ? x->val.data : "", x->val.len);
                vg_buf_reset(&x->val);
        }
        if ((f->flags & E_BREAK) || f->had_text)
                put_break(x);
        if ((f->flags & E_CELL) && x->mode == M_OOXML)
                x->cell = CELL_NONE;
        if ((f->flags & E_CELL) && x->mode == M_ODF)
                put_cell_value(x);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
        struct xp *x = ud;
        x->progress = true;
        if (x->err || x->why || x->depth == 0 || len <= 0)
                return;
        struct frame *f = &x->stack[x->depth - 1];
        size_t n = (size_t)len;
        if (f->skip)
                return;
        if (f->buffered) {
                int e = vg_buf_append(&x->val, s, n);
                if (e == -ENOBUFS) {
                        /* Too long to be a number or a header: text as it is. */
                        f->buffered = false;
                        f->had_text = !f->in_text;
                        put_flat(x, x->val.data, x->val.len);
                        put_flat(x, s, n);
                        vg_buf_reset(&x->val);
                } else if (e < 0) {
                        stop(x, e, VG_REASON_NONE);
                }
                return;
        }
        if (!f->in_text) {
                /* Outside text elements, whitespace is layout, until the element
                 * turns out to hold text of its own. */
                if (!f->had_text && all_space(s, n))
                        return;
                f->had_text = true;
        }
        put_flat(x, s, n);
}

/* OPC (ECMA-376 part 2) and ODF forbid DTDs: a DOCTYPE is refused before any
 * entity can be declared, so none is ever expanded or fetched. The handlers
 * below it are a second lock. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
        (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
        stop(ud, 0, VG_REASON_CORRUPT);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_length, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
        (void)name, (void)is_param, (void)value, (void)value_length, (void)base, (void)sysid;
        (void)pubid, (void)notation;
        stop(ud, 0, VG_REASON_CORRUPT);
}

static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base,
                                      const XML_Char *sysid, const XML_Char *pubid)
{
        (void)p, (void)context, (void)base, (void)sysid, (void)pubid;
        return XML_STATUS_ERROR;
}

/* ---- The zip ---- */

struct source {
        int fd;
        off_t pos;
        off_t size;
        int err;
        char buf[BLOCK];
};

static la_ssize_t src_read(struct archive *a, void *ctx, const void **out)
{
        (void)a;
        struct source *s = ctx;
        ssize_t r;
        do
                r = pread(s->fd, s->buf, BLOCK, s->pos);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
                s->err = -errno;
                return -1;
        }
        s->pos += r;
        *out = s->buf;
        return r;
}

static la_int64_t src_seek(struct archive *a, void *ctx, la_int64_t off, int whence)
{
        (void)a;
        struct source *s = ctx;
        off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;
        off_t np = base + off;
        if (np < 0)
                return ARCHIVE_FATAL;
        s->pos = np;
        return np;
}

static struct archive *zip_open(struct source *src)
{
        struct archive *a = archive_read_new();
        if (!a)
                return NULL;
        archive_read_support_format_zip_seekable(a);
        archive_read_set_read_callback(a, src_read);
        archive_read_set_seek_callback(a, src_seek);
        archive_read_set_callback_data(a, src);
        if (archive_read_open1(a) != ARCHIVE_OK) {
                archive_read_free(a);
                return NULL;
        }
        return a;
}

/* Why libarchive gave up (as extract_archive.c says it). */
static int classify(struct archive *a)
{
        const char *msg = archive_error_string(a);
        if (archive_read_has_encrypted_entries(a) > 0 ||
            (msg && (strstr(msg, "ncrypt") || strstr(msg, "assphrase"))))
                return -ENOKEY;
        return -EBADMSG;
}

static enum family family_of_member(const char *name, size_t n)
{
        static const char ct[] = "[Content_Types].xml", mf[] = "META-INF/manifest.xml";
        if (n == sizeof(ct) - 1 && strncasecmp(name, ct, n) == 0)
                return FAM_OOXML;
        if (n == sizeof(mf) - 1 && memcmp(name, mf, n) == 0)
                return FAM_ODF;
        return FAM_NONE;
}

static uint32_t le16(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
        return le16(p) | le16(p + 2) << 16;
}

/* Walks the local headers in the head. FAM_NONE when every local header was
 * seen (the central directory follows) and none names an office part,
 * FAM_PROBE when the head does not tell. */
static enum family probe_head(const struct vg_input *in)
{
        static const char odf[] = "application/vnd.oasis.opendocument.";
        const unsigned char *h = in->head;
        size_t n = in->head_len, off = 0;
        while (off + 30 <= n && memcmp(h + off, "PK\3\4", 4) == 0) {
                uint32_t flags = le16(h + off + 6), csize = le32(h + off + 18);
                size_t nlen = le16(h + off + 26), xlen = le16(h + off + 28);
                if (nlen > n - off - 30)
                        return FAM_PROBE;
                const char *name = (const char *)h + off + 30;
                enum family f = family_of_member(name, nlen);
                if (f != FAM_NONE)
                        return f;
                size_t data = off + 30 + nlen + xlen;
                if (nlen == 8 && memcmp(name, "mimetype", 8) == 0 && data <= n &&
                    n - data >= sizeof(odf) - 1 && memcmp(h + data, odf, sizeof(odf) - 1) == 0)
                        return FAM_ODF;
                if (flags & 8)
                        return FAM_PROBE; /* sizes in a data descriptor: cannot walk on */
                off = data + csize;
        }
        if (off + 4 <= n && memcmp(h + off, "PK\1\2", 4) == 0)
                return FAM_NONE;
        return FAM_PROBE;
}

/* The members by the central directory, when the head did not tell. */
static enum family probe_members(struct source *src)
{
        struct archive *a = zip_open(src);
        enum family f = FAM_NONE;
        if (!a)
                return FAM_NONE; /* the archive extractor says why */
        struct archive_entry *ent;
        while (f == FAM_NONE && archive_read_next_header(a, &ent) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(ent);
                if (name)
                        f = family_of_member(name, strlen(name));
        }
        archive_read_free(a);
        return f;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* How a part is read: as XML in some mode, or (-1) as a member of its own. */
static int part_mode(enum family fam, const char *name)
{
        if (!ends_with(name, ".xml") && !ends_with(name, ".rels") && !ends_with(name, ".rdf"))
                return -1;
        if (fam == FAM_ODF) {
                /* content, styles (master pages: headers, footers) and meta of the
                 * document and of embedded objects ("Object 1/content.xml") */
                const char *base = strrchr(name, '/');
                base = base ? base + 1 : name;
                if (strcmp(base, "content.xml") == 0 || strcmp(base, "styles.xml") == 0 ||
                    strcmp(base, "meta.xml") == 0)
                        return M_ODF;
                return M_ALL;
        }
        /* Package parts (relationships: hyperlink targets; properties: title,
         * subject, keywords; custom XML: data bound to the document) have no
         * text elements: everything in them is read. */
        if (strncasecmp(name, "_rels/", 6) == 0 || strstr(name, "/_rels/") ||
            ends_with(name, ".rels") || strncasecmp(name, "docProps/", 9) == 0 ||
            strncasecmp(name, "customXml/", 10) == 0 ||
            strcasecmp(name, "[Content_Types].xml") == 0)
                return M_ALL;
        return M_OOXML;
}

struct package {
        struct vg_layer *l;
        struct archive *a;
        enum family fam;
        enum vg_reason why; /* first part that could not be read */
        bool encrypted;     /* ODF manifest */
        struct xp *x;
};

/* Parses one XML part as its bytes come out of the zip. Returns 0 (the part's
 * problems are in pk->why) or a negative errno that ends the document. */
static int parse_part(struct package *pk, enum mode mode)
{
        struct xp *x = pk->x;
        XML_Parser p = XML_ParserCreateNS(NULL, '\x01');
        if (!p)
                return -ENOMEM;
        x->l = pk->l;
        x->p = p;
        x->mode = mode;
        x->err = 0;
        x->why = VG_REASON_NONE;
        x->cell = CELL_NONE;
        x->depth = 0;
        x->have_cellval = false;
        vg_buf_reset(&x->val);
        XML_SetUserData(p, x);
        XML_SetElementHandler(p, on_start, on_end);
        XML_SetCharacterDataHandler(p, on_text);
        XML_SetStartDoctypeDeclHandler(p, on_doctype);
        XML_SetEntityDeclHandler(p, on_entity_decl);
        XML_SetExternalEntityRefHandler(p, on_external_entity);
        XML_SetParamEntityParsing(p, XML_PARAM_ENTITY_PARSING_NEVER);
        int e = vg_layer_text_break(pk->l);
        uint64_t quiet = 0; /* bytes fed since the last event */
        while (e == 0 && !x->err && !x->why) {
                void *buf = XML_GetBuffer(p, BLOCK);
                if (!buf) {
                        e = -ENOMEM;
                        break;
                }
                la_ssize_t r = archive_read_data(pk->a, buf, BLOCK);
                if (r < 0) {
                        e = vg_layer_aborted(pk->l) ? -ECANCELED : classify(pk->a);
                        break;
                }
                if ((e = vg_layer_charge(pk->l, (uint64_t)r)) < 0)
                        break;
                x->progress = false;
                if (XML_ParseBuffer(p, (int)r, r == 0) != XML_STATUS_OK) {
                        if (!x->err && !x->why)
                                x->why = XML_GetErrorCode(p) == XML_ERROR_NO_MEMORY
                                             ? VG_REASON_LIMIT_MEMORY
                                             : VG_REASON_CORRUPT;
                        break;
                }
                if (r == 0)
                        break;
                quiet = x->progress ? 0 : quiet + (uint64_t)r;
                if (quiet > TOKEN_MAX)
                        x->why = VG_REASON_LIMIT_MEMORY;
        }
        if (e == 0 && x->err)
                e = x->err;
        if (e == -EBADMSG || e == -ENOKEY) {
                /* the part's compressed data is damaged or encrypted */
                x->why = e == -ENOKEY ? VG_REASON_ENCRYPTED : VG_REASON_CORRUPT;
                e = 0;
        }
        if (x->encrypted)
                pk->encrypted = true;
        if (x->why && !pk->why)
                pk->why = x->why;
        if (e == 0)
                e = vg_layer_text_break(pk->l);
        XML_ParserFree(p);
        x->p = NULL;
        return e;
}

struct member {
        struct archive *a;
        struct vg_layer *l;
};

static ssize_t member_read(void *ctx, void *buf, size_t n)
{
        struct member *m = ctx;
        la_ssize_t r = archive_read_data(m->a, buf, n);
        if (r < 0)
                return vg_layer_aborted(m->l) ? -ECANCELED : classify(m->a);
        int e = vg_layer_charge(m->l, (uint64_t)r);
        return e < 0 ? e : r;
}

static int read_package(struct vg_layer *l, struct source *src, enum family fam)
{
        struct package pk = {.l = l, .fam = fam};
        struct vg_input *min = malloc(sizeof(*min));
        pk.x = calloc(1, sizeof(*pk.x));
        int e = 0;
        if (!min || !pk.x) {
                e = -ENOMEM;
                goto out;
        }
        vg_buf_init(&pk.x->val, VALUE_MAX);
        src->pos = 0;
        if (!(pk.a = zip_open(src))) {
                e = src->err ? src->err : -EBADMSG;
                goto out;
        }
        for (;;) {
                struct archive_entry *ent;
                int r = archive_read_next_header(pk.a, &ent);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        e = src->err ? src->err : vg_layer_aborted(l) ? -ECANCELED : classify(pk.a);
                        break;
                }
                if ((e = vg_layer_count_member(l)) < 0)
                        break;
                if (archive_entry_filetype(ent) != AE_IFREG)
                        continue;
                const char *name = archive_entry_pathname_utf8(ent);
                if (!name)
                        name = archive_entry_pathname(ent);
                if (!name || !*name)
                        name = "?";
                if (archive_entry_is_data_encrypted(ent) > 0) {
                        if ((e = vg_layer_child_unscannable(l, name, VG_REASON_ENCRYPTED)) < 0)
                                break;
                        continue;
                }
                int mode = part_mode(fam, name);
                if (mode >= 0) {
                        if ((e = parse_part(&pk, (enum mode)mode)) < 0)
                                break;
                } else {
                        struct member m = {.a = pk.a, .l = l};
                        vg_input_init_stream(min, member_read, &m);
                        if ((e = vg_layer_child(l, name, min)) < 0)
                                break;
                }
        }
        if (e == -EBADMSG || e == -ENOKEY)
                goto out; /* the zip itself: the engine says corrupt or encrypted */
        /* An encrypted OpenDocument keeps its parts in the clear zip, but their
         * bytes are ciphertext: the manifest says so, usually as the last part. */
        if (pk.encrypted && fam == FAM_ODF)
                vg_layer_fail(l, VG_REASON_ENCRYPTED);
        else if (pk.why)
                vg_layer_fail(l, pk.why);
out:
        if (pk.a)
                archive_read_free(pk.a);
        if (pk.x)
                vg_buf_free(&pk.x->val);
        free(pk.x);
        free(min);
        return e;
}

/* Whether the zip reads the same by its directory and by its local headers
 * (zip_map.c), with nothing before its first member. */
static int zip_is_plain(const struct vg_layer *l, int fd, bool *plain)
{
        const struct vg_scan *s = l->scan;
        uint64_t max = s->engine->cfg.limits.max_members;
        struct vg_zip_map map;
        int e = vg_zip_map_read(fd, s->members >= max ? 0 : max - s->members, &map);
        if (e < 0)
                return e;
        *plain = map.verdict == VG_ZIP_OK && map.nhidden == 0 && map.prefix == 0;
        vg_zip_map_free(&map);
        return 0;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        enum family fam = family_of_type(l->type);
        if (fam == FAM_PROBE) {
                fam = probe_head(in);
                if (fam == FAM_NONE)
                        return vg_extract_archive.run(l, in); /* a plain zip */
        }
        struct source *src = calloc(1, sizeof(*src));
        struct vg_input *fin = NULL;
        bool own_fd = false, plain = false;
        int e;
        if (!src)
                return -ENOMEM;
        /* Streamed members are spooled; their bytes were charged on their way
         * out of the parent. */
        if ((e = vg_input_as_fd(in, vg_layer_tmpdir(l), &src->fd, &own_fd)) < 0)
                goto out;
        if ((src->size = lseek(src->fd, 0, SEEK_END)) < 0) {
                e = -errno;
                goto out;
        }
        /* A zip whose directory and local headers disagree (hidden members, bytes
         * before the first one, overlaps) is not read as a document: the archive
         * extractor reads all of it, or holds it as ambiguous. */
        if ((e = zip_is_plain(l, src->fd, &plain)) < 0)
                goto out;
        if (fam == FAM_PROBE && plain)
                fam = probe_members(src);
        if (fam != FAM_NONE && plain) {
                e = read_package(l, src, fam);
                goto out;
        }
        /* Not a document, or not a plain zip: the archive extractor reads it,
         * from the spooled copy when it came as a stream, as if given it first. */
        if (!(fin = malloc(sizeof(*fin)))) {
                e = -ENOMEM;
                goto out;
        }
        vg_input_init_fd(fin, src->fd);
        if ((e = vg_input_fill_head(fin)) == 0)
                e = vg_extract_archive.run(l, fin);
out:
        if (own_fd)
                close(src->fd);
        free(src);
        free(fin);
        return e;
}

const struct vg_extractor vg_extract_office = {
    .name = "office",
    .accepts = accepts,
    .run = run,
};

/* Markup that is text once its markup is gone: RTF and HTML. Both are read as a
 * stream, byte by byte through a small state machine, so nothing is held whole;
 * the text comes out in the document's charset converted to UTF-8.
 *
 * RTF: control words dropped, \'hh in the document's code page (\ansicpg, else
 * Windows-1252) and \uN decoded, the groups that are not text (font, colour and
 * style tables, pictures, embedded object data, document properties but the
 * title, subject, keywords and comments) skipped, \* destinations skipped unless
 * known to be text, \binN data skipped by its length; \par, \line, \cell, \row
 * as breaks; headers, footers, footnotes and comments on lines of their own.
 *
 * HTML: tags dropped, script and style content dropped, comments read as text
 * on lines of their own (they leave with the file),
 * entities decoded (the HTML 4 names and every numeric reference), whitespace
 * collapsed as a browser does, block elements as breaks; the text of some
 * attributes (alt, title, value, placeholder, content, href, label) on lines of
 * their own. The charset comes from a byte-order mark, else <meta charset> (or
 * http-equiv content), else from the bytes (UTF-8 when valid, else
 * Windows-1252). */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "scan_internal.h"

#define READ_BUF (64 * 1024)
#define RUN_MAX  4096

/* ---- Charset conversion of raw text runs ---- */

/* Charsets that charset.c knows go through its decoders; others (RTF code pages
 * such as 1250 or 932, HTML labels such as koi8-r) through iconv. */
struct conv {
        struct vg_layer *l;
        bool use_iconv;
        struct vg_decoder dec;
        iconv_t cd;
        char pend[8]; /* an incomplete multibyte sequence, for the next run */
        size_t npend;
        char run[RUN_MAX];
        size_t nrun;
};

static void conv_init(struct conv *c, struct vg_layer *l, enum vg_charset cs)
{
        c->l = l;
        c->use_iconv = false;
        c->cd = (iconv_t)-1;
        c->npend = c->nrun = 0;
        vg_decoder_init(&c->dec, cs);
}

/* Switches to an iconv charset; false (and nothing changed) when iconv does
 * not know it. */
static bool conv_set_iconv(struct conv *c, const char *name)
{
        iconv_t cd = iconv_open("UTF-8", name);
        if (cd == (iconv_t)-1)
                return false;
        if (c->cd != (iconv_t)-1)
                iconv_close(c->cd);
        c->cd = cd;
        c->use_iconv = true;
        c->npend = 0;
        return true;
}

static void conv_set_decoder(struct conv *c, enum vg_charset cs)
{
        if (c->cd != (iconv_t)-1)
                iconv_close(c->cd);
        c->cd = (iconv_t)-1;
        c->use_iconv = false;
        vg_decoder_init(&c->dec, cs);
}

static void conv_free(struct conv *c)
{
        if (c->cd != (iconv_t)-1)
                iconv_close(c->cd);
        c->cd = (iconv_t)-1;
}

static const char replacement[] = "\xef\xbf\xbd";

static int iconv_run(struct conv *c, const char *s, size_t n, bool final)
{
        char in[sizeof(c->pend) + RUN_MAX];
        char out[4 * RUN_MAX];
        memcpy(in, c->pend, c->npend);
        memcpy(in + c->npend, s, n);
        char *ip = in;
        size_t left = c->npend + n;
        c->npend = 0;
        int e = 0;
        while (left > 0 && e == 0) {
                char *op = out;
                size_t oleft = sizeof(out);
                size_t r = iconv(c->cd, &ip, &left, &op, &oleft);
                int err = r == (size_t)-1 ? errno : 0;
                if (op > out)
                        e = vg_layer_text(c->l, out, (size_t)(op - out));
                if (e < 0 || !err)
                        break;
                if (err == E2BIG)
                        continue;
                if (err == EINVAL && !final && left < sizeof(c->pend)) {
                        memcpy(c->pend, ip, left); /* cut by the end of the run */
                        c->npend = left;
                        break;
                }
                /* an invalid byte: U+FFFD, and on with the next one */
                e = vg_layer_text(c->l, replacement, 3);
                ip++;
                left--;
        }
        if (final)
                (void)iconv(c->cd, NULL, NULL, NULL, NULL);
        return e;
}

static int conv_flush(struct conv *c)
{
        if (c->nrun == 0)
                return 0;
        size_t n = c->nrun;
        c->nrun = 0;
        if (c->use_iconv)
                return iconv_run(c, c->run, n, false);
        return vg_decoder_push(&c->dec, c->l->text, (const unsigned char *)c->run, n);
}

static int conv_byte(struct conv *c, char b)
{
        c->run[c->nrun++] = b;
        return c->nrun == RUN_MAX ? conv_flush(c) : 0;
}

static int conv_end(struct conv *c)
{
        int e = conv_flush(c);
        if (e == 0 && c->use_iconv && c->npend)
                e = iconv_run(c, "", 0, true);
        if (e == 0 && !c->use_iconv)
                e = vg_decoder_end(&c->dec, c->l->text);
        return e;
}

/* UTF-8 text (decoded entities, \uN): after the pending run, in order. */
static int conv_utf8(struct conv *c, const char *s, size_t n)
{
        int e = conv_flush(c);
        return e < 0 ? e : vg_layer_text(c->l, s, n);
}

static size_t utf8_put(uint32_t cp, char *o)
{
        if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                cp = 0xfffd;
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

static int conv_cp(struct conv *c, uint32_t cp)
{
        char o[4];
        return conv_utf8(c, o, utf8_put(cp, o));
}

static int conv_break(struct conv *c)
{
        int e = conv_flush(c);
        return e < 0 ? e : vg_layer_text_break(c->l);
}

/* ---- RTF ---- */

#define RTF_DEPTH_MAX 256
#define RTF_WORD_MAX  32

enum rtf_state {
        R_TEXT,
        R_SLASH, /* after a backslash */
        R_WORD,  /* a control word's letters */
        R_PARAM, /* its numeric parameter */
        R_HEX1,  /* \'h */
        R_HEX2,  /* \'hh */
        R_BIN,   /* \binN data */
};

struct rtf_group {
        bool skip;    /* not text */
        bool line;    /* a line of its own: a break when it ends */
        bool is_info; /* \info: skipped but for some of its sub-groups */
        bool in_info; /* a sub-group of \info */
        uint8_t uc;   /* fallback characters after \uN (\ucN) */
};

struct rtf {
        struct conv c;
        enum rtf_state st;
        char word[RTF_WORD_MAX + 1];
        size_t nword;
        long param;
        bool has_param, neg;
        unsigned ndigits;
        unsigned hex;
        uint64_t bin_left;
        bool group_start; /* the next control word opens a destination */
        bool star;        /* \* before it: unknown destinations are skipped */
        bool cp_set;      /* \ansicpg seen */
        unsigned uc_skip; /* fallback characters still to skip */
        unsigned hi_surrogate;
        unsigned depth; /* groups open; those past RTF_DEPTH_MAX share the last */
        struct rtf_group g[RTF_DEPTH_MAX];
};

static struct rtf_group *rtf_top(struct rtf *r)
{
        unsigned d = r->depth < RTF_DEPTH_MAX ? r->depth : RTF_DEPTH_MAX - 1;
        return &r->g[d];
}

/* Destinations that are not text: skipped with everything in them. */
static const char *const rtf_skip[] = {
    "fonttbl",
    "colortbl",
    "stylesheet",
    "listtable",
    "listoverridetable",
    "revtbl",
    "rsidtbl",
    "generator",
    "pict",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "xmlnstbl",
    "filetbl",
    "objdata",
    "objclass",
    "blipuid",
    "bkmkstart",
    "bkmkend",
    "pgdsctbl",
    "mmathPr",
    "wgrffmtfilter",
    "passwordhash",
    "protusertbl",
    "shppict",
    "nonshppict",
    "sp",
    "shprslt",
    "atnid",
    "atnauthor",
    "atndate",
    "atnref",
    "listtext",
    "pntext",
    "pntxta",
    "pntxtb",
    "fontemb",
    "fontfile",
    "falt",
    "panose",
    "template",
    "userprops",
    "xmlattrname",
    "xmlattrvalue",
    "tcn",
    "defchp",
    "defpap",
    "ftnsep",
    "ftnsepc",
    "aftnsep",
    "aftnsepc",
    "ftncn",
    "aftncn",
};

/* Destinations whose text stands on lines of its own. */
static const char *const rtf_lines[] = {
    "header",   "headerl",    "headerr", "headerf", "footer",   "footerl", "footerr", "footerf",
    "footnote", "annotation", "title",   "subject", "keywords", "doccomm", "shptxt",
};

/* \* destinations that are text after all. */
static const char *const rtf_star_text[] = {
    "fldinst", "shpinst", "shptxt",  "annotation", "docvar", "xe",      "tc",      "footnote",
    "header",  "headerl", "headerr", "headerf",    "footer", "footerl", "footerr", "footerf"};

/* Sub-groups of \info that are text. */
static const char *const rtf_info_text[] = {"title", "subject", "keywords", "doccomm"};

static bool in_list(const char *const *list, size_t n, const char *w)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], w) == 0)
                        return true;
        return false;
}

#define IN(list, w) in_list(list, sizeof(list) / sizeof(list[0]), w)

/* One character of text in the document's code page (or its fallback after a
 * \uN, which is dropped). */
static int rtf_char(struct rtf *r, char ch)
{
        if (r->uc_skip) {
                r->uc_skip--;
                return 0;
        }
        if (rtf_top(r)->skip)
                return 0;
        return conv_byte(&r->c, ch);
}

static int rtf_cp(struct rtf *r, uint32_t cp)
{
        if (rtf_top(r)->skip)
                return 0;
        return conv_cp(&r->c, cp);
}

static int rtf_break(struct rtf *r)
{
        if (rtf_top(r)->skip)
                return 0;
        return conv_break(&r->c);
}

static void rtf_codepage(struct rtf *r, long cp)
{
        char name[16];
        r->cp_set = true;
        if (cp == 1252 || cp == 28591 || cp == 0) {
                conv_set_decoder(&r->c, VG_CS_CP1252);
                return;
        }
        if (cp == 65001 || cp == 20127) {
                conv_set_decoder(&r->c, VG_CS_UTF8);
                return;
        }
        if (cp == 10000)
                memcpy(name, "MACINTOSH", 10);
        else
                snprintf(name, sizeof(name), "CP%ld", cp);
        if (!conv_set_iconv(&r->c, name))
                conv_set_decoder(&r->c, VG_CS_CP1252);
}

static int rtf_unicode(struct rtf *r, long v)
{
        if (v < 0)
                v += 65536; /* \uN is a signed 16-bit number */
        r->uc_skip = rtf_top(r)->uc;
        uint32_t u = (uint32_t)v & 0xffff;
        if (u >= 0xd800 && u <= 0xdbff) {
                r->hi_surrogate = u;
                return 0;
        }
        if (u >= 0xdc00 && u <= 0xdfff && r->hi_surrogate) {
                uint32_t cp = 0x10000 + ((r->hi_surrogate - 0xd800) << 10) + (u - 0xdc00);
                r->hi_surrogate = 0;
                return rtf_cp(r, cp);
        }
        r->hi_surrogate = 0;
        return rtf_cp(r, u);
}

/* A control word is complete: r->word, with r->param when r->has_param. */
static int rtf_word(struct rtf *r)
{
        const char *w = r->word;
        struct rtf_group *g = rtf_top(r);
        bool dest = r->group_start;
        r->group_start = false;
        if (dest) {
                bool star = r->star;
                r->star = false;
                if (g->in_info) {
                        /* the document's properties: only a few are text */
                        g->skip = !IN(rtf_info_text, w);
                        g->line = !g->skip;
                        return g->line ? conv_break(&r->c) : 0;
                }
                if (strcmp(w, "info") == 0) {
                        g->skip = true;
                        g->is_info = true;
                        return 0;
                }
                if (IN(rtf_skip, w) || (star && !IN(rtf_star_text, w))) {
                        g->skip = true;
                        return 0;
                }
                if (IN(rtf_lines, w)) {
                        g->line = true;
                        int e = rtf_break(r);
                        if (e < 0)
                                return e;
                }
        }
        if (r->uc_skip && strcmp(w, "u") != 0 && strcmp(w, "uc") != 0) {
                r->uc_skip--; /* a control word counts as one fallback character */
                return 0;
        }
        if (strcmp(w, "u") == 0 && r->has_param)
                return rtf_unicode(r, r->param);
        if (strcmp(w, "uc") == 0 && r->has_param) {
                g->uc = r->param < 0 ? 0 : r->param > 8 ? 8 : (uint8_t)r->param;
                return 0;
        }
        if (strcmp(w, "bin") == 0) {
                r->bin_left = r->has_param && r->param > 0 ? (uint64_t)r->param : 0;
                if (r->bin_left)
                        r->st = R_BIN;
                return 0;
        }
        if (strcmp(w, "ansicpg") == 0 && r->has_param) {
                rtf_codepage(r, r->param);
                return 0;
        }
        if (!r->cp_set && strcmp(w, "mac") == 0) {
                if (!conv_set_iconv(&r->c, "MACINTOSH"))
                        conv_set_decoder(&r->c, VG_CS_CP1252);
                return 0;
        }
        if (!r->cp_set && (strcmp(w, "pc") == 0 || strcmp(w, "pca") == 0)) {
                if (!conv_set_iconv(&r->c, w[2] ? "CP850" : "CP437"))
                        conv_set_decoder(&r->c, VG_CS_CP1252);
                return 0;
        }
        static const char *const breaks[] = {"par",  "line",     "sect",    "page", "row",
                                             "cell", "nestcell", "nestrow", "lbr0", "softline"};
        if (IN(breaks, w))
                return rtf_break(r);
        static const char *const spaces[] = {"tab", "emspace", "enspace", "qmspace"};
        if (IN(spaces, w))
                return rtf_char(r, ' ');
        if (strcmp(w, "emdash") == 0)
                return rtf_cp(r, 0x2014);
        if (strcmp(w, "endash") == 0)
                return rtf_cp(r, 0x2013);
        if (strcmp(w, "lquote") == 0)
                return rtf_cp(r, 0x2018);
        if (strcmp(w, "rquote") == 0)
                return rtf_cp(r, 0x2019);
        if (strcmp(w, "ldblquote") == 0)
                return rtf_cp(r, 0x201c);
        if (strcmp(w, "rdblquote") == 0)
                return rtf_cp(r, 0x201d);
        if (strcmp(w, "bullet") == 0)
                return rtf_cp(r, 0x2022);
        return 0;
}

/* A control symbol: \ followed by one non-letter. */
static int rtf_symbol(struct rtf *r, char ch)
{
        if (ch == '*') {
                /* {\*\dest: an optional destination follows; elsewhere \* means
                 * nothing (it must not hide the rest of a group) */
                r->star = r->group_start;
                return 0;
        }
        r->group_start = false;
        r->star = false;
        switch (ch) {
        case '\\':
        case '{':
        case '}':
                return rtf_char(r, ch);
        case '~':
                return rtf_cp(r, 0xa0);
        case '_':
                return rtf_char(r, '-');
        case '\r':
        case '\n':
                return rtf_break(r); /* \<newline> is \par */
        case '\t':
                return rtf_char(r, ' ');
        default:
                if (r->uc_skip)
                        r->uc_skip--;
                return 0; /* \- optional hyphen, \: \| ... */
        }
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static int rtf_open(struct rtf *r)
{
        struct rtf_group g = *rtf_top(r);
        g.line = false;
        g.in_info = g.is_info;
        g.is_info = false;
        r->depth++;
        if (r->depth < RTF_DEPTH_MAX)
                r->g[r->depth] = g;
        r->group_start = true;
        r->star = false;
        r->uc_skip = 0;
        return 0;
}

static int rtf_close(struct rtf *r)
{
        r->group_start = false;
        r->star = false;
        r->uc_skip = 0;
        if (r->depth == 0)
                return 0; /* unbalanced: ignored, as readers do */
        bool line = rtf_top(r)->line && !rtf_top(r)->skip;
        r->depth--;
        return line ? conv_break(&r->c) : 0;
}

static int rtf_feed(struct rtf *r, const char *s, size_t n)
{
        int e = 0;
        size_t i = 0;
        while (i < n && e == 0) {
                char ch = s[i];
                bool again = false; /* the byte ends a token: read it again */
                switch (r->st) {
                case R_BIN: {
                        /* binary data: skipped by its length, braces and all */
                        uint64_t k = n - i < r->bin_left ? n - i : r->bin_left;
                        r->bin_left -= k;
                        i += k;
                        if (r->bin_left == 0)
                                r->st = R_TEXT;
                        continue;
                }
                case R_TEXT:
                        if (ch == '\\') {
                                r->st = R_SLASH;
                        } else if (ch == '{') {
                                e = rtf_open(r);
                        } else if (ch == '}') {
                                e = rtf_close(r);
                        } else if (ch == '\r' || ch == '\n' || ch == '\0') {
                                /* not content in RTF */
                        } else {
                                r->group_start = false;
                                e = rtf_char(r, ch == '\t' ? ' ' : ch);
                        }
                        break;
                case R_SLASH:
                        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
                                r->word[0] = ch;
                                r->nword = 1;
                                r->has_param = r->neg = false;
                                r->param = 0;
                                r->ndigits = 0;
                                r->st = R_WORD;
                        } else if (ch == '\'') {
                                r->st = R_HEX1;
                        } else {
                                r->st = R_TEXT;
                                e = rtf_symbol(r, ch);
                        }
                        break;
                case R_WORD:
                        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
                                if (r->nword < RTF_WORD_MAX)
                                        r->word[r->nword++] = ch;
                                break;
                        }
                        r->word[r->nword] = '\0';
                        if (ch == '-' || (ch >= '0' && ch <= '9')) {
                                r->st = R_PARAM;
                                r->neg = ch == '-';
                                if (ch != '-') {
                                        r->param = ch - '0';
                                        r->ndigits = 1;
                                        r->has_param = true;
                                }
                                break;
                        }
                        r->st = R_TEXT;
                        e = rtf_word(r);
                        again = ch != ' '; /* a space is the word's delimiter */
                        break;
                case R_PARAM:
                        if (ch >= '0' && ch <= '9') {
                                /* at most 10 digits count; \binN is the only
                                 * one that may be large */
                                if (r->ndigits < 10)
                                        r->param = r->param * 10 + (ch - '0');
                                r->ndigits++;
                                r->has_param = true;
                                break;
                        }
                        if (r->neg)
                                r->param = -r->param;
                        r->st = R_TEXT;
                        e = rtf_word(r);
                        /* a space is the delimiter; anything else is text, or
                         * the first byte of \bin data */
                        again = ch != ' ';
                        break;
                case R_HEX1:
                        if (hexval(ch) < 0) {
                                r->st = R_TEXT;
                                again = true;
                                break;
                        }
                        r->hex = (unsigned)hexval(ch);
                        r->st = R_HEX2;
                        break;
                case R_HEX2:
                        r->st = R_TEXT;
                        if (hexval(ch) < 0) {
                                again = true;
                                break;
                        }
                        r->group_start = false;
                        e = rtf_char(r, (char)(r->hex << 4 | (unsigned)hexval(ch)));
                        break;
                }
                if (!again)
                        i++;
        }
        return e;
}

/* ---- HTML ---- */

#define TAG_MAX 16
#define ENT_MAX 40

struct html_entity {
        const char *name;
        uint32_t cp;
};

/* HTML 4's named character references (and &apos;), sorted for bsearch. */
static const struct html_entity entities[] = {
    {"AElig", 0xc6},     {"Aacute", 0xc1},   {"Acirc", 0xc2},     {"Agrave", 0xc0},
    {"Alpha", 0x391},    {"Aring", 0xc5},    {"Atilde", 0xc3},    {"Auml", 0xc4},
    {"Beta", 0x392},     {"Ccedil", 0xc7},   {"Chi", 0x3a7},      {"Dagger", 0x2021},
    {"Delta", 0x394},    {"ETH", 0xd0},      {"Eacute", 0xc9},    {"Ecirc", 0xca},
    {"Egrave", 0xc8},    {"Epsilon", 0x395}, {"Eta", 0x397},      {"Euml", 0xcb},
    {"Gamma", 0x393},    {"Iacute", 0xcd},   {"Icirc", 0xce},     {"Igrave", 0xcc},
    {"Iota", 0x399},     {"Iuml", 0xcf},     {"Kappa", 0x39a},    {"Lambda", 0x39b},
    {"Mu", 0x39c},       {"Ntilde", 0xd1},   {"Nu", 0x39d},       {"OElig", 0x152},
    {"Oacute", 0xd3},    {"Ocirc", 0xd4},    {"Ograve", 0xd2},    {"Omega", 0x3a9},
    {"Omicron", 0x39f},  {"Oslash", 0xd8},   {"Otilde", 0xd5},    {"Ouml", 0xd6},
    {"Phi", 0x3a6},      {"Pi", 0x3a0},      {"Prime", 0x2033},   {"Psi", 0x3a8},
    {"Rho", 0x3a1},      {"Scaron", 0x160},  {"Sigma", 0x3a3},    {"THORN", 0xde},
    {"Tau", 0x3a4},      {"Theta", 0x398},   {"Uacute", 0xda},    {"Ucirc", 0xdb},
    {"Ugrave", 0xd9},    {"Upsilon", 0x3a5}, {"Uuml", 0xdc},      {"Xi", 0x39e},
    {"Yacute", 0xdd},    {"Yuml", 0x178},    {"Zeta", 0x396},     {"aacute", 0xe1},
    {"acirc", 0xe2},     {"acute", 0xb4},    {"aelig", 0xe6},     {"agrave", 0xe0},
    {"alefsym", 0x2135}, {"alpha", 0x3b1},   {"amp", 0x26},       {"and", 0x2227},
    {"ang", 0x2220},     {"apos", 0x27},     {"aring", 0xe5},     {"asymp", 0x2248},
    {"atilde", 0xe3},    {"auml", 0xe4},     {"bdquo", 0x201e},   {"beta", 0x3b2},
    {"brvbar", 0xa6},    {"bull", 0x2022},   {"cap", 0x2229},     {"ccedil", 0xe7},
    {"cedil", 0xb8},     {"cent", 0xa2},     {"chi", 0x3c7},      {"circ", 0x2c6},
    {"clubs", 0x2663},   {"cong", 0x2245},   {"copy", 0xa9},      {"crarr", 0x21b5},
    {"cup", 0x222a},     {"curren", 0xa4},   {"dArr", 0x21d3},    {"dagger", 0x2020},
    {"darr", 0x2193},    {"deg", 0xb0},      {"delta", 0x3b4},    {"diams", 0x2666},
    {"divide", 0xf7},    {"eacute", 0xe9},   {"ecirc", 0xea},     {"egrave", 0xe8},
    {"empty", 0x2205},   {"emsp", 0x2003},   {"ensp", 0x2002},    {"epsilon", 0x3b5},
    {"equiv", 0x2261},   {"eta", 0x3b7},     {"eth", 0xf0},       {"euml", 0xeb},
    {"euro", 0x20ac},    {"exist", 0x2203},  {"fnof", 0x192},     {"forall", 0x2200},
    {"frac12", 0xbd},    {"frac14", 0xbc},   {"frac34", 0xbe},    {"frasl", 0x2044},
    {"gamma", 0x3b3},    {"ge", 0x2265},     {"gt", 0x3e},        {"hArr", 0x21d4},
    {"harr", 0x2194},    {"hearts", 0x2665}, {"hellip", 0x2026},  {"iacute", 0xed},
    {"icirc", 0xee},     {"iexcl", 0xa1},    {"igrave", 0xec},    {"image", 0x2111},
    {"infin", 0x221e},   {"int", 0x222b},    {"iota", 0x3b9},     {"iquest", 0xbf},
    {"isin", 0x2208},    {"iuml", 0xef},     {"kappa", 0x3ba},    {"lArr", 0x21d0},
    {"lambda", 0x3bb},   {"lang", 0x2329},   {"laquo", 0xab},     {"larr", 0x2190},
    {"lceil", 0x2308},   {"ldquo", 0x201c},  {"le", 0x2264},      {"lfloor", 0x230a},
    {"lowast", 0x2217},  {"loz", 0x25ca},    {"lrm", 0x200e},     {"lsaquo", 0x2039},
    {"lsquo", 0x2018},   {"lt", 0x3c},       {"macr", 0xaf},      {"mdash", 0x2014},
    {"micro", 0xb5},     {"middot", 0xb7},   {"minus", 0x2212},   {"mu", 0x3bc},
    {"nabla", 0x2207},   {"nbsp", 0xa0},     {"ndash", 0x2013},   {"ne", 0x2260},
    {"ni", 0x220b},      {"not", 0xac},      {"notin", 0x2209},   {"nsub", 0x2284},
    {"ntilde", 0xf1},    {"nu", 0x3bd},      {"oacute", 0xf3},    {"ocirc", 0xf4},
    {"oelig", 0x153},    {"ograve", 0xf2},   {"oline", 0x203e},   {"omega", 0x3c9},
    {"omicron", 0x3bf},  {"oplus", 0x2295},  {"or", 0x2228},      {"ordf", 0xaa},
    {"ordm", 0xba},      {"oslash", 0xf8},   {"otilde", 0xf5},    {"otimes", 0x2297},
    {"ouml", 0xf6},      {"para", 0xb6},     {"part", 0x2202},    {"permil", 0x2030},
    {"perp", 0x22a5},    {"phi", 0x3c6},     {"pi", 0x3c0},       {"piv", 0x3d6},
    {"plusmn", 0xb1},    {"pound", 0xa3},    {"prime", 0x2032},   {"prod", 0x220f},
    {"prop", 0x221d},    {"psi", 0x3c8},     {"quot", 0x22},      {"rArr", 0x21d2},
    {"radic", 0x221a},   {"rang", 0x232a},   {"raquo", 0xbb},     {"rarr", 0x2192},
    {"rceil", 0x2309},   {"rdquo", 0x201d},  {"real", 0x211c},    {"reg", 0xae},
    {"rfloor", 0x230b},  {"rho", 0x3c1},     {"rlm", 0x200f},     {"rsaquo", 0x203a},
    {"rsquo", 0x2019},   {"sbquo", 0x201a},  {"scaron", 0x161},   {"sdot", 0x22c5},
    {"sect", 0xa7},      {"shy", 0xad},      {"sigma", 0x3c3},    {"sigmaf", 0x3c2},
    {"sim", 0x223c},     {"spades", 0x2660}, {"sub", 0x2282},     {"sube", 0x2286},
    {"sum", 0x2211},     {"sup", 0x2283},    {"sup1", 0xb9},      {"sup2", 0xb2},
    {"sup3", 0xb3},      {"supe", 0x2287},   {"szlig", 0xdf},     {"tau", 0x3c4},
    {"there4", 0x2234},  {"theta", 0x3b8},   {"thetasym", 0x3d1}, {"thinsp", 0x2009},
    {"thorn", 0xfe},     {"tilde", 0x2dc},   {"times", 0xd7},     {"trade", 0x2122},
    {"uArr", 0x21d1},    {"uacute", 0xfa},   {"uarr", 0x2191},    {"ucirc", 0xfb},
    {"ugrave", 0xf9},    {"uml", 0xa8},      {"upsih", 0x3d2},    {"upsilon", 0x3c5},
    {"uuml", 0xfc},      {"weierp", 0x2118}, {"xi", 0x3be},       {"yacute", 0xfd},
    {"yen", 0xa5},       {"yuml", 0xff},     {"zeta", 0x3b6},     {"zwj", 0x200d},
    {"zwnj", 0x200c},
};

static int entity_cmp(const void *k, const void *e)
{
        return strcmp(k, ((const struct html_entity *)e)->name);
}

static uint32_t entity_lookup(const char *name)
{
        const struct html_entity *hit =
            bsearch(name, entities, sizeof(entities) / sizeof(entities[0]), sizeof(entities[0]),
                    entity_cmp);
        return hit ? hit->cp : 0;
}

/* Elements that start a new line. */
static const char *const html_blocks[] = {
    "address",  "article",  "aside",      "blockquote", "body",    "br",       "caption",
    "center",   "dd",       "details",    "dialog",     "dir",     "div",      "dl",
    "dt",       "fieldset", "figcaption", "figure",     "footer",  "form",     "frame",
    "frameset", "h1",       "h2",         "h3",         "h4",      "h5",       "h6",
    "head",     "header",   "hgroup",     "hr",         "html",    "iframe",   "legend",
    "li",       "listing",  "main",       "menu",       "nav",     "noscript", "ol",
    "optgroup", "option",   "p",          "pre",        "section", "select",   "summary",
    "table",    "tbody",    "td",         "textarea",   "tfoot",   "th",       "thead",
    "title",    "tr",       "ul",         "xmp",
};

/* Attributes whose value a person reads (or sends): alternative text, tooltips,
 * form values, link targets, meta descriptions. */
static const char *const html_text_attrs[] = {"alt",     "title", "value",      "placeholder",
                                              "content", "href",  "label",      "aria-label",
                                              "summary", "abbr",  "data-value", "action"};

enum html_state {
        H_DATA,
        H_LT,      /* after '<' */
        H_LTSLASH, /* after "</" */
        H_TAG,     /* a tag's name */
        H_ATTRS,   /* between attributes */
        H_ANAME,   /* an attribute's name */
        H_AFTER_ANAME,
        H_BEFORE_VAL,
        H_VAL_DQ,
        H_VAL_SQ,
        H_VAL_UNQ,
        H_BANG,    /* after "<!" */
        H_COMMENT, /* until "-->" */
        H_BOGUS,   /* <!DOCTYPE ...>, <?...>, </ 1>: until '>' */
        H_RAW,     /* script, style (dropped), title, textarea (text): until the end tag */
};

enum html_target {
        T_TEXT,
        T_DROP,
};

struct html {
        struct conv c;
        enum html_state st;
        enum html_target target;
        char tag[TAG_MAX + 1];
        size_t ntag;
        bool end_tag;
        char aname[TAG_MAX + 1];
        size_t naname;
        bool keep_val; /* the attribute value being read is text */
        unsigned bang;
        unsigned dashes;
        size_t clen;
        char raw[TAG_MAX + 1]; /* the element whose end tag H_RAW waits for */
        bool rcdata;           /* its content is text (title, textarea) */
        size_t rawmatch;       /* bytes of "</name" matched */
        bool in_ent;
        char ent[ENT_MAX + 1]; /* a numeric one without its leading zeros */
        size_t nent;
        bool ent_digits;          /* a numeric reference had a digit (zeros count) */
        bool ent_over;            /* ... too many to be a character */
        bool space;               /* the last byte out was a space (or a line start) */
        unsigned pre;             /* inside <pre>, <textarea>, <listing>: whitespace kept */
        struct vg_decoder cp1252; /* for &#128;-&#159;, which mean Windows-1252 */
};

static char lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alnum(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int html_break(struct html *h)
{
        h->space = true;
        return conv_break(&h->c);
}

/* One byte of text, in the document's charset, whitespace collapsed as a
 * browser shows it. */
static int html_out(struct html *h, char ch)
{
        if (h->target == T_DROP)
                return 0;
        if (is_space(ch)) {
                if (h->pre && h->target == T_TEXT && (ch == '\n' || ch == '\r'))
                        return ch == '\n' ? html_break(h) : 0;
                if (h->space && !h->pre)
                        return 0;
                h->space = true;
                return conv_byte(&h->c, ' ');
        }
        h->space = false;
        return conv_byte(&h->c, ch);
}

static int html_out_cp(struct html *h, uint32_t cp)
{
        if (h->target == T_DROP)
                return 0;
        if (cp < 0x80 && cp > 0)
                return html_out(h, (char)cp);
        h->space = false;
        if (cp >= 0x80 && cp <= 0x9f) {
                int e = conv_flush(&h->c);
                unsigned char b = (unsigned char)cp;
                return e < 0 ? e : vg_decoder_push(&h->cp1252, h->c.l->text, &b, 1);
        }
        return conv_cp(&h->c, cp);
}

static int html_out_str(struct html *h, const char *s, size_t n)
{
        int e = 0;
        for (size_t i = 0; i < n && e == 0; i++)
                e = html_out(h, s[i]);
        return e;
}

/* The character reference in h->ent (after '&'), ended by `semi` or not. */
static int html_entity(struct html *h, bool semi)
{
        const char *s = h->ent;
        size_t n = h->nent;
        int e;
        h->in_ent = false;
        if (n > 0 && s[0] == '#') {
                bool hex = n > 1 && (s[1] == 'x' || s[1] == 'X');
                size_t from = hex ? 2 : 1;
                if (!h->ent_digits) {
                        /* "&#" or "&#x" with no digit: as written */
                        if ((e = html_out(h, '&')) < 0 || (e = html_out_str(h, s, n)) < 0)
                                return e;
                        return semi ? html_out(h, ';') : 0;
                }
                uint32_t v = 0;
                if (n - from > 8 || h->ent_over)
                        v = 0xfffd;
                for (size_t i = from; i < n && v != 0xfffd; i++)
                        v = v * (hex ? 16 : 10) + (uint32_t)hexval(s[i]);
                return html_out_cp(h, v == 0 ? 0xfffd : v);
        }
        char name[ENT_MAX + 1];
        memcpy(name, s, n);
        name[n] = '\0';
        uint32_t cp = n ? entity_lookup(name) : 0;
        if (cp && (semi || cp <= 0xff))
                return html_out_cp(h, cp);
        /* "&eacutes" or "&copy2024": browsers decode the legacy names (Latin-1,
         * &amp; &lt; &gt; &quot;) even without a semicolon, the longest that
         * starts the word; the rest is text */
        for (size_t k = n; k >= 2 && k <= n; k--) {
                name[k] = '\0';
                if ((cp = entity_lookup(name)) && cp <= 0xff) {
                        if ((e = html_out_cp(h, cp)) < 0 || (e = html_out_str(h, s + k, n - k)) < 0)
                                return e;
                        return semi ? html_out(h, ';') : 0;
                }
        }
        if ((e = html_out(h, '&')) < 0 || (e = html_out_str(h, s, n)) < 0)
                return e;
        return semi ? html_out(h, ';') : 0;
}

/* A byte while a character reference is read: true when it belongs to it. */
static bool html_ent_byte(struct html *h, char ch, int *e)
{
        bool numeric = h->nent > 0 && h->ent[0] == '#';
        bool hex = numeric && h->nent > 1 && (h->ent[1] == 'x' || h->ent[1] == 'X');
        bool prefix_done = numeric && (h->nent > 1 || !(ch == 'x' || ch == 'X'));
        if (h->nent == 0 && (ch == '#' || is_alnum(ch))) {
                h->ent[h->nent++] = ch;
                h->ent_digits = h->ent_over = false;
                return true;
        }
        if (numeric && h->nent == 1 && (ch == 'x' || ch == 'X')) {
                h->ent[h->nent++] = ch;
                return true;
        }
        if (numeric && prefix_done && (hex ? hexval(ch) >= 0 : (ch >= '0' && ch <= '9'))) {
                h->ent_digits = true;
                bool leading = ch == '0' && h->nent == (size_t)(hex ? 2 : 1);
                if (leading)
                        return true; /* "&#0000051;" is '3': zeros do not count */
                if (h->nent < ENT_MAX)
                        h->ent[h->nent++] = ch;
                else
                        h->ent_over = true;
                return true;
        }
        if (!numeric && h->nent > 0 && is_alnum(ch) && h->nent < ENT_MAX) {
                h->ent[h->nent++] = ch;
                return true;
        }
        *e = html_entity(h, ch == ';');
        return ch == ';';
}

static bool is_block(const char *tag)
{
        return IN(html_blocks, tag);
}

static int html_tag_done(struct html *h)
{
        const char *t = h->tag;
        int e = 0;
        h->st = H_DATA;
        h->target = T_TEXT;
        bool pre = strcmp(t, "pre") == 0 || strcmp(t, "listing") == 0 || strcmp(t, "textarea") == 0;
        if (h->end_tag) {
                if (pre && h->pre)
                        h->pre--;
                return is_block(t) ? html_break(h) : 0;
        }
        if (is_block(t) && (e = html_break(h)) < 0)
                return e;
        if (pre)
                h->pre++;
        bool rawtext = strcmp(t, "script") == 0 || strcmp(t, "style") == 0 ||
                       strcmp(t, "iframe") == 0 || strcmp(t, "noembed") == 0 ||
                       strcmp(t, "noframes") == 0;
        bool rcdata = strcmp(t, "title") == 0 || strcmp(t, "textarea") == 0;
        if (rawtext || rcdata) {
                memcpy(h->raw, t, strlen(t) + 1);
                h->rcdata = rcdata;
                h->rawmatch = 0;
                h->st = H_RAW;
                h->target = rcdata ? T_TEXT : T_DROP;
        }
        return 0;
}

static int html_value_end(struct html *h)
{
        bool keep = h->keep_val;
        h->keep_val = false;
        h->target = T_DROP;
        h->st = H_ATTRS;
        return keep ? html_break(h) : 0;
}

static int html_value_start(struct html *h, enum html_state st)
{
        h->aname[h->naname] = '\0';
        h->keep_val = !h->end_tag && IN(html_text_attrs, h->aname);
        h->target = h->keep_val ? T_TEXT : T_DROP;
        h->st = st;
        return h->keep_val ? html_break(h) : 0;
}

static int html_feed(struct html *h, const char *s, size_t n)
{
        int e = 0;
        size_t i = 0;
        while (i < n && e == 0) {
                char ch = s[i];
                if (h->in_ent) {
                        if (html_ent_byte(h, ch, &e)) {
                                i++;
                                continue;
                        }
                        if (e < 0)
                                break;
                }
                bool again = false;
                switch (h->st) {
                case H_DATA:
                        if (ch == '<') {
                                h->st = H_LT;
                        } else if (ch == '&') {
                                h->in_ent = true;
                                h->nent = 0;
                        } else {
                                e = html_out(h, ch);
                        }
                        break;
                case H_LT:
                        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
                                h->end_tag = false;
                                h->tag[0] = lower(ch);
                                h->ntag = 1;
                                h->st = H_TAG;
                        } else if (ch == '/') {
                                h->st = H_LTSLASH;
                        } else if (ch == '!') {
                                h->st = H_BANG;
                                h->bang = 0;
                        } else if (ch == '?') {
                                h->st = H_BOGUS;
                        } else {
                                /* "a < b": text */
                                h->st = H_DATA;
                                e = html_out(h, '<');
                                again = true;
                        }
                        break;
                case H_LTSLASH:
                        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
                                h->end_tag = true;
                                h->tag[0] = lower(ch);
                                h->ntag = 1;
                                h->st = H_TAG;
                        } else {
                                h->st = ch == '>' ? H_DATA : H_BOGUS;
                        }
                        break;
                case H_TAG:
                        if (is_space(ch) || ch == '/' || ch == '>') {
                                h->tag[h->ntag] = '\0';
                                h->target = T_DROP;
                                h->st = H_ATTRS;
                                again = ch == '>';
                        } else if (h->ntag < TAG_MAX) {
                                h->tag[h->ntag++] = lower(ch);
                        } else {
                                h->tag[0] = '-'; /* too long: an element we do not know */
                        }
                        break;
                case H_ATTRS:
                        if (ch == '>') {
                                e = html_tag_done(h);
                        } else if (!is_space(ch) && ch != '/') {
                                h->aname[0] = lower(ch);
                                h->naname = 1;
                                h->st = H_ANAME;
                        }
                        break;
                case H_ANAME:
                        if (ch == '=') {
                                h->st = H_BEFORE_VAL;
                        } else if (is_space(ch)) {
                                h->st = H_AFTER_ANAME;
                        } else if (ch == '>' || ch == '/') {
                                h->st = H_ATTRS;
                                again = true;
                        } else if (h->naname < TAG_MAX) {
                                h->aname[h->naname++] = lower(ch);
                        } else {
                                h->aname[0] = '-';
                        }
                        break;
                case H_AFTER_ANAME:
                        if (ch == '=') {
                                h->st = H_BEFORE_VAL;
                        } else if (!is_space(ch)) {
                                h->st = H_ATTRS;
                                again = true;
                        }
                        break;
                case H_BEFORE_VAL:
                        if (ch == '"') {
                                e = html_value_start(h, H_VAL_DQ);
                        } else if (ch == '\'') {
                                e = html_value_start(h, H_VAL_SQ);
                        } else if (ch == '>') {
                                h->st = H_ATTRS;
                                again = true;
                        } else if (!is_space(ch)) {
                                e = html_value_start(h, H_VAL_UNQ);
                                again = true;
                        }
                        break;
                case H_VAL_DQ:
                case H_VAL_SQ:
                        if (ch == (h->st == H_VAL_DQ ? '"' : '\'')) {
                                e = html_value_end(h);
                        } else if (ch == '&') {
                                h->in_ent = true;
                                h->nent = 0;
                        } else {
                                e = html_out(h, ch);
                        }
                        break;
                case H_VAL_UNQ:
                        if (is_space(ch) || ch == '>') {
                                e = html_value_end(h);
                                again = ch == '>';
                        } else if (ch == '&') {
                                h->in_ent = true;
                                h->nent = 0;
                        } else {
                                e = html_out(h, ch);
                        }
                        break;
                case H_BANG:
                        if (ch == '-' && h->bang == 0) {
                                h->bang = 1;
                        } else if (ch == '-' && h->bang == 1) {
                                /* A comment is not shown, but it leaves with the
                                 * file: its text is read, on lines of its own. */
                                h->st = H_COMMENT;
                                h->dashes = 0;
                                h->clen = 0;
                                e = html_break(h);
                        } else {
                                h->st = H_BOGUS;
                                again = ch == '>';
                        }
                        break;
                case H_COMMENT:
                        if (ch == '>' && (h->dashes >= 2 || h->clen == h->dashes)) {
                                h->st = H_DATA; /* "-->", and "<!-->", "<!--->" */
                                e = html_break(h);
                                break;
                        }
                        h->clen++;
                        if (ch == '-') {
                                h->dashes++; /* held: they may end the comment */
                                break;
                        }
                        for (; h->dashes > 0 && e == 0; h->dashes--)
                                e = html_out(h, '-');
                        if (e == 0)
                                e = html_out(h, ch);
                        break;
                case H_BOGUS:
                        if (ch == '>')
                                h->st = H_DATA;
                        break;
                case H_RAW: {
                        size_t len = strlen(h->raw);
                        bool match = (h->rawmatch == 0 && ch == '<') ||
                                     (h->rawmatch == 1 && ch == '/') ||
                                     (h->rawmatch >= 2 && h->rawmatch < len + 2 &&
                                      lower(ch) == h->raw[h->rawmatch - 2]);
                        if (match) {
                                h->rawmatch++;
                                break;
                        }
                        if (h->rawmatch == len + 2 && (is_space(ch) || ch == '/' || ch == '>')) {
                                /* its end tag */
                                memcpy(h->tag, h->raw, len + 1);
                                h->end_tag = true;
                                h->target = T_DROP;
                                h->st = H_ATTRS;
                                again = true;
                                break;
                        }
                        if (h->rcdata && h->rawmatch > 0) {
                                /* "</tit" that was not the end: text */
                                static const char lt[] = "</";
                                size_t k = h->rawmatch;
                                e = html_out_str(h, lt, k < 2 ? k : 2);
                                if (e == 0 && k > 2)
                                        e = html_out_str(h, h->raw, k - 2);
                        }
                        bool restart = h->rawmatch > 0;
                        h->rawmatch = 0;
                        if (restart) {
                                again = true; /* it may start the end tag itself */
                        } else if (h->rcdata && ch == '&') {
                                h->in_ent = true;
                                h->nent = 0;
                        } else if (h->rcdata) {
                                e = html_out(h, ch);
                        }
                        break;
                }
                }
                if (!again)
                        i++;
        }
        return e;
}

static int html_end(struct html *h)
{
        int e = 0;
        if (h->in_ent)
                e = html_entity(h, false);
        return e < 0 ? e : conv_end(&h->c);
}

/* The charset a <meta> names in the head: <meta charset="x"> or
 * <meta http-equiv="Content-Type" content="text/html; charset=x">. */
static bool html_meta_charset(const unsigned char *p, size_t n, char *out, size_t outsz)
{
        for (size_t i = 0; i + 6 < n; i++) {
                if (p[i] != '<' || strncasecmp((const char *)p + i + 1, "meta", 4) != 0 ||
                    !(is_space((char)p[i + 5]) || p[i + 5] == '/'))
                        continue;
                size_t end = i + 5;
                while (end < n && p[end] != '>')
                        end++;
                for (size_t j = i + 5; j + 7 <= end; j++) {
                        if (strncasecmp((const char *)p + j, "charset", 7) != 0)
                                continue;
                        size_t k = j + 7;
                        while (k < end && is_space((char)p[k]))
                                k++;
                        if (k >= end || p[k] != '=')
                                continue;
                        k++;
                        while (k < end && (is_space((char)p[k]) || p[k] == '"' || p[k] == '\''))
                                k++;
                        size_t o = 0;
                        while (k < end && o + 1 < outsz &&
                               (is_alnum((char)p[k]) || p[k] == '-' || p[k] == '_' || p[k] == '.' ||
                                p[k] == ':'))
                                out[o++] = (char)p[k++];
                        out[o] = '\0';
                        if (o > 0)
                                return true;
                }
        }
        return false;
}

/* UTF-16 text is made UTF-8 before the tokenizer sees it. */
struct u16 {
        bool le;
        bool has_pend;
        unsigned char pend;
        unsigned hi;
};

static int u16_feed(struct u16 *u, struct html *h, const unsigned char *s, size_t n, bool final)
{
        char out[RUN_MAX + 8];
        size_t o = 0, i = 0;
        int e = 0;
        while (e == 0 && (i < n || (final && (u->has_pend || u->hi)))) {
                uint32_t cp;
                if (i >= n) {
                        /* an odd byte or a lone high surrogate at the end */
                        u->has_pend = false;
                        u->hi = 0;
                        cp = 0xfffd;
                } else if (!u->has_pend) {
                        u->pend = s[i++];
                        u->has_pend = true;
                        continue;
                } else {
                        unsigned char b = s[i++];
                        unsigned unit =
                            u->le ? (unsigned)(u->pend | b << 8) : (unsigned)(u->pend << 8 | b);
                        u->has_pend = false;
                        if (unit >= 0xd800 && unit <= 0xdbff) {
                                cp = u->hi ? 0xfffd : 0;
                                u->hi = unit;
                                if (!cp)
                                        continue;
                        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
                                cp = u->hi ? 0x10000 + ((u->hi - 0xd800) << 10) + (unit - 0xdc00)
                                           : 0xfffd;
                                u->hi = 0;
                        } else {
                                if (u->hi) {
                                        o += utf8_put(0xfffd, out + o);
                                        u->hi = 0;
                                }
                                cp = unit;
                        }
                }
                o += utf8_put(cp, out + o);
                if (o >= RUN_MAX) {
                        e = html_feed(h, out, o);
                        o = 0;
                }
        }
        if (e == 0 && o)
                e = html_feed(h, out, o);
        return e;
}

/* ---- The extractor ---- */

static bool is_rtf(const char *type)
{
        return strcmp(type, "text/rtf") == 0 || strcmp(type, "application/rtf") == 0;
}

/* libmagic 5.44 names HTML only when it checks text encodings, which the
 * sniffer turns off (charsets are charset.c's business): HTML then comes as
 * text/plain, and the head says whether it is HTML. */
static bool accepts(const char *type)
{
        return is_rtf(type) || strcmp(type, "text/html") == 0 ||
               strcmp(type, "application/xhtml+xml") == 0 || strcmp(type, "text/plain") == 0;
}

/* Whether text starts like an HTML document or fragment: after a byte-order
 * mark, whitespace, an XML declaration and comments, a DOCTYPE html or the tag
 * of an HTML element. UTF-16 is looked at through its ASCII bytes. */
static bool looks_html(const unsigned char *head, size_t n)
{
        static const char *const tags[] = {
            "html",   "head",   "body", "meta",       "title",   "div",     "p",
            "table",  "span",   "br",   "h1",         "h2",      "h3",      "h4",
            "ul",     "ol",     "li",   "a",          "b",       "i",       "u",
            "strong", "em",     "font", "style",      "script",  "link",    "form",
            "img",    "center", "pre",  "blockquote", "section", "article", "header",
            "footer", "nav",    "main", "tr",         "td",      "th",      "base",
        };
        char a[1024];
        size_t bom, na = 0;
        enum vg_charset cs = vg_charset_sniff(head, n, &bom);
        size_t step = cs == VG_CS_UTF16LE || cs == VG_CS_UTF16BE ? 2 : 1;
        size_t off = bom + (cs == VG_CS_UTF16BE ? 1 : 0);
        for (size_t i = off; i < n && na < sizeof(a); i += step)
                a[na++] = (char)head[i];
        size_t i = 0;
        for (;;) {
                while (i < na && is_space(a[i]))
                        i++;
                if (i >= na || a[i] != '<')
                        return false;
                const char *rest = a + i + 1;
                size_t left = na - i - 1;
                const char *close = NULL;
                if (left >= 3 && memcmp(rest, "!--", 3) == 0)
                        close = memmem(rest, left, "-->", 3);
                else if (left >= 1 && rest[0] == '?')
                        close = memchr(rest, '>', left);
                if (close) {
                        i = (size_t)(close - a) + 1;
                        continue;
                }
                if (left >= 13 && strncasecmp(rest, "!doctype html", 13) == 0)
                        return true;
                size_t k = 0;
                char name[12];
                while (k < left && k + 1 < sizeof(name) && (is_alnum(rest[k]) || rest[k] == ':'))
                        name[k] = lower(rest[k]), k++;
                name[k] = '\0';
                if (k == 0 || k >= left || !(is_space(rest[k]) || rest[k] == '>' || rest[k] == '/'))
                        return false;
                return IN(tags, name);
        }
}

static int run_rtf(struct vg_layer *l, struct vg_input *in, char *buf)
{
        struct rtf *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        conv_init(&r->c, l, VG_CS_CP1252);
        r->g[0].uc = 1;
        int e = 0;
        while (e == 0) {
                ssize_t n = vg_input_read(in, buf, READ_BUF);
                if (n <= 0) {
                        e = (int)n;
                        break;
                }
                if ((e = vg_layer_check_time(l)) == 0)
                        e = rtf_feed(r, buf, (size_t)n);
        }
        if (e == 0)
                e = conv_end(&r->c);
        conv_free(&r->c);
        free(r);
        return e;
}

static int run_html(struct vg_layer *l, struct vg_input *in, char *buf)
{
        struct html *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        size_t bom;
        enum vg_charset cs = vg_charset_sniff(in->head, in->head_len, &bom);
        bool utf16 = cs == VG_CS_UTF16LE || cs == VG_CS_UTF16BE;
        conv_init(&h->c, l, utf16 ? VG_CS_UTF8 : cs);
        char name[48];
        if (!bom && !utf16 && html_meta_charset(in->head, in->head_len, name, sizeof(name))) {
                int known = vg_charset_from_name(name);
                if (strncasecmp(name, "utf-16", 6) == 0)
                        conv_set_decoder(&h->c, VG_CS_UTF8); /* HTML: a BOM-less "utf-16" is not */
                else if (known >= 0)
                        conv_set_decoder(&h->c, (enum vg_charset)known);
                else
                        (void)conv_set_iconv(&h->c, name); /* unknown: the bytes decide */
        }
        vg_decoder_init(&h->cp1252, VG_CS_CP1252);
        h->space = true;
        in->head_pos = bom;
        struct u16 u = {.le = cs == VG_CS_UTF16LE};
        int e = 0;
        while (e == 0) {
                ssize_t n = vg_input_read(in, buf, READ_BUF);
                if (n < 0) {
                        e = (int)n;
                        break;
                }
                if (n == 0 || (e = vg_layer_check_time(l)) < 0)
                        break;
                e = utf16 ? u16_feed(&u, h, (const unsigned char *)buf, (size_t)n, false)
                          : html_feed(h, buf, (size_t)n);
        }
        if (e == 0 && utf16)
                e = u16_feed(&u, h, NULL, 0, true);
        if (e == 0)
                e = html_end(h);
        conv_free(&h->c);
        free(h);
        return e;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        char *buf = malloc(READ_BUF);
        if (!buf)
                return -ENOMEM;
        if (strcmp(l->type, "text/plain") == 0 && !looks_html(in->head, in->head_len)) {
                free(buf);
                return vg_extract_text.run(l, in);
        }
        /* the text sink exists before the decoders write into it */
        int e = vg_layer_text(l, "", 0);
        if (e == 0)
                e = is_rtf(l->type) ? run_rtf(l, in, buf) : run_html(l, in, buf);
        free(buf);
        return e;
}

const struct vg_extractor vg_extract_markup = {
    .name = "markup",
    .accepts = accepts,
    .run = run,
};

/* Custom rules and dictionaries: the admin's own patterns and word lists
 * (rules.d). Their patterns are untrusted input: checked for shape before they are
 * compiled (bounded repeats only, no backreference, recursion or verb), compiled
 * with limits, and run under the same match limits as ours. */
#include "detect.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "validate.h"

/* Patterns of one rule are short; nesting deeper than this is a mistake. */
#define PATTERN_DEPTH_MAX 32
/* Lengths are saturated here while they are estimated: past VG_MAX_MATCH the
 * exact figure does not matter. */
#define LEN_INF (1L << 24)
/* The pattern of a dictionary is built here at most (the compiled form must fit
 * PCRE2's 64 KiB link size; this is well above anything that compiles). */
#define PHRASES_PATTERN_MAX (8u << 20)

static const char *const validator_names[VG_VALIDATOR_COUNT_] = {"none", "luhn", "iban", "nir"};

const char *vg_validator_name(enum vg_validator v)
{
        return v < VG_VALIDATOR_COUNT_ ? validator_names[v] : "?";
}

int vg_validator_from_name(const char *name)
{
        for (int i = 0; i < VG_VALIDATOR_COUNT_; i++)
                if (strcmp(validator_names[i], name) == 0)
                        return i;
        return -EINVAL;
}

static void strv_free(char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

void vg_custom_rule_clear(struct vg_custom_rule *r)
{
        free(r->id);
        free(r->pattern);
        strv_free(r->terms, r->nterms);
        strv_free(r->context, strv_len(r->context));
        free(r->file);
        memset(r, 0, sizeof(*r));
}

void vg_custom_free(struct vg_custom *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->nrules; i++)
                vg_custom_rule_clear(&c->rules[i]);
        free(c->rules);
        strv_free(c->markings, c->nmarkings);
        free(c);
}

/* A copy of v[0,n) with a NULL after it; *ok cleared on ENOMEM. */
static char **strv_dup(char *const *v, size_t n, bool *ok)
{
        if (!v)
                return NULL;
        char **d = calloc(n + 1, sizeof(*d));
        if (!d) {
                *ok = false;
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                if (!(d[i] = strdup(v[i]))) {
                        strv_free(d, n);
                        *ok = false;
                        return NULL;
                }
        return d;
}

static char *str_dup(const char *s, bool *ok)
{
        if (!s)
                return NULL;
        char *d = strdup(s);
        if (!d)
                *ok = false;
        return d;
}

struct vg_custom *vg_custom_dup(const struct vg_custom *c)
{
        struct vg_custom *d = calloc(1, sizeof(*d));
        if (!d || !c)
                return d;
        bool ok = true;
        d->health_threshold = c->health_threshold;
        if (c->nrules && !(d->rules = calloc(c->nrules, sizeof(*d->rules))))
                goto fail;
        for (size_t i = 0; i < c->nrules; i++) {
                const struct vg_custom_rule *s = &c->rules[i];
                struct vg_custom_rule *r = &d->rules[d->nrules++];
                *r = *s;
                r->id = str_dup(s->id, &ok);
                r->pattern = str_dup(s->pattern, &ok);
                r->file = str_dup(s->file, &ok);
                r->terms = strv_dup(s->terms, s->nterms, &ok);
                r->context = strv_dup(s->context, strv_len(s->context), &ok);
                if (!r->terms)
                        r->nterms = 0;
                if (!ok || !r->id)
                        goto fail;
        }
        if (c->nmarkings) {
                d->markings = strv_dup(c->markings, c->nmarkings, &ok);
                if (!ok)
                        goto fail;
                d->nmarkings = c->nmarkings;
        }
        return d;
fail:
        vg_custom_free(d);
        return NULL;
}

/* ---- Shape of an untrusted pattern ------------------------------------------ */

struct pscan {
        const char *p;
        size_t i, n;
        char *err;
        size_t errsz;
        bool failed;
};

__attribute__((format(printf, 2, 3))) static long perr(struct pscan *ps, const char *fmt, ...)
{
        if (!ps->failed) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(ps->err, ps->errsz, fmt, ap);
                va_end(ap);
        }
        ps->failed = true;
        return -1;
}

static int peek(const struct pscan *ps, size_t k)
{
        return ps->i + k < ps->n ? (unsigned char)ps->p[ps->i + k] : -1;
}

static bool is_digit(int c)
{
        return c >= '0' && c <= '9';
}

static long sat_add(long a, long b)
{
        return a + b > LEN_INF ? LEN_INF : a + b;
}

static long sat_mul(long a, long b)
{
        return b && a > LEN_INF / b ? LEN_INF : a * b;
}

static long p_alt(struct pscan *ps, int depth);

/* Skips to the byte after `close`; false at the end of the pattern. */
static bool skip_past(struct pscan *ps, char close)
{
        while (ps->i < ps->n && ps->p[ps->i] != close)
                ps->i++;
        if (ps->i >= ps->n)
                return false;
        ps->i++;
        return true;
}

/* A bracketed class, from its '['. */
static long p_class(struct pscan *ps)
{
        ps->i++;
        if (peek(ps, 0) == '^')
                ps->i++;
        if (peek(ps, 0) == ']')
                ps->i++;
        while (ps->i < ps->n) {
                int c = peek(ps, 0);
                if (c == ']') {
                        ps->i++;
                        return 1;
                }
                if (c == '[' && peek(ps, 1) == ':') {
                        ps->i += 2;
                        if (!skip_past(ps, ']'))
                                break;
                        continue;
                }
                ps->i += c == '\\' ? 2 : 1;
        }
        return perr(ps, "a character class '[' is not closed");
}

/* An escape, from its '\'. Returns the bytes it can match, 0 for assertions. */
static long p_escape(struct pscan *ps)
{
        int c = peek(ps, 1);
        ps->i += 2;
        switch (c) {
        case -1:
                return perr(ps, "the pattern ends with '\\'");
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9':
        case 'g':
        case 'k':
                return perr(ps, "backreferences (\\%c...) are not allowed", c);
        case 'X':
                return perr(ps, "\\X can match an unbounded length");
        case 'C':
                return perr(ps, "\\C is not allowed");
        case 'Q': {
                long len = 0;
                while (ps->i < ps->n && !(ps->p[ps->i] == '\\' && peek(ps, 1) == 'E')) {
                        ps->i++;
                        len++;
                }
                if (ps->i < ps->n)
                        ps->i += 2;
                return len;
        }
        case 'E':
        case 'b':
        case 'B':
        case 'A':
        case 'z':
        case 'Z':
        case 'G':
        case 'K':
                return 0;
        case 'R':
                return 2; /* \r\n */
        case '0':
                for (int k = 0; k < 2 && peek(ps, 0) >= '0' && peek(ps, 0) <= '7'; k++)
                        ps->i++;
                return 1;
        case 'x':
        case 'o':
        case 'p':
        case 'P':
        case 'N':
                if (peek(ps, 0) == '{') {
                        if (!skip_past(ps, '}'))
                                return perr(ps, "'\\%c{' is not closed", c);
                } else if (c == 'x') {
                        for (int k = 0; k < 2 && ps->i < ps->n &&
                                        strchr("0123456789abcdefABCDEF", ps->p[ps->i]);
                             k++)
                                ps->i++;
                } else if (c == 'p' || c == 'P') {
                        ps->i++;
                }
                return 1;
        case 'c':
                ps->i++;
                return 1;
        default:
                return 1;
        }
}

/* A group, from its '('. */
static long p_group(struct pscan *ps, int depth)
{
        if (depth >= PATTERN_DEPTH_MAX)
                return perr(ps, "groups nest more than %d deep", PATTERN_DEPTH_MAX);
        ps->i++;
        bool zero = false; /* lookarounds match no bytes */
        int c = peek(ps, 0);
        if (c == '*')
                return perr(ps, "verbs such as (*...) are not allowed");
        if (c == '?') {
                int d = peek(ps, 1);
                if (d == '#') {
                        if (!skip_past(ps, ')'))
                                return perr(ps, "a comment (?# is not closed");
                        return 0;
                }
                if (d == ':' || d == '|' || d == '>') {
                        ps->i += 2;
                } else if (d == '=' || d == '!') {
                        ps->i += 2;
                        zero = true;
                } else if (d == '<' && (peek(ps, 2) == '=' || peek(ps, 2) == '!')) {
                        ps->i += 3;
                        zero = true;
                } else if (d == '<' || d == '\'' || (d == 'P' && peek(ps, 2) == '<')) {
                        ps->i += d == 'P' ? 3 : 2;
                        if (!skip_past(ps, d == '\'' ? '\'' : '>'))
                                return perr(ps, "a group name is not closed");
                } else if (d == '(' || d == 'R' || d == '&' || d == 'P' || d == '+' || d == 'C' ||
                           is_digit(d) || (d == '-' && is_digit(peek(ps, 2)))) {
                        return perr(ps, "conditions, recursion and callouts are not allowed");
                } else {
                        /* option setting: (?i) or (?i:...) */
                        ps->i++;
                        while (ps->i < ps->n && strchr("imnsxJU^-", ps->p[ps->i])) {
                                if (ps->p[ps->i] == 'x')
                                        return perr(ps, "extended mode (?x) is not supported");
                                ps->i++;
                        }
                        if (peek(ps, 0) == ')') {
                                ps->i++;
                                return 0;
                        }
                        if (peek(ps, 0) != ':')
                                return perr(ps, "unknown group syntax '(?'");
                        ps->i++;
                }
        }
        long len = p_alt(ps, depth + 1);
        if (ps->failed)
                return -1;
        if (peek(ps, 0) != ')')
                return perr(ps, "a group '(' is not closed");
        ps->i++;
        return zero ? 0 : len;
}

/* A repeat after an atom: the largest count, 1 without one. */
static long p_quant(struct pscan *ps)
{
        int c = peek(ps, 0);
        long times = 1;
        if (c == '*' || c == '+')
                return perr(ps, "'%c' repeats without bound: write a bounded repeat such as {1,64}",
                            c);
        if (c == '?') {
                ps->i++;
        } else if (c == '{' && is_digit(peek(ps, 1))) {
                size_t k = ps->i + 1;
                long lo = 0, hi;
                while (k < ps->n && is_digit(ps->p[k]) && lo < LEN_INF)
                        lo = lo * 10 + (ps->p[k++] - '0');
                hi = lo;
                if (k < ps->n && ps->p[k] == ',') {
                        k++;
                        if (k < ps->n && ps->p[k] == '}')
                                return perr(ps, "'{%ld,}' repeats without bound: write {%ld,N}", lo,
                                            lo);
                        hi = 0;
                        while (k < ps->n && is_digit(ps->p[k]) && hi < LEN_INF)
                                hi = hi * 10 + (ps->p[k++] - '0');
                }
                if (k >= ps->n || ps->p[k] != '}')
                        return 1; /* not a repeat: '{' is a literal */
                ps->i = k + 1;
                times = hi;
        } else {
                return 1;
        }
        if (peek(ps, 0) == '+' || peek(ps, 0) == '?')
                ps->i++;
        if (peek(ps, 0) == '*' || peek(ps, 0) == '+' || peek(ps, 0) == '?' || peek(ps, 0) == '{')
                return p_quant(ps) < 0 ? -1 : perr(ps, "a repeat of a repeat is not allowed");
        return times;
}

static long p_seq(struct pscan *ps, int depth)
{
        long total = 0;
        for (;;) {
                int c = peek(ps, 0);
                if (c == -1 || c == '|' || c == ')')
                        return total;
                long len;
                if (c == '(')
                        len = p_group(ps, depth);
                else if (c == '[')
                        len = p_class(ps);
                else if (c == '\\')
                        len = p_escape(ps);
                else if (c == '^' || c == '$') {
                        ps->i++;
                        len = 0;
                } else {
                        ps->i++;
                        len = 1;
                }
                if (ps->failed)
                        return -1;
                long times = p_quant(ps);
                if (ps->failed)
                        return -1;
                total = sat_add(total, sat_mul(len, times));
        }
}

static long p_alt(struct pscan *ps, int depth)
{
        long best = p_seq(ps, depth);
        while (!ps->failed && peek(ps, 0) == '|') {
                ps->i++;
                long l = p_seq(ps, depth);
                if (l > best)
                        best = l;
        }
        return ps->failed ? -1 : best;
}

int vg_custom_pattern_check(const char *pattern, char *err, size_t errsz)
{
        char dummy[8];
        if (!err || errsz == 0) {
                err = dummy;
                errsz = sizeof(dummy);
        }
        size_t n = strlen(pattern);
        if (n == 0 || n > 4096) {
                snprintf(err, errsz, "a pattern must be 1 to 4096 bytes long");
                return -EINVAL;
        }
        struct pscan ps = {.p = pattern, .n = n, .err = err, .errsz = errsz};
        long max = p_alt(&ps, 0);
        if (ps.failed)
                return -EINVAL;
        if (ps.i < n) {
                snprintf(err, errsz, "unbalanced ')' at offset %zu", ps.i);
                return -EINVAL;
        }
        if (max > VG_MAX_MATCH) {
                snprintf(err, errsz, "the pattern can match more than %d bytes", VG_MAX_MATCH);
                return -EINVAL;
        }
        pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
        if (!cc)
                return -ENOMEM;
        pcre2_set_max_pattern_length(cc, 4096);
        pcre2_set_parens_nest_limit(cc, PATTERN_DEPTH_MAX);
        int code_err;
        PCRE2_SIZE off;
        pcre2_code *code = pcre2_compile(
            (PCRE2_SPTR)pattern, n, PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C,
            &code_err, &off, cc);
        pcre2_compile_context_free(cc);
        if (!code) {
                char msg[160];
                pcre2_get_error_message(code_err, (PCRE2_UCHAR *)msg, sizeof(msg));
                snprintf(err, errsz, "%s at offset %zu", msg, (size_t)off);
                return -EINVAL;
        }
        uint32_t minlen = 0;
        pcre2_pattern_info(code, PCRE2_INFO_MINLENGTH, &minlen);
        pcre2_code_free(code);
        /* A one-byte pattern would count letters, not data. */
        if (minlen < 2) {
                snprintf(err, errsz, "the pattern can match %s",
                         minlen ? "a single byte" : "the empty string");
                return -EINVAL;
        }
        return 0;
}

/* ---- Phrases (dictionaries, markings) as one trie-shaped pattern ------------- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool alnum(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One byte of a phrase, escaped; a space matches any run of white space. */
static int put_byte(struct vg_buf *b, unsigned char c)
{
        if (alnum(c))
                return vg_buf_appendc(b, (char)c);
        if (c == ' ')
                return vg_buf_appends(b, "\\s+");
        static const char hex[] = "0123456789abcdef";
        char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        return vg_buf_append(b, e, 4);
}

/* Emits the terms t[lo,hi), which share their first k bytes, as a pattern for
 * what follows those k bytes: PCRE2 does not factor alternations, so a list of
 * a thousand names would otherwise be tried name by name at every word. */
static int emit_trie(struct vg_buf *b, char *const *t, size_t lo, size_t hi, size_t k)
{
        int e = 0;
        bool may_end = strlen(t[lo]) == k; /* sorted: the shortest comes first */
        if (may_end)
                lo++;
        if (lo == hi)
                return 0;
        size_t groups = 0;
        for (size_t i = lo; i < hi; i++)
                if (i == lo || t[i][k] != t[i - 1][k])
                        groups++;
        bool wrap = groups > 1 || may_end;
        if (wrap && (e = vg_buf_appends(b, "(?:")) < 0)
                return e;
        for (size_t a = lo; a < hi;) {
                size_t z = a + 1;
                while (z < hi && t[z][k] == t[a][k])
                        z++;
                /* common prefix of the group: first and last agree on it (sorted) */
                size_t l = k;
                while (t[a][l] && t[a][l] == t[z - 1][l])
                        l++;
                if (a > lo && (e = vg_buf_appendc(b, '|')) < 0)
                        return e;
                for (size_t j = k; j < l; j++)
                        if ((e = put_byte(b, (unsigned char)t[a][j])) < 0)
                                return e;
                if ((e = emit_trie(b, t, a, z, l)) < 0)
                        return e;
                a = z;
        }
        if (wrap && (e = vg_buf_appends(b, may_end ? ")?" : ")")) < 0)
                return e;
        return 0;
}

char *vg_phrases_pattern(const char *const *terms, size_t n)
{
        char **t = n ? calloc(n, sizeof(*t)) : NULL;
        char *ret = NULL;
        size_t m = 0;
        struct vg_buf b;
        vg_buf_init(&b, PHRASES_PATTERN_MAX);
        if (n && !t)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                /* white space collapsed and trimmed: "Projet   X" is "projet x" */
                size_t len = strlen(terms[i]), o = 0;
                char *s = malloc(len + 1);
                if (!s)
                        goto out;
                for (size_t j = 0; j < len; j++) {
                        char c = terms[i][j];
                        bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r';
                        if (sp && (o == 0 || s[o - 1] == ' '))
                                continue;
                        s[o++] = sp ? ' ' : c;
                }
                while (o > 0 && s[o - 1] == ' ')
                        o--;
                s[o] = '\0';
                if (o == 0) {
                        free(s);
                        goto out;
                }
                t[m++] = s;
        }
        if (m > 1)
                qsort(t, m, sizeof(*t), cmp_str);
        size_t u = 0;
        for (size_t i = 0; i < m; i++) {
                if (u > 0 && strcmp(t[u - 1], t[i]) == 0) {
                        free(t[i]);
                        continue;
                }
                t[u++] = t[i];
        }
        m = u;
        /* Whole words: folded text has no upper case, and bytes past 0x7f belong
         * to letters the fold kept (Greek, Cyrillic...). */
        if (vg_buf_appends(&b, "(?<![a-z0-9\\x80-\\xff])") < 0 ||
            (m && emit_trie(&b, t, 0, m, 0) < 0) ||
            vg_buf_appends(&b, m ? "(?![a-z0-9\\x80-\\xff])" : "(?!)") < 0)
                goto out;
        ret = vg_buf_take(&b);
out:
        vg_buf_free(&b);
        for (size_t i = 0; i < m; i++)
                free(t[i]);
        free(t);
        return ret;
}

int vg_custom_terms_check(const char *const *terms, size_t n)
{
        char *p = vg_phrases_pattern(terms, n);
        if (!p)
                return -ENOMEM;
        int err;
        PCRE2_SIZE off;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
        free(p);
        if (!code)
                return err == PCRE2_ERROR_PATTERN_TOO_LARGE ? -E2BIG : -EINVAL;
        pcre2_code_free(code);
        return 0;
}

/* ---- The check shared by custom rules ---------------------------------------- */

static bool is_alnum_ascii(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Copies s[0,n) with white space runs as one space, at most cap - 1 bytes, never
 * cutting a UTF-8 sequence. */
static size_t squeeze(const char *s, size_t n, char *out, size_t cap)
{
        size_t o = 0;
        for (size_t i = 0; i < n && o + 1 < cap;) {
                unsigned char c = (unsigned char)s[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                        if (o > 0 && out[o - 1] != ' ')
                                out[o++] = ' ';
                        i++;
                        continue;
                }
                size_t len = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
                if (i + len > n)
                        len = n - i;
                if (o + len + 1 > cap)
                        break;
                memcpy(out + o, s + i, len);
                o += len;
                i += len;
        }
        while (o > 0 && out[o - 1] == ' ')
                o--;
        out[o] = '\0';
        return o;
}

static bool validate(enum vg_validator v, const char *s, size_t n)
{
        char c[64];
        size_t k = 0;
        switch (v) {
        case VG_VALIDATOR_NONE:
                return true;
        case VG_VALIDATOR_LUHN:
                /* over the digits of the match: "EMP-12344", "4970 1012 ..." */
                for (size_t i = 0; i < n; i++) {
                        if (s[i] >= '0' && s[i] <= '9') {
                                if (k == sizeof(c))
                                        return false;
                                c[k++] = s[i];
                        }
                }
                return k >= 2 && vg_luhn_valid(c, k);
        case VG_VALIDATOR_IBAN:
        case VG_VALIDATOR_NIR:
                for (size_t i = 0; i < n; i++) {
                        unsigned char ch = (unsigned char)s[i];
                        if (!is_alnum_ascii(ch))
                                continue;
                        if (k == sizeof(c))
                                return false;
                        c[k++] = (char)(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
                }
                return v == VG_VALIDATOR_IBAN ? k >= 5 && vg_iban_valid(c, k)
                                              : k == 15 && vg_nir_valid(c, k);
        case VG_VALIDATOR_COUNT_:
                break;
        }
        return false;
}

bool vg_custom_check(const struct vg_match *m, struct vg_hit *h)
{
        const struct vg_custom_rule *cr = m->det->data;
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        if (!validate(cr->validator, s, n))
                return false;
        /* canon: the match with white space squeezed (folded for dictionaries) */
        h->canon_len = squeeze(s, n, h->canon, sizeof(h->canon));
        if (h->canon_len == 0)
                return false;
        /* shown: as written in the text, whatever the folding */
        char shown[sizeof(h->masked)];
        size_t len =
            squeeze(m->raw + m->raw_start, m->raw_end - m->raw_start, shown, sizeof(shown));
        switch (cr->show) {
        case VG_SHOW_VALUE:
                memcpy(h->masked, shown, len + 1);
                break;
        case VG_SHOW_HIDDEN:
                snprintf(h->masked, sizeof(h->masked), "****");
                break;
        case VG_SHOW_MASKED: {
                /* A quarter of the letters and digits at each end, 4 at most: the
                 * shape stays, the value does not. Other bytes are kept. */
                size_t an = 0;
                for (size_t i = 0; i < len; i++)
                        an += is_alnum_ascii((unsigned char)shown[i]) ||
                              (unsigned char)shown[i] >= 0xc0;
                size_t keep = an / 4 < 4 ? an / 4 : 4, k = 0, o = 0;
                for (size_t i = 0; i < len && o + 1 < sizeof(h->masked); i++) {
                        unsigned char c = (unsigned char)shown[i];
                        bool word = is_alnum_ascii(c) || c >= 0x80;
                        if (!word) {
                                h->masked[o++] = (char)c;
                                continue;
                        }
                        if (c >= 0x80 && c < 0xc0)
                                continue; /* continuation: the lead byte stood for it */
                        bool visible = k < keep || k + keep >= an;
                        if (visible && c >= 0xc0) {
                                size_t sl = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
                                if (i + sl > len || o + sl + 1 > sizeof(h->masked))
                                        break;
                                memcpy(h->masked + o, shown + i, sl);
                                o += sl;
                        } else {
                                h->masked[o++] = visible ? (char)c : '*';
                        }
                        k++;
                }
                h->masked[o] = '\0';
                break;
        }
        }
        return true;
}

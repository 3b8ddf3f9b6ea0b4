#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

/* A template is parsed once into a flat list of operations; a section holds
 * the index just past its last child, so rendering needs no tree. */
enum op_kind {
        OP_TEXT,
        OP_VAR,
        OP_SECTION,
        OP_INVERTED,
};

struct op {
        enum op_kind kind;
        size_t off, len; /* text, or the name of a variable or section, in src */
        size_t end;      /* sections: index of the first op after the section */
};

struct vg_template {
        char *src;
        struct op *ops;
        size_t nops, cap;
};

void vg_template_free(struct vg_template *t)
{
        if (!t)
                return;
        free(t->src);
        free(t->ops);
        free(t);
}

static int add_op(struct vg_template *t, enum op_kind k, size_t off, size_t len)
{
        if (k == OP_TEXT && len == 0)
                return 0;
        if (t->nops == t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 32;
                struct op *n = reallocarray(t->ops, ncap, sizeof(*n));
                if (!n)
                        return -ENOMEM;
                t->ops = n;
                t->cap = ncap;
        }
        t->ops[t->nops++] = (struct op){.kind = k, .off = off, .len = len};
        return 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
}

static unsigned line_of(const char *s, size_t off)
{
        unsigned line = 1;
        for (size_t i = 0; i < off; i++)
                line += s[i] == '\n';
        return line;
}

__attribute__((format(printf, 5, 6))) static int perr(char *err, size_t errsz, const char *s,
                                                      size_t off, const char *fmt, ...)
{
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(err, errsz, "line %u: %s", line_of(s, off), msg);
        return -EINVAL;
}

/* The offset of the first byte that is not well-formed UTF-8, or len. */
static size_t utf8_invalid_at(const char *s, size_t len)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < len;) {
                unsigned char c = p[i];
                size_t n = c < 0x80             ? 1
                           : (c & 0xe0) == 0xc0 ? 2
                           : (c & 0xf0) == 0xe0 ? 3
                           : (c & 0xf8) == 0xf0 ? 4
                                                : 0;
                if (n == 0 || (n == 2 && c < 0xc2) || (n == 4 && c > 0xf4) || i + n > len)
                        return i;
                for (size_t k = 1; k < n; k++)
                        if ((p[i + k] & 0xc0) != 0x80)
                                return i;
                /* overlong three-byte forms and UTF-16 surrogates */
                if (n == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] > 0x9f)))
                        return i;
                if (n == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] > 0x8f)))
                        return i;
                i += n;
        }
        return len;
}

int vg_template_parse(const char *text, size_t len, struct vg_template **ret, char *err,
                      size_t errsz)
{
        if (len > VG_TEMPLATE_MAX_SIZE) {
                snprintf(err, errsz, "template larger than %d bytes", VG_TEMPLATE_MAX_SIZE);
                return -E2BIG;
        }
        if (memchr(text, '\0', len)) {
                snprintf(err, errsz, "template holds a NUL byte");
                return -EINVAL;
        }
        size_t bad = utf8_invalid_at(text, len);
        if (bad < len)
                return perr(err, errsz, text, bad,
                            "not UTF-8 (save the file as UTF-8, not Latin-1 or Windows-1252)");
        struct vg_template *t = calloc(1, sizeof(*t));
        if (!t || !(t->src = strndup(text, len))) {
                free(t);
                return -ENOMEM;
        }
        const char *s = t->src;
        size_t stack[VG_TEMPLATE_MAX_DEPTH];
        size_t depth = 0, pos = 0;
        int e = 0;
        while (pos < len && e == 0) {
                const char *open = memmem(s + pos, len - pos, "{{", 2);
                if (!open) {
                        e = add_op(t, OP_TEXT, pos, len - pos);
                        break;
                }
                size_t o = (size_t)(open - s);
                const char *close = memmem(open + 2, len - o - 2, "}}", 2);
                if (!close) {
                        e = perr(err, errsz, s, o, "'{{' without its '}}'");
                        break;
                }
                size_t c = (size_t)(close - s);
                char sigil = s[o + 2];
                bool block = sigil == '#' || sigil == '^' || sigil == '/' || sigil == '!';
                size_t ns = o + 2 + (block ? 1 : 0), ne = c;
                if (sigil != '!') {
                        if (memchr(s + o, '\n', c - o)) {
                                e = perr(err, errsz, s, o, "a tag must fit on one line");
                                break;
                        }
                        while (ns < ne && is_blank(s[ns]))
                                ns++;
                        while (ne > ns && is_blank(s[ne - 1]))
                                ne--;
                        if (ns == ne) {
                                e = perr(err, errsz, s, o, "empty tag '{{%.*s}}'", (int)(c - o - 2),
                                         s + o + 2);
                                break;
                        }
                        for (size_t i = ns; i < ne; i++)
                                if (!name_char(s[i])) {
                                        e = perr(err, errsz, s, o,
                                                 "'%.*s' is not a name (letters, digits, '_', "
                                                 "'-', '.')",
                                                 (int)(ne - ns), s + ns);
                                        break;
                                }
                        if (e)
                                break;
                }
                size_t after = c + 2;
                /* A block tag alone on its line takes the whole line with it. */
                size_t ls = o;
                while (ls > 0 && s[ls - 1] != '\n')
                        ls--;
                bool alone = block && ls >= pos;
                for (size_t i = ls; alone && i < o; i++)
                        alone = is_blank(s[i]);
                size_t p = after;
                while (p < len && is_blank(s[p]))
                        p++;
                if (p < len && s[p] == '\r' && p + 1 < len && s[p + 1] == '\n')
                        p++;
                alone = alone && (p == len || s[p] == '\n');
                if (alone) {
                        e = add_op(t, OP_TEXT, pos, ls - pos);
                        pos = p < len ? p + 1 : len;
                } else {
                        e = add_op(t, OP_TEXT, pos, o - pos);
                        pos = after;
                }
                if (e)
                        break;
                switch (sigil) {
                case '!':
                        break;
                case '#':
                case '^':
                        if (depth == VG_TEMPLATE_MAX_DEPTH) {
                                e = perr(err, errsz, s, o, "sections nested deeper than %d",
                                         VG_TEMPLATE_MAX_DEPTH);
                                break;
                        }
                        stack[depth++] = t->nops;
                        e = add_op(t, sigil == '#' ? OP_SECTION : OP_INVERTED, ns, ne - ns);
                        break;
                case '/': {
                        if (depth == 0) {
                                e = perr(err, errsz, s, o, "'{{/%.*s}}' closes no section",
                                         (int)(ne - ns), s + ns);
                                break;
                        }
                        struct op *sec = &t->ops[stack[depth - 1]];
                        if (sec->len != ne - ns || memcmp(s + sec->off, s + ns, sec->len) != 0) {
                                e = perr(err, errsz, s, o,
                                         "'{{/%.*s}}' closes section '%.*s' (line %u)",
                                         (int)(ne - ns), s + ns, (int)sec->len, s + sec->off,
                                         line_of(s, sec->off));
                                break;
                        }
                        sec->end = t->nops;
                        depth--;
                        break;
                }
                default:
                        e = add_op(t, OP_VAR, ns, ne - ns);
                        break;
                }
        }
        if (e == 0 && depth > 0) {
                const struct op *sec = &t->ops[stack[depth - 1]];
                e = perr(err, errsz, s, sec->off, "section '%.*s' is never closed", (int)sec->len,
                         s + sec->off);
        }
        if (e < 0) {
                if (e == -ENOMEM)
                        snprintf(err, errsz, "out of memory");
                vg_template_free(t);
                return e;
        }
        *ret = t;
        return 0;
}

/* ---- rendering ---------------------------------------------------------------- */

struct render {
        const struct vg_template *t;
        const json_t *stack[VG_TEMPLATE_MAX_DEPTH + 1];
        size_t depth;
        struct vg_buf out;
};

static const json_t *member(const json_t *obj, const char *name, size_t n)
{
        if (!json_is_object(obj))
                return NULL;
        char key[128];
        if (n >= sizeof(key))
                return NULL;
        memcpy(key, name, n);
        key[n] = '\0';
        return json_object_get(obj, key);
}

/* Names are looked up from the innermost section outwards; "a.b" then goes
 * down from wherever "a" was found. */
static const json_t *lookup(const struct render *r, const char *name, size_t n)
{
        if (n == 1 && name[0] == '.')
                return r->stack[r->depth - 1];
        const char *dot = memchr(name, '.', n);
        size_t first = dot ? (size_t)(dot - name) : n;
        const json_t *v = NULL;
        for (size_t i = r->depth; i-- > 0 && !v;)
                v = member(r->stack[i], name, first);
        while (v && dot) {
                const char *rest = dot + 1;
                size_t left = n - (size_t)(rest - name);
                dot = memchr(rest, '.', left);
                v = member(v, rest, dot ? (size_t)(dot - rest) : left);
        }
        return v;
}

static bool truthy(const json_t *v)
{
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_OBJECT:
        case JSON_TRUE:
                return true;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0;
        default:
                return false;
        }
}

static int put_value(struct render *r, const json_t *v)
{
        char num[64];
        switch (v ? json_typeof(v) : JSON_NULL) {
        case JSON_STRING:
                return vg_buf_append(&r->out, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
                return vg_buf_appends(&r->out, num);
        case JSON_REAL:
                snprintf(num, sizeof(num), "%g", json_real_value(v));
                return vg_buf_appends(&r->out, num);
        default:
                return 0; /* absent, null, booleans, lists: nothing */
        }
}

static int render_range(struct render *r, size_t from, size_t to);

static int render_with(struct render *r, const json_t *ctx, size_t from, size_t to)
{
        /* depth is bounded by the parser's section limit */
        r->stack[r->depth++] = ctx;
        int e = render_range(r, from, to);
        r->depth--;
        return e;
}

static int render_range(struct render *r, size_t from, size_t to)
{
        const struct vg_template *t = r->t;
        for (size_t i = from; i < to;) {
                const struct op *op = &t->ops[i];
                const char *name = t->src + op->off;
                int e = 0;
                switch (op->kind) {
                case OP_TEXT:
                        e = vg_buf_append(&r->out, name, op->len);
                        i++;
                        break;
                case OP_VAR:
                        e = put_value(r, lookup(r, name, op->len));
                        i++;
                        break;
                case OP_SECTION: {
                        const json_t *v = lookup(r, name, op->len);
                        if (json_is_array(v)) {
                                size_t k;
                                const json_t *el;
                                json_array_foreach(v, k, el)
                                {
                                        if ((e = render_with(r, el, i + 1, op->end)) < 0)
                                                break;
                                }
                        } else if (truthy(v)) {
                                e = render_with(r, v, i + 1, op->end);
                        }
                        i = op->end;
                        break;
                }
                case OP_INVERTED:
                        if (!truthy(lookup(r, name, op->len)))
                                e = render_range(r, i + 1, op->end);
                        i = op->end;
                        break;
                }
                if (e < 0)
                        return e;
        }
        return 0;
}

int vg_template_render(const struct vg_template *t, const json_t *data, size_t max, char **ret)
{
        struct render r = {.t = t, .stack = {data}, .depth = 1};
        vg_buf_init(&r.out, max);
        int e = render_range(&r, 0, t->nops);
        char *s = e == 0 ? vg_buf_take(&r.out) : NULL;
        vg_buf_free(&r.out);
        if (e == 0 && !s)
                e = -ENOMEM;
        if (e < 0)
                return e;
        *ret = s;
        return 0;
}

/* ---- the set of templates --------------------------------------------------------- */

#define NLANG 2

static const char *const files[VG_TPL_COUNT_][NLANG] = {
    [VG_TPL_NOTICE] = {"notice.fr.txt", "notice.en.txt"},
    [VG_TPL_NOTICE_MAIL] = {"notice-mail.fr.txt", "notice-mail.en.txt"},
    [VG_TPL_ALERT_MAIL] = {"alert-mail.fr.txt", "alert-mail.en.txt"},
    [VG_TPL_DIGEST_MAIL] = {"digest-mail.fr.txt", "digest-mail.en.txt"},
    [VG_TPL_ALERT_CHAT] = {"alert-chat.fr.txt", "alert-chat.en.txt"},
    [VG_TPL_DIGEST_CHAT] = {"digest-chat.fr.txt", "digest-chat.en.txt"},
    [VG_TPL_NOTICE_REDACTED] = {"notice-redacted.fr.txt", "notice-redacted.en.txt"},
};

struct vg_templates {
        struct vg_template *t[VG_TPL_COUNT_][NLANG];
        char *origin[VG_TPL_COUNT_][NLANG]; /* NULL: built-in */
};

const char *vg_template_file(enum vg_template_kind k, enum vg_lang lang)
{
        if ((unsigned)k >= VG_TPL_COUNT_)
                return "?";
        return files[k][lang == VG_LANG_EN];
}

static const struct vg_builtin_template *builtin(const char *file)
{
        for (const struct vg_builtin_template *b = vg_builtin_templates; b->name; b++)
                if (strcmp(b->name, file) == 0)
                        return b;
        return NULL;
}

/* Reads a regular file of at most VG_TEMPLATE_MAX_SIZE bytes. -ENOENT when absent. */
static int read_small(const char *path, char **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        int e = 0;
        char *buf = NULL;
        size_t n = 0;
        if (fstat(fd, &st) < 0)
                e = -errno;
        else if (!S_ISREG(st.st_mode))
                e = -EINVAL;
        else if (st.st_size > VG_TEMPLATE_MAX_SIZE)
                e = -E2BIG;
        else if (!(buf = malloc((size_t)st.st_size + 1)))
                e = -ENOMEM;
        while (e == 0 && n < (size_t)st.st_size) {
                ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        e = r < 0 ? -errno : -EIO;
                        break;
                }
                n += (size_t)r;
        }
        close(fd);
        if (e < 0) {
                free(buf);
                return e;
        }
        buf[n] = '\0';
        *ret = buf;
        *ret_len = n;
        return 0;
}

static void add_warning(char *warn, size_t warnsz, const char *line)
{
        size_t used = strlen(warn);
        if (used + 1 < warnsz)
                snprintf(warn + used, warnsz - used, "%s%s", used ? "\n" : "", line);
}

int vg_templates_load(const char *dir, struct vg_templates **ret, char *warn, size_t warnsz)
{
        struct vg_templates *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        if (warnsz)
                warn[0] = '\0';
        for (unsigned k = 0; k < VG_TPL_COUNT_; k++) {
                for (unsigned l = 0; l < NLANG; l++) {
                        const char *file = vg_template_file(k, l ? VG_LANG_EN : VG_LANG_FR);
                        char path[4096], err[512], line[4700];
                        char *text = NULL;
                        size_t len = 0;
                        int e = -ENOENT;
                        if (dir && *dir &&
                            snprintf(path, sizeof(path), "%s/%s", dir, file) < (int)sizeof(path))
                                e = read_small(path, &text, &len);
                        if (e == 0) {
                                e = vg_template_parse(text, len, &s->t[k][l], err, sizeof(err));
                                free(text);
                                if (e == -ENOMEM)
                                        goto nomem;
                                if (e == 0 && !(s->origin[k][l] = strdup(path)))
                                        goto nomem;
                                if (e < 0) {
                                        snprintf(line, sizeof(line),
                                                 "%s: %s (the built-in template is used)", path,
                                                 err);
                                        add_warning(warn, warnsz, line);
                                }
                        } else if (e != -ENOENT) {
                                if (e == -ENOMEM)
                                        goto nomem;
                                snprintf(line, sizeof(line),
                                         "%s: cannot be read: %s (the built-in template is used)",
                                         path, strerror(-e));
                                add_warning(warn, warnsz, line);
                        }
                        if (s->t[k][l])
                                continue;
                        const struct vg_builtin_template *b = builtin(file);
                        /* The built-in copies are checked by the unit tests: a
                         * failure here is a build mistake or memory. */
                        e = b ? vg_template_parse(b->text, b->len, &s->t[k][l], err, sizeof(err))
                              : -ENOENT;
                        if (e < 0) {
                                vg_templates_free(s);
                                return e == -ENOMEM ? e : -EINVAL;
                        }
                }
        }
        *ret = s;
        return 0;
nomem:
        vg_templates_free(s);
        return -ENOMEM;
}

void vg_templates_free(struct vg_templates *s)
{
        if (!s)
                return;
        for (unsigned k = 0; k < VG_TPL_COUNT_; k++)
                for (unsigned l = 0; l < NLANG; l++) {
                        vg_template_free(s->t[k][l]);
                        free(s->origin[k][l]);
                }
        free(s);
}

const struct vg_template *vg_templates_get(const struct vg_templates *s, enum vg_template_kind k,
                                           enum vg_lang lang)
{
        if ((unsigned)k >= VG_TPL_COUNT_)
                return NULL;
        return s->t[k][lang == VG_LANG_EN];
}

const char *vg_templates_origin(const struct vg_templates *s, enum vg_template_kind k,
                                enum vg_lang lang)
{
        if ((unsigned)k >= VG_TPL_COUNT_)
                return "?";
        const char *o = s->origin[k][lang == VG_LANG_EN];
        return o ? o : "built-in";
}

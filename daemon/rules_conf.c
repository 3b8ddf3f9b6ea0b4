#include "rules_conf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RULES_FILES 1000
#define MAX_MARKINGS    1000
#define CONTEXT_MAX     64

struct rctx {
        const char *file;
        char *err;
        size_t errsz;
};

__attribute__((format(printf, 3, 4))) static int fail(struct rctx *c, const config_setting_t *s,
                                                      const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(c->err, c->errsz, "%s:%u: %s", c->file, s ? config_setting_source_line(s) : 0,
                 msg);
        return -EINVAL;
}

bool vg_rules_conf_valid_id(const char *id)
{
        size_t n = strlen(id);
        if (n < 2 || n > 47 || id[0] < 'a' || id[0] > 'z')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') ||
                      id[i] == '_'))
                        return false;
        return true;
}

const struct vg_custom_rule *vg_rules_conf_find(const struct vg_custom *c, const char *id)
{
        for (size_t i = 0; c && i < c->nrules; i++)
                if (strcmp(c->rules[i].id, id) == 0)
                        return &c->rules[i];
        return NULL;
}

/* Folds a phrase as the engine folds text (lower case, accents removed), white
 * space squeezed and trimmed. NULL on ENOMEM. */
static char *fold_phrase(const char *s, size_t n)
{
        char *f = malloc(2 * n + 1);
        if (!f)
                return NULL;
        size_t fl = vg_fold(s, n, f, NULL), o = 0;
        for (size_t i = 0; i < fl; i++) {
                char c = f[i];
                bool sp = c == ' ' || c == '\t' || c == '\r' || c == '\n';
                if (sp && (o == 0 || f[o - 1] == ' '))
                        continue;
                f[o++] = sp ? ' ' : c;
        }
        while (o > 0 && f[o - 1] == ' ')
                o--;
        f[o] = '\0';
        return f;
}

/* A phrase must hold two letters or digits: "--" would match every separator. */
static bool phrase_ok(const char *f)
{
        size_t w = 0, n = strlen(f);
        for (size_t i = 0; i < n; i++)
                w += (f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') ||
                     (unsigned char)f[i] >= 0xc0;
        return w >= 2 && n <= VG_TERM_MAX_BYTES;
}

static int strv_push(char ***v, size_t *n, char *s)
{
        char **nv = reallocarray(*v, *n + 2, sizeof(**v));
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

/* A list of phrases (terms, context words, markings), folded. */
static int phrase_list(struct rctx *c, const config_setting_t *s, const char *what, size_t max,
                       char ***v, size_t *n)
{
        if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return fail(c, s, "'%s' must be a list of strings, as [ \"a\", \"b\" ]", what);
        int len = config_setting_length(s);
        if ((size_t)len > max)
                return fail(c, s, "'%s' holds more than %zu entries", what, max);
        for (int i = 0; i < len; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
                const char *t = config_setting_get_string(e);
                if (!t)
                        return fail(c, e, "'%s' must hold strings only", what);
                char *f = fold_phrase(t, strlen(t));
                if (!f)
                        return -ENOMEM;
                if (!phrase_ok(f)) {
                        free(f);
                        return fail(c, e,
                                    "'%s': \"%.60s\" must hold at least two letters or digits "
                                    "and at most %u bytes",
                                    what, t, VG_TERM_MAX_BYTES);
                }
                int e2 = strv_push(v, n, f);
                if (e2 < 0)
                        return e2;
        }
        return 0;
}

/* Reads a dictionary: one term per line, '#' starts a comment line. */
static int read_dictionary(struct rctx *c, const config_setting_t *s, const char *rules_file,
                           const char *name, struct vg_custom_rule *r)
{
        char path[4096];
        const char *slash = strrchr(rules_file, '/');
        int w = name[0] == '/' || !slash ? snprintf(path, sizeof(path), "%s", name)
                                         : snprintf(path, sizeof(path), "%.*s/%s",
                                                    (int)(slash - rules_file), rules_file, name);
        if (w < 0 || (size_t)w >= sizeof(path))
                return fail(c, s, "dictionary path too long");
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (fd < 0)
                return fail(c, s, "dictionary '%s': %s", path, strerror(errno));
        char *data = NULL;
        int e = 0;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                e = fail(c, s, "dictionary '%s' is not a regular file", path);
                goto out;
        }
        if ((uint64_t)st.st_size > VG_DICT_MAX_BYTES) {
                e = fail(c, s, "dictionary '%s' is larger than %u bytes", path, VG_DICT_MAX_BYTES);
                goto out;
        }
        size_t size = (size_t)st.st_size, got = 0;
        if (!(data = malloc(size + 1))) {
                e = -ENOMEM;
                goto out;
        }
        while (got < size) {
                ssize_t k = read(fd, data + got, size - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        e = fail(c, s, "dictionary '%s': cannot read it", path);
                        goto out;
                }
                got += (size_t)k;
        }
        data[size] = '\0';
        /* errors inside the dictionary name its own lines */
        struct rctx dc = {.file = path, .err = c->err, .errsz = c->errsz};
        unsigned line = 0;
        for (size_t i = 0; i < size;) {
                size_t j = i;
                while (j < size && data[j] != '\n')
                        j++;
                line++;
                const char *t = data + i;
                size_t n = j - i;
                i = j + 1;
                if (n >= 3 && (unsigned char)t[0] == 0xef && (unsigned char)t[1] == 0xbb &&
                    (unsigned char)t[2] == 0xbf && line == 1) {
                        t += 3; /* a byte-order mark */
                        n -= 3;
                }
                while (n > 0 && (t[0] == ' ' || t[0] == '\t')) {
                        t++;
                        n--;
                }
                if (n == 0 || t[0] == '#' || (n == 1 && t[0] == '\r'))
                        continue;
                if (memchr(t, '\0', n)) {
                        snprintf(dc.err, dc.errsz, "%s:%u: a NUL byte in a term", path, line);
                        e = -EINVAL;
                        goto out;
                }
                if (r->nterms >= VG_DICT_MAX_TERMS) {
                        snprintf(dc.err, dc.errsz, "%s:%u: more than %u terms", path, line,
                                 VG_DICT_MAX_TERMS);
                        e = -EINVAL;
                        goto out;
                }
                char *f = fold_phrase(t, n);
                if (!f) {
                        e = -ENOMEM;
                        goto out;
                }
                if (!phrase_ok(f)) {
                        free(f);
                        snprintf(dc.err, dc.errsz,
                                 "%s:%u: a term must hold at least two letters or digits and at "
                                 "most %u bytes",
                                 path, line, VG_TERM_MAX_BYTES);
                        e = -EINVAL;
                        goto out;
                }
                if ((e = strv_push(&r->terms, &r->nterms, f)) < 0)
                        goto out;
        }
        if (r->nterms == 0)
                e = fail(c, s, "dictionary '%s' holds no term", path);
out:
        free(data);
        close(fd);
        return e;
}

static int get_uint(struct rctx *c, const config_setting_t *s, const char *what, long long lo,
                    long long hi, uint64_t *ret)
{
        int t = config_setting_type(s);
        long long x = config_setting_get_int64(s);
        if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || x < lo || x > hi)
                return fail(c, s, "'%s' must be an integer from %lld to %lld", what, lo, hi);
        *ret = (uint64_t)x;
        return 0;
}

static int get_string(struct rctx *c, const config_setting_t *s, const char *what, const char **ret)
{
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return fail(c, s, "'%s' must be a string in double quotes", what);
        *ret = config_setting_get_string(s);
        return 0;
}

/* Adds r to c, replacing the rule of the same id; takes r's contents. */
static int put_rule(struct vg_custom *c, struct vg_custom_rule *r, bool enabled)
{
        for (size_t i = 0; i < c->nrules; i++) {
                if (strcmp(c->rules[i].id, r->id) != 0)
                        continue;
                vg_custom_rule_clear(&c->rules[i]);
                if (enabled) {
                        c->rules[i] = *r;
                } else {
                        memmove(&c->rules[i], &c->rules[i + 1],
                                (c->nrules - i - 1) * sizeof(*c->rules));
                        c->nrules--;
                        vg_custom_rule_clear(r);
                }
                memset(r, 0, sizeof(*r));
                return 0;
        }
        if (!enabled) {
                vg_custom_rule_clear(r);
                return 0;
        }
        struct vg_custom_rule *nr = reallocarray(c->rules, c->nrules + 1, sizeof(*nr));
        if (!nr)
                return -ENOMEM;
        c->rules = nr;
        c->rules[c->nrules++] = *r;
        memset(r, 0, sizeof(*r));
        return 0;
}

static const char *const show_names[] = {"masked", "hidden", "value", NULL};

static int parse_rule(struct rctx *c, const config_setting_t *g, struct vg_custom *cust)
{
        if (!config_setting_is_group(g))
                return fail(c, g, "each rule must be a group { id = ...; pattern = ...; }");
        struct vg_custom_rule r = {.threshold = 1, .line = config_setting_source_line(g)};
        bool enabled = true, has_show = false;
        const char *dict = NULL;
        const config_setting_t *dict_s = NULL, *terms_s = NULL, *pattern_s = NULL;
        char where[64];
        int e = 0;
        if (!(r.file = strdup(c->file)))
                return -ENOMEM;
        int n = config_setting_length(g);
        for (int i = 0; i < n && e == 0; i++) {
                const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
                const char *key = config_setting_name(s);
                const char *v = NULL;
                uint64_t x = 0;
                if (strcmp(key, "id") == 0) {
                        if ((e = get_string(c, s, "id", &v)) < 0)
                                break;
                        if (!vg_rules_conf_valid_id(v))
                                e = fail(c, s,
                                         "id '%.60s' must be 2 to 47 characters a-z, 0-9 or '_', "
                                         "starting with a letter",
                                         v);
                        else if (vg_detector_builtin(v))
                                e = fail(c, s, "id '%s' is a built-in detector", v);
                        else if (!(r.id = strdup(v)))
                                e = -ENOMEM;
                } else if (strcmp(key, "pattern") == 0) {
                        if ((e = get_string(c, s, "pattern", &v)) < 0)
                                break;
                        char why[256];
                        pattern_s = s;
                        if (vg_custom_pattern_check(v, why, sizeof(why)) < 0)
                                e = fail(c, s, "pattern: %s", why);
                        else if (!(r.pattern = strdup(v)))
                                e = -ENOMEM;
                } else if (strcmp(key, "dictionary") == 0) {
                        dict_s = s;
                        e = get_string(c, s, "dictionary", &dict);
                } else if (strcmp(key, "terms") == 0) {
                        terms_s = s;
                        e = phrase_list(c, s, "terms", VG_DICT_MAX_TERMS, &r.terms, &r.nterms);
                } else if (strcmp(key, "validator") == 0) {
                        if ((e = get_string(c, s, "validator", &v)) < 0)
                                break;
                        int k = vg_validator_from_name(v);
                        if (k < 0)
                                e = fail(c, s,
                                         "validator must be \"none\", \"luhn\", \"iban\" or "
                                         "\"nir\"");
                        else
                                r.validator = (enum vg_validator)k;
                } else if (strcmp(key, "context") == 0) {
                        size_t cn = 0;
                        e = phrase_list(c, s, "context", CONTEXT_MAX, &r.context, &cn);
                        if (e == 0 && cn == 0)
                                e = fail(c, s, "'context' must not be empty (leave it out)");
                } else if (strcmp(key, "window") == 0) {
                        if ((e = get_uint(c, s, "window", 1, VG_MAX_WINDOW, &x)) == 0)
                                r.window = (unsigned)x;
                } else if (strcmp(key, "threshold") == 0) {
                        e = get_uint(c, s, "threshold", 1, 1000000, &r.threshold);
                } else if (strcmp(key, "show") == 0) {
                        if ((e = get_string(c, s, "show", &v)) < 0)
                                break;
                        int k = 0;
                        while (show_names[k] && strcmp(show_names[k], v) != 0)
                                k++;
                        if (!show_names[k])
                                e = fail(c, s, "show must be \"masked\", \"hidden\" or \"value\"");
                        r.show = (enum vg_show)k;
                        has_show = true;
                } else if (strcmp(key, "enabled") == 0) {
                        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                                e = fail(c, s, "'enabled' must be true or false");
                        enabled = config_setting_get_bool(s);
                } else {
                        e = fail(c, s, "unknown key '%s' in a rule", key);
                }
        }
        if (e < 0)
                goto out;
        if (!r.id) {
                e = fail(c, g, "a rule needs an id");
                goto out;
        }
        if (!enabled) {
                e = put_rule(cust, &r, false);
                goto out;
        }
        snprintf(where, sizeof(where), "rule '%s'", r.id);
        int kinds = !!pattern_s + !!dict_s + !!terms_s;
        if (kinds != 1) {
                e = fail(c, g, "%s needs exactly one of pattern, dictionary or terms", where);
                goto out;
        }
        if (dict_s && (e = read_dictionary(c, dict_s, c->file, dict, &r)) < 0)
                goto out;
        if (r.terms) {
                if (r.validator != VG_VALIDATOR_NONE) {
                        e = fail(c, g, "%s: a validator applies to patterns only", where);
                        goto out;
                }
                /* the admin's own words: shown as written unless told otherwise */
                if (!has_show)
                        r.show = VG_SHOW_VALUE;
                int te = vg_custom_terms_check((const char *const *)r.terms, r.nterms);
                if (te == -E2BIG)
                        e = fail(c, dict_s ? dict_s : terms_s,
                                 "%s: %zu terms are too many to compile together: split them "
                                 "into several dictionaries",
                                 where, r.nterms);
                else if (te < 0)
                        e = te == -ENOMEM ? te : fail(c, g, "%s: the terms do not compile", where);
                if (e < 0)
                        goto out;
        }
        e = put_rule(cust, &r, true);
out:
        vg_custom_rule_clear(&r);
        return e;
}

int vg_rules_conf_load_file(const char *path, struct vg_custom *cust, char *err, size_t errsz)
{
        struct rctx c = {.file = path, .err = err, .errsz = errsz};
        config_t lc;
        config_init(&lc);
        char dir[4096];
        const char *slash = strrchr(path, '/');
        if (slash && (size_t)(slash - path) < sizeof(dir)) {
                memcpy(dir, path, (size_t)(slash - path));
                dir[slash - path] = '\0';
                config_set_include_dir(&lc, dir);
        }
        int e = 0;
        if (config_read_file(&lc, path) != CONFIG_TRUE) {
                if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
                        snprintf(err, errsz, "%s: cannot read the file: %s", path,
                                 strerror(errno ? errno : EIO));
                else
                        snprintf(err, errsz, "%s:%d: %s", path, config_error_line(&lc),
                                 config_error_text(&lc));
                e = -EINVAL;
                goto out;
        }
        const config_setting_t *root = config_root_setting(&lc);
        int n = config_setting_length(root);
        for (int i = 0; i < n && e == 0; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
                const char *key = config_setting_name(s);
                if (strcmp(key, "rules") == 0) {
                        if (!config_setting_is_list(s) &&
                            !(config_setting_is_array(s) && !config_setting_length(s))) {
                                e = fail(&c, s,
                                         "'rules' must be a list of groups, as rules = ( "
                                         "{ id = ...; pattern = ...; } );");
                                break;
                        }
                        int m = config_setting_length(s);
                        for (int k = 0; k < m && e == 0; k++)
                                e = parse_rule(&c, config_setting_get_elem(s, (unsigned)k), cust);
                } else if (strcmp(key, "markings") == 0) {
                        e = phrase_list(&c, s, "markings", MAX_MARKINGS - cust->nmarkings,
                                        &cust->markings, &cust->nmarkings);
                } else if (strcmp(key, "health") == 0) {
                        if (!config_setting_is_group(s)) {
                                e = fail(&c, s,
                                         "'health' must be a group, as health = { "
                                         "threshold = 12; };");
                                break;
                        }
                        int m = config_setting_length(s);
                        for (int k = 0; k < m && e == 0; k++) {
                                const config_setting_t *h = config_setting_get_elem(s, (unsigned)k);
                                uint64_t x = 0;
                                if (strcmp(config_setting_name(h), "threshold") != 0)
                                        e = fail(&c, h, "unknown key 'health.%s'",
                                                 config_setting_name(h));
                                else if ((e = get_uint(&c, h, "health.threshold", 1, 1000, &x)) ==
                                         0)
                                        cust->health_threshold = (unsigned)x;
                        }
                } else {
                        e = fail(&c, s,
                                 "unknown key '%s' (a rules file holds rules, markings and "
                                 "health)",
                                 key);
                }
        }
        if (e == -ENOMEM)
                snprintf(err, errsz, "%s: out of memory", path);
out:
        config_destroy(&lc);
        return e;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_conf(const char *name)
{
        size_t n = strlen(name);
        return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

static int load_dir(const char *dir, struct vg_custom *cust, char *err, size_t errsz)
{
        DIR *d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0; /* nothing shipped, nothing added */
                snprintf(err, errsz, "%s: cannot read the folder: %s", dir, strerror(errno));
                return -EINVAL;
        }
        char **names = NULL;
        size_t n = 0;
        int e = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_conf(de->d_name))
                        continue;
                if (n >= MAX_RULES_FILES) {
                        snprintf(err, errsz, "%s: more than %d rules files", dir, MAX_RULES_FILES);
                        e = -EINVAL;
                        break;
                }
                char **nn = reallocarray(names, n + 1, sizeof(*nn));
                if (!nn || !(nn[n] = strdup(de->d_name))) {
                        names = nn ? nn : names;
                        e = -ENOMEM;
                        break;
                }
                names = nn;
                n++;
        }
        closedir(d);
        if (e == 0 && n > 1)
                qsort(names, n, sizeof(*names), name_cmp);
        for (size_t i = 0; i < n && e == 0; i++) {
                char path[4096];
                int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                struct stat st;
                if (w < 0 || (size_t)w >= sizeof(path)) {
                        snprintf(err, errsz, "%s: path too long", dir);
                        e = -EINVAL;
                } else if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                        continue; /* a folder named x.conf */
                } else {
                        e = vg_rules_conf_load_file(path, cust, err, errsz);
                }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        if (e == -ENOMEM)
                snprintf(err, errsz, "%s: out of memory", dir);
        return e;
}

int vg_rules_conf_load(const struct vg_strlist *dirs, struct vg_custom **ret, char *err,
                       size_t errsz)
{
        struct vg_custom *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; dirs && i < dirs->n; i++) {
                if (!dirs->v[i])
                        continue;
                int e = load_dir(dirs->v[i], c, err, errsz);
                if (e < 0) {
                        vg_custom_free(c);
                        return e;
                }
        }
        *ret = c;
        return 0;
}

int vg_rules_conf_policy_defaults(const struct vg_custom *c, struct vg_policy *p)
{
        for (size_t i = 0; c && i < c->nrules; i++) {
                if (vg_policy_rule(p, c->rules[i].id))
                        continue;
                int e = vg_policy_set(p, c->rules[i].id, c->rules[i].threshold,
                                      VG_ACTION_QUARANTINE, false);
                if (e < 0)
                        return e;
        }
        return 0;
}

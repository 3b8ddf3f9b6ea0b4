#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules_conf.h"

#ifndef VIGIE_SYSCONFDIR
#define VIGIE_SYSCONFDIR "/etc/vigie"
#endif

enum opt_type {
        T_BOOL,
        T_UINT,
        T_SIZE,
        T_STRING,
        T_STRLIST,
        T_ENUM, /* a string from `values` */
        T_GROUP,
        T_CUSTOM,
};

struct ctx {
        const char *file;
        char *err;
        size_t errsz;
};

struct opt {
        const char *name;
        enum opt_type type;
        size_t offset;
        uint64_t min, max;
        const char *def; /* default, written as it would be in the file */
        const struct opt *children;
        const char *const *values;
        int (*custom)(struct ctx *c, const config_setting_t *s, struct vg_config *cfg);
};

#define OFF(f) offsetof(struct vg_config, f)

static int parse_policies(struct ctx *c, const config_setting_t *s, struct vg_config *cfg);
static int parse_routes(struct ctx *c, const config_setting_t *s, struct vg_config *cfg);
static int parse_webhooks(struct ctx *c, const config_setting_t *s, struct vg_config *cfg);
static int parse_relay(struct ctx *c, const config_setting_t *s, struct vg_config *cfg);

static const char *const languages[] = {"fr", "en", NULL};
static const char *const image_modes[] = {"pass", "hold", NULL};

static const struct opt limits_opts[] = {
    {"max_file_size", T_SIZE, OFF(limits.max_file_size), 1, UINT64_MAX, "200M", 0, 0, 0},
    {"max_expanded", T_SIZE, OFF(limits.max_expanded), 1, UINT64_MAX, "1G", 0, 0, 0},
    {"max_ratio", T_UINT, OFF(limits.max_ratio), 2, 1000000, "1000", 0, 0, 0},
    {"max_depth", T_UINT, OFF(limits.max_depth), 1, 64, "16", 0, 0, 0},
    {"max_members", T_UINT, OFF(limits.max_members), 1, 10000000, "10000", 0, 0, 0},
    {"max_scan_time", T_UINT, OFF(limits.max_scan_time), 1, 86400, "60", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt workers_opts[] = {
    {"count", T_UINT, OFF(workers_count), 0, 256, "0", 0, 0, 0},
    {"memory", T_SIZE, OFF(workers_memory), 64u << 20, UINT64_MAX, "256M", 0, 0, 0},
    {"tmpdir", T_STRING, OFF(workers_tmpdir), 0, 0, "/tmp", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt store_opts[] = {
    {"dir", T_STRING, OFF(store_dir), 0, 0, "/var/lib/vigie", 0, 0, 0},
    {"retention_days", T_UINT, OFF(retention_days), 1, 36500, "30", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt control_opts[] = {
    {"socket", T_STRING, OFF(control_socket), 0, 0, "/run/vigie/control.sock", 0, 0, 0},
    {"admin_group", T_STRING, OFF(admin_group), 0, 0, "vigie-admin", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt rules_opts[] = {
    {"dirs", T_STRLIST, OFF(rules_dirs), 0, 0,
     "[ \"/usr/share/vigie/rules.d\", \"/etc/vigie/rules.d\" ]", 0, 0, 0},
    {"images", T_ENUM, OFF(images), 0, 0, "pass", 0, image_modes, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt mail_opts[] = {
    {"relay", T_CUSTOM, 0, 0, 0, "\"smtp://127.0.0.1:25\"", 0, 0, parse_relay},
    {"from", T_STRING, OFF(mail_from), 0, 0, "vigie@localhost", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt alerts_opts[] = {
    {"language", T_ENUM, OFF(language), 0, 0, "fr", 0, languages, 0},
    {"admins", T_STRLIST, OFF(admins), 0, 0, "[ ]", 0, 0, 0},
    {"mail", T_GROUP, 0, 0, 0, NULL, mail_opts, 0, 0},
    {"webhooks", T_CUSTOM, 0, 0, 0, NULL, 0, 0, parse_webhooks},
    {"templates", T_STRING, OFF(templates_dir), 0, 0, "/etc/vigie/templates", 0, 0, 0},
    {"charter", T_STRING, OFF(charter), 0, 0, "", 0, 0, 0},
    {"notice_domain", T_STRING, OFF(notice_domain), 0, 0, "", 0, 0, 0},
    {"rate_limit", T_UINT, OFF(alert_rate_limit), 0, 100000, "10", 0, 0, 0},
    {"digest_interval", T_UINT, OFF(alert_digest_interval), 0, 86400, "300", 0, 0, 0},
    {"retry_min", T_UINT, OFF(alert_retry_min), 1, 86400, "30", 0, 0, 0},
    {"retry_max", T_UINT, OFF(alert_retry_max), 1, 86400, "1800", 0, 0, 0},
    {"expire", T_UINT, OFF(alert_expire), 60, 31536000, "259200", 0, 0, 0},
    {"timeout", T_UINT, OFF(alert_timeout), 1, 600, "30", 0, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

static const struct opt top_opts[] = {
    {"limits", T_GROUP, 0, 0, 0, NULL, limits_opts, 0, 0},
    {"workers", T_GROUP, 0, 0, 0, NULL, workers_opts, 0, 0},
    {"store", T_GROUP, 0, 0, 0, NULL, store_opts, 0, 0},
    {"control", T_GROUP, 0, 0, 0, NULL, control_opts, 0, 0},
    {"rules", T_GROUP, 0, 0, 0, NULL, rules_opts, 0, 0},
    {"policies", T_CUSTOM, 0, 0, 0, NULL, 0, 0, parse_policies},
    {"routes", T_CUSTOM, 0, 0, 0, NULL, 0, 0, parse_routes},
    {"alerts", T_GROUP, 0, 0, 0, NULL, alerts_opts, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0, 0},
};

__attribute__((format(printf, 3, 4))) static int fail(struct ctx *c, const config_setting_t *s,
                                                      const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        unsigned line = s ? config_setting_source_line(s) : 0;
        snprintf(c->err, c->errsz, "%s:%u: %s", c->file, line, msg);
        return -EINVAL;
}

/* The dotted path of a setting, for messages: routes.[1].watch */
static void path_of(const config_setting_t *s, char *out, size_t n)
{
        const config_setting_t *chain[32];
        size_t k = 0;
        for (const config_setting_t *p = s; p && config_setting_parent(p) && k < 32;
             p = config_setting_parent(p))
                chain[k++] = p;
        size_t o = 0;
        out[0] = '\0';
        while (k-- > 0 && o < n) {
                const config_setting_t *p = chain[k];
                const char *nm = config_setting_name(p);
                int w = nm ? snprintf(out + o, n - o, "%s%s", o ? "." : "", nm)
                           : snprintf(out + o, n - o, "[%d]", config_setting_index(p));
                if (w < 0)
                        break;
                o += (size_t)w;
        }
}

int vg_parse_size(const char *s, uint64_t *ret)
{
        char *end;
        errno = 0;
        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno)
                return -ERANGE;
        unsigned shift = 0;
        switch (*end) {
        case 'K':
        case 'k':
                shift = 10;
                end++;
                break;
        case 'M':
        case 'm':
                shift = 20;
                end++;
                break;
        case 'G':
        case 'g':
                shift = 30;
                end++;
                break;
        case 'T':
        case 't':
                shift = 40;
                end++;
                break;
        default:
                break;
        }
        if (*end == 'B' || *end == 'b')
                end++;
        if (*end != '\0')
                return -EINVAL;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t)v << shift;
        return 0;
}

static int set_string(char **dst, const char *v)
{
        char *d = strdup(v);
        if (!d)
                return -ENOMEM;
        free(*dst);
        *dst = d;
        return 0;
}

static void strlist_free(struct vg_strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        l->v = NULL;
        l->n = 0;
}

static int get_strlist(struct ctx *c, const config_setting_t *s, struct vg_strlist *out)
{
        char name[256];
        path_of(s, name, sizeof(name));
        if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return fail(c, s, "'%s' must be a list of strings, as [ \"a\", \"b\" ]", name);
        struct vg_strlist l = {0};
        int n = config_setting_length(s);
        l.v = calloc((size_t)n + 1, sizeof(char *));
        if (!l.v)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                const char *v = config_setting_get_string_elem(s, i);
                if (!v) {
                        strlist_free(&l);
                        return fail(c, s, "'%s' must hold strings only", name);
                }
                if (!(l.v[l.n++] = strdup(v))) {
                        strlist_free(&l);
                        return -ENOMEM;
                }
        }
        strlist_free(out);
        *out = l;
        return 0;
}

/* Applies one setting according to its row. */
static int apply(struct ctx *c, const struct opt *o, const config_setting_t *s,
                 struct vg_config *cfg);

static int apply_group(struct ctx *c, const struct opt *opts, const config_setting_t *g,
                       struct vg_config *cfg)
{
        char name[256];
        if (!config_setting_is_group(g)) {
                path_of(g, name, sizeof(name));
                return fail(c, g, "'%s' must be a group, as %s = { ... };", name, name);
        }
        int n = config_setting_length(g);
        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
                const char *key = config_setting_name(s);
                const struct opt *o = opts;
                while (o->name && strcmp(o->name, key) != 0)
                        o++;
                if (!o->name) {
                        path_of(s, name, sizeof(name));
                        return fail(c, s, "unknown key '%s'", name);
                }
                int e = apply(c, o, s, cfg);
                if (e < 0)
                        return e;
        }
        return 0;
}

static int apply(struct ctx *c, const struct opt *o, const config_setting_t *s,
                 struct vg_config *cfg)
{
        char name[256];
        path_of(s, name, sizeof(name));
        void *field = (char *)cfg + o->offset;
        int type = config_setting_type(s);
        switch (o->type) {
        case T_GROUP:
                return apply_group(c, o->children, s, cfg);
        case T_CUSTOM:
                return o->custom(c, s, cfg);
        case T_BOOL:
                if (type != CONFIG_TYPE_BOOL)
                        return fail(c, s, "'%s' must be true or false", name);
                *(bool *)field = config_setting_get_bool(s);
                return 0;
        case T_UINT:
        case T_SIZE: {
                uint64_t v;
                if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
                        long long x = config_setting_get_int64(s);
                        if (x < 0)
                                return fail(c, s, "'%s' must not be negative", name);
                        v = (uint64_t)x;
                } else if (o->type == T_SIZE && type == CONFIG_TYPE_STRING) {
                        if (vg_parse_size(config_setting_get_string(s), &v) < 0)
                                return fail(c, s,
                                            "'%s' must be a size such as \"512K\", \"200M\" or "
                                            "\"1G\"",
                                            name);
                } else {
                        return fail(c, s, "'%s' must be %s", name,
                                    o->type == T_SIZE ? "a size such as \"200M\"" : "an integer");
                }
                if (v < o->min || v > o->max)
                        return fail(c, s, "'%s' must be between %llu and %llu", name,
                                    (unsigned long long)o->min, (unsigned long long)o->max);
                *(uint64_t *)field = v;
                return 0;
        }
        case T_STRING:
        case T_ENUM: {
                if (type != CONFIG_TYPE_STRING)
                        return fail(c, s, "'%s' must be a string in double quotes", name);
                const char *v = config_setting_get_string(s);
                if (o->type == T_ENUM) {
                        const char *const *p = o->values;
                        while (*p && strcmp(*p, v) != 0)
                                p++;
                        if (!*p) {
                                char allowed[128] = "";
                                for (p = o->values; *p; p++) {
                                        strncat(allowed, p == o->values ? "\"" : ", \"",
                                                sizeof(allowed) - strlen(allowed) - 1);
                                        strncat(allowed, *p, sizeof(allowed) - strlen(allowed) - 1);
                                        strncat(allowed, "\"",
                                                sizeof(allowed) - strlen(allowed) - 1);
                                }
                                return fail(c, s, "'%s' must be one of %s", name, allowed);
                        }
                }
                return set_string((char **)field, v);
        }
        case T_STRLIST:
                return get_strlist(c, s, (struct vg_strlist *)field);
        }
        return -EINVAL;
}

/* Defaults come from the `def` column, parsed exactly as the file would be. */
static int apply_defaults(struct ctx *c, const struct opt *opts, struct vg_config *cfg)
{
        for (const struct opt *o = opts; o->name; o++) {
                if (o->type == T_GROUP) {
                        int e = apply_defaults(c, o->children, cfg);
                        if (e < 0)
                                return e;
                        continue;
                }
                if (!o->def)
                        continue;
                char text[512];
                snprintf(text, sizeof(text), "%s = %s%s%s;", o->name,
                         o->type == T_STRING || o->type == T_ENUM || o->type == T_SIZE ? "\"" : "",
                         o->def,
                         o->type == T_STRING || o->type == T_ENUM || o->type == T_SIZE ? "\"" : "");
                config_t lc;
                config_init(&lc);
                int e = -EINVAL;
                if (config_read_string(&lc, text) == CONFIG_TRUE) {
                        const config_setting_t *s = config_lookup(&lc, o->name);
                        e = s ? apply(c, o, s, cfg) : -EINVAL;
                }
                config_destroy(&lc);
                if (e < 0)
                        return e;
        }
        return 0;
}

static const char *const known_detectors[] = {
    "fr_nir",       "iban",     "fr_rib",   "credit_card", "fr_tax_id",   "fr_driving_licence",
    "fr_health_id", "email",    "phone_fr", "fr_cni",      "fr_passport", "secret_key",
    "api_token",    "password", "marking",  "health",      NULL,
};

static int parse_action(struct ctx *c, const config_setting_t *s, bool allow_ignore,
                        enum vg_action *ret, bool *ignore)
{
        char name[256];
        path_of(s, name, sizeof(name));
        const char *v = config_setting_get_string(s);
        if (v && allow_ignore && strcmp(v, "ignore") == 0) {
                *ignore = true;
                *ret = VG_ACTION_PASS;
                return 0;
        }
        int a = v ? vg_action_from_name(v) : -EINVAL;
        if (a < 0)
                return fail(c, s,
                            "'%s' must be one of \"quarantine\", \"redact\", \"alert\", "
                            "\"pass\"%s",
                            name, allow_ignore ? ", \"ignore\"" : "");
        *ret = (enum vg_action)a;
        *ignore = false;
        return 0;
}

static int parse_policy(struct ctx *c, const config_setting_t *g, struct vg_policy *p)
{
        char name[256];
        int n = config_setting_length(g);
        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
                const char *key = config_setting_name(s);
                path_of(s, name, sizeof(name));
                if (strcmp(key, "mode") == 0) {
                        const char *v = config_setting_get_string(s);
                        if (!v || (strcmp(v, "enforce") && strcmp(v, "monitor")))
                                return fail(c, s, "'%s' must be \"enforce\" or \"monitor\"", name);
                        p->monitor = strcmp(v, "monitor") == 0;
                } else if (strcmp(key, "unscannable") == 0) {
                        bool ign;
                        int e = parse_action(c, s, false, &p->unscannable_action, &ign);
                        if (e < 0)
                                return e;
                } else if (strcmp(key, "detectors") == 0) {
                        if (!config_setting_is_group(s))
                                return fail(c, s, "'%s' must be a group of detectors", name);
                        int m = config_setting_length(s);
                        for (int k = 0; k < m; k++) {
                                const config_setting_t *d = config_setting_get_elem(s, (unsigned)k);
                                const char *id = config_setting_name(d);
                                char dname[256];
                                path_of(d, dname, sizeof(dname));
                                const char *const *kd = known_detectors;
                                while (*kd && strcmp(*kd, id) != 0)
                                        kd++;
                                /* custom ids are checked once rules.d is read (finish) */
                                if (!*kd && !vg_rules_conf_valid_id(id))
                                        return fail(c, d, "unknown detector '%s' in '%s'", id,
                                                    name);
                                if (!config_setting_is_group(d))
                                        return fail(c, d,
                                                    "'%s' must be a group, as { threshold = 1; "
                                                    "action = \"quarantine\"; }",
                                                    dname);
                                const struct vg_policy_rule *old = vg_policy_rule(p, id);
                                uint64_t threshold = old ? old->threshold : 1;
                                enum vg_action action = old ? old->action : VG_ACTION_QUARANTINE;
                                bool ignore = old ? old->ignore : false;
                                int q = config_setting_length(d);
                                for (int j = 0; j < q; j++) {
                                        const config_setting_t *f =
                                            config_setting_get_elem(d, (unsigned)j);
                                        const char *fk = config_setting_name(f);
                                        char fname[256];
                                        path_of(f, fname, sizeof(fname));
                                        if (strcmp(fk, "threshold") == 0) {
                                                int t = config_setting_type(f);
                                                long long x = config_setting_get_int64(f);
                                                if ((t != CONFIG_TYPE_INT &&
                                                     t != CONFIG_TYPE_INT64) ||
                                                    x < 1 || x > 1000000)
                                                        return fail(c, f,
                                                                    "'%s' must be an integer "
                                                                    "from 1 to 1000000",
                                                                    fname);
                                                threshold = (uint64_t)x;
                                        } else if (strcmp(fk, "action") == 0) {
                                                int e = parse_action(c, f, true, &action, &ignore);
                                                if (e < 0)
                                                        return e;
                                        } else {
                                                return fail(c, f, "unknown key '%s'", fname);
                                        }
                                }
                                int e = vg_policy_set(p, id, threshold, action, ignore);
                                if (e < 0)
                                        return e;
                        }
                } else {
                        return fail(c, s, "unknown key '%s'", name);
                }
        }
        return 0;
}

static int parse_policies(struct ctx *c, const config_setting_t *s, struct vg_config *cfg)
{
        if (!config_setting_is_group(s))
                return fail(c, s, "'policies' must be a group, as policies = { default = { }; };");
        int n = config_setting_length(s);
        for (int i = 0; i < n; i++) {
                const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
                const char *pname = config_setting_name(g);
                char name[256];
                path_of(g, name, sizeof(name));
                if (!config_setting_is_group(g))
                        return fail(c, g, "'%s' must be a group", name);
                struct vg_policy *p = (struct vg_policy *)vg_config_policy(cfg, pname);
                if (!p) {
                        struct vg_policy *np =
                            reallocarray(cfg->policies, cfg->npolicies + 1, sizeof(*np));
                        if (!np)
                                return -ENOMEM;
                        cfg->policies = np;
                        p = &cfg->policies[cfg->npolicies];
                        if (vg_policy_init(p, pname) < 0)
                                return -ENOMEM;
                        cfg->npolicies++;
                }
                int e = parse_policy(c, g, p);
                if (e < 0)
                        return e;
        }
        return 0;
}

static const char *const route_keys[] = {
    "name",
    "type",
    "mode",
    "watch",
    "deliver",
    "policy",
    "notice",
    "on_flagged",
    "settle",
    "ignore",
    "spool",
    "forward",
    "internal_domains",
    "ai_domains",
    "ai_domains_policy",
    "external_policy",
    "internal_policy",
    "tell_sender_on_delete",
    NULL,
};

static int route_string(struct ctx *c, const config_setting_t *s, char **dst)
{
        char name[256];
        path_of(s, name, sizeof(name));
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return fail(c, s, "'%s' must be a string in double quotes", name);
        return set_string(dst, config_setting_get_string(s));
}

static void route_clear(struct vg_route *r)
{
        free(r->name);
        free(r->watch);
        free(r->deliver);
        free(r->policy);
        free(r->spool);
        free(r->forward);
        free(r->ai_domains_policy);
        free(r->external_policy);
        free(r->internal_policy);
        strlist_free(&r->ignore);
        strlist_free(&r->internal_domains);
        strlist_free(&r->ai_domains);
}

void vg_route_free(struct vg_route *r)
{
        if (!r)
                return;
        route_clear(r);
        free(r);
}

static int strlist_copy(struct vg_strlist *dst, const struct vg_strlist *src)
{
        dst->n = 0;
        dst->v = calloc(src->n + 1, sizeof(char *));
        if (!dst->v)
                return -ENOMEM;
        for (size_t i = 0; i < src->n; i++) {
                if (!(dst->v[i] = strdup(src->v[i])))
                        return -ENOMEM;
                dst->n++;
        }
        return 0;
}

static int dup_opt(char **dst, const char *src)
{
        *dst = NULL;
        if (src && !(*dst = strdup(src)))
                return -ENOMEM;
        return 0;
}

struct vg_route *vg_route_copy(const struct vg_route *r)
{
        struct vg_route *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        *c = *r;
        int e = dup_opt(&c->name, r->name) | dup_opt(&c->watch, r->watch) |
                dup_opt(&c->deliver, r->deliver) | dup_opt(&c->policy, r->policy) |
                dup_opt(&c->spool, r->spool) | dup_opt(&c->forward, r->forward) |
                dup_opt(&c->ai_domains_policy, r->ai_domains_policy) |
                dup_opt(&c->external_policy, r->external_policy) |
                dup_opt(&c->internal_policy, r->internal_policy) |
                strlist_copy(&c->ignore, &r->ignore) |
                strlist_copy(&c->internal_domains, &r->internal_domains) |
                strlist_copy(&c->ai_domains, &r->ai_domains);
        if (e) {
                vg_route_free(c);
                return NULL;
        }
        return c;
}

static int parse_route(struct ctx *c, const config_setting_t *g, struct vg_route *r)
{
        char name[256];
        int n = config_setting_length(g);
        const char *type = NULL;
        r->notice = true;
        r->settle_ms = 1000;
        /* Office lock files, temporary and partial downloads: never decided. */
        static const char *const ignore_default[] = {"~$*", ".~lock.*", "*.tmp", "*.part",
                                                     "*.crdownload"};
        r->ignore.v = calloc(6, sizeof(char *));
        if (!r->ignore.v)
                return -ENOMEM;
        for (size_t i = 0; i < 5; i++)
                if (!(r->ignore.v[r->ignore.n++] = strdup(ignore_default[i])))
                        return -ENOMEM;
        r->line = config_setting_source_line(g);
        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
                const char *key = config_setting_name(s);
                const char *const *k = route_keys;
                path_of(s, name, sizeof(name));
                while (*k && strcmp(*k, key) != 0)
                        k++;
                if (!*k)
                        return fail(c, s, "unknown key '%s'", name);
                int e = 0;
                const char *v = config_setting_get_string(s);
                if (strcmp(key, "name") == 0)
                        e = route_string(c, s, &r->name);
                else if (strcmp(key, "type") == 0) {
                        if (!v || (strcmp(v, "folder") && strcmp(v, "mail")))
                                return fail(c, s, "'%s' must be \"folder\" or \"mail\"", name);
                        type = v;
                        r->type = strcmp(v, "mail") == 0 ? VG_ROUTE_MAIL : VG_ROUTE_FOLDER;
                } else if (strcmp(key, "mode") == 0) {
                        if (!v || (strcmp(v, "gate") && strcmp(v, "in-place")))
                                return fail(c, s, "'%s' must be \"gate\" or \"in-place\"", name);
                        r->mode = strcmp(v, "gate") == 0 ? VG_MODE_GATE : VG_MODE_IN_PLACE;
                } else if (strcmp(key, "watch") == 0)
                        e = route_string(c, s, &r->watch);
                else if (strcmp(key, "deliver") == 0)
                        e = route_string(c, s, &r->deliver);
                else if (strcmp(key, "policy") == 0)
                        e = route_string(c, s, &r->policy);
                else if (strcmp(key, "spool") == 0)
                        e = route_string(c, s, &r->spool);
                else if (strcmp(key, "forward") == 0)
                        e = route_string(c, s, &r->forward);
                else if (strcmp(key, "ai_domains_policy") == 0)
                        e = route_string(c, s, &r->ai_domains_policy);
                else if (strcmp(key, "external_policy") == 0)
                        e = route_string(c, s, &r->external_policy);
                else if (strcmp(key, "internal_policy") == 0)
                        e = route_string(c, s, &r->internal_policy);
                else if (strcmp(key, "tell_sender_on_delete") == 0) {
                        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                                return fail(c, s, "'%s' must be true or false", name);
                        r->tell_sender_on_delete = config_setting_get_bool(s);
                } else if (strcmp(key, "notice") == 0) {
                        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                                return fail(c, s, "'%s' must be true or false", name);
                        r->notice = config_setting_get_bool(s);
                } else if (strcmp(key, "on_flagged") == 0) {
                        if (!v || (strcmp(v, "hold") != 0 && strcmp(v, "redact") != 0))
                                return fail(c, s, "'%s' must be \"hold\" or \"redact\"", name);
                        r->redact = strcmp(v, "redact") == 0;
                } else if (strcmp(key, "settle") == 0) {
                        int t = config_setting_type(s);
                        double x = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                   : (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)
                                       ? (double)config_setting_get_int64(s)
                                       : -1;
                        if (x < 0 || x > 3600)
                                return fail(c, s, "'%s' must be a number of seconds (0 to 3600)",
                                            name);
                        r->settle_ms = (uint64_t)(x * 1000);
                } else if (strcmp(key, "ignore") == 0)
                        e = get_strlist(c, s, &r->ignore);
                else if (strcmp(key, "internal_domains") == 0)
                        e = get_strlist(c, s, &r->internal_domains);
                else if (strcmp(key, "ai_domains") == 0)
                        e = get_strlist(c, s, &r->ai_domains);
                if (e < 0)
                        return e;
        }
        path_of(g, name, sizeof(name));
        if (!r->name)
                return fail(c, g, "route '%s' needs a name", name);
        for (const char *p = r->name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                      *p == '_'))
                        return fail(c, g, "route name '%s' may only hold a-z, 0-9, '-' and '_'",
                                    r->name);
        if (!type)
                return fail(c, g, "route '%s' needs a type (\"folder\" or \"mail\")", r->name);
        if (!r->policy && set_string(&r->policy, "default") < 0)
                return -ENOMEM;
        if (r->type == VG_ROUTE_FOLDER) {
                if (!r->watch)
                        return fail(c, g, "route '%s' needs a folder to watch (watch = ...)",
                                    r->name);
                if (r->watch[0] != '/')
                        return fail(c, g, "route '%s': watch must be an absolute path", r->name);
                if (r->mode == VG_MODE_GATE && !r->deliver)
                        return fail(c, g,
                                    "route '%s' is in gate mode and needs a deliver folder "
                                    "(deliver = ...)",
                                    r->name);
                if (r->deliver && r->deliver[0] != '/')
                        return fail(c, g, "route '%s': deliver must be an absolute path", r->name);
        } else if (!r->spool) {
                return fail(c, g, "route '%s' needs a spool folder (spool = ...)", r->name);
        } else if (r->spool[0] != '/') {
                return fail(c, g, "route '%s': spool must be an absolute path", r->name);
        } else if (!r->forward) {
                return fail(c, g,
                            "route '%s' needs forward = \"smtp://host:port\" or the path of a "
                            "sendmail-compatible program",
                            r->name);
        } else if (strncmp(r->forward, "smtp://", 7) != 0 &&
                   strncmp(r->forward, "smtps://", 8) != 0 && r->forward[0] != '/') {
                return fail(c, g,
                            "route '%s': forward must be \"smtp://host:port\", "
                            "\"smtps://host:port\" or an absolute program path, not \"%s\"",
                            r->name, r->forward);
        }
        return 0;
}

static int parse_routes(struct ctx *c, const config_setting_t *s, struct vg_config *cfg)
{
        if (!config_setting_is_list(s) &&
            !(config_setting_is_array(s) && !config_setting_length(s)))
                return fail(c, s, "'routes' must be a list of groups, as routes = ( { ... } );");
        int n = config_setting_length(s);
        cfg->routes = calloc((size_t)n + 1, sizeof(*cfg->routes));
        if (!cfg->routes)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
                if (!config_setting_is_group(g))
                        return fail(c, g, "each route must be a group { name = ...; ... }");
                struct vg_route *r = &cfg->routes[cfg->nroutes++];
                int e = parse_route(c, g, r);
                if (e < 0)
                        return e;
                for (size_t k = 0; k + 1 < cfg->nroutes; k++)
                        if (strcmp(cfg->routes[k].name, r->name) == 0)
                                return fail(c, g, "route name '%s' is used twice", r->name);
        }
        return 0;
}

static int parse_webhooks(struct ctx *c, const config_setting_t *s, struct vg_config *cfg)
{
        if (!config_setting_is_list(s) &&
            !(config_setting_is_array(s) && !config_setting_length(s)))
                return fail(c, s,
                            "'alerts.webhooks' must be a list of groups, as ( { url = ...; } )");
        int n = config_setting_length(s);
        cfg->webhooks = calloc((size_t)n + 1, sizeof(*cfg->webhooks));
        if (!cfg->webhooks)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
                struct vg_webhook *w = &cfg->webhooks[cfg->nwebhooks++];
                if (!config_setting_is_group(g))
                        return fail(c, g, "each webhook must be a group { url = ...; }");
                int m = config_setting_length(g);
                for (int k = 0; k < m; k++) {
                        const config_setting_t *f = config_setting_get_elem(g, (unsigned)k);
                        const char *key = config_setting_name(f);
                        char name[256];
                        path_of(f, name, sizeof(name));
                        char **dst = strcmp(key, "url") == 0      ? &w->url
                                     : strcmp(key, "format") == 0 ? &w->format
                                     : strcmp(key, "bearer") == 0 ? &w->bearer
                                                                  : NULL;
                        if (!dst)
                                return fail(c, f, "unknown key '%s'", name);
                        int e = route_string(c, f, dst);
                        if (e < 0)
                                return e;
                }
                if (!w->url)
                        return fail(c, g, "a webhook needs a url");
                if (strncmp(w->url, "http://", 7) != 0 && strncmp(w->url, "https://", 8) != 0)
                        return fail(c, g, "a webhook url starts with https:// or http://");
                if (w->bearer && strpbrk(w->bearer, "\r\n"))
                        return fail(c, g, "a webhook bearer token is one line");
                if (w->format && strcmp(w->format, "json") && strcmp(w->format, "ntfy") &&
                    strcmp(w->format, "slack"))
                        return fail(c, g, "webhook format must be \"json\", \"ntfy\" or \"slack\"");
        }
        return 0;
}

/* alerts.mail.relay: an SMTP URL, or the path of a sendmail-compatible program. */
static int parse_relay(struct ctx *c, const config_setting_t *s, struct vg_config *cfg)
{
        char name[256];
        path_of(s, name, sizeof(name));
        const char *v = config_setting_get_string(s);
        if (!v || (strncmp(v, "smtp://", 7) != 0 && strncmp(v, "smtps://", 8) != 0 && v[0] != '/'))
                return fail(c, s,
                            "'%s' must be \"smtp://host:port\", \"smtps://host:port\" or the "
                            "path of a sendmail-compatible program",
                            name);
        return set_string(&cfg->mail_relay, v);
}

const struct vg_policy *vg_config_policy(const struct vg_config *c, const char *name)
{
        for (size_t i = 0; i < c->npolicies; i++)
                if (strcmp(c->policies[i].name, name) == 0)
                        return &c->policies[i];
        return NULL;
}

void vg_config_free(struct vg_config *c)
{
        if (!c)
                return;
        free(c->path);
        free(c->workers_tmpdir);
        free(c->store_dir);
        free(c->control_socket);
        free(c->admin_group);
        free(c->images);
        free(c->language);
        free(c->mail_relay);
        free(c->mail_from);
        free(c->templates_dir);
        free(c->charter);
        free(c->notice_domain);
        strlist_free(&c->rules_dirs);
        vg_custom_free(c->custom);
        strlist_free(&c->admins);
        for (size_t i = 0; i < c->npolicies; i++)
                vg_policy_clear(&c->policies[i]);
        free(c->policies);
        for (size_t i = 0; i < c->nroutes; i++)
                route_clear(&c->routes[i]);
        free(c->routes);
        for (size_t i = 0; i < c->nwebhooks; i++) {
                free(c->webhooks[i].url);
                free(c->webhooks[i].format);
                free(c->webhooks[i].bearer);
        }
        free(c->webhooks);
        free(c);
}

/* Custom rules (rules.d): read them, check that every detector a policy names
 * exists, and give custom ids their default threshold in every policy. */
static int finish_rules(struct ctx *c, const config_t *lc, struct vg_config *cfg)
{
        int e = vg_rules_conf_load(&cfg->rules_dirs, &cfg->custom, c->err, c->errsz);
        if (e < 0)
                return e;
        const config_setting_t *pols = config_lookup(lc, "policies");
        for (int i = 0; pols && config_setting_is_group(pols) && i < config_setting_length(pols);
             i++) {
                const config_setting_t *d = config_setting_get_member(
                    config_setting_get_elem(pols, (unsigned)i), "detectors");
                for (int k = 0; d && k < config_setting_length(d); k++) {
                        const config_setting_t *x = config_setting_get_elem(d, (unsigned)k);
                        const char *id = config_setting_name(x);
                        if (!vg_detector_builtin(id) && !vg_rules_conf_find(cfg->custom, id)) {
                                char name[256];
                                path_of(d, name, sizeof(name));
                                return fail(c, x, "unknown detector '%s' in '%s'", id, name);
                        }
                }
        }
        for (size_t i = 0; i < cfg->npolicies; i++)
                if ((e = vg_rules_conf_policy_defaults(cfg->custom, &cfg->policies[i])) < 0)
                        return e;
        return 0;
}

static int finish(struct ctx *c, const config_t *lc, struct vg_config *cfg)
{
        /* The built-in policies always exist; the config may refine them. */
        static const char *const builtin[] = {"default", "monitor"};
        for (size_t i = 0; i < 2; i++) {
                if (vg_config_policy(cfg, builtin[i]))
                        continue;
                struct vg_policy *np = reallocarray(cfg->policies, cfg->npolicies + 1, sizeof(*np));
                if (!np)
                        return -ENOMEM;
                cfg->policies = np;
                if (vg_policy_init(&cfg->policies[cfg->npolicies], builtin[i]) < 0)
                        return -ENOMEM;
                cfg->policies[cfg->npolicies].monitor = i == 1;
                cfg->npolicies++;
        }
        for (size_t i = 0; i < cfg->nroutes; i++) {
                const struct vg_route *r = &cfg->routes[i];
                const char *names[] = {r->policy, r->ai_domains_policy, r->external_policy,
                                       r->internal_policy};
                for (size_t k = 0; k < 4; k++)
                        if (names[k] && !vg_config_policy(cfg, names[k])) {
                                snprintf(c->err, c->errsz,
                                         "%s:%u: route '%s' names policy '%s', which is not "
                                         "defined under policies",
                                         c->file, r->line, r->name, names[k]);
                                return -EINVAL;
                        }
        }
        return finish_rules(c, lc, cfg);
}

static int load(config_t *lc, bool from_file, const char *src, const char *name,
                struct vg_config **ret, char *err, size_t errsz)
{
        struct ctx c = {.file = name, .err = err, .errsz = errsz};
        struct vg_config *cfg = calloc(1, sizeof(*cfg));
        int e = -ENOMEM;
        if (!cfg || !(cfg->path = strdup(name)))
                goto out;
        if ((e = apply_defaults(&c, top_opts, cfg)) < 0)
                goto out;
        int ok = from_file ? config_read_file(lc, src) : config_read_string(lc, src);
        if (ok != CONFIG_TRUE) {
                if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
                        snprintf(err, errsz, "%s: cannot read the file: %s", name,
                                 strerror(errno ? errno : EIO));
                else
                        snprintf(err, errsz, "%s:%d: %s", name, config_error_line(lc),
                                 config_error_text(lc));
                e = -EINVAL;
                goto out;
        }
        if ((e = apply_group(&c, top_opts, config_root_setting(lc), cfg)) < 0)
                goto out;
        if ((e = finish(&c, lc, cfg)) < 0)
                goto out;
        *ret = cfg;
        cfg = NULL;
out:
        if (e == -ENOMEM)
                snprintf(err, errsz, "%s: out of memory", name);
        vg_config_free(cfg);
        return e;
}

int vg_config_load_string(const char *text, const char *name, struct vg_config **ret, char *err,
                          size_t errsz)
{
        config_t lc;
        config_init(&lc);
        int e = load(&lc, false, text, name, ret, err, errsz);
        config_destroy(&lc);
        return e;
}

int vg_config_load(const char *path, struct vg_config **ret, char *err, size_t errsz)
{
        if (!path) {
                static const char installed[] = VIGIE_SYSCONFDIR "/vigie.conf";
                if (access(installed, F_OK) != 0)
                        return vg_config_load_string("", "(built-in)", ret, err, errsz);
                path = installed;
        }
        config_t lc;
        config_init(&lc);
        /* include directives are resolved relative to the file's folder */
        char dir[4096];
        const char *slash = strrchr(path, '/');
        if (slash && (size_t)(slash - path) < sizeof(dir)) {
                memcpy(dir, path, (size_t)(slash - path));
                dir[slash - path] = '\0';
                config_set_include_dir(&lc, dir);
        }
        int e = load(&lc, true, path, path, ret, err, errsz);
        config_destroy(&lc);
        return e;
}

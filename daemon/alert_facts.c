#include "alert_facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "report.h"

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

/* Strings in facts are shown to people: invalid UTF-8 (which json_string
 * refuses) becomes "?" rather than dropping the fact. */
static void set_str(json_t *o, const char *k, const char *v)
{
        json_t *j = str_or_null(v);
        json_object_set_new(o, k, j ? j : json_string("?"));
}

json_t *vg_alert_facts(const struct vg_decision *d, int64_t when, const char *host)
{
        json_t *f = json_object();
        if (!f)
                return NULL;
        set_str(f, "id", d->id && strcmp(d->id, "-") != 0 ? d->id : NULL);
        json_object_set_new(f, "time", json_integer(when));
        set_str(f, "host", host);
        set_str(f, "route", d->route);
        set_str(f, "kind", d->kind ? d->kind : "file");
        set_str(f, "file", d->file);
        set_str(f, "origin", d->origin);
        set_str(f, "owner", d->owner);
        json_object_set_new(f, "owner_uid", json_integer(d->owner_uid));
        set_str(f, "sender", d->sender);
        set_str(f, "recipients", d->recipients);
        set_str(f, "verdict", d->verdict);
        set_str(f, "action", d->action);
        set_str(f, "detectors", d->detectors);
        set_str(f, "sha256", d->sha256);
        set_str(f, "extra", d->extra);
        bool monitor = (d->report && d->report->monitor) ||
                       (d->extra && strstr(d->extra, "monitor=yes") != NULL);
        json_object_set_new(f, "monitor", json_boolean(monitor));
        json_t *fl = json_array(), *ul = json_array();
        size_t nf = 0, nu = 0;
        const struct vg_report *r = d->report;
        for (size_t i = 0; r && fl && i < r->nfindings; i++) {
                const struct vg_finding *x = &r->findings[i];
                if (nf++ >= VG_FACTS_MAX_LIST)
                        continue;
                json_t *m = json_array();
                for (size_t k = 0; m && k < x->nsamples; k++) {
                        json_t *s = json_string(x->samples[k]);
                        json_array_append_new(m, s ? s : json_string("?"));
                }
                json_t *o = json_object();
                set_str(o, "detector", x->detector);
                json_object_set_new(o, "count", json_integer((json_int_t)x->count));
                json_object_set_new(o, "distinct", json_integer((json_int_t)x->distinct));
                set_str(o, "where", x->where);
                json_object_set_new(o, "masked", m ? m : json_array());
                json_array_append_new(fl, o);
        }
        for (size_t i = 0; r && ul && i < r->nunscannable; i++) {
                if (nu++ >= VG_FACTS_MAX_LIST)
                        continue;
                json_t *o = json_object();
                set_str(o, "where", r->unscannable[i].where);
                set_str(o, "reason", vg_reason_name(r->unscannable[i].reason));
                json_array_append_new(ul, o);
        }
        /* A file never opened (a link, a FIFO) has no report: its reason is in
         * the detectors field. */
        if (!r && ul && d->detectors && *d->detectors && vg_reason_from_name(d->detectors) >= 0) {
                json_t *o = json_object();
                set_str(o, "where", d->file);
                set_str(o, "reason", d->detectors);
                json_array_append_new(ul, o);
                nu++;
        }
        json_object_set_new(f, "findings", fl ? fl : json_array());
        json_object_set_new(
            f, "more_findings",
            json_integer(nf > VG_FACTS_MAX_LIST ? (json_int_t)(nf - VG_FACTS_MAX_LIST) : 0));
        json_object_set_new(f, "unscannable", ul ? ul : json_array());
        json_object_set_new(f, "test", json_false());
        return f;
}

/* ---- views ------------------------------------------------------------------------ */

static const char *jstr(const json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

static void fmt_date(int64_t t, enum vg_lang lang, char *out, size_t n)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm)) {
                snprintf(out, n, "?");
                return;
        }
        strftime(out, n, lang == VG_LANG_EN ? "%Y-%m-%d %H:%M" : "%d/%m/%Y %H:%M", &tm);
}

/* What happened to the file or mail, as a person says it. */
static const char *outcome(const char *action, const char *extra, enum vg_lang lang)
{
        bool en = lang == VG_LANG_EN;
        if (strcmp(action, "quarantine") == 0 || strcmp(action, "redact") == 0)
                return en ? "held" : "retenu";
        if (strcmp(action, "alert") == 0)
                return en ? "let through, alert only" : "laissé passer, alerte seule";
        if (strcmp(action, "leave") == 0)
                return extra && strstr(extra, "special-file")
                           ? (en ? "left in place, not a regular file"
                                 : "laissé en place, pas un fichier ordinaire")
                           : (en ? "left in place" : "laissé en place");
        if (strcmp(action, "test") == 0)
                return en ? "test" : "test";
        return en ? "let through" : "laissé passer";
}

static void add_str(json_t *o, const char *k, const char *v)
{
        json_t *s = json_string(v);
        json_object_set_new(o, k, s ? s : json_string("?"));
}

/* "iban ×2, fr_nir ×1, encrypted": one entry per detector, counts added up. */
static char *summary(const json_t *findings, const json_t *unscannable, json_int_t *total)
{
        json_t *seen = json_object();
        json_t *order = json_array();
        size_t i;
        json_t *f;
        *total = 0;
        json_array_foreach(findings, i, f)
        {
                const char *det = jstr(f, "detector");
                json_int_t c = json_integer_value(json_object_get(f, "count"));
                *total += c;
                json_t *cur = json_object_get(seen, det);
                if (cur) {
                        json_integer_set(cur, json_integer_value(cur) + c);
                } else {
                        json_object_set_new(seen, det, json_integer(c));
                        json_array_append_new(order, json_string(det));
                }
        }
        size_t cap = 1;
        json_array_foreach(order, i, f) cap += strlen(json_string_value(f)) + 32;
        json_array_foreach(unscannable, i, f) cap += strlen(jstr(f, "reason")) + 2;
        char *out = calloc(1, cap);
        size_t o = 0;
        json_array_foreach(order, i, f)
        {
                if (!out)
                        break;
                const char *det = json_string_value(f);
                int w = snprintf(out + o, cap - o, "%s%s ×%lld", o ? ", " : "", det,
                                 (long long)json_integer_value(json_object_get(seen, det)));
                if (w > 0)
                        o += (size_t)w;
        }
        json_array_foreach(unscannable, i, f)
        {
                if (!out)
                        break;
                const char *rs = jstr(f, "reason");
                /* one mention per reason */
                bool dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = strcmp(jstr(json_array_get(unscannable, k), "reason"), rs) == 0;
                if (dup)
                        continue;
                int w = snprintf(out + o, cap - o, "%s%s", o ? ", " : "", rs);
                if (w > 0)
                        o += (size_t)w;
        }
        json_decref(seen);
        json_decref(order);
        return out;
}

static char *joined(const json_t *list, size_t max)
{
        size_t cap = 1, i;
        json_t *v;
        json_array_foreach(list, i, v) cap += json_string_length(v) + 2;
        char *out = calloc(1, cap);
        size_t o = 0;
        json_array_foreach(list, i, v)
        {
                if (!out || i >= max)
                        break;
                int w = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", json_string_value(v));
                if (w > 0)
                        o += (size_t)w;
        }
        return out;
}

json_t *vg_alert_view(const json_t *facts, const struct vg_view_opts *o)
{
        json_t *v = json_deep_copy(facts);
        if (!v)
                return NULL;
        enum vg_lang lang = o->lang;
        bool en = lang == VG_LANG_EN;
        const char *verdict = jstr(facts, "verdict"), *action = jstr(facts, "action");
        const char *id = jstr(facts, "id"), *kind = jstr(facts, "kind");
        int vv = vg_verdict_from_name(verdict);
        add_str(v, "verdict_text", vv >= 0 ? vg_i18n_verdict(lang, (enum vg_verdict)vv) : verdict);
        add_str(v, "outcome_text", outcome(action, jstr(facts, "extra"), lang));
        bool held = strcmp(action, "quarantine") == 0 || strcmp(action, "redact") == 0;
        json_object_set_new(v, "held", json_boolean(held && *id));
        json_object_set_new(v, "flagged", json_boolean(strcmp(verdict, "flagged") == 0));
        json_object_set_new(v, "is_mail", json_boolean(strcmp(kind, "mail") == 0));
        json_object_set_new(v, "is_file", json_boolean(strcmp(kind, "mail") != 0));
        json_t *findings = json_object_get(v, "findings");
        json_t *uns = json_object_get(v, "unscannable");
        json_object_set_new(v, "has_unscannable", json_boolean(json_array_size(uns) > 0));
        json_object_set_new(v, "has_findings", json_boolean(json_array_size(findings) > 0));
        size_t i;
        json_t *f;
        json_array_foreach(findings, i, f)
        {
                add_str(f, "label", vg_i18n_detector(lang, jstr(f, "detector")));
                json_t *m = json_object_get(f, "masked");
                char *s2 = joined(m, 2), *all = joined(m, VG_MAX_SAMPLES);
                add_str(f, "samples", s2 ? s2 : "");
                add_str(f, "samples_all", all ? all : "");
                free(s2);
                free(all);
        }
        json_array_foreach(uns, i, f)
        {
                int r = vg_reason_from_name(jstr(f, "reason"));
                add_str(f, "reason_text",
                        r >= 0 ? vg_i18n_reason(lang, (enum vg_reason)r) : jstr(f, "reason"));
        }
        json_int_t total = 0;
        char *sum = summary(findings, uns, &total);
        add_str(v, "summary", sum ? sum : "");
        free(sum);
        json_object_set_new(v, "total", json_integer(total));
        char date[64];
        fmt_date(json_integer_value(json_object_get(facts, "time")), lang, date, sizeof(date));
        add_str(v, "date", date);
        if (*id) {
                char cmd[256];
                snprintf(cmd, sizeof(cmd), "vigiectl show %s", id);
                add_str(v, "show_cmd", cmd);
                snprintf(cmd, sizeof(cmd), "vigiectl release %s --reason \"...\"", id);
                add_str(v, "release_cmd", cmd);
                snprintf(cmd, sizeof(cmd), "vigiectl delete %s --reason \"...\"", id);
                add_str(v, "delete_cmd", cmd);
        }
        if (o->charter && *o->charter)
                add_str(v, "charter", o->charter);
        add_str(v, "language", en ? "en" : "fr");
        return v;
}

json_t *vg_digest_view(const char *id, const json_t *alerts, size_t total, int64_t when,
                       const char *host, const struct vg_view_opts *o)
{
        json_t *v = json_object(), *list = json_array(), *routes = json_array();
        json_t *shortl = json_array();
        if (!v || !list || !routes || !shortl) {
                json_decref(v);
                json_decref(list);
                json_decref(routes);
                json_decref(shortl);
                return NULL;
        }
        size_t i;
        json_t *f;
        int64_t first = when;
        json_array_foreach(alerts, i, f)
        {
                int64_t t = json_integer_value(json_object_get(f, "time"));
                if (t && t < first)
                        first = t;
                const char *r = jstr(f, "route");
                bool known = false;
                for (size_t k = 0; k < json_array_size(routes) && !known; k++)
                        known = strcmp(json_string_value(json_array_get(routes, k)), r) == 0;
                if (!known)
                        json_array_append_new(routes, json_string(r));
                if (i < VG_DIGEST_MAX_LIST)
                        json_array_append_new(list, vg_alert_view(f, o));
                if (i < VG_DIGEST_SHORT_LIST)
                        json_array_append(shortl, json_array_get(list, i));
        }
        add_str(v, "id", id);
        json_object_set_new(v, "time", json_integer(when));
        add_str(v, "host", host ? host : "");
        json_object_set_new(v, "count", json_integer((json_int_t)total));
        size_t listed = json_array_size(list);
        json_object_set_new(v, "more",
                            json_integer(total > listed ? (json_int_t)(total - listed) : 0));
        json_object_set_new(v, "alerts", list);
        json_object_set_new(v, "more_short",
                            json_integer(total > json_array_size(shortl)
                                             ? (json_int_t)(total - json_array_size(shortl))
                                             : 0));
        json_object_set_new(v, "alerts_short", shortl);
        char *rs = joined(routes, SIZE_MAX);
        add_str(v, "routes", rs ? rs : "");
        free(rs);
        json_decref(routes);
        char date[64];
        fmt_date(when, o->lang, date, sizeof(date));
        add_str(v, "date", date);
        fmt_date(first, o->lang, date, sizeof(date));
        add_str(v, "since", date);
        /* the form vigiectl's --since reads, whatever the language */
        time_t tt = (time_t)first;
        struct tm tm;
        char cmd[128] = "vigiectl list";
        if (localtime_r(&tt, &tm)) {
                char arg[32];
                strftime(arg, sizeof(arg), "%Y-%m-%d %H:%M", &tm);
                snprintf(cmd, sizeof(cmd), "vigiectl list --since \"%s\"", arg);
        }
        add_str(v, "list_cmd", cmd);
        if (o->charter && *o->charter)
                add_str(v, "charter", o->charter);
        return v;
}

/* ---- addresses ------------------------------------------------------------------------ */

bool vg_mail_address_ok(const char *a)
{
        if (!a)
                return false;
        size_t n = strlen(a);
        const char *at = strrchr(a, '@');
        if (n < 3 || n > 254 || !at || at == a || (size_t)(at - a) > 64 || !at[1])
                return false;
        for (const char *p = a; p < at; p++) {
                unsigned char c = (unsigned char)*p;
                if (c <= ' ' || c >= 0x7f || strchr("\"(),:;<>@[\\]", c))
                        return false;
        }
        /* the domain: dot-separated labels of letters, digits and '-' */
        const char *label = at + 1;
        for (const char *p = at + 1;; p++) {
                if (*p == '.' || *p == '\0') {
                        if (p == label || label[0] == '-' || p[-1] == '-')
                                return false;
                        if (*p == '\0')
                                break;
                        label = p + 1;
                        continue;
                }
                unsigned char c = (unsigned char)*p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-'))
                        return false;
        }
        return true;
}

bool vg_address_internal(const char *addr, const struct vg_strlist *domains,
                         const struct vg_strlist *admins)
{
        if (!vg_mail_address_ok(addr))
                return false;
        for (size_t i = 0; admins && i < admins->n; i++)
                if (strcasecmp(admins->v[i], addr) == 0)
                        return true;
        const char *dom = strrchr(addr, '@') + 1;
        size_t dl = strlen(dom);
        for (size_t i = 0; domains && i < domains->n; i++) {
                const char *d = domains->v[i];
                while (*d == '@' || *d == '.')
                        d++; /* "@exemple.fr" and ".exemple.fr" mean exemple.fr */
                size_t n = strlen(d);
                if (n == 0 || n > dl)
                        continue;
                if (strcasecmp(dom + dl - n, d) == 0 && (n == dl || dom[dl - n - 1] == '.'))
                        return true;
        }
        return false;
}

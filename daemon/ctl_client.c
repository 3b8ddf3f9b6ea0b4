#include "ctl_client.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "i18n.h"

#define RESPONSE_MAX (64u << 20)

struct session {
        struct vg_config *cfg;
        enum vg_lang lang;
};

static int open_session(const char *config, struct session *s)
{
        char err[1024];
        if (vg_config_load(config, &s->cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "vigiectl: %s\n", err);
                return 2;
        }
        s->lang = vg_lang_from_name(s->cfg->language);
        return 0;
}

/* One request, one answer. Returns the answer or NULL (message printed). */
static json_t *call(struct session *s, json_t *req)
{
        const char *path = s->cfg->control_socket;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        char *line = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        if (!line || strlen(path) >= sizeof(sa.sun_path)) {
                free(line);
                return NULL;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                fprintf(stderr,
                        s->lang == VG_LANG_EN
                            ? "vigiectl: cannot reach vigied at %s: %s (is the service running?)\n"
                            : "vigiectl : impossible de joindre vigied sur %s : %s (le service "
                              "tourne-t-il ?)\n",
                        path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                free(line);
                return NULL;
        }
        size_t n = strlen(line);
        bool sent = write(fd, line, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
        free(line);
        char *buf = NULL;
        size_t len = 0, cap = 0;
        while (sent) {
                if (len + 65536 > cap) {
                        if (cap >= RESPONSE_MAX)
                                break;
                        cap = cap ? cap * 2 : 65536;
                        char *nb = realloc(buf, cap + 1);
                        if (!nb)
                                break;
                        buf = nb;
                }
                ssize_t r = read(fd, buf + len, cap - len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                len += (size_t)r;
        }
        close(fd);
        json_t *resp = buf ? json_loadb(buf, len, 0, NULL) : NULL;
        free(buf);
        if (!json_is_object(resp)) {
                json_decref(resp);
                fprintf(stderr, "vigiectl: no valid answer from vigied\n");
                return NULL;
        }
        if (!json_is_true(json_object_get(resp, "ok"))) {
                fprintf(stderr, "vigiectl: %s\n",
                        json_string_value(json_object_get(resp, "error"))
                            ? json_string_value(json_object_get(resp, "error"))
                            : "error");
                json_decref(resp);
                return NULL;
        }
        return resp;
}

static void close_session(struct session *s)
{
        vg_config_free(s->cfg);
}

int vg_parse_when(const char *s, long long *ret, int *is_duration)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end != s && !errno && v >= 0 && end[0] && !end[1]) {
                long long mul = end[0] == 'd'   ? 86400
                                : end[0] == 'h' ? 3600
                                : end[0] == 'm' ? 60
                                : end[0] == 's' ? 1
                                                : 0;
                if (mul && v < (1ll << 40)) {
                        *ret = v * mul;
                        *is_duration = 1;
                        return 0;
                }
        }
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%d", &tm);
        if (!rest)
                return -EINVAL;
        if (*rest == ' ' || *rest == 'T')
                rest = strptime(rest + 1, "%H:%M", &tm);
        if (!rest || *rest)
                return -EINVAL;
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
                return -EINVAL;
        *ret = (long long)t;
        *is_duration = 0;
        return 0;
}

static void print_json(json_t *j)
{
        char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (s)
                puts(s);
        free(s);
}

static const char *str(const json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

static void fmt_time(json_int_t t, char *out, size_t n)
{
        time_t tt = (time_t)t;
        struct tm tm;
        localtime_r(&tt, &tm);
        strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

/* Parses the options shared by the verbs; returns the index of the first
 * positional argument, or -1 after printing the usage. */
struct opts {
        bool json;
        const char *route, *since, *reason, *to, *older;
        bool allow;
};

static int parse(int argc, char **argv, const char *usage, struct opts *o)
{
        static const struct option lo[] = {
            {"json", no_argument, NULL, 'j'},
            {"route", required_argument, NULL, 'r'},
            {"since", required_argument, NULL, 's'},
            {"reason", required_argument, NULL, 'R'},
            {"to", required_argument, NULL, 't'},
            {"allow", no_argument, NULL, 'a'},
            {"older-than", required_argument, NULL, 'o'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        memset(o, 0, sizeof(*o));
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
                switch (c) {
                case 'j':
                        o->json = true;
                        break;
                case 'r':
                        o->route = optarg;
                        break;
                case 's':
                        o->since = optarg;
                        break;
                case 'R':
                        o->reason = optarg;
                        break;
                case 't':
                        o->to = optarg;
                        break;
                case 'a':
                        o->allow = true;
                        break;
                case 'o':
                        o->older = optarg;
                        break;
                case 'h':
                        printf("Usage: vigiectl %s\n", usage);
                        exit(0);
                default:
                        fprintf(stderr, "Usage: vigiectl %s\n", usage);
                        return -1;
                }
        }
        return optind;
}

int vg_ctl_status(const char *config, int argc, char **argv)
{
        struct opts o;
        if (parse(argc, argv, "status [--json]", &o) < 0)
                return 2;
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *r = call(&s, json_pack("{s:s}", "verb", "status"));
        int rc = r ? 0 : 1;
        if (r && o.json) {
                json_object_del(r, "ok");
                print_json(r);
        } else if (r) {
                bool en = s.lang == VG_LANG_EN;
                json_t *w = json_object_get(r, "workers"), *k = json_object_get(r, "counters");
                json_int_t up = json_integer_value(json_object_get(r, "uptime"));
                printf(en ? "vigied %s, up %lldh%02lldm, config %s\n"
                          : "vigied %s, actif depuis %lldh%02lldm, configuration %s\n",
                       str(r, "version"), (long long)(up / 3600), (long long)(up / 60 % 60),
                       str(r, "config"));
                printf(en ? "workers: %lld (%lld busy, %lld restarts), queue %lld\n"
                          : "analyseurs : %lld (%lld occupés, %lld redémarrages), file d'attente "
                            "%lld\n",
                       (long long)json_integer_value(json_object_get(w, "count")),
                       (long long)json_integer_value(json_object_get(w, "busy")),
                       (long long)json_integer_value(json_object_get(w, "restarts")),
                       (long long)json_integer_value(json_object_get(w, "queue")));
                printf(en ? "since start: %lld scanned, %lld delivered, %lld held, %lld "
                            "unscannable, %lld errors\n"
                          : "depuis le démarrage : %lld analysés, %lld transmis, %lld retenus, "
                            "%lld illisibles, %lld erreurs\n",
                       (long long)json_integer_value(json_object_get(k, "scanned")),
                       (long long)json_integer_value(json_object_get(k, "delivered")),
                       (long long)json_integer_value(json_object_get(k, "held")),
                       (long long)json_integer_value(json_object_get(k, "unscannable")),
                       (long long)json_integer_value(json_object_get(k, "errors")));
                size_t i;
                json_t *rt;
                json_array_foreach(json_object_get(r, "routes"), i, rt)
                {
                        printf("  %s %s (%s, %s) %s%s%s -> %s\n", en ? "route" : "route",
                               str(rt, "name"), str(rt, "type"), str(rt, "mode"), str(rt, "watch"),
                               json_is_true(json_object_get(rt, "active"))
                                   ? ""
                                   : (en ? " [INACTIVE]" : " [INACTIVE]"),
                               "", str(rt, "deliver"));
                }
                json_t *st = json_object_get(r, "store");
                const char *key;
                json_t *v;
                printf(en ? "store:" : "quarantaine :");
                json_object_foreach(st, key, v)
                    printf(" %s=%lld", key, (long long)json_integer_value(v));
                putchar('\n');
                json_t *al = json_object_get(r, "alerts");
                if (al) {
                        printf(en ? "alerts:" : "alertes :");
                        json_object_foreach(al, key, v)
                            printf(" %s=%lld", key, (long long)json_integer_value(v));
                        putchar('\n');
                }
        }
        json_decref(r);
        close_session(&s);
        return rc;
}

int vg_ctl_list(const char *config, int argc, char **argv)
{
        struct opts o;
        if (parse(argc, argv, "list [--route R] [--since DATE|7d] [--json]", &o) < 0)
                return 2;
        long long since = 0;
        if (o.since) {
                int dur;
                if (vg_parse_when(o.since, &since, &dur) < 0) {
                        fprintf(stderr, "vigiectl: --since takes 2026-11-01, \"2026-11-01 "
                                        "14:30\" or a duration like 7d, 12h\n");
                        return 2;
                }
                if (dur)
                        since = (long long)time(NULL) - since;
        }
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *req = json_pack("{s:s, s:I}", "verb", "list", "since", (json_int_t)since);
        if (o.route)
                json_object_set_new(req, "route", json_string(o.route));
        json_t *r = call(&s, req);
        int rc = r ? 0 : 1;
        json_t *items = r ? json_object_get(r, "items") : NULL;
        if (r && o.json) {
                print_json(items);
        } else if (r) {
                bool en = s.lang == VG_LANG_EN;
                if (json_array_size(items) == 0)
                        puts(en ? "No item." : "Aucun élément.");
                else
                        printf("%-14s %-16s %-12s %-9s %-12s %-24s %s\n", "ID",
                               en ? "DATE" : "DATE", "ROUTE", en ? "STATE" : "ÉTAT",
                               en ? "VERDICT" : "VERDICT", en ? "FOUND" : "DÉTECTÉ",
                               en ? "NAME" : "NOM");
                size_t i;
                json_t *it;
                json_array_foreach(items, i, it)
                {
                        char when[32];
                        fmt_time(json_integer_value(json_object_get(it, "created")), when,
                                 sizeof(when));
                        printf("%-14s %-16s %-12s %-9s %-12s %-24s %s\n", str(it, "id"), when,
                               str(it, "route"), str(it, "state"), str(it, "verdict"),
                               str(it, "detectors"), str(it, "name"));
                }
        }
        json_decref(r);
        close_session(&s);
        return rc;
}

int vg_ctl_show(const char *config, int argc, char **argv)
{
        struct opts o;
        int i = parse(argc, argv, "show ID [--json]", &o);
        if (i < 0 || i >= argc) {
                if (i >= 0)
                        fprintf(stderr, "Usage: vigiectl show ID [--json]\n");
                return 2;
        }
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *r = call(&s, json_pack("{s:s, s:s}", "verb", "show", "id", argv[i]));
        int rc = r ? 0 : 1;
        json_t *it = r ? json_object_get(r, "item") : NULL;
        if (r && o.json) {
                print_json(it);
        } else if (r) {
                bool en = s.lang == VG_LANG_EN;
                char when[32];
                fmt_time(json_integer_value(json_object_get(it, "created")), when, sizeof(when));
                printf("%s  %s\n", str(it, "id"), str(it, "name"));
                printf(en ? "  state:    %s\n  route:    %s (%s)\n  found at: %s\n  owner:    %s "
                            "(uid %lld)\n  held on:  %s\n  size:     %lld bytes, type %s\n  "
                            "sha256:   %s\n  verdict:  %s, action %s, policy %s\n"
                          : "  état :       %s\n  route :      %s (%s)\n  trouvé à :   %s\n  "
                            "propriétaire : %s (uid %lld)\n  retenu le :  %s\n  taille :     "
                            "%lld octets, type %s\n  sha256 :     %s\n  verdict :    %s, action "
                            "%s, politique %s\n",
                       str(it, "state"), str(it, "route"), str(it, "mode"), str(it, "origin"),
                       str(it, "owner"),
                       (long long)json_integer_value(json_object_get(it, "owner_uid")), when,
                       (long long)json_integer_value(json_object_get(it, "size")), str(it, "type"),
                       str(it, "sha256"), str(it, "verdict"), str(it, "action"), str(it, "policy"));
                json_t *rep = json_object_get(it, "report");
                size_t k;
                json_t *f;
                json_array_foreach(json_object_get(rep, "findings"), k, f)
                {
                        printf("  - %s x%lld %s %s :", str(f, "detector"),
                               (long long)json_integer_value(json_object_get(f, "count")),
                               en ? "in" : "dans", str(f, "where"));
                        size_t q;
                        json_t *m;
                        json_array_foreach(json_object_get(f, "masked"), q, m)
                            printf("%s %s", q ? "," : "", json_string_value(m));
                        putchar('\n');
                }
                json_array_foreach(json_object_get(rep, "unscannable"), k, f)
                    printf("  - %s : %s\n", str(f, "where"), str(f, "reason"));
                puts(en ? "  events:" : "  historique :");
                json_array_foreach(json_object_get(it, "events"), k, f)
                {
                        fmt_time(json_integer_value(json_object_get(f, "time")), when,
                                 sizeof(when));
                        printf("    %s %s %s\n", when, str(f, "kind"), str(f, "detail"));
                }
                if (strcmp(str(it, "state"), "held") == 0)
                        printf(en ? "  to release: vigiectl release %s --reason \"...\"\n  to "
                                    "delete:  vigiectl delete %s --reason \"...\"\n"
                                  : "  pour libérer : vigiectl release %s --reason \"...\"\n  "
                                    "pour supprimer : vigiectl delete %s --reason \"...\"\n",
                               str(it, "id"), str(it, "id"));
        }
        json_decref(r);
        close_session(&s);
        return rc;
}

static int act(const char *config, int argc, char **argv, const char *verb, const char *usage)
{
        struct opts o;
        int i = parse(argc, argv, usage, &o);
        if (i < 0)
                return 2;
        if (i >= argc || !o.reason) {
                fprintf(stderr,
                        "Usage: vigiectl %s\n(--reason is required: it goes to the "
                        "audit log)\n",
                        usage);
                return 2;
        }
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "verb", verb, "id", argv[i], "reason",
                                o.reason, "allow", o.allow);
        if (o.to) {
                char *abs = realpath(o.to, NULL);
                json_object_set_new(req, "to", json_string(abs ? abs : o.to));
                free(abs);
        }
        json_t *r = call(&s, req);
        int rc = r ? 0 : 1;
        if (r && o.json) {
                json_object_del(r, "ok");
                print_json(r);
        } else if (r) {
                bool en = s.lang == VG_LANG_EN;
                if (strcmp(verb, "release") == 0)
                        printf(en ? "%s released to %s%s\n" : "%s libéré vers %s%s\n", argv[i],
                               str(r, "path"),
                               json_is_true(json_object_get(r, "allowed"))
                                   ? (en ? " (this content will pass from now on)"
                                         : " (ce contenu passera désormais)")
                                   : "");
                else
                        printf(en ? "%s deleted\n" : "%s supprimé\n", argv[i]);
        }
        json_decref(r);
        close_session(&s);
        return rc;
}

int vg_ctl_release(const char *config, int argc, char **argv)
{
        return act(config, argc, argv, "release",
                   "release ID --reason TEXT [--to FOLDER] [--allow] [--json]");
}

int vg_ctl_delete(const char *config, int argc, char **argv)
{
        return act(config, argc, argv, "delete", "delete ID --reason TEXT [--json]");
}

int vg_ctl_purge(const char *config, int argc, char **argv)
{
        struct opts o;
        if (parse(argc, argv, "purge [--older-than 30d]", &o) < 0)
                return 2;
        long long older = 0;
        int dur = 1;
        if (o.older && (vg_parse_when(o.older, &older, &dur) < 0 || !dur)) {
                fprintf(stderr, "vigiectl: --older-than takes a duration such as 30d or 12h\n");
                return 2;
        }
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *r =
            call(&s, json_pack("{s:s, s:I}", "verb", "purge", "older_than", (json_int_t)older));
        if (r)
                printf(s.lang == VG_LANG_EN ? "%lld item(s) purged\n"
                                            : "%lld élément(s) purgé(s)\n",
                       (long long)json_integer_value(json_object_get(r, "purged")));
        int rc = r ? 0 : 1;
        json_decref(r);
        close_session(&s);
        return rc;
}

int vg_ctl_reload(const char *config, int argc, char **argv)
{
        struct opts o;
        if (parse(argc, argv, "reload", &o) < 0)
                return 2;
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *r = call(&s, json_pack("{s:s}", "verb", "reload"));
        if (r)
                puts(str(r, "message"));
        int rc = r ? 0 : 1;
        json_decref(r);
        close_session(&s);
        return rc;
}

int vg_ctl_test_alert(const char *config, int argc, char **argv)
{
        struct opts o;
        if (parse(argc, argv, "test-alert [--json]", &o) < 0)
                return 2;
        struct session s;
        if (open_session(config, &s))
                return 2;
        json_t *r = call(&s, json_pack("{s:s}", "verb", "test-alert"));
        int rc = r ? 0 : 1;
        json_t *chans = r ? json_object_get(r, "channels") : NULL;
        size_t i, good = 0;
        json_t *c;
        json_array_foreach(chans, i, c) good += json_is_true(json_object_get(c, "ok"));
        if (r && good != json_array_size(chans))
                rc = 1;
        if (r && o.json) {
                print_json(chans);
        } else if (r) {
                bool en = s.lang == VG_LANG_EN;
                json_array_foreach(chans, i, c)
                {
                        bool okc = json_is_true(json_object_get(c, "ok"));
                        printf("%-8s %s: %s\n", okc ? "ok" : (en ? "FAILED" : "ÉCHEC"),
                               str(c, "channel"), str(c, "detail"));
                }
                if (json_array_size(chans) <= 1)
                        puts(en ? "No mail or webhook is configured (alerts.admins, "
                                  "alerts.webhooks): only the journal gets alerts."
                                : "Aucun courriel ni webhook n'est configuré (alerts.admins, "
                                  "alerts.webhooks) : seul le journal reçoit les alertes.");
                printf(en ? "%zu of %zu channel(s) worked.\n"
                          : "%zu canal(aux) sur %zu ont fonctionné.\n",
                       good, json_array_size(chans));
        }
        json_decref(r);
        close_session(&s);
        return rc;
}

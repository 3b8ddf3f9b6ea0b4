/* vigie.conf (libconfig). Every option is one row of a table (config.c) giving
 * its path, type, bounds and default; parsing, defaults and validation all come
 * from that table. An unknown key, a wrong type or a value out of range is an
 * error naming the file, the line and the key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "scan.h"

struct vg_strlist {
        char **v;
        size_t n;
};

enum vg_route_type {
        VG_ROUTE_FOLDER,
        VG_ROUTE_MAIL,
};

enum vg_route_mode {
        VG_MODE_GATE,
        VG_MODE_IN_PLACE,
};

struct vg_route {
        char *name;
        enum vg_route_type type;
        enum vg_route_mode mode;
        char *watch;
        char *deliver;
        char *policy;
        bool notice;
        bool tell_sender_on_delete; /* mail routes: a deleted mail is announced to its sender */
        uint64_t settle_ms;
        struct vg_strlist ignore;
        /* on_flagged = "redact": a flagged file is held and a redacted copy is
         * delivered (gate mode); "hold" (default): held only. */
        bool redact;
        char *spool;
        char *forward;
        struct vg_strlist internal_domains;
        struct vg_strlist ai_domains;
        char *ai_domains_policy;
        char *external_policy;
        char *internal_policy;
        unsigned line;
};

struct vg_webhook {
        char *url;
        char *format;
        char *bearer;
};

struct vg_config {
        char *path; /* the file read, or "(built-in)" */
        struct vg_limits limits;
        uint64_t workers_count; /* 0 = number of cores */
        uint64_t workers_memory;
        char *workers_tmpdir;
        char *store_dir;
        uint64_t retention_days;
        char *control_socket;
        char *admin_group;
        struct vg_strlist rules_dirs;
        struct vg_custom *custom; /* rules.d: custom rules, dictionaries, markings */
        char *images;
        struct vg_policy *policies;
        size_t npolicies;
        struct vg_route *routes;
        size_t nroutes;
        char *language;
        struct vg_strlist admins;
        char *mail_relay;
        char *mail_from;
        struct vg_webhook *webhooks;
        size_t nwebhooks;
        char *templates_dir;            /* alerts.templates: the admin's templates */
        char *charter;                  /* alerts.charter: the office's AI usage charter */
        char *notice_domain;            /* alerts.notice_domain: owner@domain gets notices */
        uint64_t alert_rate_limit;      /* alerts per minute per channel; 0: no limit */
        uint64_t alert_digest_interval; /* seconds an alert waits in a digest */
        uint64_t alert_retry_min;       /* backoff bounds, seconds */
        uint64_t alert_retry_max;
        uint64_t alert_expire;  /* seconds before an undelivered alert is given up */
        uint64_t alert_timeout; /* seconds per attempt */
};

/* Loads `path`, or when NULL the installed vigie.conf if it exists, else the
 * built-in defaults (equal to etc/vigie.conf). On error returns -EINVAL and
 * writes "FILE:LINE: message" into err. */
int vg_config_load(const char *path, struct vg_config **ret, char *err, size_t errsz);
/* Loads a configuration from a string (tests, fuzzing); `name` is used in errors. */
int vg_config_load_string(const char *text, const char *name, struct vg_config **ret, char *err,
                          size_t errsz);
void vg_config_free(struct vg_config *c);
const struct vg_policy *vg_config_policy(const struct vg_config *c, const char *name);
/* A deep copy of a route (the running route outlives a reload). */
struct vg_route *vg_route_copy(const struct vg_route *r);
void vg_route_free(struct vg_route *r);
/* Parses "200M", "1G", "512K", "4096": bytes. -EINVAL on a malformed size, -ERANGE. */
int vg_parse_size(const char *s, uint64_t *ret);

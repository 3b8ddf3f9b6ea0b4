/* What an alert says, as data: the facts (stored in the outbox, language-free,
 * masked only) and the views the templates render (facts plus words in the
 * admin's language, commands to run). Also who may receive a notice. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "i18n.h"

/* Findings and unreadable places listed per alert; the rest is counted. */
#define VG_FACTS_MAX_LIST 50
/* Alerts listed in one digest (mail, JSON); the rest is counted (vigiectl
 * list has them all). Chat formats list the first VG_DIGEST_SHORT_LIST. */
#define VG_DIGEST_MAX_LIST   1000
#define VG_DIGEST_SHORT_LIST 20

/* The facts of a decision, at `when`, on host. New reference or NULL (ENOMEM). */
json_t *vg_alert_facts(const struct vg_decision *d, int64_t when, const char *host);

struct vg_view_opts {
        enum vg_lang lang;
        const char *charter; /* the office's AI usage charter; NULL or "" for none */
};

/* The view of one alert (a new object; facts is not changed). */
json_t *vg_alert_view(const json_t *facts, const struct vg_view_opts *o);
/* The view of a digest: `alerts` holds the facts of the first alerts (at most
 * VG_DIGEST_MAX_LIST are listed), `total` how many the digest groups. */
json_t *vg_digest_view(const char *id, const json_t *alerts, size_t total, int64_t when,
                       const char *host, const struct vg_view_opts *o);

/* A plain address: local@domain, printable ASCII without spaces, quotes,
 * angle brackets or line breaks, at most 254 bytes. */
bool vg_mail_address_ok(const char *addr);
/* Whether a notice may go to addr: one of the admins, or an address whose
 * domain is one of `domains` or below one. Anything else is external: no
 * backscatter to people outside the office. */
bool vg_address_internal(const char *addr, const struct vg_strlist *domains,
                         const struct vg_strlist *admins);

/* Alerts: every decision goes to the journal with structured fields (clean ones
 * at a lower priority); held and unscannable items raise alerts for the admins
 * (mail, webhooks) and a notice for the employee concerned.
 *
 * An alert is written to the store's outbox (its own tables, one transaction)
 * before anything is sent, then sent on each channel and retried with backoff
 * until delivered or expired, across restarts. Each alert keeps one id (the
 * held item's reference when there is one), used as Message-ID and webhook id,
 * so a repeat after a crash at the very moment of sending is recognisable.
 * Above alerts.rate_limit per minute on a channel, alerts wait and go out
 * grouped in one digest per channel. Sending never blocks the event loop:
 * libcurl's multi interface runs on sd-event, a sendmail-style command runs as
 * a child process watched by sd-event.
 *
 * Nothing here ever carries an identifier unmasked: callers pass display names
 * (masked, escaped) and reports (masked samples only). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "report.h"

struct vg_manager;
struct vg_alerts;

struct vg_decision {
        const char *id; /* item or job id */
        const char *route;
        const char *kind;   /* "file" or "mail" */
        const char *file;   /* display name: masked and escaped */
        const char *origin; /* display origin (path or sender): masked and escaped */
        const char *owner;  /* user name, may be NULL */
        int64_t owner_uid;
        const char *verdict;   /* clean, flagged, unscannable */
        const char *action;    /* what was done: pass, alert, quarantine, leave */
        const char *detectors; /* comma-separated detectors and reasons, may be NULL */
        const char *sha256;    /* may be NULL or empty */
        const char *extra;     /* "allowlisted=yes", "monitor=yes", "reason=special-file"... */
        const struct vg_report *report; /* NULL for a file that was never opened */
        bool alert; /* held, unscannable, or flagged in monitor mode: tell the admins */
        /* Mail routes: the envelope sender and the recipients (comma-separated),
         * operational data shown to the admins. The sender gets the notice mail
         * when it is inside the office (never an external address). */
        const char *sender;
        const char *recipients;
};

/* "iban,fr_nir,encrypted": the detectors that matched and the reasons a part
 * could not be read, each once, for logs and alerts. Free with g_free(). */
char *vg_alert_detectors(const struct vg_report *r);

/* Logs the decision (journal with VIGIE_* fields, or a key=value line on stderr
 * when there is no journal) and, when d->alert, raises an alert. */
void vg_alert_decision(struct vg_manager *m, const struct vg_decision *d);

/* The alert machinery of one vigied: outbox tables in m->store, timers on
 * m->event, channels from m->config. Alerts already in the outbox (a previous
 * run) are sent again; held items whose alert was never recorded (a crash
 * between the commit and the alert) get one. */
int vg_alerts_new(struct vg_manager *m, struct vg_alerts **ret);
/* After a configuration reload: templates reread, channels from the new config. */
void vg_alerts_reload(struct vg_alerts *a);
/* Sends in flight are abandoned: they stay in the outbox for the next start. */
void vg_alerts_free(struct vg_alerts *a);
/* The outbox by state, for `vigiectl status`. */
json_t *vg_alerts_status(struct vg_alerts *a);

/* `vigiectl test-alert`: a test alert through every configured channel, now,
 * outside the outbox. done() gets {"channels": [{"channel", "ok", "detail"}]}
 * (a new reference) once every channel answered or timed out; it is called
 * with NULL if the daemon stops first. */
typedef void (*vg_alert_test_done)(void *userdata, json_t *result);
int vg_alerts_test(struct vg_alerts *a, const char *by, vg_alert_test_done done, void *userdata);

/* Alerts: every decision goes to the journal with structured fields (clean ones
 * at a lower priority); held and unscannable items raise alerts for the admins.
 * Nothing here ever carries an identifier unmasked: callers pass display names
 * (masked, escaped) and reports (masked samples only). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "report.h"

struct vg_manager;

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
};

/* Logs the decision (journal with VIGIE_* fields, or a key=value line on stderr
 * when there is no journal) and, when d->alert, raises an alert. */
void vg_alert_decision(struct vg_manager *m, const struct vg_decision *d);

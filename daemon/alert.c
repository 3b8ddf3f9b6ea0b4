#include "alert.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"

/* journald listens here; without it (a container, a test) the same facts go to
 * stderr as one key=value line. */
static bool have_journal(void)
{
        return access("/run/systemd/journal/socket", W_OK) == 0;
}

static const char *nz(const char *s)
{
        return s && *s ? s : NULL;
}

void vg_alert_decision(struct vg_manager *m, const struct vg_decision *d)
{
        (void)m;
        int prio = d->alert ? LOG_WARNING : LOG_INFO;
        const char *dets = nz(d->detectors);
        if (have_journal()) {
                sd_journal_send("MESSAGE=%s %s: %s -> %s%s%s", d->route, d->file, d->verdict,
                                d->action, dets ? " (" : "", dets ? dets : "", "PRIORITY=%d", prio,
                                "SYSLOG_IDENTIFIER=vigied", "VIGIE_ID=%s", d->id ? d->id : "",
                                "VIGIE_ROUTE=%s", d->route, "VIGIE_KIND=%s", d->kind,
                                "VIGIE_FILE=%s", d->file, "VIGIE_VERDICT=%s", d->verdict,
                                "VIGIE_ACTION=%s", d->action, "VIGIE_DETECTORS=%s",
                                dets ? dets : "", "VIGIE_SHA256=%s", d->sha256 ? d->sha256 : "",
                                "VIGIE_ORIGIN=%s", d->origin ? d->origin : "", "VIGIE_OWNER=%s",
                                d->owner ? d->owner : "", NULL);
                return;
        }
        vg_log(prio, "event=decision route=%s id=%s file=\"%s\" verdict=%s action=%s%s%s%s%s%s%s",
               d->route, d->id ? d->id : "-", d->file, d->verdict, d->action,
               dets ? " detectors=" : "", dets ? dets : "", nz(d->sha256) ? " sha256=" : "",
               nz(d->sha256) ? d->sha256 : "", d->extra ? " " : "", d->extra ? d->extra : "");
}

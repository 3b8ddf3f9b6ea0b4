/* What a webhook receives. Formats (alerts.webhooks[].format):
 *   json   the facts as one JSON object (type "alert", "digest" or "test"),
 *          stable keys in English, with the commands to act and a short text
 *   ntfy   the short text as the body, a Title header (ntfy.sh and servers
 *          of the same protocol)
 *   slack  {"text": ...}: Slack and Mattermost incoming webhooks
 * Every request carries X-Vigie-Alert-Id (the same on every retry) and, when
 * configured, Authorization: Bearer. Pure: no sending here (alert_send). */
#pragma once
#include <jansson.h>

#include "config.h"
#include "i18n.h"
#include "template.h"

struct vg_webhook_request {
        char *body;
        const char *content_type;
        char *headers[6]; /* "Name: value" lines, NULL-terminated */
};

/* kind: "alert", "digest" or "test"; view from vg_alert_view() or
 * vg_digest_view(). -EINVAL when the bearer token holds a line break. */
int vg_alert_webhook_build(const struct vg_templates *t, enum vg_lang lang,
                           const struct vg_webhook *w, const char *kind, const char *id,
                           const json_t *view, struct vg_webhook_request *ret);
void vg_webhook_request_clear(struct vg_webhook_request *r);

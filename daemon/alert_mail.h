/* The mails vigie writes: an alert or a digest to an admin, a notice to the
 * employee concerned, a test. Text from the templates (alerts.templates), the
 * message from mail_format. Pure: no sending here (alert_send). */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "i18n.h"
#include "template.h"

/* kind: "alert", "digest", "notice" or "test"; view from vg_alert_view() or
 * vg_digest_view(). The Message-ID is "<ID[.notice]@DOMAIN-OF-FROM>": the same
 * for every sending of one message. NULL when an address is not plain, on a
 * template that renders past VG_TEMPLATE_MAX_OUT, or ENOMEM; *err says which. */
char *vg_alert_mail_build(const struct vg_templates *t, enum vg_lang lang, const char *kind,
                          const char *id, const json_t *view, const char *from, const char *to,
                          bool crlf, int64_t date, const char **err);

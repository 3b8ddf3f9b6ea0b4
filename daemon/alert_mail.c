#include "alert_mail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail_format.h"

char *vg_alert_mail_build(const struct vg_templates *t, enum vg_lang lang, const char *kind,
                          const char *id, const json_t *view, const char *from, const char *to,
                          bool crlf, int64_t date, const char **err)
{
        bool en = lang == VG_LANG_EN;
        enum vg_template_kind k = VG_TPL_ALERT_MAIL;
        const char *fallback = en ? "[vigie] alert" : "[vigie] alerte";
        bool notice = strcmp(kind, "notice") == 0;
        if (strcmp(kind, "digest") == 0) {
                k = VG_TPL_DIGEST_MAIL;
                fallback = en ? "[vigie] alerts" : "[vigie] alertes";
        } else if (notice) {
                k = VG_TPL_NOTICE_MAIL;
                fallback = en ? "[vigie] notice" : "[vigie] avis";
        }
        *err = "out of memory";
        char *text = NULL;
        int e = vg_template_render(vg_templates_get(t, k, lang), view, VG_TEMPLATE_MAX_OUT, &text);
        if (e < 0) {
                if (e == -ENOBUFS)
                        *err = "the template renders too much text";
                return NULL;
        }
        char *subject = NULL;
        const char *body = NULL;
        char *msg = NULL;
        if (vg_mail_split(text, fallback, &subject, &body) == 0) {
                const char *at = from ? strrchr(from, '@') : NULL;
                char msgid[320];
                snprintf(msgid, sizeof(msgid), "%s%s@%s", id, notice ? ".notice" : "",
                         at && at[1] ? at + 1 : "localhost");
                struct vg_mail m = {
                    .from = from,
                    .from_name = "vigie",
                    .to = to,
                    .subject = subject,
                    .message_id = msgid,
                    .alert_id = id,
                    .body = body,
                    .date = date,
                };
                msg = vg_mail_compose(&m, crlf);
                if (!msg)
                        *err = "an address or the id is not plain (or out of memory)";
        }
        free(subject);
        free(text);
        return msg;
}

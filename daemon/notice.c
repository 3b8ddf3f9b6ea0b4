#include "notice.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alert_facts.h"
#include "i18n.h"
#include "log.h"
#include "masker.h"
#include "template.h"

static const struct vg_templates *notice_templates;
static char *notice_charter;

void vg_notice_configure(const struct vg_templates *t, const char *charter)
{
        notice_templates = t;
        free(notice_charter);
        notice_charter = charter && *charter ? strdup(charter) : NULL;
}

/* Built-in templates for a notice written before the alert module set any. */
static const struct vg_templates *templates(void)
{
        static struct vg_templates *builtin;
        if (notice_templates)
                return notice_templates;
        if (!builtin) {
                char warn[64];
                if (vg_templates_load(NULL, &builtin, warn, sizeof(warn)) < 0)
                        return NULL;
        }
        return builtin;
}

char *vg_notice_text(const char *display_name, const char *id, const struct vg_report *r,
                     enum vg_lang lang)
{
        const struct vg_templates *t = templates();
        struct vg_decision d = {
            .id = id,
            .kind = "file",
            .file = display_name,
            .verdict = vg_verdict_name(r->verdict),
            .action = vg_action_name(r->action),
            .sha256 = r->sha256,
            .report = r,
        };
        json_t *facts = t ? vg_alert_facts(&d, (int64_t)time(NULL), NULL) : NULL;
        struct vg_view_opts o = {.lang = lang, .charter = notice_charter};
        json_t *view = facts ? vg_alert_view(facts, &o) : NULL;
        char *text = NULL;
        if (!view || vg_template_render(vg_templates_get(t, VG_TPL_NOTICE, lang), view,
                                        VG_TEMPLATE_MAX_OUT, &text) < 0)
                text = NULL;
        json_decref(view);
        json_decref(facts);
        return text;
}

int vg_notice_write(int dir, const char *name, const char *id, const struct vg_report *r,
                    enum vg_lang lang, uid_t uid, gid_t gid)
{
        char *file = NULL;
        char *disp = vg_escape_name(name, strlen(name));
        /* The notice's name carries the original name as the user wrote it: it is
         * their own folder. Its content shows it escaped and masked (report path). */
        if (!disp || asprintf(&file, "%s%s", name,
                              lang == VG_LANG_FR ? ".vigie-retenu.txt" : ".vigie-held.txt") < 0) {
                free(disp);
                return -ENOMEM;
        }
        char *text = vg_notice_text(r->path && *r->path ? r->path : disp, id, r, lang);
        free(disp);
        int e = text ? 0 : -ENOMEM;
        int fd =
            e ? -1 : openat(dir, file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (e == 0 && fd < 0) {
                e = -errno;
        } else if (fd >= 0) {
                size_t n = strlen(text);
                if (write(fd, text, n) != (ssize_t)n)
                        e = -EIO;
                if (fchown(fd, uid, gid) < 0 && geteuid() == 0)
                        e = e ? e : -errno;
                close(fd);
        }
        if (e < 0)
                vg_log(LOG_WARNING, "event=notice-failed id=%s error=\"%s\"", id, strerror(-e));
        free(text);
        free(file);
        return e;
}

/* The view of notice-redacted: each detector's label, count and placeholders. */
static json_t *redacted_view(const char *id, const char *copy, const char *replaced,
                             enum vg_lang lang)
{
        json_t *in = replaced ? json_loads(replaced, 0, NULL) : NULL;
        json_t *list = json_array(), *view = NULL;
        size_t i;
        json_t *e;
        if (!json_is_array(in) || !list)
                goto done;
        json_array_foreach(in, i, e)
        {
                const char *det = json_string_value(json_object_get(e, "detector"));
                json_int_t count = json_integer_value(json_object_get(e, "count"));
                char ph[512] = "";
                size_t k;
                json_t *smp;
                json_array_foreach(json_object_get(e, "samples"), k, smp)
                {
                        const char *sv = json_string_value(smp);
                        const char *arrow = sv ? strstr(sv, "-> ") : NULL;
                        size_t n = strlen(ph);
                        if (arrow && n + strlen(arrow) + 4 < sizeof(ph))
                                snprintf(ph + n, sizeof(ph) - n, "%s%s", n ? ", " : "", arrow + 3);
                }
                if (!det)
                        continue;
                json_array_append_new(list, json_pack("{s:s, s:I, s:s}", "label",
                                                      vg_i18n_detector(lang, det), "count", count,
                                                      "placeholders", ph));
        }
        view = json_pack("{s:s, s:s, s:O}", "id", id, "copy", copy, "replaced", list);
done:
        json_decref(in);
        json_decref(list);
        return view;
}

int vg_notice_append_redacted(int dir, const char *name, const char *id, const char *copy,
                              const char *replaced, enum vg_lang lang)
{
        char *file = NULL, *text = NULL;
        char *disp = vg_escape_name(copy, strlen(copy));
        json_t *view = disp ? redacted_view(id, disp, replaced, lang) : NULL;
        const struct vg_templates *t = templates();
        int e = -ENOMEM;
        if (!view || !t ||
            asprintf(&file, "%s%s", name,
                     lang == VG_LANG_FR ? ".vigie-retenu.txt" : ".vigie-held.txt") < 0) {
                file = NULL;
                goto done;
        }
        if (vg_template_render(vg_templates_get(t, VG_TPL_NOTICE_REDACTED, lang), view,
                               VG_TEMPLATE_MAX_OUT, &text) < 0)
                goto done;
        /* the notice written when the file was held, never a link put in its place */
        int fd = openat(dir, file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                e = -errno;
                goto done;
        }
        size_t n = strlen(text);
        e = write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
        close(fd);
done:
        if (e < 0)
                vg_log(LOG_WARNING, "event=notice-failed id=%s error=\"%s\"", id, strerror(-e));
        json_decref(view);
        free(disp);
        free(text);
        free(file);
        return e;
}

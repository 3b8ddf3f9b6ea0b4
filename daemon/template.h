/* Templates for what people read: the employee's notice (file and mail), the
 * admins' alert and digest mails, the short text of chat webhooks. The admin can
 * edit them (alerts.templates); a built-in copy of each (etc/templates, compiled
 * in) stands in for a file that is missing or broken, so a notice is never lost
 * to a typo.
 *
 * The syntax is a small subset of Mustache, over a JSON object:
 *   {{name}}             the value (a string, a number; nothing when absent)
 *   {{a.b}}              a member of a member
 *   {{#name}}...{{/name}} a list: once per element ({{.}} is the element);
 *                        a true value: once; absent, false, "", 0 or []: never
 *   {{^name}}...{{/name}} once when name is absent, false, "", 0 or []
 *   {{! comment }}       nothing (may span lines)
 * A line holding only a section tag or a comment disappears entirely, so the
 * text reads as it will be printed. Values are inserted as they are: templates
 * produce plain text (mail bodies, notices), never HTML or JSON. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "i18n.h"

struct vg_template;
struct vg_templates;

/* Caps, checked before parsing or while rendering (errors, never truncation). */
#define VG_TEMPLATE_MAX_SIZE  (64 * 1024)
#define VG_TEMPLATE_MAX_DEPTH 8
#define VG_TEMPLATE_MAX_OUT   (1024 * 1024)

/* -EINVAL with "line N: message" in err on a malformed template; -E2BIG past
 * VG_TEMPLATE_MAX_SIZE. */
int vg_template_parse(const char *text, size_t len, struct vg_template **ret, char *err,
                      size_t errsz);
void vg_template_free(struct vg_template *t);
/* Renders against data (a JSON object). *ret is NUL-terminated, caller frees.
 * -ENOBUFS when the text would pass `max` bytes. */
int vg_template_render(const struct vg_template *t, const json_t *data, size_t max, char **ret);

/* The templates vigie knows, by kind; each exists as KIND.fr.txt and KIND.en.txt. */
enum vg_template_kind {
        VG_TPL_NOTICE,      /* the notice file next to a held upload */
        VG_TPL_NOTICE_MAIL, /* the notice mailed to the employee concerned */
        VG_TPL_ALERT_MAIL,  /* one alert to an admin */
        VG_TPL_DIGEST_MAIL, /* alerts grouped when they come too fast */
        VG_TPL_ALERT_CHAT,  /* one alert, short, for ntfy and Slack/Mattermost */
        VG_TPL_DIGEST_CHAT,
        VG_TPL_NOTICE_REDACTED, /* added to the notice when a redacted copy went out */
        VG_TPL_COUNT_,
};

/* The file name of a kind in a language: "notice.fr.txt". */
const char *vg_template_file(enum vg_template_kind k, enum vg_lang lang);

/* Loads every template: from dir when the file exists there, else the built-in
 * copy. dir may be NULL or missing (built-in copies only). A file that cannot be
 * read or parsed is replaced by the built-in copy and described, one line each,
 * in warn (empty when all is well). -ENOMEM only. */
int vg_templates_load(const char *dir, struct vg_templates **ret, char *warn, size_t warnsz);
void vg_templates_free(struct vg_templates *s);
const struct vg_template *vg_templates_get(const struct vg_templates *s, enum vg_template_kind k,
                                           enum vg_lang lang);
/* Where a template came from: "built-in" or its path. */
const char *vg_templates_origin(const struct vg_templates *s, enum vg_template_kind k,
                                enum vg_lang lang);

/* The built-in copies (generated from etc/templates at build time). */
struct vg_builtin_template {
        const char *name;
        const char *text;
        size_t len;
};
extern const struct vg_builtin_template vg_builtin_templates[];

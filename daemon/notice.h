/* The notice an employee finds next to a held upload: what was found (kinds of
 * data, masked), the reference, how to ask for release, and the office's AI
 * usage charter when one is configured. Its text comes from the templates
 * notice.fr.txt / notice.en.txt (alerts.templates), French by default. */
#pragma once
#include <sys/types.h>

#include "i18n.h"
#include "report.h"

struct vg_templates;

/* Writes "<name>.vigie-retenu.txt" (or ".vigie-held.txt") in dir, owned by the
 * file's owner so they can remove it. Failures are logged, never fatal. */
int vg_notice_write(int dir, const char *name, const char *id, const struct vg_report *r,
                    enum vg_lang lang, uid_t uid, gid_t gid);
/* The text itself (caller frees), for tests and mail notices. */
char *vg_notice_text(const char *display_name, const char *id, const struct vg_report *r,
                     enum vg_lang lang);
/* Appends to that notice what a redacted copy delivered in its place replaced
 * (template notice-redacted): `replaced` is the workers' JSON array (detector,
 * count, samples "masked -> [PLACEHOLDER]"). Failures are logged, never fatal. */
int vg_notice_append_redacted(int dir, const char *name, const char *id, const char *copy,
                              const char *replaced, enum vg_lang lang);
/* The templates and charter notices use from now on (the alert module sets
 * them at start and on reload; NULL templates: the built-in ones). The routes
 * call vg_notice_write() without the manager, hence this one setting. */
void vg_notice_configure(const struct vg_templates *t, const char *charter);

/* The notice an employee finds next to a held upload: what was found (kinds of
 * data, masked), the reference, and how to ask for release. French by default. */
#pragma once
#include <sys/types.h>

#include "i18n.h"
#include "report.h"

/* Writes "<name>.vigie-retenu.txt" (or ".vigie-held.txt") in dir, owned by the
 * file's owner so they can remove it. Failures are logged, never fatal. */
int vg_notice_write(int dir, const char *name, const char *id, const struct vg_report *r,
                    enum vg_lang lang, uid_t uid, gid_t gid);
/* The text itself (caller frees), for tests and mail notices. */
char *vg_notice_text(const char *display_name, const char *id, const struct vg_report *r,
                     enum vg_lang lang);

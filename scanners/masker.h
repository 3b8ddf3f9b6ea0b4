/* Showing names: identifiers masked, invalid UTF-8, control characters and
 * backslashes written as \xNN. Used by the engine for `where`, and by the
 * supervisor, which never loads the parsers, for logs, notices and alerts. */
#pragma once
#include <stddef.h>

struct vg_masker;

struct vg_custom;
/* custom: the admin's rules (may be NULL), so their identifiers are masked too. */
int vg_masker_new(const struct vg_custom *custom, struct vg_masker **ret);
void vg_masker_free(struct vg_masker *m);
/* Caller frees; NULL on ENOMEM. */
char *vg_masker_display(struct vg_masker *m, const char *name);
/* Escaping only (no masking). Caller frees; NULL on ENOMEM. */
char *vg_escape_name(const char *s, size_t n);

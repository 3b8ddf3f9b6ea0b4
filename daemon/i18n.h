/* Words shown to people (admins, employees), in French by default, English on
 * request. Machine-readable output (JSON, log keys) stays in stable English ids. */
#pragma once
#include "report.h"

enum vg_lang {
        VG_LANG_FR,
        VG_LANG_EN,
};

enum vg_lang vg_lang_from_name(const char *name);
const char *vg_i18n_verdict(enum vg_lang l, enum vg_verdict v);
const char *vg_i18n_action(enum vg_lang l, enum vg_action a);
const char *vg_i18n_reason(enum vg_lang l, enum vg_reason r);
/* What a detector finds, in words an employee understands. */
const char *vg_i18n_detector(enum vg_lang l, const char *id);
/* "in" as in "iban x1 in a.zip/b.txt" */
const char *vg_i18n_in(enum vg_lang l);

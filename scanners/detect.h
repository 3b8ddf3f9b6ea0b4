/* The rule engine. A detector is a PCRE2 pattern (JIT, under match limits), then
 * a length-bounded candidate handed to a pure check function, and only then a
 * count and a masked copy. Raw values never leave this module except masked.
 *
 * Patterns run in byte mode over normalised UTF-8 (see text.c): identifiers are
 * ASCII, and byte mode avoids UTF validity checks on every chunk. */
#pragma once
#include "report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest candidate a detector may match, in bytes. text.c keeps an overlap
 * between chunks longer than this, so no candidate is ever cut in two. */
#define VG_MAX_MATCH 1024

struct vg_hit {
        size_t used;     /* bytes of the match that form the value */
        char canon[128]; /* normalised value, for distinct counting */
        size_t canon_len;
        char masked[160]; /* what may be shown */
};

struct vg_detector {
        const char *id;
        const char *pattern;
        uint32_t options; /* extra PCRE2 compile options */
        /* Validates s[0,n) (the match) and fills hit; NULL accepts every match. */
        bool (*check)(const char *s, size_t n, struct vg_hit *hit);
};

/* Detector families, each a table ending with a NULL id. */
extern const struct vg_detector vg_detectors_bank[];
extern const struct vg_detector vg_detectors_fr_id[];

struct vg_rules;
struct vg_detect;

int vg_rules_new(struct vg_rules **ret);
void vg_rules_free(struct vg_rules *r);
size_t vg_rules_count(const struct vg_rules *r);
const char *vg_rules_id(const struct vg_rules *r, size_t i);

/* Per-object state: counts, distinct values, masked samples. */
int vg_detect_new(struct vg_rules *rules, struct vg_detect **ret);
void vg_detect_free(struct vg_detect *d);
/* Runs every rule over buf[0,len) and counts the matches that start in
 * [from, until). Bytes before `from` are context for look-behinds only.
 * -ELOOP when a PCRE2 limit is hit (the caller makes the object unscannable). */
int vg_detect_run(struct vg_detect *d, const char *buf, size_t len, size_t from, size_t until);
/* Adds one finding per detector that matched at least once, at `where`. */
int vg_detect_report(const struct vg_detect *d, struct vg_report *r, const char *where);
bool vg_detect_any(const struct vg_detect *d);

/* Returns a copy of s[0,n) where every validated identifier is replaced by its
 * masked form (for names shown in logs and alerts), or NULL on ENOMEM. */
char *vg_rules_mask_string(struct vg_rules *rules, const char *s, size_t n);

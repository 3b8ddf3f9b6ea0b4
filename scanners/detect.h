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

/* A candidate: the match buf[start,end) inside the text being scanned, buf[0,len).
 * A check may look around the match (line starts, neighbouring words) but not
 * further than VG_MAX_WINDOW bytes: that much context is always there. */
struct vg_match {
        const char *buf;
        size_t len;
        size_t start;
        size_t end;
};

/* How far around a match a detector may look (context words, line checks). */
#define VG_MAX_WINDOW 256

struct vg_detector {
        const char *id;
        const char *pattern;
        uint32_t options; /* extra PCRE2 compile options */
        /* Validates the candidate and fills hit (hit->used starts as the match
         * length; canon and masked must be set). NULL accepts every match with
         * the match as canon and masked: only for detectors of words. */
        bool (*check)(const struct vg_match *m, struct vg_hit *hit);
        /* The pattern runs over folded text: lower case, accents removed
         * ("É" -> "e", "œ" -> "oe"). Write such patterns in lower-case ASCII.
         * Folded detectors are for words; names are not masked by them. */
        bool folded;
        /* Context words (lower-case ASCII, accents removed, whole words), looked
         * for within `window` bytes (default 64, at most VG_MAX_WINDOW) before the
         * match or after it. With context_required, no context, no finding. */
        const char *const *context;
        unsigned window;
        bool context_required;
};

/* Whether one of `words` occurs as a whole word (case and accents folded) within
 * `window` bytes before the match or after it. */
bool vg_match_has_context(const struct vg_match *m, const char *const *words, size_t window);
/* Folds s[0,n) into out (capacity 2n + 1): lower case, Latin accents removed,
 * "œ"/"æ" -> "oe"/"ae", other bytes unchanged. When map is not NULL, map[i] is
 * the offset in s of out[i]. Returns the length written. */
size_t vg_fold(const char *s, size_t n, char *out, uint32_t *map);

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

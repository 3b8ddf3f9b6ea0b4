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

struct vg_detect;
struct vg_detector;
struct vg_cand;
struct vg_custom;
struct vg_score;

struct vg_hit {
        size_t used;     /* bytes of the match that form the value */
        char canon[128]; /* normalised value, for distinct counting */
        size_t canon_len;
        char masked[160]; /* what may be shown */
        /* Scored detectors (those with a `finish` step): what this hit adds to the
         * object's score. A negative weight is evidence against (legal vocabulary
         * next to medical words): it lowers the score and is not an occurrence. */
        int weight;
};

/* A candidate: the match buf[start,end) inside the text being scanned, buf[0,len).
 * A check may look around the match (line starts, neighbouring words) but not
 * further than VG_MAX_WINDOW bytes: that much context is always there. */
struct vg_match {
        const char *buf;
        size_t len;
        size_t start;
        size_t end;
        /* For folded detectors, the text as it was (case, accents) and where the
         * match lies in it; for the others, the same as buf/len/start/end. */
        const char *raw;
        size_t raw_len;
        size_t raw_start;
        size_t raw_end;
        const struct vg_detector *det;
};

/* What the prefilter's one pass over a chunk found (detect.c): the text, its
 * runs of ASCII digits (run_s[k] <= the run < run_e[k], in order, over the whole
 * buffer, context included) and the offsets of the bytes ':' '=' '>' and tab. */
struct vg_prescan {
        const unsigned char *b;
        size_t len;
        const uint32_t *run_s;
        const uint32_t *run_e;
        size_t nruns;
        const uint32_t *ops;
        size_t nops;
};
/* A gate's find function adds windows [lo, hi) of possible match starts, in
 * order (lo never decreasing); they are cut to the starts being counted. */
int vg_cand_add(struct vg_cand *c, size_t lo, size_t hi);
static inline bool vg_is_digit(unsigned char c)
{
        return (unsigned char)(c - '0') < 10;
}
static inline bool vg_is_alpha(unsigned char c)
{
        return (unsigned char)((c | 0x20) - 'a') < 26;
}
static inline bool vg_is_alnum(unsigned char c)
{
        return vg_is_digit(c) || vg_is_alpha(c);
}
/* Whether b[i] (i may be past either end: no byte) is an ASCII letter or digit. */
static inline bool vg_alnum_at(const struct vg_prescan *p, size_t i)
{
        return i < p->len && vg_is_alnum(p->b[i]);
}

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
        /* Scored detectors: called once per object with the sums of the hits'
         * weights; the finding is reported only when it returns true (health:
         * a density of medical words, not one word). */
        bool (*finish)(const struct vg_score *s);
        /* A pattern that depends on the configuration (lists the admin extends):
         * built when the rules are compiled, instead of `pattern`. Returns a
         * malloc'd pattern, NULL on ENOMEM. */
        char *(*build)(const struct vg_custom *custom);
        const void *data; /* the detector's own data, for checks shared by rules */
        /* The prefilter (see detect.c): a promise about every match of `pattern`,
         * so that the pattern runs only near the places that keep it. All zero:
         * no promise, the pattern runs over the whole text. */
        struct vg_gate {
                /* One of the bytes of `bytes` at most `lead` bytes after the
                 * match start (found with memchr when it is one byte)... */
                const char *bytes;
                unsigned lead;
                /* ...or a function that lists the windows of possible starts
                 * from what the prefilter's pass found (struct vg_prescan): the
                 * runs of digits and the operator bytes, which it reads against
                 * the shape of the pattern (a card is a chain of 13 digits at
                 * least, with single spaces or dashes). It must keep every start
                 * where the pattern can match, whatever the check says. */
                int (*find)(const struct vg_prescan *p, struct vg_cand *c);
        } gate;
        /* For a pattern of phrases built with vg_phrases_pattern(): the same
         * phrases, so that the engine tries the pattern only where the first
         * words of one of them are (see detect.c). Returns a malloc'd array of n
         * borrowed strings, NULL on ENOMEM. */
        const char **(*phrases)(const struct vg_custom *custom, size_t *n);
};

/* What a `finish` step sees of one object. */
struct vg_score {
        uint64_t count;              /* hits with a weight >= 0 */
        uint64_t distinct;           /* distinct values among them */
        uint64_t weight;             /* sum of the weights of those hits */
        uint64_t weight_distinct;    /* sum of the weights of the first hit of each value */
        uint64_t against;            /* sum of the negative weights, as a positive number */
        uint64_t text_bytes;         /* normalised text the object had */
        const struct vg_detect *det; /* for vg_detect_count() of other detectors */
        const struct vg_custom *custom;
};

/* Whether one of `words` occurs as a whole word (case and accents folded) within
 * `window` bytes before the match or after it. */
bool vg_match_has_context(const struct vg_match *m, const char *const *words, size_t window);
/* Folds s[0,n) into out (capacity 2n + 1): lower case, Latin accents removed,
 * "œ"/"æ" -> "oe"/"ae", other bytes unchanged. When map is not NULL, map[i] is
 * the offset in s of out[i]. Returns the length written. */
size_t vg_fold(const char *s, size_t n, char *out, uint32_t *map);

/* Detector families, each a table ending with a NULL id. Several rows may share
 * an id (several patterns for one detector): they share counts and samples, the
 * first row's `finish` applies, and their checks must not accept the same text
 * twice. */
extern const struct vg_detector vg_detectors_bank[];
extern const struct vg_detector vg_detectors_fr_id[];
extern const struct vg_detector vg_detectors_contact[];
extern const struct vg_detector vg_detectors_secret[];
extern const struct vg_detector vg_detectors_marking[];
extern const struct vg_detector vg_detectors_health[];
/* Names of people (detect_person.c): for redaction only (vg_rules_new_redaction):
 * a name alone is no reason to hold a file, and scan reports stay as they were. */
extern const struct vg_detector vg_detectors_person[];

/* Custom rules and dictionaries from the configuration (rules.d files). The
 * engine copies what it needs: the caller keeps ownership. */
enum vg_validator {
        VG_VALIDATOR_NONE,
        VG_VALIDATOR_LUHN,
        VG_VALIDATOR_IBAN,
        VG_VALIDATOR_NIR,
        VG_VALIDATOR_COUNT_,
};

/* How a custom finding is shown: "masked" keeps a quarter of the letters and
 * digits at each end (4 at most) and stars the rest; "hidden" shows "****" only;
 * "value" shows it as written (dictionary terms: the admin's own words). */
enum vg_show {
        VG_SHOW_MASKED,
        VG_SHOW_HIDDEN,
        VG_SHOW_VALUE,
};

struct vg_custom_rule {
        char *id;
        char *pattern; /* PCRE2 over the normalised text (not folded), or NULL */
        char **terms;  /* a dictionary (when pattern is NULL): folded terms */
        size_t nterms;
        enum vg_validator validator;
        char **context; /* folded context words, NULL-terminated; required when set */
        unsigned window;
        enum vg_show show;
        uint64_t threshold; /* the policy's default threshold for this id */
        char *file;         /* where it was defined, for messages */
        unsigned line;
};

struct vg_custom {
        struct vg_custom_rule *rules;
        size_t nrules;
        char **markings; /* extra marking phrases, folded */
        size_t nmarkings;
        unsigned health_threshold; /* 0: the built-in default */
};

void vg_custom_free(struct vg_custom *c);
/* Frees what one rule holds and zeroes it. */
void vg_custom_rule_clear(struct vg_custom_rule *r);
/* A deep copy (an empty set when c is NULL); NULL on ENOMEM. */
struct vg_custom *vg_custom_dup(const struct vg_custom *c);
const char *vg_validator_name(enum vg_validator v);
/* -EINVAL for an unknown name. */
int vg_validator_from_name(const char *name);
/* Whether an untrusted pattern is fit to run: compiles in byte mode with limits,
 * cannot match the empty string, has no unbounded repeat, backreference,
 * recursion or verb, and cannot match more than VG_MAX_MATCH bytes. On failure
 * writes why into err and returns -EINVAL. */
int vg_custom_pattern_check(const char *pattern, char *err, size_t errsz);
/* Builds the pattern of a list of folded phrases (a dictionary, markings): an
 * alternation factored as a trie, whole words only, any run of white space
 * matching a space. NULL on ENOMEM or when a phrase is empty. */
char *vg_phrases_pattern(const char *const *terms, size_t n);
/* Whether a dictionary compiles (size limits); -E2BIG when it is too large. */
int vg_custom_terms_check(const char *const *terms, size_t n);
/* The custom detectors: check function shared by every custom rule. */
bool vg_custom_check(const struct vg_match *m, struct vg_hit *hit);

/* Whether a built-in detector has this id. */
bool vg_detector_builtin(const char *id);

struct vg_rules;

int vg_rules_new(const struct vg_custom *custom, struct vg_rules **ret);
/* The same, plus the detectors redaction alone uses (person_name). */
int vg_rules_new_redaction(const struct vg_custom *custom, struct vg_rules **ret);
void vg_rules_free(struct vg_rules *r);
size_t vg_rules_count(const struct vg_rules *r);
const char *vg_rules_id(const struct vg_rules *r, size_t i);

/* Reference mode: every rule runs over the whole text, without the prefilter
 * (the engine as it was before it; the differential tests compare both). */
void vg_rules_set_reference(struct vg_rules *r, bool on);

/* Frees the scratch buffers a scan grew (a few MiB after a large chunk); the
 * next scan allocates them again. A long-lived worker calls it between jobs so
 * that its memory at rest is that of a fresh one. */
void vg_rules_trim(struct vg_rules *r);

/* Per-object state: counts, distinct values, masked samples. */
int vg_detect_new(struct vg_rules *rules, struct vg_detect **ret);
void vg_detect_free(struct vg_detect *d);
/* Runs every rule over buf[0,len) and counts the matches that start in
 * [from, until). Bytes before `from` are context for look-behinds only.
 * -ELOOP when a PCRE2 limit is hit (the caller makes the object unscannable). */
int vg_detect_run(struct vg_detect *d, const char *buf, size_t len, size_t from, size_t until);
/* Adds one finding per detector that matched at least once, at `where` (for a
 * scored detector, only when its finish step keeps it). */
int vg_detect_report(const struct vg_detect *d, struct vg_report *r, const char *where);
bool vg_detect_any(const struct vg_detect *d);
/* Occurrences counted so far by detector `id` in this object (0 if none). */
uint64_t vg_detect_count(const struct vg_detect *d, const char *id);

/* Returns a copy of s[0,n) where every validated identifier is replaced by its
 * masked form (for names shown in logs and alerts), or NULL on ENOMEM. */
char *vg_rules_mask_string(struct vg_rules *rules, const char *s, size_t n);

/* Redaction (redact.c): every validated hit of every rule over buf[0,len), whole
 * (no chunks: the caller bounds len), with where it lies in buf. canon and masked
 * are valid during the call only. Hits may overlap; fn sorts them out. */
struct vg_found {
        const char *id;
        size_t start;
        size_t end;
        const char *canon;
        size_t canon_len;
        const char *masked;
};
typedef int (*vg_found_fn)(void *ctx, const struct vg_found *f);
int vg_rules_find(struct vg_rules *rules, const char *buf, size_t len, vg_found_fn fn, void *ctx);

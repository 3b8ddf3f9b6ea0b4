#include "detect.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "buf.h"

/* PCRE2 limits: the JIT ignores the depth and heap limits, so its stack is bounded
 * too. A pattern that needs more than this on some input is a pathological input:
 * the object becomes unscannable rather than clean. */
#define MATCH_LIMIT     1000000u
#define DEPTH_LIMIT     5000u
#define HEAP_LIMIT_KIB  8192u
#define JIT_STACK_START (32u * 1024)
#define JIT_STACK_MAX   (1024u * 1024)
/* Distinct values are kept as 64-bit hashes; past this many, each new value is
 * counted as distinct without being remembered (only ever over-counts). */
#define DISTINCT_MAX (1u << 20)

static const struct vg_detector *const families[] = {
    vg_detectors_bank,    vg_detectors_fr_id,  vg_detectors_secret,
    vg_detectors_marking, vg_detectors_health, vg_detectors_contact,
};

/* Limits on the patterns of custom rules, which come from the admin's files: a
 * typo must not cost every scan its time budget. Built-in patterns are ours. */
#define CUSTOM_PATTERN_MAX 4096u
#define CUSTOM_NEST_MAX    32u

/* ---- The prefilter --------------------------------------------------------
 *
 * Measured with tests/bench/detect_speed.c (32 MiB of generated office text:
 * French prose, amounts, dates, references, Luhn-invalid card-like numbers,
 * SIRET, partial phone numbers, configuration lines, a few planted identifiers)
 * on the shared 2-core machine, CPU seconds (best of 3): one PCRE2 JIT pass per
 * rule over every chunk took 1.0 s (31 MB/s), of which health 0.17, marking
 * 0.17, email 0.15, iban 0.11, password 0.055, folding 0.05 (0.10 before the
 * ASCII fast path in fold_chunk), driving licence 0.044, rib and nir 0.029,
 * cni 0.028, the other identifiers 0.02 each, the literal-led tokens 0.001-0.002
 * each. PCRE2's own start optimisation (a bitmap of first bytes, memchr for a
 * literal first byte) is what makes the literal-led patterns cheap; for the
 * others it still tries almost every letter or digit, and each try costs.
 *
 * So a rule may carry a promise about its matches (a gate) that a plain C loop
 * can check, and its pattern then runs only in windows of possible starts:
 * - digits: identifiers hold at least N ASCII digits within S bytes of their
 *   start. The digits of the chunk were listed once and each identifier rule
 *   derived its windows from that list (a date or an amount never has the 13
 *   digits of a card within 25 bytes); a head (IBAN: a word start, two
 *   letters, two digits) turned the windows into single starts. Replaced by
 *   the runs and find functions of the second round, below.
 * - bytes: the match holds one of a few bytes ('@' for e-mail, found with
 *   memchr; ':' '=' '>' tab for passwords) a bounded distance after its start.
 * - phrases (markings, health vocabulary): they match whole words, so where
 *   one matches, the first word of the text (or the first two, for a phrase of
 *   several words) is the phrase's. The words of the folded chunk are hashed
 *   once; a word is tried only when it or it and the next are a phrase's start.
 *   A first version tried every word start whose first three bytes could start
 *   a match: "pour", "document", "a" (à) start markings and every third word
 *   passed, slower than the full pass (0.9 s against 0.2).
 * With the gates: 0.42 s (75 MB/s), iban 0.009, email 0.001, marking 0.014,
 * health 0.016, password 0.026, licence 0.036 (its candidates are real
 * 12-character numbers: the cost is the check and its context words), cni and
 * the generic "name = value" token rule stay ungated (a gate with one digit or
 * one of "=:>" gave more windows than PCRE2's own scan: 0.053 s against 0.022).
 * A windowed search costs a pcre2_match call (0.2-1 us on this machine), so a
 * gate only pays when its windows are a few per kilobyte at most.
 *
 * Second round (issue 10: ripgrep's throughput). Measured with vigie-bench
 * detect over the benchmark corpus's plain-text files (79.4 MB of text, CSV,
 * logs, JSON, UTF-8 and cp1252; CPU seconds, best of several, shared machine):
 * 2.30 s (35 MB/s), ripgrep with the same patterns on one thread 0.32 s. perf
 * showed vg_detect_run's own loops first: the digit list (a 4-byte offset
 * written for every byte) and each digit-gated rule walking it again, O(rules x
 * digits) on CSV, where a quarter of the bytes are digits; then 1.4 million
 * windows of those rules (NIR 150,000, RPPS 330,000, each a pcre2_match); the
 * fold and the word hashes; then the sink and decoders. So:
 * - One pass (prescan()) classifies the chunk 64 bytes at a time with SSE2
 *   (the x86-64 baseline; a plain loop elsewhere) into bit masks, skips the
 *   blocks with nothing, and lists runs of digits (start, end: 6.4 million runs
 *   for 19 million digits) and the operator bytes ':' '=' '>' tab.
 * - Each identifier rule has a find function next to its pattern (vg_gate.find)
 *   that reads the pattern's shape from the runs: a card is a chain of runs
 *   joined by single spaces or dashes with 13 digits, starting where the chain
 *   starts; an RPPS a whole run of 11 digits; a passport a run of 2 then one of
 *   5, 2 to 4 bytes later; a password an operator after the end of a name
 *   ("...rd", "...wd", "...se", "...rt", "...dp"), a name = value token an
 *   operator before 16 value bytes. Most give single starts, and the same
 *   promise as before: every start where the pattern can match, whatever the
 *   check says. The CNI and the generic token rule got gates this way too.
 *   Windows went from 1.4 million to 0.5 million (0.35 once the CNI gate
 *   looked at the byte after the run), and 2.30 s to 0.97 s.
 * - A window of one start was an anchored match, which the JIT does not take
 *   at match time: the interpreter ran it, about 2,000 instructions a call
 *   (callgrind). Those rules get a copy compiled anchored (JIT): 0.97 -> 0.74 s
 *   with the next two.
 * - Phrases: a word is hashed only when a hash of its first four bytes is in a
 *   bitmap of the phrases' first words (a key of two bytes let 5.1 million
 *   words through, of 14 million), the next word only when the first is a
 *   phrase's; word hashes take eight bytes a step.
 * - The fold lower-cases sixteen bytes at a time with their map (SSE2); the
 *   sink, the cp1252 decoder and the charset guess skip ASCII sixteen or eight
 *   bytes at a time, the sink accented letters two bytes at a time: 0.66 s.
 * What is left (perf, then): the first read of each file's bytes (the guess's
 * memchr and the sink's scan wait on memory), the word starts of the phrase
 * gate, the find functions (a few per digit run each), the fold of the
 * non-ASCII letters, then PCRE2.
 *
 * A multi-pattern engine (one automaton for every rule) was the other way; PCRE2
 * has none (its DFA matcher is slower than its JIT), and the gates keep every
 * rule's pattern and check exactly as they are.
 *
 * Findings stay exactly those of a full pass: a window search runs the same
 * pattern over the same buffer (look-behinds and context words see the same
 * bytes), only over a subject cut a little past the window, with
 * PCRE2_PARTIAL_HARD: a try that reaches the cut is reported as partial instead
 * of deciding on missing bytes, and that search is done again on a longer
 * subject, then on the whole buffer; a window of one start (phrases, find
 * functions) is an anchored match there on the whole buffer. The search
 * carries its position from one window to the next exactly as the full pass
 * does after a hit (start + used) or a rejected candidate (start + 1).
 * vg_rules_set_reference() keeps the full pass; test_detect_prefilter.c and
 * test_detect_gates.c (near misses, every offset of the pass's blocks) compare
 * both. Custom patterns and dictionaries from the configuration have no gate
 * and run over the whole text; the limits (match limit, JIT stack) apply to
 * every call as before. */
enum gate_kind {
        GATE_NONE,
        GATE_FIND,
        GATE_BYTES,
        GATE_PHRASES,
};

/* Possible match starts [lo, hi). */
struct window {
        size_t lo;
        size_t hi;
};

/* The subject of a window search ends this far past the window, then further
 * (see above). Long enough for every built-in identifier and its look-ahead. */
#define REACH_SHORT 96u
#define REACH_LONG  (4u * VG_MAX_MATCH)
/* Windows closer than this are searched as one: fewer calls, same result. */
#define WINDOW_JOIN 48u

/* A set of 64-bit hashes (open addressing, 0 = empty). */
struct hset {
        uint64_t *slots;
        size_t cap;
        size_t n;
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h | 1;
}

/* Returns 1 if new, 0 if already present, -ENOMEM. */
static int hset_add(struct hset *h, uint64_t v)
{
        if (h->n >= DISTINCT_MAX)
                return 1;
        if ((h->n + 1) * 2 > h->cap) {
                size_t ncap = h->cap ? h->cap * 2 : 16;
                uint64_t *ns = calloc(ncap, sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                for (size_t i = 0; i < h->cap; i++) {
                        uint64_t x = h->slots[i];
                        if (!x)
                                continue;
                        size_t j = x & (ncap - 1);
                        while (ns[j])
                                j = (j + 1) & (ncap - 1);
                        ns[j] = x;
                }
                free(h->slots);
                h->slots = ns;
                h->cap = ncap;
        }
        size_t j = v & (h->cap - 1);
        while (h->slots[j]) {
                if (h->slots[j] == v)
                        return 0;
                j = (j + 1) & (h->cap - 1);
        }
        h->slots[j] = v;
        h->n++;
        return 1;
}

/* Whether v is in the set. */
static bool hset_has(const struct hset *h, uint64_t v)
{
        if (!h->cap)
                return false;
        size_t j = v & (h->cap - 1);
        while (h->slots[j]) {
                if (h->slots[j] == v)
                        return true;
                j = (j + 1) & (h->cap - 1);
        }
        return false;
}

/* A detector id may have several patterns (rows with the same id): each row is a
 * rule, and the rules of one id share their counts (a state). Literal-led
 * patterns are searched for much faster one by one than as one alternation. */
struct rule {
        const struct vg_detector *det;
        pcre2_code *code;
        /* The same pattern compiled anchored, for windows of one start: the JIT
         * does not take PCRE2_ANCHORED at match time, the interpreter did
         * those searches (about 2,000 instructions a call, 56,000 calls for
         * 7 MB of the benchmark). NULL: no such windows, or no memory. */
        pcre2_code *anchored;
        size_t state;
        enum gate_kind gate;
        bool bytes[256]; /* GATE_BYTES: the bytes one of which every match holds */
        /* GATE_PHRASES: the first word of the one-word phrases, the first two
         * words of the others (hashes) */
        struct hset singles;
        struct hset pairs;
        struct hset firsts; /* the first words of the phrases of several words */
        /* a bit per top 16 bits of those hashes: the sets' probes branch at
         * random (measured: 20 ns a word), a test of this bit is almost always
         * false, which the branch predictor learns */
        uint64_t *filter;
};

struct vg_rules {
        struct rule *rules;
        size_t n;
        const struct vg_detector **state_det; /* the first row of each id */
        size_t nstates;
        /* The engine's own copy of the custom rules, and the detectors made of
         * them (they point into it). */
        struct vg_custom *custom;
        struct vg_detector *custom_dets;
        bool any_folded;
        /* The folded copy of the current chunk, and where each byte came from. */
        char *fold;
        uint32_t *fold_map;
        size_t fold_cap;
        pcre2_match_data *md;
        pcre2_match_context *mctx;
        pcre2_jit_stack *stack;
        bool reference; /* no prefilter: every rule over the whole text */
        /* Per chunk: the runs of ASCII digits and the operator bytes (the
         * prefilter's pass), and the windows of one rule. */
        uint32_t *run_s;
        uint32_t *run_e;
        size_t nruns;
        uint32_t *ops;
        size_t nops;
        size_t pre_cap;
        struct window *win;
        size_t nwin;
        size_t win_cap;
        /* Per chunk, for phrases: where the words of the folded text that may
         * start a phrase are, their hashes and the hashes of the words after
         * them (0: none). */
        uint32_t *tok;
        uint64_t *tokh;
        uint32_t *tokn; /* the next word: start, end (tokn[2k], tokn[2k+1]) */
        size_t ntok;
        size_t tok_cap;
        bool any_phrases;
        /* A bit per hash of the first four bytes (or fewer: the whole word) of
         * the first word of every phrase: a word whose start is not in it is
         * not hashed (prefix_key()). */
        uint64_t prefix[1024];
        bool digit_phrase; /* a phrase starts with a digit */
};

/* The per-chunk buffers, sized by the largest chunk seen; allocated again on
 * demand. */
static void scratch_free(struct vg_rules *r)
{
        free(r->fold);
        free(r->fold_map);
        free(r->run_s);
        free(r->run_e);
        free(r->ops);
        free(r->win);
        free(r->tok);
        free(r->tokh);
        free(r->tokn);
        r->fold = NULL;
        r->fold_map = NULL;
        r->fold_cap = 0;
        r->run_s = NULL;
        r->run_e = NULL;
        r->ops = NULL;
        r->nruns = 0;
        r->nops = 0;
        r->pre_cap = 0;
        r->win = NULL;
        r->win_cap = 0;
        r->nwin = 0;
        r->tok = NULL;
        r->tokh = NULL;
        r->tokn = NULL;
        r->tok_cap = 0;
        r->ntok = 0;
}

void vg_rules_free(struct vg_rules *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++) {
                pcre2_code_free(r->rules[i].code);
                pcre2_code_free(r->rules[i].anchored);
                free(r->rules[i].singles.slots);
                free(r->rules[i].pairs.slots);
                free(r->rules[i].firsts.slots);
                free(r->rules[i].filter);
        }
        free(r->rules);
        scratch_free(r);
        free(r->state_det);
        /* the patterns built for dictionaries are ours */
        for (size_t i = 0; r->custom_dets && i < r->custom->nrules; i++)
                if (r->custom_dets[i].folded)
                        free((char *)r->custom_dets[i].pattern);
        free(r->custom_dets);
        vg_custom_free(r->custom);
        pcre2_match_data_free(r->md);
        pcre2_match_context_free(r->mctx);
        pcre2_jit_stack_free(r->stack);
        free(r);
}

static bool word_byte(unsigned char c)
{
        /* as the look-arounds of vg_phrases_pattern() */
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Hash of a word; the pair of two words. Mixed (murmur3's finaliser): the
 * sets look slots up by the low bits, which FNV alone leaves clustered. */
static uint64_t mix64(uint64_t v)
{
        v ^= v >> 33;
        v *= 0xff51afd7ed558ccdull;
        v ^= v >> 33;
        return v | 1;
}

/* Eight bytes a step (FNV's byte a step was most of the phrase gate's time). */
static uint64_t word_hash(const unsigned char *s, size_t n)
{
        uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
        for (size_t i = 0; i < n; i += 8) {
                uint64_t v = 0;
                memcpy(&v, s + i, n - i < 8 ? n - i : 8);
                h = (h ^ v) * 0xff51afd7ed558ccdull;
                h ^= h >> 29;
        }
        return mix64(h);
}

static uint64_t pair_hash(uint64_t a, uint64_t b)
{
        return mix64(a * 0x9e3779b97f4a7c15ull ^ b);
}

/* The first four bytes of a word of n bytes (all of them when shorter), hashed
 * to 16 bits. Measured: a key of the first two bytes let 5.1 million words of
 * the 79 MB benchmark through ("a", "pour", "de..."), each then hashed. */
static unsigned prefix_hash(uint32_t v)
{
        return (v * 0x9e3779b1u) >> 16;
}

static unsigned prefix_key(const unsigned char *w, size_t n)
{
        uint32_t v = 0;
        for (size_t i = 0; i < n && i < 4; i++)
                v |= (uint32_t)w[i] << (8 * i);
        return prefix_hash(v);
}

/* The first one or two words of every phrase. A phrase matches whole words,
 * with its blanks as runs of white space and its other bytes as themselves
 * (vg_phrases_pattern), so where it matches, the words of the text (runs of
 * word bytes) are its words. A phrase that does not start with a word byte
 * leaves the rule without a gate. */
static int phrases_init(struct vg_rules *r, struct rule *rule, const char *const *list, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const unsigned char *t = (const unsigned char *)list[i];
                while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
                        t++;
                if (!word_byte(*t))
                        return 0;
        }
        if (!(rule->filter = calloc(64, sizeof(*rule->filter))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const unsigned char *t = (const unsigned char *)list[i];
                while (!word_byte(*t))
                        t++;
                size_t a = 0;
                while (t[a] && word_byte(t[a]))
                        a++;
                uint64_t h1 = word_hash(t, a);
                unsigned key = prefix_key(t, a);
                if (t[0] >= '0' && t[0] <= '9')
                        r->digit_phrase = true;
                r->prefix[key >> 6] |= 1ull << (key & 63);
                const unsigned char *u = t + a;
                while (*u && !word_byte(*u))
                        u++;
                size_t b = 0;
                while (u[b] && word_byte(u[b]))
                        b++;
                uint64_t h = b ? pair_hash(h1, word_hash(u, b)) : h1;
                int e = hset_add(b ? &rule->pairs : &rule->singles, h);
                if (e >= 0 && b)
                        e = hset_add(&rule->firsts, h1);
                if (e < 0)
                        return e;
                rule->filter[h1 >> 58] |= 1ull << (h1 >> 52 & 63);
        }
        rule->gate = GATE_PHRASES;
        return 0;
}

static void gate_init(struct rule *rule)
{
        const struct vg_gate *g = &rule->det->gate;
        if (g->find) {
                rule->gate = GATE_FIND;
        } else if (g->bytes && *g->bytes) {
                rule->gate = GATE_BYTES;
                for (const char *b = g->bytes; *b; b++)
                        rule->bytes[(unsigned char)*b] = true;
        }
}

/* The gated rules whose windows are single starts get an anchored copy. */
static void add_anchored(struct rule *rule, const char *pattern, pcre2_compile_context *cc)
{
        if (rule->gate != GATE_FIND && rule->gate != GATE_PHRASES)
                return;
        int err;
        PCRE2_SIZE off;
        rule->anchored = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                       rule->det->options | PCRE2_ANCHORED, &err, &off, cc);
        if (rule->anchored)
                (void)pcre2_jit_compile(rule->anchored, PCRE2_JIT_COMPLETE);
}

static int add_rule(struct vg_rules *r, const struct vg_detector *det, pcre2_compile_context *cc)
{
        int err, e = 0;
        PCRE2_SIZE off;
        char *built = NULL;
        const char *pattern = det->pattern;
        if (det->build) {
                if (!(built = det->build(r->custom)))
                        return -ENOMEM;
                pattern = built;
        }
        pcre2_code *code =
            pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, det->options, &err, &off, cc);
        if (!code) {
                free(built);
                return err == PCRE2_ERROR_PATTERN_TOO_LARGE ? -E2BIG : -EINVAL;
        }
        /* JIT failure is not fatal: the interpreter gives the same results, slower.
         * Window searches (see above) use hard partial matching. */
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD);
        struct rule *rule = &r->rules[r->n++];
        *rule = (struct rule){.det = det, .code = code};
        if (det->folded)
                r->any_folded = true;
        if (det->folded && det->phrases) {
                size_t n = 0;
                const char **list = det->phrases(r->custom, &n);
                if (!list) {
                        free(built);
                        return -ENOMEM;
                }
                e = phrases_init(r, rule, list, n);
                free(list);
                if (rule->gate == GATE_PHRASES)
                        r->any_phrases = true;
        } else {
                gate_init(rule);
        }
        if (e == 0)
                add_anchored(rule, pattern, cc);
        free(built);
        return e;
}

/* Custom rules become detectors of their own: a pattern (checked again here:
 * the engine does not trust its caller with untrusted patterns) or a dictionary
 * (folded, whole words), and the shared check (validator, masking). */
static int make_custom(struct vg_rules *r)
{
        struct vg_custom *c = r->custom;
        if (!c->nrules)
                return 0;
        r->custom_dets = calloc(c->nrules, sizeof(*r->custom_dets));
        if (!r->custom_dets)
                return -ENOMEM;
        for (size_t i = 0; i < c->nrules; i++) {
                const struct vg_custom_rule *cr = &c->rules[i];
                struct vg_detector *d = &r->custom_dets[i];
                *d = (struct vg_detector){
                    .id = cr->id,
                    .check = vg_custom_check,
                    .context = (const char *const *)cr->context,
                    .window = cr->window,
                    .context_required = cr->context != NULL,
                    .data = cr,
                };
                if (cr->pattern) {
                        char err[8];
                        if (vg_custom_pattern_check(cr->pattern, err, sizeof(err)) < 0)
                                return -EINVAL;
                        d->pattern = cr->pattern;
                        d->options = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C;
                } else {
                        if (!(d->pattern =
                                  vg_phrases_pattern((const char *const *)cr->terms, cr->nterms)))
                                return -ENOMEM;
                        d->folded = true;
                }
        }
        return 0;
}

/* extra: a family compiled for this set only (the names redaction looks for). */
static int rules_new(const struct vg_custom *custom, const struct vg_detector *extra,
                     struct vg_rules **ret)
{
        struct vg_rules *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        int e = -ENOMEM;
        pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
        if (!cc || !(r->custom = vg_custom_dup(custom)) || (e = make_custom(r)) < 0)
                goto fail;
        size_t total = r->custom->nrules;
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        total++;
        for (const struct vg_detector *d = extra; d && d->id; d++)
                total++;
        e = -ENOMEM;
        r->rules = calloc(total, sizeof(*r->rules));
        r->md = pcre2_match_data_create(16, NULL);
        r->mctx = pcre2_match_context_create(NULL);
        r->stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
        if (!r->rules || !r->md || !r->mctx || !r->stack)
                goto fail;
        pcre2_set_match_limit(r->mctx, MATCH_LIMIT);
        pcre2_set_depth_limit(r->mctx, DEPTH_LIMIT);
        pcre2_set_heap_limit(r->mctx, HEAP_LIMIT_KIB);
        pcre2_jit_stack_assign(r->mctx, NULL, r->stack);
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        if ((e = add_rule(r, d, NULL)) < 0)
                                goto fail;
        for (const struct vg_detector *d = extra; d && d->id; d++)
                if ((e = add_rule(r, d, NULL)) < 0)
                        goto fail;
        for (size_t i = 0; i < r->custom->nrules; i++) {
                const struct vg_detector *d = &r->custom_dets[i];
                /* Generated dictionary patterns may be long; the admin's own
                 * patterns may not, nor nest deeply. */
                pcre2_set_max_pattern_length(cc, d->folded ? PCRE2_UNSET : CUSTOM_PATTERN_MAX);
                pcre2_set_parens_nest_limit(cc, d->folded ? 250 : CUSTOM_NEST_MAX);
                if ((e = add_rule(r, d, cc)) < 0)
                        goto fail;
        }
        pcre2_compile_context_free(cc);
        cc = NULL;
        e = -ENOMEM;
        if (!(r->state_det = calloc(r->n, sizeof(*r->state_det))))
                goto fail;
        for (size_t i = 0; i < r->n; i++) {
                size_t k = 0;
                while (k < r->nstates && strcmp(r->state_det[k]->id, r->rules[i].det->id) != 0)
                        k++;
                if (k == r->nstates)
                        r->state_det[r->nstates++] = r->rules[i].det;
                r->rules[i].state = k;
        }
        *ret = r;
        return 0;
fail:
        pcre2_compile_context_free(cc);
        vg_rules_free(r);
        return e;
}

int vg_rules_new(const struct vg_custom *custom, struct vg_rules **ret)
{
        return rules_new(custom, NULL, ret);
}

int vg_rules_new_redaction(const struct vg_custom *custom, struct vg_rules **ret)
{
        return rules_new(custom, vg_detectors_person, ret);
}

bool vg_detector_builtin(const char *id)
{
        for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
                for (const struct vg_detector *d = families[f]; d->id; d++)
                        if (strcmp(d->id, id) == 0)
                                return true;
        return false;
}

void vg_rules_trim(struct vg_rules *r)
{
        scratch_free(r);
        /* The match data keeps the frames of the interpreter (a pattern the
         * JIT could not compile), up to the heap limit: a new one is small. */
        pcre2_match_data *md = pcre2_match_data_create(16, NULL);
        if (md) {
                pcre2_match_data_free(r->md);
                r->md = md;
        }
}

void vg_rules_set_reference(struct vg_rules *r, bool on)
{
        r->reference = on;
}

size_t vg_rules_count(const struct vg_rules *r)
{
        return r->nstates;
}

const char *vg_rules_id(const struct vg_rules *r, size_t i)
{
        return i < r->nstates ? r->state_det[i]->id : NULL;
}

/* Calls fn for every validated hit of rule i in buf[0,len) starting in
 * [from, until). Returns 0, a negative errno from fn, or -ELOOP on a PCRE2 limit. */
typedef int (*hit_fn)(void *ctx, size_t rule, size_t start, const struct vg_hit *hit);

/* The text a rule runs over, and for folded text the original it came from. */
struct subject {
        const char *buf;
        size_t len;
        const char *raw;
        size_t raw_len;
        const uint32_t *map; /* folded offset -> raw offset, or NULL */
};

static int match_error(int rc)
{
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
            rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
                return -ELOOP;
        return -EIO;
}

/* The candidate buf[s,e): context, check, then fn. Returns where the search goes
 * on (past the hit, or the next byte), or a negative errno from fn in *err. */
static size_t take_match(const struct rule *rule, size_t i, const struct subject *sj, size_t s,
                         size_t e, hit_fn fn, void *ctx, int *err)
{
        const char *buf = sj->buf;
        size_t len = sj->len;
        const struct vg_detector *det = rule->det;
        if (e - s > VG_MAX_MATCH)
                e = s + VG_MAX_MATCH;
        struct vg_match m = {.buf = buf,
                             .len = len,
                             .start = s,
                             .end = e,
                             .raw = sj->raw,
                             .raw_len = sj->raw_len,
                             .raw_start = sj->map ? sj->map[s] : s,
                             .raw_end = !sj->map  ? e
                                        : e < len ? sj->map[e]
                                                  : sj->raw_len,
                             .det = det};
        struct vg_hit hit = {.used = e - s};
        bool ok = !det->context_required || vg_match_has_context(&m, det->context, det->window);
        if (ok && det->check) {
                ok = det->check(&m, &hit);
        } else if (ok) {
                size_t c = e - s < sizeof(hit.canon) - 1 ? e - s : sizeof(hit.canon) - 1;
                memcpy(hit.canon, buf + s, c);
                hit.canon[c] = '\0';
                hit.canon_len = c;
                memcpy(hit.masked, hit.canon, c + 1);
        }
        if (ok && hit.used > 0) {
                int fe = fn(ctx, i, s, &hit);
                if (fe < 0)
                        *err = fe;
                return s + hit.used;
        }
        return s + 1;
}

/* The full pass: every start in [from, until). */
static int run_rule(struct vg_rules *r, size_t i, const struct subject *sj, size_t from,
                    size_t until, hit_fn fn, void *ctx)
{
        const struct rule *rule = &r->rules[i];
        size_t off = from;
        while (off < sj->len && off < until) {
                int rc =
                    pcre2_match(rule->code, (PCRE2_SPTR)sj->buf, sj->len, off, 0, r->md, r->mctx);
                if (rc == PCRE2_ERROR_NOMATCH)
                        return 0;
                if (rc < 0)
                        return match_error(rc);
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
                if (ov[0] >= until)
                        return 0;
                int err = 0;
                off = take_match(rule, i, sj, ov[0], ov[1], fn, ctx, &err);
                if (err < 0)
                        return err;
        }
        return 0;
}

/* The leftmost match starting in [off, hi), as the full pass would find it:
 * 1 with ov set, 0 when none starts there, or a negative errno. */
static int window_match(struct vg_rules *r, const struct rule *rule, const struct subject *sj,
                        size_t off, size_t hi)
{
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
        if (hi == off + 1) {
                /* One possible start (word starts): the full pass would try the
                 * pattern anchored there, on the whole buffer. */
                int rc = rule->anchored ? pcre2_match(rule->anchored, (PCRE2_SPTR)sj->buf, sj->len,
                                                      off, 0, r->md, r->mctx)
                                        : pcre2_match(rule->code, (PCRE2_SPTR)sj->buf, sj->len, off,
                                                      PCRE2_ANCHORED, r->md, r->mctx);
                if (rc == PCRE2_ERROR_NOMATCH)
                        return 0;
                return rc < 0 ? match_error(rc) : 1;
        }
        size_t reach = REACH_SHORT;
        for (;;) {
                size_t cut = hi + reach < sj->len ? hi + reach : sj->len;
                bool whole = cut == sj->len;
                /* On the whole buffer a partial match can only be the buffer's
                 * end, where the full pass decides the same way without it. */
                int rc = pcre2_match(rule->code, (PCRE2_SPTR)sj->buf, cut, off,
                                     whole ? 0 : PCRE2_PARTIAL_HARD, r->md, r->mctx);
                if (rc == PCRE2_ERROR_NOMATCH)
                        return 0;
                if (rc == PCRE2_ERROR_PARTIAL) {
                        /* Nothing matched or ran out before ov[0]: go on from there
                         * with more subject, unless it is past the window. */
                        if (ov[0] >= hi)
                                return 0;
                        off = ov[0];
                        reach = reach < REACH_LONG ? REACH_LONG : sj->len;
                        continue;
                }
                if (rc < 0)
                        return match_error(rc);
                return ov[0] < hi;
        }
}

/* The gated pass: the same search as run_rule, but only over the windows. */
static int run_windows(struct vg_rules *r, size_t i, const struct subject *sj, size_t from,
                       hit_fn fn, void *ctx)
{
        const struct rule *rule = &r->rules[i];
        size_t off = from;
        for (size_t k = 0; k < r->nwin; k++) {
                size_t hi = r->win[k].hi;
                if (off < r->win[k].lo)
                        off = r->win[k].lo;
                while (off < hi) {
                        int rc = window_match(r, rule, sj, off, hi);
                        if (rc < 0)
                                return rc;
                        if (rc == 0)
                                break;
                        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
                        int err = 0;
                        off = take_match(rule, i, sj, ov[0], ov[1], fn, ctx, &err);
                        if (err < 0)
                                return err;
                }
        }
        return 0;
}

/* Adds [lo, hi) to the windows, which stay sorted and apart: a window that
 * starts before the last one's end is joined with it (and with those before
 * it that it reaches), so a gate may go back a little. */
static int window_add(struct vg_rules *r, size_t lo, size_t hi, size_t join)
{
        if (r->nwin > 0 && lo <= r->win[r->nwin - 1].hi + join) {
                while (r->nwin > 1 && lo <= r->win[r->nwin - 2].hi + join) {
                        r->nwin--;
                        if (r->win[r->nwin].hi > hi)
                                hi = r->win[r->nwin].hi;
                }
                struct window *w = &r->win[r->nwin - 1];
                if (lo < w->lo)
                        w->lo = lo;
                if (hi > w->hi)
                        w->hi = hi;
                return 0;
        }
        if (r->nwin == r->win_cap) {
                size_t ncap = r->win_cap ? r->win_cap * 2 : 256;
                struct window *nw = reallocarray(r->win, ncap, sizeof(*nw));
                if (!nw)
                        return -ENOMEM;
                r->win = nw;
                r->win_cap = ncap;
        }
        r->win[r->nwin++] = (struct window){lo, hi};
        return 0;
}

struct vg_cand {
        struct vg_rules *r;
        size_t from;
        size_t until;
};

int vg_cand_add(struct vg_cand *c, size_t lo, size_t hi)
{
        if (lo < c->from)
                lo = c->from;
        if (hi > c->until)
                hi = c->until;
        return lo < hi ? window_add(c->r, lo, hi, 0) : 0;
}

/* The prefilter's pass over a chunk classifies 64 bytes at a time into bit
 * masks (SSE2, the x86-64 baseline; a plain loop elsewhere), so that a block
 * with nothing of interest costs a few instructions, and lists only what the
 * gates read: the runs of digits (start and end, not every digit: a CSV of
 * amounts and dates is a quarter digits) and the operator bytes. */
static inline uint64_t mask16(const unsigned char *b, uint64_t *ops)
{
#if defined(__SSE2__)
        __m128i v = _mm_loadu_si128((const __m128i *)b);
        __m128i nine = _mm_set1_epi8(9);
        __m128i x = _mm_sub_epi8(v, _mm_set1_epi8('0'));
        __m128i d = _mm_cmpeq_epi8(_mm_max_epu8(x, nine), nine);
        __m128i o = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('='))),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('>')),
                                              _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
        *ops = (unsigned)_mm_movemask_epi8(o);
        return (unsigned)_mm_movemask_epi8(d);
#else
        uint64_t d = 0, o = 0;
        for (unsigned i = 0; i < 16; i++) {
                unsigned char c = b[i];
                d |= (uint64_t)((unsigned char)(c - '0') < 10) << i;
                o |= (uint64_t)(c == ':' || c == '=' || c == '>' || c == '\t') << i;
        }
        *ops = o;
        return d;
#endif
}

static inline uint64_t classify64(const unsigned char *b, uint64_t *ops)
{
        uint64_t d = 0, o = 0, t;
        for (unsigned k = 0; k < 4; k++) {
                d |= mask16(b + 16 * k, &t) << (16 * k);
                o |= t << (16 * k);
        }
        *ops = o;
        return d;
}

static int prescan(struct vg_rules *r, const char *buf, size_t len)
{
        /* at most one run per two bytes, one operator per byte */
        if (len + 2 > r->pre_cap) {
                size_t cap = len + 2;
                uint32_t *a = reallocarray(r->run_s, cap / 2 + 1, sizeof(*a));
                if (!a)
                        return -ENOMEM;
                r->run_s = a;
                if (!(a = reallocarray(r->run_e, cap / 2 + 1, sizeof(*a))))
                        return -ENOMEM;
                r->run_e = a;
                if (!(a = reallocarray(r->ops, cap, sizeof(*a))))
                        return -ENOMEM;
                r->ops = a;
                r->pre_cap = cap;
        }
        const unsigned char *b = (const unsigned char *)buf;
        size_t ns = 0, ne = 0, no = 0;
        uint64_t carry = 0; /* the byte before the block is a digit */
        for (size_t i = 0; i < len; i += 64) {
                unsigned char tail[64];
                const unsigned char *p = b + i;
                if (len - i < 64) {
                        /* zeros: neither digits nor operators */
                        memset(tail, 0, sizeof(tail));
                        memcpy(tail, b + i, len - i);
                        p = tail;
                }
                uint64_t o, d = classify64(p, &o);
                if (!(d | o | carry))
                        continue;
                uint64_t prev = d << 1 | carry;
                uint64_t st = d & ~prev, en = ~d & prev;
                carry = d >> 63;
                for (; st; st &= st - 1)
                        r->run_s[ns++] = (uint32_t)(i + (size_t)__builtin_ctzll(st));
                for (; en; en &= en - 1)
                        r->run_e[ne++] = (uint32_t)(i + (size_t)__builtin_ctzll(en));
                for (; o; o &= o - 1)
                        r->ops[no++] = (uint32_t)(i + (size_t)__builtin_ctzll(o));
        }
        if (carry)
                r->run_e[ne++] = (uint32_t)len;
        r->nruns = ns < ne ? ns : ne; /* equal: every run that starts ends */
        r->nops = no;
        return 0;
}

/* Word bytes of the folded text (word_byte()) in b[0,16), as bits. */
static inline uint64_t words16(const unsigned char *b, uint64_t *digits)
{
#if defined(__SSE2__)
        __m128i v = _mm_loadu_si128((const __m128i *)b);
        __m128i nine = _mm_set1_epi8(9), z = _mm_set1_epi8(25);
        __m128i d = _mm_cmpeq_epi8(_mm_max_epu8(_mm_sub_epi8(v, _mm_set1_epi8('0')), nine), nine);
        __m128i a = _mm_cmpeq_epi8(_mm_max_epu8(_mm_sub_epi8(v, _mm_set1_epi8('a')), z), z);
        *digits = (unsigned)_mm_movemask_epi8(d);
        return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(d, a), v));
#else
        uint64_t w = 0, dg = 0;
        for (unsigned i = 0; i < 16; i++) {
                w |= (uint64_t)word_byte(b[i]) << i;
                dg |= (uint64_t)((unsigned char)(b[i] - '0') < 10) << i;
        }
        *digits = dg;
        return w;
#endif
}

/* The words of the folded text from `from` on that may start a phrase (a word
 * cut by `from` is not one: no phrase starts inside a word), with their
 * hashes and the next word's. Hashing every word was the cost of this gate
 * (about 10 ns a word); the prefix bitmap turns most of them down first. */
static int words_find(struct vg_rules *r, const char *buf, size_t len, size_t from)
{
        const unsigned char *b = (const unsigned char *)buf;
        size_t n = 0;
        uint64_t carry = from > 0 && word_byte(b[from - 1]);
        for (size_t i = from; i < len; i += 64) {
                unsigned char tail[64];
                const unsigned char *p = b + i;
                if (len - i < 64) {
                        memset(tail, 0, sizeof(tail));
                        memcpy(tail, b + i, len - i);
                        p = tail;
                }
                uint64_t w = 0, dg = 0, m;
                for (unsigned k = 0; k < 4; k++) {
                        w |= words16(p + 16 * k, &m) << (16 * k);
                        dg |= m << (16 * k);
                }
                uint64_t st = w & ~(w << 1 | carry);
                carry = w >> 63;
                /* numbers (a quarter of CSV and logs) start no phrase */
                if (!r->digit_phrase)
                        st &= ~dg;
                for (; st; st &= st - 1) {
                        size_t s = i + (size_t)__builtin_ctzll(st);
                        /* the word's first four bytes, or fewer */
                        size_t j = s - i, wl;
                        if (j <= 60) {
                                wl = (size_t)__builtin_ctzll(~(w >> j) | 1ull << 4);
                        } else {
                                for (wl = 1; wl < 4 && s + wl < len && word_byte(b[s + wl]); wl++)
                                        ;
                        }
                        unsigned key;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        if (s + 4 <= len) {
                                /* one load, in prefix_key()'s order */
                                uint32_t v;
                                memcpy(&v, b + s, 4);
                                key = prefix_hash(v & (0xffffffffu >> (32 - 8 * wl)));
                        } else
#endif
                        {
                                key = prefix_key(b + s, wl);
                        }
                        if (!(r->prefix[key >> 6] >> (key & 63) & 1))
                                continue;
                        if (n == r->tok_cap) {
                                size_t ncap = r->tok_cap ? r->tok_cap * 2 : 1024;
                                uint32_t *nt = reallocarray(r->tok, ncap, sizeof(*nt));
                                if (!nt)
                                        return -ENOMEM;
                                r->tok = nt;
                                uint64_t *nh = reallocarray(r->tokh, ncap, sizeof(*nh));
                                if (!nh)
                                        return -ENOMEM;
                                r->tokh = nh;
                                if (!(nt = reallocarray(r->tokn, ncap, 2 * sizeof(*nt))))
                                        return -ENOMEM;
                                r->tokn = nt;
                                r->tok_cap = ncap;
                        }
                        size_t q = s + 1;
                        while (q < len && word_byte(b[q]))
                                q++;
                        r->tok[n] = (uint32_t)s;
                        r->tokh[n] = word_hash(b + s, q - s);
                        while (q < len && !word_byte(b[q]))
                                q++;
                        size_t t = q;
                        while (t < len && word_byte(b[t]))
                                t++;
                        r->tokn[2 * n] = (uint32_t)q;
                        r->tokn[2 * n + 1] = (uint32_t)t;
                        n++;
                }
        }
        r->ntok = n;
        return 0;
}

/* The windows of rule i over sj, for starts in [from, until). */
static int windows_find(struct vg_rules *r, const struct rule *rule, const struct subject *sj,
                        size_t from, size_t until)
{
        const unsigned char *b = (const unsigned char *)sj->buf;
        size_t len = sj->len;
        if (until > len)
                until = len;
        r->nwin = 0;
        int e = 0;
        switch (rule->gate) {
        case GATE_FIND: {
                const struct vg_prescan p = {
                    .b = b,
                    .len = len,
                    .run_s = r->run_s,
                    .run_e = r->run_e,
                    .nruns = r->nruns,
                    .ops = r->ops,
                    .nops = r->nops,
                };
                struct vg_cand c = {.r = r, .from = from, .until = until};
                e = rule->det->gate.find(&p, &c);
                break;
        }
        case GATE_BYTES: {
                size_t lead = rule->det->gate.lead;
                size_t end = until + lead < len ? until + lead : len;
                /* one byte: memchr (several GB/s, the loop about 1) */
                int one =
                    rule->det->gate.bytes[1] == '\0' ? (unsigned char)rule->det->gate.bytes[0] : -1;
                for (size_t p = from; p < end && e == 0; p++) {
                        if (one >= 0) {
                                const unsigned char *q = memchr(b + p, one, end - p);
                                if (!q)
                                        break;
                                p = (size_t)(q - b);
                        } else if (!rule->bytes[b[p]]) {
                                continue;
                        }
                        size_t lo = p > from + lead ? p - lead : from;
                        size_t hi = p + 1 < until ? p + 1 : until;
                        if (lo < hi)
                                e = window_add(r, lo, hi, WINDOW_JOIN);
                }
                break;
        }
        case GATE_PHRASES:
                /* one possible start per word that is a one-word phrase's or the
                 * first of a longer phrase's, followed by its second word (the
                 * last word of the buffer has no next: tried). The bit filter
                 * turns most words down without probing the sets. */
                for (size_t k = 0; k < r->ntok && r->tok[k] < until && e == 0; k++) {
                        uint64_t h = r->tokh[k];
                        size_t nq = r->tokn[2 * k], nt = r->tokn[2 * k + 1];
                        if (nt > nq) {
                                if (!(rule->filter[h >> 58] >> (h >> 52 & 63) & 1))
                                        continue;
                                if (!hset_has(&rule->singles, h) &&
                                    (!hset_has(&rule->firsts, h) ||
                                     !hset_has(&rule->pairs,
                                               pair_hash(h, word_hash(b + nq, nt - nq)))))
                                        continue;
                        }
                        e = window_add(r, r->tok[k], r->tok[k] + 1, 0);
                }
                break;
        case GATE_NONE:
                e = window_add(r, from, until, 0);
                break;
        }
        return e;
}

struct state {
        uint64_t count;
        uint64_t distinct;
        uint64_t weight;
        uint64_t weight_distinct;
        uint64_t against;
        struct hset seen;
        size_t nsamples;
        char *samples[VG_MAX_SAMPLES];
};

struct vg_detect {
        struct vg_rules *rules;
        struct state *st;
        uint64_t text_bytes;
};

int vg_detect_new(struct vg_rules *rules, struct vg_detect **ret)
{
        struct vg_detect *d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->rules = rules;
        d->st = calloc(rules->nstates, sizeof(*d->st));
        if (!d->st) {
                free(d);
                return -ENOMEM;
        }
        *ret = d;
        return 0;
}

void vg_detect_free(struct vg_detect *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->rules->nstates; i++) {
                free(d->st[i].seen.slots);
                for (size_t k = 0; k < d->st[i].nsamples; k++)
                        free(d->st[i].samples[k]);
        }
        free(d->st);
        free(d);
}

static int count_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        (void)start;
        struct vg_detect *d = ctx;
        struct state *st = &d->st[d->rules->rules[rule].state];
        if (hit->weight < 0) {
                st->against += (uint64_t)(-(int64_t)hit->weight);
                return 0; /* evidence against, not an occurrence */
        }
        st->weight += (uint64_t)hit->weight;
        st->count++;
        int n = hset_add(&st->seen, fnv1a(hit->canon, hit->canon_len));
        if (n < 0)
                return n;
        st->distinct += (uint64_t)n;
        if (n)
                st->weight_distinct += (uint64_t)hit->weight;
        if (n == 0 || st->nsamples >= VG_MAX_SAMPLES)
                return 0;
        for (size_t k = 0; k < st->nsamples; k++)
                if (strcmp(st->samples[k], hit->masked) == 0)
                        return 0;
        char *m = strdup(hit->masked);
        if (!m)
                return -ENOMEM;
        st->samples[st->nsamples++] = m;
        return 0;
}

/* First folded offset whose byte comes from raw offset >= raw. */
static size_t fold_pos(const uint32_t *map, size_t n, size_t raw)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (map[mid] < raw)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int fold_chunk(struct vg_rules *r, const char *buf, size_t len, size_t *flen)
{
        size_t need = 2 * len + 1;
        if (need > r->fold_cap) {
                char *f = realloc(r->fold, need);
                if (!f)
                        return -ENOMEM;
                r->fold = f;
                uint32_t *m = reallocarray(r->fold_map, need, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                r->fold_map = m;
                r->fold_cap = need;
        }
        /* ASCII is folded here, byte by byte (most text is ASCII: vg_fold's
         * general loop cost 3 ns a byte); each run of other bytes goes through
         * vg_fold. Its rules only ever join a lead byte with the continuation
         * bytes after it, so a run cut at ASCII bytes folds the same. */
        const unsigned char *s = (const unsigned char *)buf;
        char *out = r->fold;
        uint32_t *map = r->fold_map;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
#if defined(__SSE2__)
                /* Sixteen bytes at a time, lower-cased, with their map; what
                 * follows a byte past 0x7f is written again (out has room: the
                 * fold never lengthens). 0.9 ns a byte before, the map written
                 * a byte at a time. */
                if (i + 16 <= len) {
                        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
                        __m128i z = _mm_set1_epi8(25);
                        __m128i up =
                            _mm_cmpeq_epi8(_mm_max_epu8(_mm_sub_epi8(v, _mm_set1_epi8('A')), z), z);
                        _mm_storeu_si128((__m128i *)(out + o),
                                         _mm_add_epi8(v, _mm_and_si128(up, _mm_set1_epi8(32))));
                        __m128i m =
                            _mm_add_epi32(_mm_set1_epi32((int)i), _mm_set_epi32(3, 2, 1, 0));
                        for (int k = 0; k < 4; k++) {
                                _mm_storeu_si128((__m128i *)(map + o + 4 * k), m);
                                m = _mm_add_epi32(m, _mm_set1_epi32(4));
                        }
                        unsigned hi = (unsigned)_mm_movemask_epi8(v);
                        size_t n = hi ? (size_t)__builtin_ctz(hi) : 16;
                        o += n;
                        i += n;
                        if (n == 16)
                                continue;
                }
#endif
                if (s[i] < 0x80) {
                        unsigned char c = s[i];
                        out[o] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
                        map[o++] = (uint32_t)i++;
                        continue;
                }
                size_t j = i;
                while (j < len && s[j] >= 0x80)
                        j++;
                size_t n = vg_fold(buf + i, j - i, out + o, map + o);
                for (size_t k = 0; k < n; k++)
                        map[o + k] += (uint32_t)i;
                o += n;
                i = j;
        }
        out[o] = '\0';
        *flen = o;
        return 0;
}

int vg_detect_run(struct vg_detect *d, const char *buf, size_t len, size_t from, size_t until)
{
        struct vg_rules *r = d->rules;
        size_t flen = 0, ffrom = 0, funtil = 0;
        if (r->any_folded) {
                int e = fold_chunk(r, buf, len, &flen);
                if (e < 0)
                        return e;
                ffrom = fold_pos(r->fold_map, flen, from);
                funtil = until >= len ? flen : fold_pos(r->fold_map, flen, until);
        }
        if (until > from)
                d->text_bytes += (until < len ? until : len) - from;
        const struct subject plain = {.buf = buf, .len = len, .raw = buf, .raw_len = len};
        const struct subject folded = {
            .buf = r->fold, .len = flen, .raw = buf, .raw_len = len, .map = r->fold_map};
        /* offsets of the prefilter are 32-bit */
        bool reference = r->reference || 2 * len + 1 >= UINT32_MAX;
        if (!reference && from < len) {
                int e = prescan(r, buf, len);
                if (e == 0 && r->any_phrases)
                        e = words_find(r, r->fold, flen, ffrom);
                if (e < 0)
                        return e;
        }
        for (size_t i = 0; i < r->n; i++) {
                const struct rule *rule = &r->rules[i];
                const struct subject *sj = rule->det->folded ? &folded : &plain;
                size_t f = rule->det->folded ? ffrom : from;
                size_t u = rule->det->folded ? funtil : until;
                int e;
                if (reference || rule->gate == GATE_NONE || f >= u || f >= sj->len)
                        e = run_rule(r, i, sj, f, u, count_hit, d);
                else if ((e = windows_find(r, rule, sj, f, u)) == 0)
                        e = run_windows(r, i, sj, f, count_hit, d);
                if (e < 0)
                        return e;
        }
        return 0;
}

uint64_t vg_detect_count(const struct vg_detect *d, const char *id)
{
        uint64_t n = 0;
        for (size_t i = 0; i < d->rules->nstates; i++)
                if (strcmp(d->rules->state_det[i]->id, id) == 0)
                        n += d->st[i].count;
        return n;
}

bool vg_detect_any(const struct vg_detect *d)
{
        for (size_t i = 0; i < d->rules->nstates; i++)
                if (d->st[i].count)
                        return true;
        return false;
}

int vg_detect_report(const struct vg_detect *d, struct vg_report *r, const char *where)
{
        for (size_t i = 0; i < d->rules->nstates; i++) {
                const struct state *st = &d->st[i];
                const struct vg_detector *det = d->rules->state_det[i];
                if (!st->count)
                        continue;
                if (det->finish) {
                        const struct vg_score sc = {
                            .count = st->count,
                            .distinct = st->distinct,
                            .weight = st->weight,
                            .weight_distinct = st->weight_distinct,
                            .against = st->against,
                            .text_bytes = d->text_bytes,
                            .det = d,
                            .custom = d->rules->custom,
                        };
                        if (!det->finish(&sc))
                                continue;
                }
                int e = vg_report_add_finding(r, det->id, where, st->count, st->distinct,
                                              (const char *const *)st->samples, st->nsamples);
                if (e < 0)
                        return e;
        }
        return 0;
}

struct span {
        size_t start;
        size_t len;
        char masked[sizeof(((struct vg_hit *)0)->masked)];
};

struct spans {
        struct span *v;
        size_t n;
        size_t cap;
};

static int collect_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        (void)rule;
        struct spans *sp = ctx;
        if (sp->n == sp->cap) {
                size_t ncap = sp->cap ? sp->cap * 2 : 4;
                struct span *nv = reallocarray(sp->v, ncap, sizeof(*nv));
                if (!nv)
                        return -ENOMEM;
                sp->v = nv;
                sp->cap = ncap;
        }
        struct span *s = &sp->v[sp->n++];
        s->start = start;
        s->len = hit->used;
        memcpy(s->masked, hit->masked, sizeof(s->masked));
        return 0;
}

static int span_cmp(const void *a, const void *b)
{
        const struct span *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

char *vg_rules_mask_string(struct vg_rules *rules, const char *s, size_t n)
{
        struct spans sp = {0};
        const struct subject name = {.buf = s, .len = n, .raw = s, .raw_len = n};
        struct vg_buf out;
        char *ret = NULL;
        vg_buf_init(&out, n * 4 + 64);
        for (size_t i = 0; i < rules->n; i++)
                /* Identifiers only (words are not masked); a limit hit on a name
                 * masks nothing more, names are short. */
                if (!rules->rules[i].det->folded &&
                    run_rule(rules, i, &name, 0, n, collect_hit, &sp) == -ENOMEM)
                        goto done;
        if (sp.n > 1)
                qsort(sp.v, sp.n, sizeof(*sp.v), span_cmp);
        size_t pos = 0;
        for (size_t k = 0; k < sp.n; k++) {
                if (sp.v[k].start < pos)
                        continue; /* overlaps a span already masked */
                if (vg_buf_append(&out, s + pos, sp.v[k].start - pos) < 0 ||
                    vg_buf_appends(&out, sp.v[k].masked) < 0)
                        goto done;
                pos = sp.v[k].start + sp.v[k].len;
        }
        if (vg_buf_append(&out, s + pos, n - pos) < 0)
                goto done;
        ret = vg_buf_take(&out);
done:
        vg_buf_free(&out);
        free(sp.v);
        return ret;
}

/* ---- Redaction: every validated hit with its place ---- */

struct find_ctx {
        struct vg_rules *rules;
        const uint32_t *map; /* folded -> raw offsets, or NULL */
        size_t map_len;
        size_t raw_len;
        vg_found_fn fn;
        void *ctx;
};

static int find_hit(void *ctx, size_t rule, size_t start, const struct vg_hit *hit)
{
        struct find_ctx *fc = ctx;
        if (hit->weight < 0)
                return 0;
        size_t end = start + hit->used;
        if (fc->map) {
                size_t rs = fc->map[start];
                end = end < fc->map_len ? fc->map[end] : fc->raw_len;
                start = rs;
        }
        const struct vg_found f = {
            .id = fc->rules->rules[rule].det->id,
            .start = start,
            .end = end,
            .canon = hit->canon,
            .canon_len = hit->canon_len,
            .masked = hit->masked,
        };
        return fc->fn(fc->ctx, &f);
}

int vg_rules_find(struct vg_rules *r, const char *buf, size_t len, vg_found_fn fn, void *ctx)
{
        const struct subject plain = {.buf = buf, .len = len, .raw = buf, .raw_len = len};
        struct find_ctx fc = {.rules = r, .raw_len = len, .fn = fn, .ctx = ctx};
        size_t flen = 0;
        if (r->any_folded) {
                int e = fold_chunk(r, buf, len, &flen);
                if (e < 0)
                        return e;
        }
        const struct subject folded = {
            .buf = r->fold, .len = flen, .raw = buf, .raw_len = len, .map = r->fold_map};
        for (size_t i = 0; i < r->n; i++) {
                bool f = r->rules[i].det->folded;
                fc.map = f ? r->fold_map : NULL;
                fc.map_len = flen;
                int e = run_rule(r, i, f ? &folded : &plain, 0, f ? flen : len, find_hit, &fc);
                if (e < 0)
                        return e;
        }
        return 0;
}

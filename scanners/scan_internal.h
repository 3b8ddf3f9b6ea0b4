/* What extractors see of the engine: layers. Each container level is a layer with
 * a parent pointer (ClamAV's idea), which is how `where` is built. Outcomes are
 * data on the layer and the scan, so recursion cannot lose them. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "input.h"
#include "report.h"
#include "scan.h"

struct vg_sniffer;
struct vg_rules;
struct vg_detect;
struct vg_text;

struct vg_engine {
        struct vg_engine_config cfg;
        char *tmpdir;
        struct vg_sniffer *sniffer;
        struct vg_rules *rules;
        /* cfg.stage_times: the stage running since stage_since (ns), and totals. */
        enum vg_stage stage;
        uint64_t stage_since;
        uint64_t stage_ns[VG_STAGE_COUNT];
};

struct vg_scan {
        struct vg_engine *engine;
        struct vg_report *report;
        uint64_t input_size;
        uint64_t expanded;
        uint64_t members;
        struct timespec deadline;
        /* A scan-wide limit was hit: every layer unwinds, the deepest one records it. */
        enum vg_reason abort_reason;
        bool abort_recorded;
        /* Redaction: a copy of every piece of text pushed, in order, or NULL. */
        struct vg_buf *tap;
};

struct vg_layer {
        struct vg_scan *scan;
        struct vg_layer *parent;
        const char *name; /* as found (raw bytes), for the extractors */
        char *where;      /* escaped and masked, for the report */
        unsigned depth;
        char type[128];
        struct vg_detect *det;
        struct vg_text *text;
        enum vg_reason reason;
};

struct vg_extractor {
        const char *name;
        bool (*accepts)(const char *type);
        /* Reads `in`, pushes text with vg_layer_text() and hands members to
         * vg_layer_child(). Returns 0 or a negative errno; a reason set with
         * vg_layer_fail() says why. */
        int (*run)(struct vg_layer *l, struct vg_input *in);
};

extern const struct vg_extractor vg_extract_archive;
extern const struct vg_extractor vg_extract_office;
extern const struct vg_extractor vg_extract_markup;
extern const struct vg_extractor vg_extract_text;
extern const struct vg_extractor vg_extract_binary;
extern const struct vg_extractor vg_extract_media;
extern const struct vg_extractor vg_extract_pdf;
/* Builds poppler's global state once per process (extract_pdf.c); idempotent. */
int vg_pdf_preload(void);
/* Mail (extract_mime.c): takes text/plain and octet-stream too, and hands what is
 * not a mail on to the markup, text or binary extractor. */
extern const struct vg_extractor vg_extract_mime;
/* Initialises GMime once per process and holds the charset converters mail
 * needs; idempotent. */
int vg_mime_preload(void);

/* Scans a member of l read from `in`, as an object of its own. */
int vg_layer_child(struct vg_layer *l, const char *name, struct vg_input *in);
/* Records a member of l that cannot be inspected, without reading it. */
int vg_layer_child_unscannable(struct vg_layer *l, const char *name, enum vg_reason r);
/* Marks l unscannable; returns -ECANCELED for the extractor to return. */
int vg_layer_fail(struct vg_layer *l, enum vg_reason r);
/* Charges n bytes produced by unpacking to the scan's budget, and checks the time.
 * Past a limit the scan is aborted and a negative errno returned. */
int vg_layer_charge(struct vg_layer *l, uint64_t n);
/* Counts one more member against max_members. */
int vg_layer_count_member(struct vg_layer *l);
/* Checks the scan time limit. */
int vg_layer_check_time(struct vg_layer *l);
/* The layer's text sink (created on first use). */
int vg_layer_text(struct vg_layer *l, const char *utf8, size_t n);
int vg_layer_text_break(struct vg_layer *l);
bool vg_layer_aborted(const struct vg_layer *l);
const char *vg_layer_tmpdir(const struct vg_layer *l);

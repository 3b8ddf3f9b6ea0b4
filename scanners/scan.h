/* The scan engine's public interface. One engine per process (it holds the
 * compiled rules and the magic database); one report per top-level object.
 * The engine has no globals and does not log. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "report.h"

struct vg_limits {
        uint64_t max_file_size; /* bytes of a top-level object */
        uint64_t max_expanded;  /* bytes produced by unpacking one top-level object */
        uint64_t max_ratio;     /* expanded bytes per input byte */
        uint64_t max_depth;     /* container nesting */
        uint64_t max_members;   /* members of all containers of one object */
        uint64_t max_scan_time; /* seconds per top-level object */
};

struct vg_custom;

struct vg_engine_config {
        struct vg_limits limits;
        const char *tmpdir; /* for spooling members that need seeking; NULL: $TMPDIR or /tmp */
        /* rules.images = "hold": an image is unscannable (`unsupported`), so the
         * unscannable action holds it; else images are typed and passed unread. */
        bool hold_images;
        /* Custom rules, dictionaries, markings and the health threshold (rules.d);
         * NULL: none. Copied by vg_engine_new(). */
        const struct vg_custom *custom;
        /* Sum the time spent in each stage (tests/bench); off: no clock reads. */
        bool stage_times;
};

/* Stages of a scan, for the benchmark's breakdown. sniff: typing (and reading
 * the head); unpack: the archive and mail extractors; extract: every other
 * extractor, charset decoding and text normalisation; detect: the rules and
 * validators (text.c's chunks). Time in a member counts in the member's stages. */
enum vg_stage {
        VG_STAGE_OTHER, /* outside any object: set-up, hashing, reports */
        VG_STAGE_SNIFF,
        VG_STAGE_UNPACK,
        VG_STAGE_EXTRACT,
        VG_STAGE_DETECT,
        VG_STAGE_COUNT,
};

struct vg_engine;

int vg_engine_new(const struct vg_engine_config *cfg, struct vg_engine **ret);
void vg_engine_free(struct vg_engine *e);

/* Scans the object open on fd. `name` is its base name: the first element of every
 * `where`. The report is never NULL on success; an object that cannot be read is
 * reported unscannable with the reason. No policy is applied (see policy.h). */
int vg_scan_fd(struct vg_engine *e, int fd, const char *name, struct vg_report **ret);

/* Nanoseconds spent in each stage by every scan of this engine so far (zeros
 * unless cfg.stage_times). */
void vg_engine_stage_times(const struct vg_engine *e, uint64_t ns[VG_STAGE_COUNT]);
/* The same scan, keeping a copy of the text it read (every layer's, in order,
 * breaks as line ends) in `text`, whose ceiling bounds it: for redaction of
 * formats that cannot be rewritten in place. Past the ceiling the scan fails
 * with -ENOBUFS. */
struct vg_buf;
int vg_scan_fd_text(struct vg_engine *e, int fd, const char *name, struct vg_buf *text,
                    struct vg_report **ret);

/* Gives back the memory a scan left behind for the next one (scratch buffers);
 * for a process that waits between scans. */
void vg_engine_trim(struct vg_engine *e);

/* A name made fit to show: identifiers inside it masked, invalid UTF-8, control
 * characters and backslashes written as \xNN. Caller frees; NULL on ENOMEM. */
char *vg_engine_display_name(struct vg_engine *e, const char *name);

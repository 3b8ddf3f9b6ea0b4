/* The report of one top-level object: what was found where, what could not be
 * read and why, and (once a policy is applied) the verdict and the action.
 * Strings in a report are valid UTF-8 and carry masked samples only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vg_verdict {
        VG_VERDICT_CLEAN,
        VG_VERDICT_FLAGGED,
        VG_VERDICT_UNSCANNABLE,
};

/* Ordered by severity: the action of an object is the maximum that applies. */
enum vg_action {
        VG_ACTION_PASS,
        VG_ACTION_ALERT,
        VG_ACTION_REDACT,
        VG_ACTION_QUARANTINE,
};

/* The closed list of reasons an object is unscannable (DESIGN.md). */
enum vg_reason {
        VG_REASON_NONE,
        VG_REASON_ENCRYPTED,
        VG_REASON_CORRUPT,
        VG_REASON_AMBIGUOUS,
        VG_REASON_UNSUPPORTED,
        VG_REASON_CHARSET,
        VG_REASON_SPECIAL_FILE,
        VG_REASON_IO_ERROR,
        VG_REASON_WORKER_CRASH,
        VG_REASON_LIMIT_SIZE,
        VG_REASON_LIMIT_EXPANDED,
        VG_REASON_LIMIT_RATIO,
        VG_REASON_LIMIT_DEPTH,
        VG_REASON_LIMIT_MEMBERS,
        VG_REASON_LIMIT_TIME,
        VG_REASON_LIMIT_MEMORY,
        VG_REASON_COUNT_,
};

#define VG_MAX_SAMPLES 5

struct vg_finding {
        char *detector;
        char *where;
        uint64_t count;    /* occurrences */
        uint64_t distinct; /* distinct normalised values */
        size_t nsamples;
        char *samples[VG_MAX_SAMPLES];
};

struct vg_unscannable {
        char *where;
        enum vg_reason reason;
};

struct vg_report {
        char *path;
        char *type;
        bool type_mismatch;
        uint64_t size;
        char sha256[65]; /* of the whole object, hex; empty when not computed */
        struct vg_finding *findings;
        size_t nfindings;
        size_t findings_cap;
        struct vg_unscannable *unscannable;
        size_t nunscannable;
        size_t unscannable_cap;
        /* Set by vg_policy_apply(). */
        enum vg_verdict verdict;
        enum vg_action action;
        bool monitor;
        char *policy;
};

const char *vg_verdict_name(enum vg_verdict v);
const char *vg_action_name(enum vg_action a);
const char *vg_reason_name(enum vg_reason r);
/* Return the enum value, or -EINVAL for an unknown name. */
int vg_verdict_from_name(const char *s);
int vg_action_from_name(const char *s);
int vg_reason_from_name(const char *s);

struct vg_report *vg_report_new(const char *path);
void vg_report_free(struct vg_report *r);
int vg_report_set_type(struct vg_report *r, const char *type);
/* Copies the strings. At most VG_MAX_SAMPLES samples are kept. */
int vg_report_add_finding(struct vg_report *r, const char *detector, const char *where,
                          uint64_t count, uint64_t distinct, const char *const *samples,
                          size_t nsamples);
/* Records that `where` could not be inspected. The first reason for a place wins. */
int vg_report_add_unscannable(struct vg_report *r, const char *where, enum vg_reason reason);

static inline void vg_report_freep(struct vg_report **r)
{
        vg_report_free(*r);
}

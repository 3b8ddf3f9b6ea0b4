/* Scan workers: separate processes that run the scan engine on a descriptor the
 * supervisor opened, and send back the report. A worker that crashes, runs past
 * the time limit or its memory is killed and replaced, and its file is
 * unscannable: fail closed. Workers confine themselves (unprivileged uid, no new
 * privileges, rlimits) once the engine is loaded.
 *
 * The pool runs on an sd-event loop; vigied and `vigiectl scan` share it, so a
 * limit, a crash or a hang is handled the same way in both. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <sys/types.h>

#include "report.h"
#include "scan.h"

struct vg_pool;

struct vg_pool_config {
        const struct vg_engine_config *engine; /* copied into each worker at fork */
        unsigned count;                        /* workers; 0 = number of cores */
        uint64_t memory;                       /* RLIMIT_AS of a worker, 0 = none */
        uint64_t grace_ms;                     /* added to max_scan_time before the kill */
        const char *user;                      /* when started as root; NULL = "vigie" or nobody */
};

/* Called once per submitted job, with a report the callee owns (never NULL unless
 * out of memory: then err < 0). */
typedef void (*vg_pool_done_fn)(void *userdata, struct vg_report *report, int err);

int vg_pool_new(sd_event *ev, const struct vg_pool_config *cfg, struct vg_pool **ret);
/* Stops the workers (SIGKILL) and fails the jobs in flight with worker-crash. */
void vg_pool_free(struct vg_pool *p);
/* A redaction job (route mode on_flagged = "redact"): the worker redacts fd into
 * out (an unnamed file the supervisor made, since workers open no path) and
 * scans the copy. done gets the copy's report (NULL: no copy could be made),
 * whether the copy is text, and what was replaced as a JSON array (masked
 * values only; caller frees), or err < 0. The supervisor judges the copy. */
typedef void (*vg_pool_redact_fn)(void *userdata, struct vg_report *copy, bool as_text,
                                  char *replaced, int err);
int vg_pool_submit_redact(struct vg_pool *p, int fd, int out, const char *name, bool english,
                          vg_pool_redact_fn done, void *userdata);
/* Queues a scan of fd (the pool dups it; the caller keeps its own). */
int vg_pool_submit(struct vg_pool *p, int fd, const char *name, vg_pool_done_fn done,
                   void *userdata);
/* Jobs queued or running. */
size_t vg_pool_pending(const struct vg_pool *p);
unsigned vg_pool_workers(const struct vg_pool *p);
unsigned vg_pool_busy(const struct vg_pool *p);
uint64_t vg_pool_restarts(const struct vg_pool *p);
/* New workers use this engine configuration (after a reload); running ones are
 * replaced once idle. */
int vg_pool_set_engine(struct vg_pool *p, const struct vg_engine_config *engine);
/* Test hook: the pid of the worker running a job, or 0. */
pid_t vg_pool_worker_pid(const struct vg_pool *p, unsigned i);

/* The worker side, exposed for the sandbox tests: confines the calling process. */
int vg_worker_confine(const struct vg_pool_config *cfg);

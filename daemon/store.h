/* The quarantine store: one blob per held item (0600, the service user) and one
 * SQLite database of items, masked findings, events, the audit log and the
 * allowlist. Moving in is crash-safe, in Postfix's order: blob written, fsynced,
 * renamed into place and its folder fsynced; row committed (synchronous=FULL);
 * only then does the caller remove the source. On open, the store reconciles
 * what a crash left half done. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"

struct vg_store;

struct vg_item {
        char id[24];
        int64_t created;
        const char *route;
        const char *kind;    /* "file" or "mail" */
        const char *origin;  /* where it was found: operational data, shown to admins */
        const char *relpath; /* path inside the route's folder */
        const char *name;    /* display name (masked, escaped) */
        int64_t owner_uid;
        const char *owner;
        const char *mode; /* route mode at the time: "gate" or "in-place" */
        const struct vg_report *report;
        /* mails: the envelope, committed with the item */
        const char *sender;
        const char *const *rcpts;
        size_t nrcpts;
        const char *subject; /* masked */
};

int vg_store_open(const char *dir, struct vg_store **ret);
void vg_store_close(struct vg_store *s);
const char *vg_store_dir(const struct vg_store *s);
/* A fresh, unguessable item id ("vg-" and 10 base32 characters). */
void vg_store_new_id(char out[24]);

/* Copies fd (from offset 0) into the blob of it->id and commits the item as
 * held. -ENOSPC, -EIO...: nothing is committed and the blob is removed; the
 * caller keeps the source. fsync failures are not retried. */
int vg_store_put(struct vg_store *s, const struct vg_item *it, int fd);
/* Whether an item with this route, relpath and sha256 is already held (a crash
 * came between the commit and the removal of the source). */
bool vg_store_holds(struct vg_store *s, const char *route, const char *relpath, const char *sha256);
bool vg_store_exists(struct vg_store *s, const char *id);

/* Items as JSON (masked findings only). NULL with *err set on failure. */
json_t *vg_store_list(struct vg_store *s, const char *route, int64_t since, int *err);
json_t *vg_store_show(struct vg_store *s, const char *id, int *err);
/* Opens the blob of a held item for reading. */
int vg_store_open_blob(struct vg_store *s, const char *id);
/* Changes the state of an item (held -> released / deleted), with an event. */
int vg_store_set_state(struct vg_store *s, const char *id, const char *state, const char *detail);
int vg_store_event(struct vg_store *s, const char *id, const char *kind, const char *detail);
int vg_store_audit(struct vg_store *s, uid_t uid, const char *user, const char *action,
                   const char *item, const char *reason);
int vg_store_allow(struct vg_store *s, const char *sha256, uid_t uid, const char *user,
                   const char *item, const char *reason);
bool vg_store_allowed(struct vg_store *s, const char *sha256);
/* A one-time pass for a released file put back where a route will see it. */
int vg_store_add_pass(struct vg_store *s, const char *route, const char *relpath,
                      const char *sha256);
bool vg_store_take_pass(struct vg_store *s, const char *route, const char *relpath,
                        const char *sha256);
/* Whether such a pass exists, without using it (a released mail keeps its pass
 * until it is sent, so that it survives a restart). */
bool vg_store_has_pass(struct vg_store *s, const char *route, const char *relpath,
                       const char *sha256);
/* Removes blobs of items older than `older_than` seconds (any state); returns
 * the count or a negative errno. */
int vg_store_purge(struct vg_store *s, int64_t older_than);
/* Counts of items by state, for `status`. */
json_t *vg_store_counts(struct vg_store *s);

/* A held mail's envelope and (masked) subject, shown by `show` and used by
 * release to forward it: {"sender": ..., "recipients": [...], "subject": ...}
 * or NULL. */
json_t *vg_store_envelope(struct vg_store *s, const char *id);

/* The database handle, for modules that keep their own tables in the store
 * (the alert outbox). Owned by the store. */
struct sqlite3;
struct sqlite3 *vg_store_db(struct vg_store *s);

/* Test builds: kills the process at a named point when VIGIE_CRASH_AT names it. */
void vg_crashpoint(const char *name);

/* Test builds: true when VIGIE_FAULT (a comma-separated list such as
 * "fsync@store-blob,write@store-blob") names this call, which must then fail
 * with EIO. Always false in other builds. */
bool vg_fault(const char *call);

/* The alert outbox: tables of its own in the store's SQLite database, so an
 * alert is durable before anything is sent and survives restarts.
 *
 *   alert_facts  one row per alert: its stable id and its facts (JSON, masked)
 *   alert_msgs   one row per message to send on one channel: an alert, a
 *                digest or a notice; pending -> sent | expired | dropped
 *   alert_wait   alerts held back on a channel because they came too fast,
 *                until a digest takes them
 *
 * A message is marked sent only after the receiver accepted it: a crash in
 * between sends it again, with the same id. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct sqlite3;
struct vg_outbox;

enum vg_out_mode {
        VG_OUT_SEND,   /* a message of its own */
        VG_OUT_WAIT,   /* into the channel's next digest */
        VG_OUT_NOTICE, /* a notice to the employee (a message of its own) */
};

struct vg_out_channel {
        const char *key; /* "mail:ADDR", "notice:ADDR", "hook:HASH" */
        enum vg_out_mode mode;
};

struct vg_out_msg {
        char id[32];
        char channel[384];
        char kind[8]; /* "alert", "digest", "notice" */
        int64_t created;
        int64_t next_try;
        int64_t attempts;
};

int vg_outbox_open(struct sqlite3 *db, struct vg_outbox **ret);
void vg_outbox_free(struct vg_outbox *o);

/* Records an alert and its messages in one transaction. -EEXIST when an alert
 * with this id is already recorded (the same decision seen twice). */
int vg_outbox_add(struct vg_outbox *o, const char *id, int64_t now, const json_t *facts,
                  const struct vg_out_channel *ch, size_t n);
bool vg_outbox_known(struct vg_outbox *o, const char *id);
/* Messages of `kind` created on channel since `since`. */
int64_t vg_outbox_recent(struct vg_outbox *o, const char *channel, const char *kind, int64_t since);
/* Whether alerts wait on channel for a digest (then new ones wait too). */
bool vg_outbox_waiting(struct vg_outbox *o, const char *channel);

/* Pending messages, the oldest retry first; at most max. */
int vg_outbox_pending(struct vg_outbox *o, struct vg_out_msg *out, size_t max, size_t *n);
int vg_outbox_sent(struct vg_outbox *o, const char *id, const char *channel, int64_t now);
int vg_outbox_failed(struct vg_outbox *o, const char *id, const char *channel, int64_t next_try,
                     const char *error);
/* Gives a message up: state "expired" or "dropped" (its channel is gone). */
int vg_outbox_give_up(struct vg_outbox *o, const char *id, const char *channel, const char *state,
                      const char *why);
/* Pending messages created before `before`, for expiry (at most max). */
int vg_outbox_stale(struct vg_outbox *o, int64_t before, struct vg_out_msg *out, size_t max,
                    size_t *n);

/* Channels whose oldest waiting alert came at or before `due`: each gets a
 * digest (id from new_id) taking every alert waiting on it, in one
 * transaction. Returns the number of digests made. */
int vg_outbox_make_digests(struct vg_outbox *o, int64_t due, int64_t now,
                           void (*new_id)(char out[24]));
/* When the next digest falls due (oldest wait + interval), or 0 for none. */
int64_t vg_outbox_next_digest(struct vg_outbox *o, int64_t interval);

/* The facts of an alert (new reference), or NULL. */
json_t *vg_outbox_facts(struct vg_outbox *o, const char *id);
/* The facts of the alerts of a digest on a channel (at most max, oldest
 * first; new reference) and their total count. */
json_t *vg_outbox_digest_facts(struct vg_outbox *o, const char *digest, const char *channel,
                               size_t max, size_t *total);
/* Drops sent, expired and dropped messages (and facts no message needs)
 * older than `before`. */
int vg_outbox_purge(struct vg_outbox *o, int64_t before);
/* {"pending": n, "waiting": n, "sent": n, "expired": n, "dropped": n} */
json_t *vg_outbox_counts(struct vg_outbox *o);
/* Held items created since `since` that have no alert recorded: a crash came
 * between the item's commit and its alert. Returns their ids (new reference). */
json_t *vg_outbox_unalerted(struct vg_outbox *o, int64_t since);
/* When the outbox was first created (alerts before that belong to no one). */
int64_t vg_outbox_since(struct vg_outbox *o);

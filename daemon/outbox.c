#include "outbox.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct vg_outbox {
        sqlite3 *db; /* owned by the store */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS alert_meta (key TEXT PRIMARY KEY, value INTEGER);"
    "CREATE TABLE IF NOT EXISTS alert_facts ("
    " id TEXT PRIMARY KEY, created INTEGER NOT NULL, facts TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alert_msgs ("
    " id TEXT NOT NULL, channel TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL,"
    " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_try INTEGER NOT NULL,"
    " done INTEGER, error TEXT, PRIMARY KEY (id, channel));"
    "CREATE INDEX IF NOT EXISTS alert_msgs_state ON alert_msgs(state, next_try);"
    "CREATE INDEX IF NOT EXISTS alert_msgs_recent ON alert_msgs(channel, kind, created);"
    "CREATE TABLE IF NOT EXISTS alert_wait ("
    " alert TEXT NOT NULL, channel TEXT NOT NULL, created INTEGER NOT NULL, digest TEXT,"
    " PRIMARY KEY (alert, channel));"
    "CREATE INDEX IF NOT EXISTS alert_wait_channel ON alert_wait(channel, digest, created);";

static int sqerr(int rc)
{
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_READONLY:
        case SQLITE_PERM:
                return -EROFS;
        default:
                return -EIO;
        }
}

static int exec(struct vg_outbox *o, const char *sql)
{
        return sqerr(sqlite3_exec(o->db, sql, NULL, NULL, NULL));
}

static sqlite3_stmt *prep(struct vg_outbox *o, const char *sql)
{
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK) {
                sqlite3_finalize(st);
                return NULL;
        }
        return st;
}

/* Runs a statement that returns no rows; finalizes it. */
static int run(sqlite3_stmt *st)
{
        if (!st)
                return -EIO;
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        return sqerr(rc);
}

static void txt(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static void copy_col(sqlite3_stmt *st, int i, char *out, size_t n)
{
        const char *v = (const char *)sqlite3_column_text(st, i);
        snprintf(out, n, "%s", v ? v : "");
}

int vg_outbox_open(struct sqlite3 *db, struct vg_outbox **ret)
{
        struct vg_outbox *o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->db = db;
        int e = exec(o, schema);
        if (e == 0) {
                sqlite3_stmt *st = prep(o, "INSERT OR IGNORE INTO alert_meta VALUES ('since', ?)");
                if (st)
                        sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
                e = run(st);
        }
        if (e < 0) {
                free(o);
                return e;
        }
        *ret = o;
        return 0;
}

void vg_outbox_free(struct vg_outbox *o)
{
        free(o);
}

int64_t vg_outbox_since(struct vg_outbox *o)
{
        sqlite3_stmt *st = prep(o, "SELECT value FROM alert_meta WHERE key = 'since'");
        int64_t v = 0;
        if (st && sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

bool vg_outbox_known(struct vg_outbox *o, const char *id)
{
        sqlite3_stmt *st = prep(o, "SELECT 1 FROM alert_facts WHERE id = ?");
        bool found = false;
        if (st) {
                txt(st, 1, id);
                found = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
        return found;
}

int vg_outbox_add(struct vg_outbox *o, const char *id, int64_t now, const json_t *facts,
                  const struct vg_out_channel *ch, size_t n)
{
        char *js = json_dumps(facts, JSON_COMPACT);
        if (!js)
                return -ENOMEM;
        int e = exec(o, "BEGIN IMMEDIATE");
        if (e < 0) {
                free(js);
                return e;
        }
        sqlite3_stmt *st = prep(o, "INSERT INTO alert_facts (id, created, facts) VALUES (?,?,?)");
        if (st) {
                txt(st, 1, id);
                sqlite3_bind_int64(st, 2, now);
                txt(st, 3, js);
        }
        e = run(st);
        for (size_t i = 0; i < n && e == 0; i++) {
                if (ch[i].mode == VG_OUT_WAIT) {
                        st = prep(o, "INSERT INTO alert_wait (alert, channel, created) "
                                     "VALUES (?,?,?)");
                } else {
                        st = prep(o, "INSERT INTO alert_msgs (id, channel, kind, created, state,"
                                     " next_try) VALUES (?,?,?,?4,'pending',?4)");
                        if (st)
                                txt(st, 3, ch[i].mode == VG_OUT_NOTICE ? "notice" : "alert");
                }
                if (st) {
                        txt(st, 1, id);
                        txt(st, 2, ch[i].key);
                        if (ch[i].mode == VG_OUT_WAIT)
                                sqlite3_bind_int64(st, 3, now);
                        else
                                sqlite3_bind_int64(st, 4, now);
                }
                e = run(st);
        }
        free(js);
        if (e == 0)
                e = exec(o, "COMMIT");
        if (e < 0)
                exec(o, "ROLLBACK");
        return e;
}

int64_t vg_outbox_recent(struct vg_outbox *o, const char *channel, const char *kind, int64_t since)
{
        sqlite3_stmt *st = prep(o, "SELECT count(*) FROM alert_msgs WHERE channel = ? AND kind = ?"
                                   " AND created >= ?");
        int64_t n = 0;
        if (st) {
                txt(st, 1, channel);
                txt(st, 2, kind);
                sqlite3_bind_int64(st, 3, since);
                if (sqlite3_step(st) == SQLITE_ROW)
                        n = sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
        return n;
}

bool vg_outbox_waiting(struct vg_outbox *o, const char *channel)
{
        sqlite3_stmt *st =
            prep(o, "SELECT 1 FROM alert_wait WHERE channel = ? AND digest IS NULL LIMIT 1");
        bool found = false;
        if (st) {
                txt(st, 1, channel);
                found = sqlite3_step(st) == SQLITE_ROW;
        }
        sqlite3_finalize(st);
        return found;
}

static int read_msgs(sqlite3_stmt *st, struct vg_out_msg *out, size_t max, size_t *n)
{
        if (!st)
                return -EIO;
        size_t k = 0;
        int rc;
        while (k < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct vg_out_msg *m = &out[k++];
                copy_col(st, 0, m->id, sizeof(m->id));
                copy_col(st, 1, m->channel, sizeof(m->channel));
                copy_col(st, 2, m->kind, sizeof(m->kind));
                m->created = sqlite3_column_int64(st, 3);
                m->next_try = sqlite3_column_int64(st, 4);
                m->attempts = sqlite3_column_int64(st, 5);
        }
        sqlite3_finalize(st);
        *n = k;
        return 0;
}

int vg_outbox_pending(struct vg_outbox *o, struct vg_out_msg *out, size_t max, size_t *n)
{
        sqlite3_stmt *st = prep(o, "SELECT id, channel, kind, created, next_try, attempts"
                                   " FROM alert_msgs WHERE state = 'pending'"
                                   " ORDER BY next_try, created, id LIMIT ?");
        if (st)
                sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
        return read_msgs(st, out, max, n);
}

int vg_outbox_stale(struct vg_outbox *o, int64_t before, struct vg_out_msg *out, size_t max,
                    size_t *n)
{
        sqlite3_stmt *st = prep(o, "SELECT id, channel, kind, created, next_try, attempts"
                                   " FROM alert_msgs WHERE state = 'pending' AND created < ?"
                                   " ORDER BY created LIMIT ?");
        if (st) {
                sqlite3_bind_int64(st, 1, before);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
        }
        return read_msgs(st, out, max, n);
}

int vg_outbox_sent(struct vg_outbox *o, const char *id, const char *channel, int64_t now)
{
        sqlite3_stmt *st = prep(o, "UPDATE alert_msgs SET state = 'sent', done = ?,"
                                   " attempts = attempts + 1, error = NULL"
                                   " WHERE id = ? AND channel = ?");
        if (st) {
                sqlite3_bind_int64(st, 1, now);
                txt(st, 2, id);
                txt(st, 3, channel);
        }
        return run(st);
}

int vg_outbox_failed(struct vg_outbox *o, const char *id, const char *channel, int64_t next_try,
                     const char *error)
{
        sqlite3_stmt *st = prep(o, "UPDATE alert_msgs SET attempts = attempts + 1, next_try = ?,"
                                   " error = ? WHERE id = ? AND channel = ?");
        if (st) {
                sqlite3_bind_int64(st, 1, next_try);
                txt(st, 2, error);
                txt(st, 3, id);
                txt(st, 4, channel);
        }
        return run(st);
}

int vg_outbox_give_up(struct vg_outbox *o, const char *id, const char *channel, const char *state,
                      const char *why)
{
        sqlite3_stmt *st = prep(o, "UPDATE alert_msgs SET state = ?, done = ?, error = ?"
                                   " WHERE id = ? AND channel = ?");
        if (st) {
                txt(st, 1, state);
                sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
                txt(st, 3, why);
                txt(st, 4, id);
                txt(st, 5, channel);
        }
        return run(st);
}

int vg_outbox_make_digests(struct vg_outbox *o, int64_t due, int64_t now,
                           void (*new_id)(char out[24]))
{
        sqlite3_stmt *st = prep(o, "SELECT channel FROM alert_wait WHERE digest IS NULL"
                                   " GROUP BY channel HAVING min(created) <= ? LIMIT 256");
        if (!st)
                return -EIO;
        sqlite3_bind_int64(st, 1, due);
        json_t *chans = json_array();
        while (chans && sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(chans, json_string((const char *)sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        if (!chans)
                return -ENOMEM;
        int made = 0, e = 0;
        size_t i;
        json_t *c;
        json_array_foreach(chans, i, c)
        {
                const char *channel = json_string_value(c);
                if (!channel)
                        continue;
                char id[24];
                new_id(id);
                id[0] = 'd', id[1] = 'g'; /* "dg-...": a digest, never an item */
                if ((e = exec(o, "BEGIN IMMEDIATE")) < 0)
                        break;
                st = prep(o, "INSERT INTO alert_msgs (id, channel, kind, created, state, next_try)"
                             " VALUES (?,?,'digest',?3,'pending',?3)");
                if (st) {
                        txt(st, 1, id);
                        txt(st, 2, channel);
                        sqlite3_bind_int64(st, 3, now);
                }
                e = run(st);
                if (e == 0) {
                        st = prep(o, "UPDATE alert_wait SET digest = ? WHERE channel = ? AND"
                                     " digest IS NULL");
                        if (st) {
                                txt(st, 1, id);
                                txt(st, 2, channel);
                        }
                        e = run(st);
                }
                if (e == 0)
                        e = exec(o, "COMMIT");
                if (e < 0) {
                        exec(o, "ROLLBACK");
                        break;
                }
                made++;
        }
        json_decref(chans);
        return e < 0 ? e : made;
}

int64_t vg_outbox_next_digest(struct vg_outbox *o, int64_t interval)
{
        sqlite3_stmt *st = prep(o, "SELECT min(created) FROM alert_wait WHERE digest IS NULL");
        int64_t t = 0;
        if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                t = sqlite3_column_int64(st, 0) + interval;
        sqlite3_finalize(st);
        return t;
}

json_t *vg_outbox_facts(struct vg_outbox *o, const char *id)
{
        sqlite3_stmt *st = prep(o, "SELECT facts FROM alert_facts WHERE id = ?");
        json_t *f = NULL;
        if (st) {
                txt(st, 1, id);
                if (sqlite3_step(st) == SQLITE_ROW) {
                        const char *s = (const char *)sqlite3_column_text(st, 0);
                        f = s ? json_loads(s, 0, NULL) : NULL;
                }
        }
        sqlite3_finalize(st);
        return f;
}

json_t *vg_outbox_digest_facts(struct vg_outbox *o, const char *digest, const char *channel,
                               size_t max, size_t *total)
{
        sqlite3_stmt *st = prep(o, "SELECT f.facts FROM alert_wait w JOIN alert_facts f"
                                   " ON f.id = w.alert WHERE w.digest = ? AND w.channel = ?"
                                   " ORDER BY w.created, w.alert");
        json_t *a = json_array();
        size_t n = 0;
        if (!st || !a) {
                sqlite3_finalize(st);
                json_decref(a);
                return NULL;
        }
        txt(st, 1, digest);
        txt(st, 2, channel);
        while (sqlite3_step(st) == SQLITE_ROW) {
                if (n++ >= max)
                        continue;
                const char *s = (const char *)sqlite3_column_text(st, 0);
                json_t *f = s ? json_loads(s, 0, NULL) : NULL;
                if (f)
                        json_array_append_new(a, f);
        }
        sqlite3_finalize(st);
        *total = n;
        return a;
}

int vg_outbox_purge(struct vg_outbox *o, int64_t before)
{
        static const char *const sql[] = {
            "DELETE FROM alert_msgs WHERE state != 'pending' AND created < ?1",
            "DELETE FROM alert_wait WHERE created < ?1 AND digest IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM alert_msgs m WHERE m.id = alert_wait.digest"
            " AND m.channel = alert_wait.channel)",
            "DELETE FROM alert_facts WHERE created < ?1 AND NOT EXISTS"
            " (SELECT 1 FROM alert_msgs m WHERE m.id = alert_facts.id) AND NOT EXISTS"
            " (SELECT 1 FROM alert_wait w WHERE w.alert = alert_facts.id)",
        };
        int e = 0;
        for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && e == 0; i++) {
                sqlite3_stmt *st = prep(o, sql[i]);
                if (st)
                        sqlite3_bind_int64(st, 1, before);
                e = run(st);
        }
        return e;
}

json_t *vg_outbox_counts(struct vg_outbox *o)
{
        json_t *c = json_pack("{s:I, s:I, s:I, s:I, s:I}", "pending", (json_int_t)0, "waiting",
                              (json_int_t)0, "sent", (json_int_t)0, "expired", (json_int_t)0,
                              "dropped", (json_int_t)0);
        sqlite3_stmt *st = prep(o, "SELECT state, count(*) FROM alert_msgs GROUP BY state");
        while (c && st && sqlite3_step(st) == SQLITE_ROW) {
                const char *s = (const char *)sqlite3_column_text(st, 0);
                if (s)
                        json_object_set_new(c, s, json_integer(sqlite3_column_int64(st, 1)));
        }
        sqlite3_finalize(st);
        st = prep(o, "SELECT count(*) FROM alert_wait WHERE digest IS NULL");
        if (c && st && sqlite3_step(st) == SQLITE_ROW)
                json_object_set_new(c, "waiting", json_integer(sqlite3_column_int64(st, 0)));
        sqlite3_finalize(st);
        return c;
}

json_t *vg_outbox_unalerted(struct vg_outbox *o, int64_t since)
{
        /* The store's items table: held items are the ones an alert is owed for. */
        sqlite3_stmt *st = prep(o, "SELECT id FROM items WHERE state = 'held' AND created >= ?"
                                   " AND id NOT IN (SELECT id FROM alert_facts)"
                                   " ORDER BY created LIMIT 10000");
        json_t *a = json_array();
        if (!st || !a) {
                sqlite3_finalize(st);
                json_decref(a);
                return NULL;
        }
        sqlite3_bind_int64(st, 1, since);
        while (sqlite3_step(st) == SQLITE_ROW)
                json_array_append_new(a, json_string((const char *)sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        return a;
}

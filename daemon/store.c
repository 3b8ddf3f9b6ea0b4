#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report_json.h"

#define BLOB_DIR "blobs"
#define DB_FILE  "vigie.db"

struct vg_store {
        char *dir;
        int dir_fd;
        int blob_fd;
        sqlite3 *db;
};

void vg_crashpoint(const char *name)
{
#ifdef VIGIE_CRASHPOINTS
        const char *at = getenv("VIGIE_CRASH_AT");
        if (at && strcmp(at, name) == 0)
                raise(SIGKILL);
#else
        (void)name;
#endif
}

bool vg_fault(const char *call)
{
#ifdef VIGIE_CRASHPOINTS
        const char *p = getenv("VIGIE_FAULT");
        size_t n = strlen(call);
        while (p && *p) {
                const char *end = strchr(p, ',');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                if (len == n && memcmp(p, call, n) == 0)
                        return true;
                p = end ? end + 1 : NULL;
        }
#else
        (void)call;
#endif
        return false;
}

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS items ("
    " id TEXT PRIMARY KEY, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " route TEXT NOT NULL, kind TEXT NOT NULL, mode TEXT, origin TEXT NOT NULL,"
    " relpath TEXT NOT NULL, name TEXT NOT NULL, owner_uid INTEGER, owner TEXT,"
    " size INTEGER NOT NULL, sha256 TEXT NOT NULL, type TEXT, verdict TEXT NOT NULL,"
    " action TEXT NOT NULL, policy TEXT, state TEXT NOT NULL, report TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS items_created ON items(created);"
    "CREATE INDEX IF NOT EXISTS items_origin ON items(route, relpath, sha256);"
    "CREATE TABLE IF NOT EXISTS findings ("
    " item TEXT NOT NULL REFERENCES items(id), detector TEXT NOT NULL, place TEXT NOT NULL,"
    " count INTEGER NOT NULL, distinct_values INTEGER NOT NULL, masked TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS findings_item ON findings(item);"
    "CREATE TABLE IF NOT EXISTS events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT, time INTEGER NOT NULL,"
    " kind TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX IF NOT EXISTS events_item ON events(item);"
    "CREATE TABLE IF NOT EXISTS audit ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " user TEXT, action TEXT NOT NULL, item TEXT, reason TEXT);"
    "CREATE TABLE IF NOT EXISTS allowlist ("
    " sha256 TEXT PRIMARY KEY, added INTEGER NOT NULL, uid INTEGER, user TEXT, item TEXT,"
    " reason TEXT);"
    "CREATE TABLE IF NOT EXISTS mails ("
    " item TEXT PRIMARY KEY REFERENCES items(id), sender TEXT NOT NULL,"
    " recipients TEXT NOT NULL, subject TEXT);"
    "CREATE TABLE IF NOT EXISTS passes ("
    " route TEXT NOT NULL, relpath TEXT NOT NULL, sha256 TEXT NOT NULL,"
    " created INTEGER NOT NULL);";

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
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EROFS;
        default:
                return -EIO;
        }
}

static int exec(struct vg_store *s, const char *sql)
{
        return sqerr(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int64_t now(void)
{
        return (int64_t)time(NULL);
}

void vg_store_new_id(char out[24])
{
        static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789z";
        unsigned char r[10];
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
                /* getrandom on Linux >= 3.17 does not fail for 10 bytes; be safe */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                for (size_t i = 0; i < sizeof(r); i++)
                        r[i] = (unsigned char)((ts.tv_nsec >> (i * 3)) ^ (getpid() >> i));
        }
        memcpy(out, "vg-", 3);
        for (size_t i = 0; i < sizeof(r); i++)
                out[3 + i] = alphabet[r[i] & 31];
        out[13] = '\0';
}

static int fsync_dir(int fd)
{
        return fsync(fd) < 0 ? -errno : 0;
}

/* Blobs without a row were being written when the daemon stopped: the source
 * was not removed (that comes after the commit), so the blob is dropped and the
 * source is decided again. Rows whose blob is missing are marked `lost` with an
 * event, never silently dropped. */
static int reconcile(struct vg_store *s)
{
        int fd = dup(s->blob_fd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        rewinddir(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                const char *nm = de->d_name;
                bool tmp = strstr(nm, ".tmp") != NULL;
                if (tmp || !vg_store_exists(s, nm)) {
                        unlinkat(s->blob_fd, nm, 0);
                        continue;
                }
        }
        closedir(d);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "SELECT id FROM items WHERE state = 'held'", -1, &st, NULL) !=
            SQLITE_OK)
                return -EIO;
        char lost[256][24];
        size_t nlost = 0;
        while (sqlite3_step(st) == SQLITE_ROW && nlost < 256) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                struct stat sb;
                if (id && strlen(id) < 24 && fstatat(s->blob_fd, id, &sb, 0) < 0)
                        strcpy(lost[nlost++], id); /* length checked */
        }
        sqlite3_finalize(st);
        for (size_t i = 0; i < nlost; i++)
                vg_store_set_state(s, lost[i], "lost", "blob missing at start");
        return fsync_dir(s->blob_fd);
}

int vg_store_open(const char *dir, struct vg_store **ret)
{
        struct vg_store *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->dir_fd = s->blob_fd = -1;
        int e = -ENOMEM;
        if (!(s->dir = strdup(dir)))
                goto fail;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                e = -errno;
                goto fail;
        }
        s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->dir_fd < 0) {
                e = -errno;
                goto fail;
        }
        if (mkdirat(s->dir_fd, BLOB_DIR, 0700) < 0 && errno != EEXIST) {
                e = -errno;
                goto fail;
        }
        s->blob_fd = openat(s->dir_fd, BLOB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->blob_fd < 0) {
                e = -errno;
                goto fail;
        }
        char path[4096];
        if (snprintf(path, sizeof(path), "%s/%s", dir, DB_FILE) >= (int)sizeof(path)) {
                e = -ENAMETOOLONG;
                goto fail;
        }
        int rc = sqlite3_open_v2(
            path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
        if (rc != SQLITE_OK) {
                e = sqerr(rc);
                goto fail;
        }
        chmod(path, 0600);
        sqlite3_busy_timeout(s->db, 5000);
        /* WAL with synchronous=FULL: a committed item survives a power cut. */
        if ((e = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "PRAGMA foreign_keys=ON;")) < 0 ||
            (e = exec(s, schema)) < 0 || (e = reconcile(s)) < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        vg_store_close(s);
        return e;
}

void vg_store_close(struct vg_store *s)
{
        if (!s)
                return;
        if (s->db)
                sqlite3_close_v2(s->db);
        if (s->blob_fd >= 0)
                close(s->blob_fd);
        if (s->dir_fd >= 0)
                close(s->dir_fd);
        free(s->dir);
        free(s);
}

struct sqlite3 *vg_store_db(struct vg_store *s)
{
        return s->db;
}

const char *vg_store_dir(const struct vg_store *s)
{
        return s->dir;
}

/* Copies in to out at the same offsets, keeping holes as holes: a sparse file
 * held as limit:size (10 GB of nothing) must not fill the store with zeros. */
static int copy_fd(int in, int out)
{
        enum { BLK = 256 * 1024 };
        struct stat st;
        if (fstat(in, &st) < 0)
                return -errno;
        char *buf = malloc(BLK);
        if (!buf)
                return -ENOMEM;
        off_t off = 0;
        int e = 0;
        for (;;) {
                off_t data = lseek(in, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole (or nothing) is left */
                if (data > off)
                        off = data;
                ssize_t r = pread(in, buf, BLK, off);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        e = -errno;
                        break;
                }
                if (r == 0)
                        break;
                for (ssize_t w = 0; w < r;) {
                        ssize_t k = pwrite(out, buf + w, (size_t)(r - w), off + w);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                e = -errno;
                                goto out;
                        }
                        w += k;
                }
                off += r;
        }
        if (off < st.st_size)
                off = st.st_size;
        if (e == 0 && ftruncate(out, off) < 0)
                e = -errno;
out:
        free(buf);
        return e;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
        return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static int put_envelope(struct vg_store *s, const char *id, const char *sender,
                        const char *const *rcpts, size_t n, const char *subject)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(rcpts[i]));
        char *js = a ? json_dumps(a, JSON_COMPACT) : NULL;
        json_decref(a);
        if (!js)
                return -ENOMEM;
        sqlite3_stmt *st;
        int rc =
            sqlite3_prepare_v2(s->db,
                               "INSERT OR REPLACE INTO mails (item, sender, recipients, subject)"
                               " VALUES (?,?,?,?)",
                               -1, &st, NULL);
        if (rc == SQLITE_OK) {
                bind_text(st, 1, id);
                bind_text(st, 2, sender);
                bind_text(st, 3, js);
                bind_text(st, 4, subject);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        free(js);
        return sqerr(rc);
}

static int insert_item(struct vg_store *s, const struct vg_item *it, int64_t t)
{
        const struct vg_report *r = it->report;
        char *json = vg_report_to_json_line(r);
        if (!json)
                return -ENOMEM;
        sqlite3_stmt *st = NULL;
        int e = exec(s, "BEGIN IMMEDIATE");
        if (e < 0)
                goto out;
        int rc = sqlite3_prepare_v2(
            s->db,
            "INSERT INTO items (id, created, updated, route, kind, mode, origin, relpath, name,"
            " owner_uid, owner, size, sha256, type, verdict, action, policy, state, report)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'held',?)",
            -1, &st, NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, it->id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 2, t);
                sqlite3_bind_int64(st, 3, t);
                bind_text(st, 4, it->route);
                bind_text(st, 5, it->kind);
                bind_text(st, 6, it->mode);
                bind_text(st, 7, it->origin);
                bind_text(st, 8, it->relpath);
                bind_text(st, 9, it->name);
                sqlite3_bind_int64(st, 10, it->owner_uid);
                bind_text(st, 11, it->owner);
                sqlite3_bind_int64(st, 12, (sqlite3_int64)r->size);
                bind_text(st, 13, r->sha256);
                bind_text(st, 14, r->type);
                bind_text(st, 15, vg_verdict_name(r->verdict));
                bind_text(st, 16, vg_action_name(r->action));
                bind_text(st, 17, r->policy);
                bind_text(st, 18, json);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        st = NULL;
        if ((e = sqerr(rc)) < 0)
                goto rollback;
        for (size_t i = 0; i < r->nfindings && e == 0; i++) {
                const struct vg_finding *f = &r->findings[i];
                json_t *m = json_array();
                for (size_t k = 0; m && k < f->nsamples; k++)
                        json_array_append_new(m, json_string(f->samples[k]));
                char *ms = m ? json_dumps(m, JSON_COMPACT) : NULL;
                json_decref(m);
                rc = sqlite3_prepare_v2(s->db,
                                        "INSERT INTO findings (item, detector, place, count,"
                                        " distinct_values, masked) VALUES (?,?,?,?,?,?)",
                                        -1, &st, NULL);
                if (rc == SQLITE_OK && ms) {
                        sqlite3_bind_text(st, 1, it->id, -1, SQLITE_TRANSIENT);
                        bind_text(st, 2, f->detector);
                        bind_text(st, 3, f->where);
                        sqlite3_bind_int64(st, 4, (sqlite3_int64)f->count);
                        sqlite3_bind_int64(st, 5, (sqlite3_int64)f->distinct);
                        bind_text(st, 6, ms);
                        rc = sqlite3_step(st);
                }
                e = ms ? sqerr(rc) : -ENOMEM;
                free(ms);
                sqlite3_finalize(st);
                st = NULL;
        }
        if (e < 0)
                goto rollback;
        rc = sqlite3_prepare_v2(
            s->db, "INSERT INTO events (item, time, kind, detail) VALUES (?,?,'held',?)", -1, &st,
            NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, it->id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(st, 2, t);
                bind_text(st, 3, vg_verdict_name(r->verdict));
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        if ((e = sqerr(rc)) < 0)
                goto rollback;
        if (it->sender &&
            (e = put_envelope(s, it->id, it->sender, it->rcpts, it->nrcpts, it->subject)) < 0)
                goto rollback;
        vg_crashpoint("store-before-commit");
        e = exec(s, "COMMIT");
        if (e == 0)
                goto out;
rollback:
        exec(s, "ROLLBACK");
out:
        free(json);
        return e;
}

int vg_store_put(struct vg_store *s, const struct vg_item *it, int fd)
{
        char tmp[40];
        snprintf(tmp, sizeof(tmp), "%s.tmp", it->id);
        int out =
            openat(s->blob_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return -errno;
        int e = vg_fault("write@store-blob") ? -EIO : copy_fd(fd, out);
        vg_crashpoint("store-after-write");
        /* An fsync error is final: the page cache may have dropped the data, so the
         * item is abandoned (the source is kept) rather than retried. */
        if (e == 0 && vg_fault("fsync@store-blob"))
                e = -EIO;
        else if (e == 0 && fsync(out) < 0)
                e = -errno;
        if (close(out) < 0 && e == 0)
                e = -errno;
        if (e == 0 && renameat(s->blob_fd, tmp, s->blob_fd, it->id) < 0)
                e = -errno;
        if (e == 0)
                e = vg_fault("fsync@store-dir") ? -EIO : fsync_dir(s->blob_fd);
        vg_crashpoint("store-after-blob");
        if (e == 0)
                e = insert_item(s, it, now());
        if (e < 0) {
                unlinkat(s->blob_fd, tmp, 0);
                unlinkat(s->blob_fd, it->id, 0);
                return e;
        }
        vg_crashpoint("store-after-commit");
        return 0;
}

bool vg_store_exists(struct vg_store *s, const char *id)
{
        sqlite3_stmt *st;
        bool found = false;
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM items WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return true; /* when unsure, keep the blob */
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}

bool vg_store_holds(struct vg_store *s, const char *route, const char *relpath, const char *sha256)
{
        sqlite3_stmt *st;
        bool found = false;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT 1 FROM items WHERE route = ? AND relpath = ? AND"
                               " sha256 = ? AND state = 'held'",
                               -1, &st, NULL) != SQLITE_OK)
                return false;
        bind_text(st, 1, route);
        bind_text(st, 2, relpath);
        bind_text(st, 3, sha256);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}

static json_t *row_json(sqlite3_stmt *st, bool full)
{
        json_t *o = json_object();
        int n = sqlite3_column_count(st);
        for (int i = 0; o && i < n; i++) {
                const char *col = sqlite3_column_name(st, i);
                if (strcmp(col, "report") == 0) {
                        if (full) {
                                const char *txt = (const char *)sqlite3_column_text(st, i);
                                json_t *rep = txt ? json_loads(txt, 0, NULL) : NULL;
                                json_object_set_new(o, "report", rep ? rep : json_null());
                        }
                        continue;
                }
                switch (sqlite3_column_type(st, i)) {
                case SQLITE_INTEGER:
                        json_object_set_new(o, col, json_integer(sqlite3_column_int64(st, i)));
                        break;
                case SQLITE_NULL:
                        json_object_set_new(o, col, json_null());
                        break;
                default:
                        json_object_set_new(o, col,
                                            json_string((const char *)sqlite3_column_text(st, i)));
                }
        }
        return o;
}

json_t *vg_store_list(struct vg_store *s, const char *route, int64_t since, int *err)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(
            s->db,
            "SELECT id, created, updated, route, kind, origin, name, owner, size, verdict,"
            " action, state, (SELECT group_concat(detector, ',') FROM (SELECT DISTINCT detector"
            " FROM findings WHERE item = items.id)) AS detectors FROM items"
            " WHERE (?1 IS NULL OR route = ?1) AND created >= ?2 ORDER BY created, id",
            -1, &st, NULL);
        if (rc != SQLITE_OK) {
                *err = sqerr(rc);
                return NULL;
        }
        bind_text(st, 1, route);
        sqlite3_bind_int64(st, 2, since);
        json_t *a = json_array();
        while (a && (rc = sqlite3_step(st)) == SQLITE_ROW)
                json_array_append_new(a, row_json(st, false));
        sqlite3_finalize(st);
        if (!a || rc != SQLITE_DONE) {
                json_decref(a);
                *err = a ? sqerr(rc) : -ENOMEM;
                return NULL;
        }
        return a;
}

json_t *vg_store_envelope(struct vg_store *s, const char *id)
{
        sqlite3_stmt *st;
        json_t *o = NULL;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT sender, recipients, subject FROM mails WHERE item = ?", -1,
                               &st, NULL) != SQLITE_OK)
                return NULL;
        bind_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
                const char *rc = (const char *)sqlite3_column_text(st, 1);
                json_t *r = rc ? json_loads(rc, 0, NULL) : NULL;
                const char *subj = (const char *)sqlite3_column_text(st, 2);
                o = json_pack("{s:s, s:o, s:s?}", "sender",
                              (const char *)sqlite3_column_text(st, 0), "recipients",
                              r ? r : json_array(), "subject", subj);
        }
        sqlite3_finalize(st);
        return o;
}

json_t *vg_store_show(struct vg_store *s, const char *id, int *err)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db, "SELECT * FROM items WHERE id = ?", -1, &st, NULL);
        if (rc != SQLITE_OK) {
                *err = sqerr(rc);
                return NULL;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        json_t *o = NULL;
        if (sqlite3_step(st) == SQLITE_ROW)
                o = row_json(st, true);
        sqlite3_finalize(st);
        if (!o) {
                *err = -ENOENT;
                return NULL;
        }
        json_t *ev = json_array();
        if (sqlite3_prepare_v2(s->db,
                               "SELECT time, kind, detail FROM events WHERE item = ? ORDER BY seq",
                               -1, &st, NULL) == SQLITE_OK) {
                sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
                while (ev && sqlite3_step(st) == SQLITE_ROW)
                        json_array_append_new(ev, row_json(st, false));
                sqlite3_finalize(st);
        }
        json_object_set_new(o, "events", ev ? ev : json_array());
        json_t *env = vg_store_envelope(s, id);
        if (env)
                json_object_set_new(o, "mail", env);
        return o;
}

int vg_store_open_blob(struct vg_store *s, const char *id)
{
        if (!id || strlen(id) >= 24 || strchr(id, '/') || id[0] == '.')
                return -EINVAL;
        int fd = openat(s->blob_fd, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int vg_store_event(struct vg_store *s, const char *id, const char *kind, const char *detail)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(
            s->db, "INSERT INTO events (item, time, kind, detail) VALUES (?,?,?,?)", -1, &st, NULL);
        if (rc == SQLITE_OK) {
                bind_text(st, 1, id);
                sqlite3_bind_int64(st, 2, now());
                bind_text(st, 3, kind);
                bind_text(st, 4, detail);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        return sqerr(rc);
}

int vg_store_set_state(struct vg_store *s, const char *id, const char *state, const char *detail)
{
        sqlite3_stmt *st;
        int e = exec(s, "BEGIN IMMEDIATE");
        if (e < 0)
                return e;
        int rc = sqlite3_prepare_v2(s->db, "UPDATE items SET state = ?, updated = ? WHERE id = ?",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
                bind_text(st, 1, state);
                sqlite3_bind_int64(st, 2, now());
                bind_text(st, 3, id);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        e = sqerr(rc);
        if (e == 0 && sqlite3_changes(s->db) == 0)
                e = -ENOENT;
        if (e == 0)
                e = vg_store_event(s, id, state, detail);
        if (e == 0)
                e = exec(s, "COMMIT");
        if (e < 0)
                exec(s, "ROLLBACK");
        return e;
}

int vg_store_audit(struct vg_store *s, uid_t uid, const char *user, const char *action,
                   const char *item, const char *reason)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db,
                                    "INSERT INTO audit (time, uid, user, action, item, reason)"
                                    " VALUES (?,?,?,?,?,?)",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
                sqlite3_bind_int64(st, 1, now());
                sqlite3_bind_int64(st, 2, (sqlite3_int64)uid);
                bind_text(st, 3, user);
                bind_text(st, 4, action);
                bind_text(st, 5, item);
                bind_text(st, 6, reason);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        return sqerr(rc);
}

int vg_store_allow(struct vg_store *s, const char *sha256, uid_t uid, const char *user,
                   const char *item, const char *reason)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(s->db,
                                    "INSERT OR REPLACE INTO allowlist (sha256, added, uid, user,"
                                    " item, reason) VALUES (?,?,?,?,?,?)",
                                    -1, &st, NULL);
        if (rc == SQLITE_OK) {
                bind_text(st, 1, sha256);
                sqlite3_bind_int64(st, 2, now());
                sqlite3_bind_int64(st, 3, (sqlite3_int64)uid);
                bind_text(st, 4, user);
                bind_text(st, 5, item);
                bind_text(st, 6, reason);
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        return sqerr(rc);
}

bool vg_store_allowed(struct vg_store *s, const char *sha256)
{
        if (!sha256 || !sha256[0])
                return false;
        sqlite3_stmt *st;
        bool found = false;
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM allowlist WHERE sha256 = ?", -1, &st, NULL) !=
            SQLITE_OK)
                return false;
        bind_text(st, 1, sha256);
        found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        return found;
}

int vg_store_add_pass(struct vg_store *s, const char *route, const char *relpath,
                      const char *sha256)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(
            s->db, "INSERT INTO passes (route, relpath, sha256, created) VALUES (?,?,?,?)", -1, &st,
            NULL);
        if (rc == SQLITE_OK) {
                bind_text(st, 1, route);
                bind_text(st, 2, relpath);
                bind_text(st, 3, sha256);
                sqlite3_bind_int64(st, 4, now());
                rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        return sqerr(rc);
}

/* A DELETE succeeds when it removed a row, a SELECT when it returned one
 * (sqlite3_changes() keeps the count of the last change: never use it for a
 * SELECT). */
static bool pass_query(struct vg_store *s, const char *sql, const char *route, const char *relpath,
                       const char *sha256)
{
        bool is_select = strncmp(sql, "SELECT", 6) == 0;
        sqlite3_stmt *st;
        if (!sha256 || !sha256[0] || sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return false;
        bind_text(st, 1, route);
        bind_text(st, 2, relpath);
        bind_text(st, 3, sha256);
        int rc = sqlite3_step(st);
        bool ok = is_select ? rc == SQLITE_ROW : rc == SQLITE_DONE && sqlite3_changes(s->db) > 0;
        sqlite3_finalize(st);
        return ok;
}

bool vg_store_take_pass(struct vg_store *s, const char *route, const char *relpath,
                        const char *sha256)
{
        return pass_query(s,
                          "DELETE FROM passes WHERE rowid = (SELECT rowid FROM passes WHERE"
                          " route = ? AND relpath = ? AND sha256 = ? LIMIT 1)",
                          route, relpath, sha256);
}

bool vg_store_has_pass(struct vg_store *s, const char *route, const char *relpath,
                       const char *sha256)
{
        return pass_query(s, "SELECT 1 FROM passes WHERE route = ? AND relpath = ? AND sha256 = ?",
                          route, relpath, sha256);
}

int vg_store_purge(struct vg_store *s, int64_t older_than)
{
        sqlite3_stmt *st;
        int64_t limit = now() - older_than;
        int rc = sqlite3_prepare_v2(s->db,
                                    "SELECT id FROM items WHERE created <= ? AND state IN"
                                    " ('held','released','deleted','lost')",
                                    -1, &st, NULL);
        if (rc != SQLITE_OK)
                return sqerr(rc);
        sqlite3_bind_int64(st, 1, limit);
        char(*ids)[24] = NULL;
        size_t n = 0, cap = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (!id || strlen(id) >= 24)
                        continue;
                if (n == cap) {
                        size_t nc = cap ? cap * 2 : 64;
                        char(*ni)[24] = reallocarray(ids, nc, sizeof(*ni));
                        if (!ni)
                                break;
                        ids = ni;
                        cap = nc;
                }
                strcpy(ids[n++], id); /* length checked */
        }
        sqlite3_finalize(st);
        int e = 0;
        for (size_t i = 0; i < n && e == 0; i++) {
                e = vg_store_set_state(s, ids[i], "purged", "retention");
                if (e == 0 && unlinkat(s->blob_fd, ids[i], 0) < 0 && errno != ENOENT)
                        e = -errno;
        }
        free(ids);
        if (e == 0)
                e = fsync_dir(s->blob_fd);
        return e < 0 ? e : (int)n;
}

json_t *vg_store_counts(struct vg_store *s)
{
        json_t *o = json_object();
        sqlite3_stmt *st;
        if (o && sqlite3_prepare_v2(s->db, "SELECT state, count(*) FROM items GROUP BY state", -1,
                                    &st, NULL) == SQLITE_OK) {
                while (sqlite3_step(st) == SQLITE_ROW)
                        json_object_set_new(o, (const char *)sqlite3_column_text(st, 0),
                                            json_integer(sqlite3_column_int64(st, 1)));
                sqlite3_finalize(st);
        }
        return o;
}

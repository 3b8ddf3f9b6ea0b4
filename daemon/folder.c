#include "folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glib.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"
#include "manager.h"
#include "masker.h"
#include "notice.h"
#include "policy.h"
#include "redact.h"
#include "store.h"
#include "worker.h"

/* The daemon's private folder inside the watched tree: same filesystem, so a
 * claim is a rename. Its name is never watched, scanned or delivered. */
#define STAGING_NAME  ".vigie-staging"
#define NOTICE_SUFFIX ".vigie-"
#define WALK_DEPTH    64
#define RETRY_USEC    (60ull * 1000000)
/* Files claimed and waiting for a worker, per route. Each holds three
 * descriptors: without a bound, a burst of thousands of settled files (a rescan
 * after an inotify overflow) ran out of descriptors and the files past the limit
 * were silently left undecided. The others wait in `ready`, in order. */
#define MAX_JOBS 128

struct job;

struct vg_folder {
        struct vg_manager *m;
        struct vg_route *cfg; /* our own copy: a reload may free the config */
        bool retired;
        char *name;
        int watch_fd;
        int deliver_fd;
        int stage_fd;
        int ino_fd;
        sd_event_source *ino_src;
        GHashTable *dirs;    /* wd -> relative path of a watched folder ("" = root) */
        GHashTable *settle;  /* relative path -> struct settle */
        GHashTable *alerted; /* "dev:ino" of special files already reported */
        size_t jobs;
        GQueue *ready;          /* settled files waiting for a job slot (keys of ready_set) */
        GHashTable *ready_set;  /* the same paths, owned here, for dropping repeats */
        sd_event_source *drain; /* runs the ready queue once a slot is free */
};

struct settle {
        struct vg_folder *f;
        char *rel;
        sd_event_source *timer;
};

struct job {
        struct vg_folder *f;
        char id[24];
        char *rel;     /* path inside the route, as found */
        char *base;    /* points into rel */
        int src_dir;   /* the folder the file was found in (for notices, in-place) */
        int stage_dir; /* staging/<id>/<parent> (gate mode) */
        int fd;
        int copy_fd; /* on_flagged = "redact": the copy a worker writes */
        struct stat st;
        sd_event_source *retry;
        unsigned attempts;
        unsigned writer_waits; /* rescans while another process had it open for writing */
};

static void job_free(struct job *j)
{
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        if (j->copy_fd >= 0)
                close(j->copy_fd);
        if (j->src_dir >= 0)
                close(j->src_dir);
        if (j->stage_dir >= 0)
                close(j->stage_dir);
        sd_event_source_disable_unref(j->retry);
        struct vg_folder *f = j->f;
        free(j->rel);
        free(j);
        if (!f)
                return;
        f->jobs--;
        if (f->retired) {
                if (f->jobs == 0)
                        vg_folder_free(f);
        } else if (f->drain && !g_queue_is_empty(f->ready)) {
                sd_event_source_set_enabled(f->drain, SD_EVENT_ONESHOT);
        }
}

/* ---- safe path handling --------------------------------------------------- */

/* Opens a folder below `root` without following any link on the way. */
static int open_beneath(int root, const char *rel)
{
        /* A new open, not a dup: a dup shares the file offset, so once a walk had
         * read the root folder to its end, every later rescan (after an inotify
         * overflow) saw it empty and missed every file already there. */
        if (!rel || !*rel) {
                int fd = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                return fd >= 0 ? fd : -errno;
        }
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW,
            .resolve =
                RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
        if (fd >= 0)
                return (int)fd;
        /* Older kernels, and paths longer than PATH_MAX (which a folder tree may
         * hold, and openat2 refuses whole): one component at a time, none of them
         * a link. */
        if (errno != ENOSYS && errno != ENAMETOOLONG)
                return -errno;
        char *copy = strdup(rel), *save = NULL;
        if (!copy)
                return -ENOMEM;
        int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
        for (char *c = strtok_r(copy, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0) {
                        close(cur);
                        cur = -EINVAL;
                        break;
                }
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int err = errno;
                close(cur);
                cur = next >= 0 ? next : -err;
        }
        free(copy);
        return cur;
}

/* Creates (if needed) and opens rel below root, one component at a time. */
static int make_beneath(int root, const char *rel, mode_t mode)
{
        char *copy = strdup(rel ? rel : ""), *save = NULL;
        if (!copy)
                return -ENOMEM;
        int cur = fcntl(root, F_DUPFD_CLOEXEC, 3);
        for (char *c = strtok_r(copy, "/", &save); c && cur >= 0; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, "..") == 0 || strcmp(c, ".") == 0) {
                        close(cur);
                        cur = -EINVAL;
                        break;
                }
                if (mkdirat(cur, c, mode) < 0 && errno != EEXIST) {
                        int err = errno;
                        close(cur);
                        cur = -err;
                        break;
                }
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int err = errno;
                close(cur);
                cur = next >= 0 ? next : -err;
        }
        free(copy);
        return cur;
}

static char *parent_of(const char *rel)
{
        const char *slash = strrchr(rel, '/');
        return slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
}

static const char *base_of(const char *rel)
{
        const char *slash = strrchr(rel, '/');
        return slash ? slash + 1 : rel;
}

static char *join(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *p = malloc(la + lb + 2);
        if (!p)
                return NULL;
        memcpy(p, a, la);
        size_t o = la;
        if (la)
                p[o++] = '/';
        memcpy(p + o, b, lb + 1);
        return p;
}

static bool ignored(const struct vg_folder *f, const char *base)
{
        if (strcmp(base, STAGING_NAME) == 0 || strstr(base, NOTICE_SUFFIX))
                return true;
        for (size_t i = 0; i < f->cfg->ignore.n; i++)
                if (fnmatch(f->cfg->ignore.v[i], base, FNM_PERIOD) == 0)
                        return true;
        return false;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* ---- decisions ------------------------------------------------------------------ */

static void decide(struct job *j);
static void submit(struct job *j);

static char *display(struct vg_folder *f, const char *s)
{
        char *d = vg_masker_display(f->m->masker, s);
        return d ? d : strdup("?");
}

/* Every decision is logged, and held or unreadable ones alert the admins. Names
 * and origins go out masked and escaped. */
static void decided(struct job *j, const struct vg_report *r, const char *action,
                    const char *detectors, const char *extra, bool alert)
{
        struct vg_folder *f = j->f;
        char *file = display(f, j->rel);
        char *origin = NULL, *origin_d = NULL;
        if (asprintf(&origin, "%s/%s", f->cfg->watch, j->rel) >= 0)
                origin_d = display(f, origin);
        struct passwd *pw = getpwuid(j->st.st_uid);
        struct vg_decision d = {
            .id = j->id,
            .route = f->name,
            .kind = "file",
            .file = file ? file : "?",
            .origin = origin_d,
            .owner = pw ? pw->pw_name : NULL,
            .owner_uid = (int64_t)j->st.st_uid,
            .verdict = r ? vg_verdict_name(r->verdict) : "unscannable",
            .action = action,
            .detectors = detectors,
            .sha256 = r ? r->sha256 : NULL,
            .extra = extra,
            .report = r,
            .alert = alert,
        };
        vg_alert_decision(f->m, &d);
        free(origin);
        free(origin_d);
        free(file);
}

static void report_special(struct vg_folder *f, const char *rel, const struct stat *st)
{
        char key[64];
        snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st->st_dev,
                 (unsigned long long)st->st_ino);
        if (g_hash_table_contains(f->alerted, key))
                return;
        g_hash_table_add(f->alerted, g_strdup(key));
        f->m->counters.special++;
        /* Never opened, moved or stored: it stays where it is, and the admin knows. */
        struct job tmp = {.f = f, .rel = (char *)rel, .st = *st, .fd = -1};
        memcpy(tmp.id, "-", 2);
        decided(&tmp, NULL, "leave", "special-file", "reason=special-file", true);
}

static void cleanup_stage(struct job *j)
{
        if (j->stage_dir < 0)
                return;
        close(j->stage_dir);
        j->stage_dir = -1;
        /* staging/<id>/a/b: remove the folders from the deepest up. */
        char *p = parent_of(j->rel);
        while (p && *p) {
                char *full = join(j->id, p);
                if (full)
                        unlinkat(j->f->stage_fd, full, AT_REMOVEDIR);
                free(full);
                char *up = parent_of(p);
                free(p);
                p = up;
        }
        free(p);
        unlinkat(j->f->stage_fd, j->id, AT_REMOVEDIR);
}

/* Writes `src` to dir/name without ever replacing an existing file: a clash gets
 * " (1)", " (2)"... before the extension. Same filesystem: a rename; else a copy
 * under a temporary name, fsynced, then a rename, so no one sees a partial file. */
static int place(int from_dir, const char *from_name, int src_fd, int dir, const char *name,
                 mode_t mode, char **ret_name)
{
        const char *dot = strrchr(name, '.');
        size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".vigie-tmp-%d-%ld", getpid(), (long)random());
        bool copied = false;
        for (int i = 0; i < 1000; i++) {
                char cand[4096];
                if (i == 0)
                        snprintf(cand, sizeof(cand), "%s", name);
                else
                        snprintf(cand, sizeof(cand), "%.*s (%d)%s", (int)stem, name, i,
                                 name + stem);
                int r = -1;
                if (!copied && from_dir >= 0)
                        r = renameat2(from_dir, from_name, dir, cand, RENAME_NOREPLACE);
                if (r == 0) {
                        *ret_name = strdup(cand);
                        return fsync(dir) < 0 ? -errno : 0;
                }
                if (r < 0 && from_dir >= 0 && !copied && errno != EXDEV && errno != EEXIST)
                        return -errno;
                if (!copied && (from_dir < 0 || errno == EXDEV)) {
                        int out =
                            openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                                   mode & 0666);
                        if (out < 0)
                                return -errno;
                        char buf[65536];
                        off_t off = 0;
                        int e = 0;
                        for (;;) {
                                ssize_t n = pread(src_fd, buf, sizeof(buf), off);
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n <= 0) {
                                        e = n < 0 ? -errno : 0;
                                        break;
                                }
                                off += n;
                                if (write(out, buf, (size_t)n) != n) {
                                        e = -errno ? -errno : -EIO;
                                        break;
                                }
                        }
                        if (e == 0 && fsync(out) < 0)
                                e = -errno;
                        close(out);
                        if (e < 0) {
                                unlinkat(dir, tmp, 0);
                                return e;
                        }
                        copied = true;
                }
                if (copied) {
                        if (renameat2(dir, tmp, dir, cand, RENAME_NOREPLACE) == 0) {
                                *ret_name = strdup(cand);
                                if (from_dir >= 0)
                                        unlinkat(from_dir, from_name, 0);
                                return fsync(dir) < 0 ? -errno : 0;
                        }
                        if (errno != EEXIST) {
                                int e = -errno;
                                unlinkat(dir, tmp, 0);
                                return e;
                        }
                }
        }
        if (copied)
                unlinkat(dir, tmp, 0);
        return -EEXIST;
}

static void deliver(struct job *j)
{
        struct vg_folder *f = j->f;
        char *parent = parent_of(j->rel);
        int dir = parent ? make_beneath(f->deliver_fd, parent, 0755) : -ENOMEM;
        free(parent);
        char *final = NULL;
        int e = dir < 0 ? dir
                        : place(j->stage_dir, j->base, j->fd, dir, j->base, j->st.st_mode, &final);
        if (dir >= 0)
                close(dir);
        if (e < 0) {
                /* Nothing is lost: the file stays in staging and is tried again. */
                vg_log(LOG_ERR, "event=deliver-failed route=%s id=%s error=\"%s\" retry=60s",
                       f->name, j->id, strerror(-e));
                f->m->counters.errors++;
                free(final);
                return;
        }
        vg_crashpoint("deliver-after-rename");
        f->m->counters.delivered++;
        free(final);
        cleanup_stage(j);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        struct job *j = userdata;
        j->retry = sd_event_source_disable_unref(j->retry);
        decide(j);
        return 0;
}

/* Whether another process still has the file open for writing (a writer that
 * kept its descriptor past close-and-settle, as a slow SMB client may): a read
 * lease is granted only when nobody has (fcntl(2)). Delivering then would let
 * bytes written after the scan reach the AI tool's folder. Taking a lease needs
 * the file's ownership or CAP_LEASE (the unit grants it); without either
 * nothing can be known and the answer is no. */
static bool open_for_writing(int fd)
{
        if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
                fcntl(fd, F_SETLEASE, F_UNLCK);
                return false;
        }
        return errno == EAGAIN || errno == EBUSY;
}

/* A file still open for writing is scanned again once its writer is done
 * (2 s, doubling up to a minute, for a writer that never lets go). */
static void rescan_later(struct job *j)
{
        unsigned n = j->writer_waits < 5 ? j->writer_waits : 5;
        uint64_t usec = 2000000ull << n;
        if (usec > RETRY_USEC)
                usec = RETRY_USEC;
        j->writer_waits++;
        vg_log(LOG_NOTICE, "event=still-written route=%s id=%s rescan=%llus", j->f->name, j->id,
               (unsigned long long)(usec / 1000000));
        if (fstat(j->fd, &j->st) < 0 ||
            sd_event_add_time_relative(j->f->m->event, &j->retry, CLOCK_MONOTONIC, usec, 1000,
                                       on_retry, j) < 0)
                job_free(j); /* staging is recovered at start */
}

static void retry_later(struct job *j)
{
        j->attempts++;
        if (sd_event_add_time_relative(j->f->m->event, &j->retry, CLOCK_MONOTONIC, RETRY_USEC, 0,
                                       on_retry, j) < 0) {
                /* Could not arm a timer: drop the job; staging is recovered at start. */
                job_free(j);
        }
}

/* ---- on_flagged = "redact" ---------------------------------------------------- */

/* Whether a held file gets a redacted copy: the route asks for it (or the policy
 * said "redact"), it is a gate, and what the policy flags can be replaced
 * (not a marking, not health data) in a file read whole. */
static bool want_redact(struct vg_folder *f, const struct vg_report *r)
{
        if (!(f->cfg->redact || r->action == VG_ACTION_REDACT) || f->cfg->mode != VG_MODE_GATE ||
            r->verdict != VG_VERDICT_FLAGGED || r->nunscannable > 0)
                return false;
        const struct vg_policy *pol = vg_config_policy(f->m->config, f->cfg->policy);
        if (!pol)
                pol = vg_config_policy(f->m->config, "default");
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *fd = &r->findings[i];
                const struct vg_policy_rule *rule = pol ? vg_policy_rule(pol, fd->detector) : NULL;
                if (!rule || rule->ignore)
                        continue;
                uint64_t v = vg_policy_counts_distinct(fd->detector) ? fd->distinct : fd->count;
                if (v >= rule->threshold && !vg_redactable(fd->detector))
                        return false;
        }
        return true;
}

/* contrat.docx -> contrat.expurge.docx (a text copy: contrat.expurge.txt) */
static char *expurge_name(const char *base, bool as_text)
{
        const char *dot = strrchr(base, '.');
        size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        const char *ext = as_text ? ".txt" : dot && dot != base ? dot : "";
        char *out = NULL;
        if (asprintf(&out, "%.*s.expurge%s", (int)stem, base, ext) < 0)
                return NULL;
        return out;
}

/* "fr_nir x2 [NIR-1] [NIR-2], iban x1 [IBAN-1]" for the item's events. */
static char *replaced_summary(const char *replaced)
{
        json_t *in = replaced ? json_loads(replaced, 0, NULL) : NULL;
        GString *g = g_string_new(NULL);
        size_t i, k;
        json_t *e, *smp;
        json_array_foreach(in, i, e)
        {
                g_string_append_printf(g, "%s%s x%lld", i ? ", " : "",
                                       json_string_value(json_object_get(e, "detector")),
                                       (long long)json_integer_value(json_object_get(e, "count")));
                json_array_foreach(json_object_get(e, "samples"), k, smp)
                {
                        const char *sv = json_string_value(smp);
                        const char *arrow = sv ? strstr(sv, "-> ") : NULL;
                        if (arrow)
                                g_string_append_printf(g, " %s", arrow + 3);
                }
        }
        json_decref(in);
        return g_string_free(g, FALSE);
}

static void on_redacted(void *userdata, struct vg_report *copy, bool as_text, char *replaced,
                        int err)
{
        struct job *j = userdata;
        struct vg_folder *f = j->f;
        struct vg_manager *m = f->m;
        char *why = NULL, *final = NULL, *name = NULL, *summary = NULL;
        if (err < 0 || !copy) {
                why = strdup(err < 0 ? strerror(-err) : "no copy");
                goto refused;
        }
        /* the copy is judged like any file: what the policy flags, nothing delivered */
        const struct vg_policy *pol = vg_config_policy(m->config, f->cfg->policy);
        if (!pol)
                pol = vg_config_policy(m->config, "default");
        if (!pol || vg_policy_apply(pol, copy) < 0 || copy->verdict != VG_VERDICT_CLEAN) {
                why = copy->verdict == VG_VERDICT_FLAGGED ? vg_alert_detectors(copy)
                                                          : strdup("unscannable");
                goto refused;
        }
        name = expurge_name(j->base, as_text);
        char *parent = parent_of(j->rel);
        int dir = parent && name ? make_beneath(f->deliver_fd, parent, 0755) : -ENOMEM;
        free(parent);
        int e = dir < 0 ? dir : place(-1, NULL, j->copy_fd, dir, name, 0644, &final);
        if (dir >= 0)
                close(dir);
        if (e < 0) {
                why = strdup(strerror(-e));
                goto refused;
        }
        summary = replaced_summary(replaced);
        char *detail = NULL;
        char *disp = display(f, final);
        if (asprintf(&detail, "copy=%s replaced: %s", disp ? disp : "?", summary) < 0)
                detail = NULL;
        vg_store_event(m->store, j->id, "redacted", detail ? detail : "copy delivered");
        vg_log(LOG_NOTICE, "event=redacted route=%s id=%s copy=\"%s\" replaced=\"%s\"", f->name,
               j->id, disp ? disp : "?", summary);
        free(detail);
        free(disp);
        if (f->cfg->notice)
                vg_notice_append_redacted(j->src_dir, j->base, j->id, final, replaced, m->lang);
        goto done;
refused:
        /* The original is held as it was: nothing more to undo. */
        vg_log(LOG_WARNING, "event=redact-refused route=%s id=%s why=\"%s\"", f->name, j->id,
               why ? why : "?");
        vg_store_event(m->store, j->id, "redact-refused", why ? why : "?");
done:
        g_free(summary);
        free(why);
        free(final);
        free(name);
        free(replaced);
        vg_report_free(copy);
        job_free(j);
}

/* The original is in the store; a worker writes the copy to an unnamed file in
 * staging (workers open no path), judged once it comes back. */
static void start_redact(struct job *j)
{
        struct vg_folder *f = j->f;
        j->copy_fd = openat(f->stage_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        int e = j->copy_fd < 0 ? -errno
                               : vg_pool_submit_redact(f->m->pool, j->fd, j->copy_fd, j->base,
                                                       f->m->lang == VG_LANG_EN, on_redacted, j);
        if (e < 0) {
                vg_log(LOG_WARNING, "event=redact-refused route=%s id=%s why=\"%s\"", f->name,
                       j->id, strerror(-e));
                vg_store_event(f->m->store, j->id, "redact-refused", strerror(-e));
                job_free(j);
        }
}

static void quarantine(struct job *j, struct vg_report *r, const char *detectors)
{
        struct vg_folder *f = j->f;
        struct vg_manager *m = f->m;
        char *origin = NULL, *name = display(f, j->base);
        struct passwd *pw = getpwuid(j->st.st_uid);
        if (asprintf(&origin, "%s/%s", f->cfg->watch, j->rel) < 0)
                origin = NULL;
        struct vg_item it = {
            .route = f->name,
            .kind = "file",
            .origin = origin ? origin : "",
            .relpath = j->rel,
            .name = name ? name : "?",
            .owner_uid = (int64_t)j->st.st_uid,
            .owner = pw ? pw->pw_name : NULL,
            .mode = f->cfg->mode == VG_MODE_GATE ? "gate" : "in-place",
            .report = r,
        };
        memcpy(it.id, j->id, sizeof(it.id));
        /* In-place mode: a stop between the commit and the removal of the source
         * leaves the source where it was, already held. It goes now, and is not
         * held a second time. */
        if (j->stage_dir < 0 && r->sha256[0] &&
            vg_store_holds(m->store, f->name, j->rel, r->sha256)) {
                struct stat now;
                if (fstatat(j->src_dir, j->base, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
                    same_file(&now, &j->st)) {
                        unlinkat(j->src_dir, j->base, 0);
                        fsync(j->src_dir);
                }
                vg_log(LOG_INFO, "event=already-held route=%s sha256=%s source=removed", f->name,
                       r->sha256);
                free(origin);
                free(name);
                job_free(j);
                return;
        }
        int e = vg_store_put(m->store, &it, j->fd);
        if (e < 0) {
                /* Disk full, read-only store, an fsync error: the item is abandoned
                 * with its source kept (never deleted, never delivered). */
                vg_log(LOG_ERR,
                       "event=quarantine-failed route=%s id=%s error=\"%s\" source=kept "
                       "retry=60s",
                       f->name, j->id, strerror(-e));
                m->counters.errors++;
                free(origin);
                free(name);
                retry_later(j);
                return;
        }
        /* Committed: only now does the source go. */
        if (j->stage_dir >= 0) {
                unlinkat(j->stage_dir, j->base, 0);
                fsync(j->stage_dir);
                cleanup_stage(j);
        } else {
                struct stat now;
                if (fstatat(j->src_dir, j->base, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
                    same_file(&now, &j->st)) {
                        unlinkat(j->src_dir, j->base, 0);
                        fsync(j->src_dir);
                }
        }
        m->counters.held++;
        decided(j, r, vg_action_name(r->action), detectors, r->monitor ? "monitor=yes" : NULL,
                true);
        if (f->cfg->notice)
                vg_notice_write(j->src_dir, j->base, j->id, r, m->lang, j->st.st_uid, j->st.st_gid);
        free(origin);
        free(name);
        if (want_redact(f, r))
                start_redact(j);
        else
                job_free(j);
}

static void apply(struct job *j, struct vg_report *r)
{
        struct vg_folder *f = j->f;
        struct vg_manager *m = f->m;
        m->counters.scanned++;
        /* The bytes judged must be the bytes delivered or kept. */
        struct stat now;
        bool changed = fstat(j->fd, &now) < 0 || !same_file(&now, &j->st);
        if (!changed && j->stage_dir < 0) {
                struct stat at;
                changed = fstatat(j->src_dir, j->base, &at, AT_SYMLINK_NOFOLLOW) < 0 ||
                          !same_file(&at, &j->st);
        }
        if (changed && j->attempts < 3) {
                vg_report_free(r);
                j->attempts++;
                if (fstat(j->fd, &j->st) == 0) {
                        submit(j);
                        return;
                }
        }
        if (f->cfg->mode == VG_MODE_GATE && j->stage_dir >= 0 && open_for_writing(j->fd)) {
                vg_report_free(r);
                rescan_later(j);
                return;
        }
        const struct vg_policy *pol = vg_config_policy(m->config, f->cfg->policy);
        if (!pol)
                pol = vg_config_policy(m->config, "default");
        vg_policy_apply(pol, r);
        bool allowed = r->sha256[0] && (vg_store_allowed(m->store, r->sha256) ||
                                        vg_store_take_pass(m->store, f->name, j->rel, r->sha256));
        char *dets = vg_alert_detectors(r);
        if (allowed && r->verdict != VG_VERDICT_CLEAN) {
                decided(j, r, "pass", dets, "allowlisted=yes", false);
                r->action = VG_ACTION_PASS;
        }
        if (r->verdict == VG_VERDICT_FLAGGED)
                m->counters.flagged++;
        else if (r->verdict == VG_VERDICT_UNSCANNABLE)
                m->counters.unscannable++;
        else
                m->counters.clean++;
        if (r->action == VG_ACTION_QUARANTINE || r->action == VG_ACTION_REDACT) {
                quarantine(j, r, dets);
        } else {
                if (!allowed)
                        decided(j, r, vg_action_name(r->action), dets,
                                r->monitor ? "monitor=yes" : NULL, r->verdict != VG_VERDICT_CLEAN);
                if (f->cfg->mode == VG_MODE_GATE)
                        deliver(j);
                if (j->stage_dir >= 0)
                        retry_later(j); /* delivery failed: the file waits in staging */
                else
                        job_free(j);
        }
        g_free(dets);
        vg_report_free(r);
}

static void on_scanned(void *userdata, struct vg_report *r, int err)
{
        struct job *j = userdata;
        if (err < 0 || !r) {
                /* Out of memory in the supervisor: keep the file where it is. */
                vg_log(LOG_ERR, "event=scan-failed route=%s id=%s error=\"%s\"", j->f->name, j->id,
                       strerror(err < 0 ? -err : ENOMEM));
                retry_later(j);
                return;
        }
        apply(j, r);
}

static void submit(struct job *j)
{
        int e = vg_pool_submit(j->f->m->pool, j->fd, j->base, on_scanned, j);
        if (e < 0) {
                vg_log(LOG_ERR, "event=submit-failed route=%s id=%s error=\"%s\"", j->f->name,
                       j->id, strerror(-e));
                retry_later(j);
        }
}

static void decide(struct job *j)
{
        if (j->fd >= 0) {
                submit(j);
                return;
        }
        job_free(j);
}

/* Gate mode: claim the file by renaming it into staging/<id>/<parent>/, then
 * check what was claimed is a plain file; anything else goes back. */
static int claim(struct job *j, const struct stat *seen)
{
        struct vg_folder *f = j->f;
        char *parent = parent_of(j->rel);
        if (!parent)
                return -ENOMEM;
        if (mkdirat(f->stage_fd, j->id, 0700) < 0) {
                free(parent);
                return -errno;
        }
        char *sub = join(j->id, parent);
        free(parent);
        if (!sub)
                return -ENOMEM;
        j->stage_dir = make_beneath(f->stage_fd, sub, 0700);
        free(sub);
        if (j->stage_dir < 0) {
                int e = j->stage_dir;
                unlinkat(f->stage_fd, j->id, AT_REMOVEDIR);
                return e;
        }
        if (renameat2(j->src_dir, j->base, j->stage_dir, j->base, RENAME_NOREPLACE) < 0) {
                int e = -errno;
                cleanup_stage(j);
                return e;
        }
        vg_crashpoint("claim-after-rename");
        struct stat st;
        if (fstatat(j->stage_dir, j->base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_nlink != 1 || st.st_ino != seen->st_ino) {
                /* Swapped between the look and the claim: put it back untouched. */
                renameat2(j->stage_dir, j->base, j->src_dir, j->base, RENAME_NOREPLACE);
                cleanup_stage(j);
                return -EAGAIN;
        }
        return 0;
}

static int open_job_file(struct job *j)
{
        int dir = j->stage_dir >= 0 ? j->stage_dir : j->src_dir;
        /* O_NONBLOCK: a FIFO slipped in at the last moment does not hang us. */
        j->fd = openat(dir, j->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (j->fd < 0)
                return -errno;
        if (fstat(j->fd, &j->st) < 0)
                return -errno;
        if (!S_ISREG(j->st.st_mode) || j->st.st_nlink != 1)
                return -EPERM;
        return 0;
}

static struct job *job_new(struct vg_folder *f, const char *rel)
{
        struct job *j = calloc(1, sizeof(*j));
        if (!j)
                return NULL;
        j->f = f;
        j->fd = j->copy_fd = j->src_dir = j->stage_dir = -1;
        j->rel = strdup(rel);
        if (!j->rel) {
                free(j);
                return NULL;
        }
        j->base = (char *)base_of(j->rel);
        vg_store_new_id(j->id);
        f->jobs++;
        return j;
}

/* A file has settled: look at it, claim it, send it to a worker. */
static void process(struct vg_folder *f, const char *rel)
{
        struct job *j = job_new(f, rel);
        if (!j)
                return;
        char *parent = parent_of(rel);
        j->src_dir = parent ? open_beneath(f->watch_fd, parent) : -ENOMEM;
        free(parent);
        if (j->src_dir < 0) {
                job_free(j);
                return;
        }
        struct stat st;
        if (fstatat(j->src_dir, j->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                job_free(j); /* gone already */
                return;
        }
        if (S_ISDIR(st.st_mode)) {
                job_free(j);
                return;
        }
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
                report_special(f, rel, &st);
                job_free(j);
                return;
        }
        if (f->cfg->mode == VG_MODE_GATE) {
                int e = claim(j, &st);
                if (e == -EAGAIN) {
                        report_special(f, rel, &st);
                        job_free(j);
                        return;
                }
                if (e < 0) {
                        if (e != -ENOENT)
                                vg_log(LOG_ERR, "event=claim-failed route=%s error=\"%s\"", f->name,
                                       strerror(-e));
                        job_free(j);
                        return;
                }
        }
        int e = open_job_file(j);
        if (e < 0) {
                if (e == -EPERM || e == -ELOOP || e == -ENXIO)
                        report_special(f, rel, &j->st);
                if (j->stage_dir >= 0) {
                        renameat2(j->stage_dir, j->base, j->src_dir, j->base, RENAME_NOREPLACE);
                        cleanup_stage(j);
                }
                job_free(j);
                return;
        }
        submit(j);
}

/* ---- settling --------------------------------------------------------------------- */

static void settle_free(gpointer p)
{
        struct settle *s = p;
        sd_event_source_disable_unref(s->timer);
        free(s->rel);
        free(s);
}

static int on_drain(sd_event_source *src, void *userdata)
{
        (void)src;
        struct vg_folder *f = userdata;
        char *rel;
        while (f->jobs < MAX_JOBS && (rel = g_queue_pop_head(f->ready))) {
                g_hash_table_steal(f->ready_set, rel);
                process(f, rel);
                free(rel);
        }
        return 0;
}

static int on_settled(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src;
        (void)usec;
        struct settle *s = userdata;
        struct vg_folder *f = s->f;
        char *rel = strdup(s->rel);
        g_hash_table_remove(f->settle, s->rel); /* frees s */
        if (!rel)
                return 0;
        if (f->jobs >= MAX_JOBS || !g_queue_is_empty(f->ready)) {
                if (g_hash_table_contains(f->ready_set, rel)) {
                        free(rel);
                } else {
                        g_hash_table_add(f->ready_set, rel);
                        g_queue_push_tail(f->ready, rel);
                }
                return 0;
        }
        process(f, rel);
        free(rel);
        return 0;
}

static void schedule(struct vg_folder *f, const char *rel)
{
        uint64_t usec = f->cfg->settle_ms * 1000;
        struct settle *s = g_hash_table_lookup(f->settle, rel);
        if (s) {
                /* Still being written: start the wait again. */
                sd_event_source_set_time_relative(s->timer, usec);
                sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
                return;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return;
        s->f = f;
        s->rel = strdup(rel);
        /* Accuracy 1 ms: 0 would mean sd-event's default of 250 ms, a floor
         * under every decision's latency even with settle = 0. */
        if (!s->rel || sd_event_add_time_relative(f->m->event, &s->timer, CLOCK_MONOTONIC, usec,
                                                  1000, on_settled, s) < 0) {
                settle_free(s);
                return;
        }
        g_hash_table_insert(f->settle, s->rel, s);
}

/* ---- watching ---------------------------------------------------------------------- */

static int add_watch(struct vg_folder *f, const char *rel)
{
        char path[8192];
        /* inotify takes paths; the folder was opened beneath the root first, and
         * its /proc/self/fd path pins that very folder. */
        int dfd = open_beneath(f->watch_fd, rel);
        if (dfd < 0)
                return dfd;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
        int wd = inotify_add_watch(f->ino_fd, path,
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY |
                                       IN_ONLYDIR | IN_EXCL_UNLINK);
        int err = errno;
        close(dfd);
        if (wd < 0)
                return -err;
        g_hash_table_insert(f->dirs, GINT_TO_POINTER(wd), g_strdup(rel));
        return 0;
}

/* Watches rel and everything below it, and schedules every file found. */
static int walk(struct vg_folder *f, const char *rel, unsigned depth)
{
        if (depth > WALK_DEPTH)
                return -ELOOP;
        int e = add_watch(f, rel);
        if (e < 0 && e != -ENOENT)
                vg_log(LOG_WARNING, "event=watch-failed route=%s error=\"%s\"", f->name,
                       strerror(-e));
        int dfd = open_beneath(f->watch_fd, rel);
        if (dfd < 0)
                return 0;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    ignored(f, de->d_name))
                        continue;
                char *child = join(rel, de->d_name);
                if (!child)
                        break;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (S_ISDIR(st.st_mode))
                                walk(f, child, depth + 1);
                        else
                                schedule(f, child);
                }
                free(child);
        }
        closedir(d);
        return 0;
}

int vg_folder_rescan(struct vg_folder *f)
{
        vg_log(LOG_INFO, "event=rescan route=%s", f->name);
        return walk(f, "", 0);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s;
        (void)revents;
        struct vg_folder *f = userdata;
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool overflow = false;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                overflow = true;
                                continue;
                        }
                        if (ev->mask & IN_IGNORED) {
                                g_hash_table_remove(f->dirs, GINT_TO_POINTER(ev->wd));
                                continue;
                        }
                        const char *dir = g_hash_table_lookup(f->dirs, GINT_TO_POINTER(ev->wd));
                        if (!dir || ev->len == 0 || ignored(f, ev->name))
                                continue;
                        char *rel = join(dir, ev->name);
                        if (!rel)
                                continue;
                        if (ev->mask & IN_ISDIR) {
                                if (ev->mask & (IN_CREATE | IN_MOVED_TO))
                                        walk(f, rel, 0); /* files may be there already */
                        } else if (ev->mask & IN_MODIFY) {
                                if (g_hash_table_contains(f->settle, rel))
                                        schedule(f, rel);
                        } else {
                                schedule(f, rel);
                        }
                        free(rel);
                }
        }
        if (overflow) {
                /* Events were lost: look at everything again. */
                vg_log(LOG_WARNING, "event=inotify-overflow route=%s", f->name);
                vg_folder_rescan(f);
        }
        return 0;
}

/* Files left in staging by a stop or a crash: already stored ones are removed,
 * the others are decided again (they were never delivered: delivery is a rename
 * out of staging). */
static void recover_staging(struct vg_folder *f)
{
        int fd = fcntl(f->stage_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "vg-", 3) == 0 && strlen(de->d_name) < 24)
                        g_ptr_array_add(ids, g_strdup(de->d_name));
        closedir(d);
        for (guint i = 0; i < ids->len; i++) {
                const char *id = g_ptr_array_index(ids, i);
                bool stored = vg_store_exists(f->m->store, id);
                /* Walk staging/<id>/... for files. */
                GPtrArray *stack = g_ptr_array_new_with_free_func(g_free);
                g_ptr_array_add(stack, g_strdup(""));
                while (stack->len) {
                        char *sub = g_ptr_array_steal_index(stack, stack->len - 1);
                        char *full = join(id, sub);
                        int dfd = full ? open_beneath(f->stage_fd, full) : -1;
                        DIR *sd = dfd >= 0 ? fdopendir(dfd) : NULL;
                        if (!sd && dfd >= 0)
                                close(dfd);
                        while (sd && (de = readdir(sd))) {
                                if (de->d_name[0] == '.' &&
                                    (!de->d_name[1] || strcmp(de->d_name, "..") == 0))
                                        continue;
                                char *rel = join(sub, de->d_name);
                                struct stat st;
                                if (!rel ||
                                    fstatat(dirfd(sd), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                                        free(rel);
                                        continue;
                                }
                                if (S_ISDIR(st.st_mode)) {
                                        g_ptr_array_add(stack, rel);
                                        continue;
                                }
                                if (stored) {
                                        unlinkat(dirfd(sd), de->d_name, 0);
                                        free(rel);
                                        continue;
                                }
                                struct job *j = job_new(f, rel);
                                free(rel);
                                if (!j)
                                        continue;
                                snprintf(j->id, sizeof(j->id), "%s", id);
                                char *parent = parent_of(j->rel);
                                j->src_dir = parent ? make_beneath(f->watch_fd, parent, 0755) : -1;
                                char *sdir = parent ? join(id, parent) : NULL;
                                j->stage_dir = sdir ? open_beneath(f->stage_fd, sdir) : -1;
                                free(sdir);
                                free(parent);
                                if (j->src_dir < 0 || j->stage_dir < 0 || open_job_file(j) < 0) {
                                        job_free(j);
                                        continue;
                                }
                                vg_log(LOG_INFO, "event=recovered route=%s id=%s", f->name, j->id);
                                submit(j);
                        }
                        if (sd)
                                closedir(sd);
                        free(full);
                        free(sub);
                }
                g_ptr_array_free(stack, TRUE);
                if (stored)
                        unlinkat(f->stage_fd, id, AT_REMOVEDIR);
        }
        g_ptr_array_free(ids, TRUE);
}

static int open_root(const char *path, bool create, int *ret)
{
        if (create && mkdir(path, 0755) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret = fd;
        return 0;
}

int vg_folder_new(struct vg_manager *m, const struct vg_route *cfg, struct vg_folder **ret)
{
        struct vg_folder *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->m = m;
        f->cfg = vg_route_copy(cfg);
        f->watch_fd = f->deliver_fd = f->stage_fd = f->ino_fd = -1;
        f->name = strdup(cfg->name);
        f->dirs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        f->settle = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, settle_free);
        f->alerted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        f->ready = g_queue_new();
        f->ready_set = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
        int e = f->name && f->cfg ? 0 : -ENOMEM;
        if (!e)
                e = open_root(cfg->watch, false, &f->watch_fd);
        if (e < 0) {
                vg_log(LOG_ERR, "event=route-failed route=%s watch=\"%s\" error=\"%s\"", cfg->name,
                       cfg->watch, strerror(-e));
                goto fail;
        }
        if (cfg->mode == VG_MODE_GATE) {
                if ((e = open_root(cfg->deliver, true, &f->deliver_fd)) < 0) {
                        vg_log(LOG_ERR, "event=route-failed route=%s deliver=\"%s\" error=\"%s\"",
                               cfg->name, cfg->deliver, strerror(-e));
                        goto fail;
                }
                /* The staging folder is ours: created 0700, and refused if someone
                 * else made it (or made it a link). */
                if (mkdirat(f->watch_fd, STAGING_NAME, 0700) < 0 && errno != EEXIST) {
                        e = -errno;
                        goto fail;
                }
                f->stage_fd = openat(f->watch_fd, STAGING_NAME,
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct stat st;
                if (f->stage_fd < 0 || fstat(f->stage_fd, &st) < 0 || st.st_uid != geteuid() ||
                    (st.st_mode & 0077)) {
                        e = f->stage_fd < 0 ? -errno : -EPERM;
                        vg_log(LOG_ERR,
                               "event=route-failed route=%s staging=\"%s/%s\" error=\"not a "
                               "private folder of the service\"",
                               cfg->name, cfg->watch, STAGING_NAME);
                        goto fail;
                }
        }
        f->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (f->ino_fd < 0) {
                e = -errno;
                goto fail;
        }
        if ((e = sd_event_add_io(m->event, &f->ino_src, f->ino_fd, EPOLLIN, on_inotify, f)) < 0)
                goto fail;
        if ((e = sd_event_add_defer(m->event, &f->drain, on_drain, f)) < 0 ||
            (e = sd_event_source_set_enabled(f->drain, SD_EVENT_OFF)) < 0)
                goto fail;
        if (f->stage_fd >= 0)
                recover_staging(f);
        if ((e = vg_folder_rescan(f)) < 0)
                goto fail;
        *ret = f;
        return 0;
fail:
        vg_folder_free(f);
        return e;
}

void vg_folder_free(struct vg_folder *f)
{
        if (!f)
                return;
        sd_event_source_disable_unref(f->ino_src);
        sd_event_source_disable_unref(f->drain);
        if (f->ino_fd >= 0)
                close(f->ino_fd);
        if (f->settle)
                g_hash_table_destroy(f->settle);
        if (f->ready)
                g_queue_free(f->ready);
        if (f->ready_set)
                g_hash_table_destroy(f->ready_set);
        if (f->dirs)
                g_hash_table_destroy(f->dirs);
        if (f->alerted)
                g_hash_table_destroy(f->alerted);
        if (f->watch_fd >= 0)
                close(f->watch_fd);
        if (f->deliver_fd >= 0)
                close(f->deliver_fd);
        if (f->stage_fd >= 0)
                close(f->stage_fd);
        free(f->name);
        vg_route_free(f->cfg);
        free(f);
}

void vg_folder_retire(struct vg_folder *f)
{
        if (!f)
                return;
        /* No more events; files already claimed finish their way. */
        f->ino_src = sd_event_source_disable_unref(f->ino_src);
        if (f->ino_fd >= 0)
                close(f->ino_fd);
        f->ino_fd = -1;
        g_hash_table_remove_all(f->settle);
        f->drain = sd_event_source_disable_unref(f->drain);
        g_queue_clear(f->ready);
        g_hash_table_remove_all(f->ready_set);
        f->retired = true;
        if (f->jobs == 0)
                vg_folder_free(f);
}

bool vg_folder_same_place(const struct vg_folder *f, const struct vg_route *r)
{
        const struct vg_route *a = f->cfg;
        return a->type == r->type && a->mode == r->mode && strcmp(a->watch, r->watch) == 0 &&
               (a->deliver == r->deliver ||
                (a->deliver && r->deliver && strcmp(a->deliver, r->deliver) == 0));
}

int vg_folder_update(struct vg_folder *f, const struct vg_route *r)
{
        struct vg_route *c = vg_route_copy(r);
        if (!c)
                return -ENOMEM;
        vg_route_free(f->cfg);
        f->cfg = c;
        return 0;
}

const char *vg_folder_name(const struct vg_folder *f)
{
        return f->name;
}

size_t vg_folder_pending(const struct vg_folder *f)
{
        return g_hash_table_size(f->settle) + f->jobs + g_queue_get_length(f->ready);
}

/* `to` must be the route's own destination folder or a folder below it. */
static int resolve_to(struct vg_folder *f, const char *to, char **ret_rel)
{
        const char *root = f->cfg->mode == VG_MODE_GATE ? f->cfg->deliver : f->cfg->watch;
        char *rroot = realpath(root, NULL), *rto = realpath(to, NULL);
        int e = -EACCES;
        if (rroot && rto) {
                size_t n = strlen(rroot);
                if (strncmp(rto, rroot, n) == 0 && (rto[n] == '\0' || rto[n] == '/')) {
                        *ret_rel = strdup(rto[n] ? rto + n + 1 : "");
                        e = *ret_rel ? 0 : -ENOMEM;
                }
        } else {
                e = -ENOENT;
        }
        free(rroot);
        free(rto);
        return e;
}

int vg_folder_release(struct vg_folder *f, const char *id, const char *relpath, const char *sha256,
                      const char *to, char **ret_path, char *err, size_t errsz)
{
        int root = f->cfg->mode == VG_MODE_GATE ? f->deliver_fd : f->watch_fd;
        const char *root_path = f->cfg->mode == VG_MODE_GATE ? f->cfg->deliver : f->cfg->watch;
        char *dir_rel = NULL;
        int e;
        if (to) {
                e = resolve_to(f, to, &dir_rel);
                if (e < 0) {
                        snprintf(err, errsz, "--to must be a folder of route '%s' (under %s)",
                                 f->name, root_path);
                        return e;
                }
        } else {
                dir_rel = parent_of(relpath);
                if (!dir_rel)
                        return -ENOMEM;
        }
        int blob = vg_store_open_blob(f->m->store, id);
        if (blob < 0) {
                free(dir_rel);
                snprintf(err, errsz, "the stored copy of %s cannot be opened", id);
                return blob;
        }
        int dir = make_beneath(root, dir_rel, 0755);
        char *final = NULL;
        e = dir < 0 ? dir : place(-1, NULL, blob, dir, base_of(relpath), 0644, &final);
        if (dir >= 0)
                close(dir);
        close(blob);
        if (e < 0) {
                snprintf(err, errsz, "cannot write into %s: %s", root_path, strerror(-e));
                free(dir_rel);
                free(final);
                return e;
        }
        char *rel = join(dir_rel, final);
        /* In-place mode puts it back where the route looks: let it pass once. */
        if (rel && f->cfg->mode == VG_MODE_IN_PLACE)
                vg_store_add_pass(f->m->store, f->name, rel, sha256);
        if (rel && asprintf(ret_path, "%s/%s", root_path, rel) < 0)
                *ret_path = NULL;
        free(rel);
        free(dir_rel);
        free(final);
        return 0;
}

#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "control_req.h"
#include "folder.h"
#include "log.h"
#include "mailroute.h"
#include "manager.h"
#include "store.h"
#include "worker.h"

#define REQUEST_MAX (64 * 1024)

struct vg_control {
        struct vg_manager *m;
        char *path;
        int fd;
        sd_event_source *src;
};

struct client {
        struct vg_control *c;
        int fd;
        sd_event_source *src;
        uid_t uid;
        gid_t gid;
        pid_t pid;
        bool admin;
        char user[64];
        char buf[REQUEST_MAX];
        size_t len;
};

static void client_free(struct client *cl)
{
        sd_event_source_disable_unref(cl->src);
        if (cl->fd >= 0)
                close(cl->fd);
        free(cl);
}

/* Root, or a member of the admin group (primary or supplementary, as the kernel
 * saw the peer when it connected). */
static bool is_admin(struct vg_manager *m, int fd, uid_t uid, gid_t gid)
{
        if (uid == 0)
                return true;
        struct group *g = getgrnam(m->config->admin_group);
        if (!g)
                return false;
        if (gid == g->gr_gid)
                return true;
        gid_t groups[256];
        socklen_t len = sizeof(groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
                for (size_t i = 0; i < len / sizeof(gid_t); i++)
                        if (groups[i] == g->gr_gid)
                                return true;
        }
        return false;
}

__attribute__((format(printf, 1, 2))) static json_t *error(const char *fmt, ...)
{
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *ok(json_t *body)
{
        if (!body)
                body = json_object();
        json_object_set_new(body, "ok", json_true());
        return body;
}

static json_t *do_status(struct client *cl, const json_t *req)
{
        (void)req;
        struct vg_manager *m = cl->c->m;
        json_t *routes = json_array();
        for (size_t i = 0; i < m->config->nroutes; i++) {
                const struct vg_route *r = &m->config->routes[i];
                struct vg_folder *f = vg_manager_folder(m, r->name);
                struct vg_mailroute *mr = vg_manager_mailroute(m, r->name);
                json_array_append_new(
                    routes, json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:b, s:I}", "name", r->name,
                                      "type", r->type == VG_ROUTE_MAIL ? "mail" : "folder", "mode",
                                      r->mode == VG_MODE_GATE ? "gate" : "in-place", "watch",
                                      r->watch, "deliver", r->deliver, "policy", r->policy,
                                      "active", f || mr, "pending",
                                      (json_int_t)(f    ? vg_folder_pending(f)
                                                   : mr ? vg_mailroute_pending(mr)
                                                        : 0)));
        }
        const struct vg_counters *k = &m->counters;
        return ok(json_pack(
            "{s:s, s:s, s:I, s:I, s:o, s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, "
            "s:I, s:I}, s:o, s:o?}",
            "version", VIGIE_VERSION, "config", m->config->path, "uptime",
            (json_int_t)(time(NULL) - m->started), "reloads", (json_int_t)m->reloads, "routes",
            routes, "workers", "count", (json_int_t)vg_pool_workers(m->pool), "busy",
            (json_int_t)vg_pool_busy(m->pool), "restarts", (json_int_t)vg_pool_restarts(m->pool),
            "queue", (json_int_t)vg_pool_pending(m->pool), "counters", "scanned",
            (json_int_t)k->scanned, "clean", (json_int_t)k->clean, "flagged",
            (json_int_t)k->flagged, "unscannable", (json_int_t)k->unscannable, "delivered",
            (json_int_t)k->delivered, "held", (json_int_t)k->held, "special",
            (json_int_t)k->special, "errors", (json_int_t)k->errors, "store",
            vg_store_counts(m->store), "alerts", m->alerts ? vg_alerts_status(m->alerts) : NULL));
}

static json_t *do_list(struct client *cl, const json_t *req)
{
        int err = 0;
        json_t *items =
            vg_store_list(cl->c->m->store, json_string_value(json_object_get(req, "route")),
                          (int64_t)json_integer_value(json_object_get(req, "since")), &err);
        if (!items)
                return error("cannot read the store: %s", strerror(-err));
        return ok(json_pack("{s:o}", "items", items));
}

static json_t *do_show(struct client *cl, const json_t *req)
{
        const char *id = json_string_value(json_object_get(req, "id"));
        if (!id)
                return error("show needs an item id");
        int err = 0;
        json_t *item = vg_store_show(cl->c->m->store, id, &err);
        if (!item)
                return error(err == -ENOENT ? "no item %s" : "cannot read the store", id);
        return ok(json_pack("{s:o}", "item", item));
}

/* The item's fields needed to act on it; NULL (and *resp set) when it cannot be. */
static json_t *held_item(struct client *cl, const json_t *req, json_t **resp)
{
        const char *id = json_string_value(json_object_get(req, "id"));
        const char *reason = json_string_value(json_object_get(req, "reason"));
        if (!id) {
                *resp = error("an item id is needed");
                return NULL;
        }
        if (!reason || !*reason) {
                *resp = error("a reason is needed (--reason TEXT): it goes to the audit log");
                return NULL;
        }
        int err = 0;
        json_t *item = vg_store_show(cl->c->m->store, id, &err);
        if (!item) {
                *resp = error(err == -ENOENT ? "no item %s" : "cannot read the store", id);
                return NULL;
        }
        const char *state = json_string_value(json_object_get(item, "state"));
        if (!state || strcmp(state, "held") != 0) {
                *resp = error("item is not held (state: %s)", state ? state : "?");
                json_decref(item);
                return NULL;
        }
        return item;
}

static json_t *do_release(struct client *cl, const json_t *req)
{
        struct vg_manager *m = cl->c->m;
        json_t *resp = NULL;
        json_t *item = held_item(cl, req, &resp);
        if (!item)
                return resp;
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *route = json_string_value(json_object_get(item, "route"));
        const char *relpath = json_string_value(json_object_get(item, "relpath"));
        const char *sha = json_string_value(json_object_get(item, "sha256"));
        const char *reason = json_string_value(json_object_get(req, "reason"));
        const char *to = json_string_value(json_object_get(req, "to"));
        bool allow = json_is_true(json_object_get(req, "allow"));
        const char *kind = json_string_value(json_object_get(item, "kind"));
        if (kind && strcmp(kind, "mail") == 0) {
                struct vg_mailroute *mr = route ? vg_manager_mailroute(m, route) : NULL;
                char err[512] = "";
                int e = mr ? vg_mailroute_release(mr, id, err, sizeof(err)) : -ENOENT;
                if (e < 0) {
                        resp = error("release failed: %s",
                                     err[0] ? err : "the mail route is not active");
                        json_decref(item);
                        return resp;
                }
                char detail[1024];
                snprintf(detail, sizeof(detail), "forwarded by %s: %s", cl->user, reason);
                vg_store_set_state(m->store, id, "released", detail);
                vg_store_audit(m->store, cl->uid, cl->user, allow ? "release-allow" : "release", id,
                               reason);
                if (allow)
                        vg_store_allow(m->store, sha, cl->uid, cl->user, id, reason);
                vg_log(LOG_NOTICE, "event=released id=%s route=%s by=%s uid=%u kind=mail", id,
                       route, cl->user, (unsigned)cl->uid);
                resp = ok(json_pack("{s:s, s:s, s:b}", "id", id, "path", "(forwarded)", "allowed",
                                    allow));
                json_decref(item);
                return resp;
        }
        struct vg_folder *f = route ? vg_manager_folder(m, route) : NULL;
        if (!f) {
                resp =
                    error("route '%s' is not active: nothing to release into", route ? route : "?");
                json_decref(item);
                return resp;
        }
        char err[512] = "", *path = NULL;
        int e = vg_folder_release(f, id, relpath, sha, to, &path, err, sizeof(err));
        if (e < 0) {
                resp = error("release failed: %s", err[0] ? err : strerror(-e));
                json_decref(item);
                return resp;
        }
        char detail[4096];
        snprintf(detail, sizeof(detail), "to %s by %s: %s", path ? path : "?", cl->user, reason);
        vg_store_set_state(m->store, id, "released", detail);
        vg_store_audit(m->store, cl->uid, cl->user, allow ? "release-allow" : "release", id,
                       reason);
        if (allow)
                vg_store_allow(m->store, sha, cl->uid, cl->user, id, reason);
        vg_log(LOG_NOTICE, "event=released id=%s route=%s by=%s uid=%u allow=%s", id, route,
               cl->user, (unsigned)cl->uid, allow ? "yes" : "no");
        resp = ok(json_pack("{s:s, s:s?, s:b}", "id", id, "path", path, "allowed", allow));
        free(path);
        json_decref(item);
        return resp;
}

static json_t *do_delete(struct client *cl, const json_t *req)
{
        struct vg_manager *m = cl->c->m;
        json_t *resp = NULL;
        json_t *item = held_item(cl, req, &resp);
        if (!item)
                return resp;
        const char *id = json_string_value(json_object_get(item, "id"));
        const char *reason = json_string_value(json_object_get(req, "reason"));
        char detail[1024];
        snprintf(detail, sizeof(detail), "by %s: %s", cl->user, reason);
        int e = vg_store_set_state(m->store, id, "deleted", detail);
        const char *kind = json_string_value(json_object_get(item, "kind"));
        const char *route = json_string_value(json_object_get(item, "route"));
        if (e == 0 && kind && strcmp(kind, "mail") == 0) {
                struct vg_mailroute *mr = route ? vg_manager_mailroute(m, route) : NULL;
                if (mr)
                        vg_mailroute_deleted(mr,
                                             id); /* before the blob goes: it reads nothing of it */
        }
        if (e == 0) {
                int bfd = vg_store_open_blob(m->store, id);
                if (bfd >= 0)
                        close(bfd);
                char blob[4096];
                snprintf(blob, sizeof(blob), "%s/blobs/%s", vg_store_dir(m->store), id);
                unlink(blob);
                vg_store_audit(m->store, cl->uid, cl->user, "delete", id, reason);
                vg_log(LOG_NOTICE, "event=deleted id=%s by=%s uid=%u", id, cl->user,
                       (unsigned)cl->uid);
        }
        resp = e < 0 ? error("delete failed: %s", strerror(-e)) : ok(json_pack("{s:s}", "id", id));
        json_decref(item);
        return resp;
}

static json_t *do_purge(struct client *cl, const json_t *req)
{
        struct vg_manager *m = cl->c->m;
        json_int_t older = json_integer_value(json_object_get(req, "older_than"));
        if (older <= 0)
                older = (json_int_t)m->config->retention_days * 86400;
        int n = vg_store_purge(m->store, older);
        if (n < 0)
                return error("purge failed: %s", strerror(-n));
        char reason[64];
        snprintf(reason, sizeof(reason), "older than %llds", (long long)older);
        vg_store_audit(m->store, cl->uid, cl->user, "purge", NULL, reason);
        return ok(json_pack("{s:i}", "purged", n));
}

static json_t *do_reload(struct client *cl, const json_t *req)
{
        (void)req;
        char msg[1024];
        int e = vg_manager_reload(cl->c->m, msg, sizeof(msg));
        vg_store_audit(cl->c->m->store, cl->uid, cl->user, "reload", NULL, e < 0 ? msg : "ok");
        if (e < 0)
                return error("reload refused, the running configuration is kept: %s", msg);
        return ok(json_pack("{s:s}", "message", msg));
}

/* A verb that answers later returns DEFERRED: the client stays open until its
 * answer is ready (test-alert waits for the receivers). */
static char deferred_marker;
#define DEFERRED ((json_t *)&deferred_marker)

static void reply(struct client *cl, json_t *resp);

static void test_alert_done(void *userdata, json_t *result)
{
        struct client *cl = userdata;
        reply(cl, result ? ok(result) : error("vigied is stopping: the test did not finish"));
        client_free(cl);
}

static json_t *do_test_alert(struct client *cl, const json_t *req)
{
        (void)req;
        struct vg_manager *m = cl->c->m;
        if (!m->alerts)
                return error("alerts are not running");
        vg_store_audit(m->store, cl->uid, cl->user, "test-alert", NULL, "test alert");
        int e = vg_alerts_test(m->alerts, cl->user, test_alert_done, cl);
        if (e < 0)
                return error("test-alert failed: %s", strerror(-e));
        return DEFERRED;
}

static const struct {
        const char *verb;
        json_t *(*run)(struct client *cl, const json_t *req);
} verbs[] = {
    {"status", do_status}, {"list", do_list},
    {"show", do_show},     {"release", do_release},
    {"delete", do_delete}, {"purge", do_purge},
    {"reload", do_reload}, {"test-alert", do_test_alert},
};

static json_t *handle(struct client *cl, const char *line, size_t n)
{
        if (!cl->admin)
                return error("refused: only root and members of the group '%s' may use "
                             "vigiectl",
                             cl->c->m->config->admin_group);
        const char *verb;
        json_t *req = vg_control_parse(line, n, &verb);
        if (!req)
                return error("malformed request");
        json_t *resp = NULL;
        for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(verbs[0]); i++)
                if (strcmp(verbs[i].verb, verb) == 0)
                        resp = verbs[i].run(cl, req);
        if (!resp)
                resp = error("unknown verb '%s'", verb ? verb : "?");
        json_decref(req);
        return resp;
}

static void reply(struct client *cl, json_t *resp)
{
        char *s = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
        json_decref(resp);
        if (!s)
                s = strdup("{\"ok\":false,\"error\":\"out of memory\"}");
        if (!s)
                return;
        size_t n = strlen(s);
        int fl = fcntl(cl->fd, F_GETFL);
        fcntl(cl->fd, F_SETFL, fl & ~O_NONBLOCK);
        struct timeval tv = {5, 0};
        setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        const char *p = s;
        while (n > 0) {
                ssize_t w = send(cl->fd, p, n, MSG_NOSIGNAL);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break;
                p += w;
                n -= (size_t)w;
        }
        if (n == 0)
                send(cl->fd, "\n", 1, MSG_NOSIGNAL);
        free(s);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s;
        (void)revents;
        struct client *cl = userdata;
        for (;;) {
                if (cl->len >= sizeof(cl->buf)) {
                        /* capped before parsing */
                        reply(cl, error("request too long"));
                        client_free(cl);
                        return 0;
                }
                ssize_t r = read(fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0 && errno == EAGAIN)
                        return 0;
                if (r <= 0) {
                        client_free(cl);
                        return 0;
                }
                char *nl = memchr(cl->buf + cl->len, '\n', (size_t)r);
                cl->len += (size_t)r;
                if (nl) {
                        json_t *resp = handle(cl, cl->buf, (size_t)(nl - cl->buf));
                        if (resp == DEFERRED) {
                                /* answered later: nothing more is read from it */
                                cl->src = sd_event_source_disable_unref(cl->src);
                                return 0;
                        }
                        reply(cl, resp);
                        client_free(cl);
                        return 0;
                }
        }
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s;
        (void)revents;
        struct vg_control *c = userdata;
        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0)
                        return 0;
                struct client *cl = calloc(1, sizeof(*cl));
                struct ucred cred;
                socklen_t len = sizeof(cred);
                if (!cl || getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                        free(cl);
                        close(cfd);
                        continue;
                }
                cl->c = c;
                cl->fd = cfd;
                cl->uid = cred.uid;
                cl->gid = cred.gid;
                cl->pid = cred.pid;
                cl->admin = is_admin(c->m, cfd, cred.uid, cred.gid);
                struct passwd *pw = getpwuid(cred.uid);
                snprintf(cl->user, sizeof(cl->user), "%s", pw ? pw->pw_name : "?");
                if (!cl->admin)
                        vg_log(LOG_WARNING, "event=control-refused uid=%u user=%s",
                               (unsigned)cred.uid, cl->user);
                if (sd_event_add_io(c->m->event, &cl->src, cfd, EPOLLIN, on_client, cl) < 0)
                        client_free(cl);
        }
}

int vg_control_new(struct vg_manager *m, const char *path, struct vg_control **ret)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        struct vg_control *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->m = m;
        c->fd = -1;
        c->path = strdup(path);
        int e = c->path ? 0 : -ENOMEM;
        /* The socket's folder: created if missing (as systemd's RuntimeDirectory
         * would). A stale socket from a previous run is replaced; anything else
         * at that path is left alone. */
        char *dir = c->path ? strdup(path) : NULL;
        char *slash = dir ? strrchr(dir, '/') : NULL;
        if (slash && slash != dir) {
                *slash = '\0';
                mkdir(dir, 0755);
        }
        free(dir);
        struct stat st;
        if (e == 0 && lstat(path, &st) == 0) {
                if (S_ISSOCK(st.st_mode))
                        unlink(path);
                else
                        e = -EEXIST;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        if (e == 0 && (c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
                e = -errno;
        if (e == 0 && bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                e = -errno;
        /* Everyone may connect, so a non-admin gets a clear refusal rather than a
         * bare permission error; the check is SO_PEERCRED. */
        if (e == 0 && chmod(path, 0666) < 0)
                e = -errno;
        if (e == 0 && listen(c->fd, 16) < 0)
                e = -errno;
        if (e == 0)
                e = sd_event_add_io(m->event, &c->src, c->fd, EPOLLIN, on_accept, c);
        if (e < 0) {
                vg_control_free(c);
                return e;
        }
        *ret = c;
        return 0;
}

void vg_control_free(struct vg_control *c)
{
        if (!c)
                return;
        sd_event_source_disable_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        free(c->path);
        free(c);
}

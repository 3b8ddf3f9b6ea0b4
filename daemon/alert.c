#include "alert.h"

#include <curl/curl.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "alert_facts.h"
#include "alert_mail.h"
#include "alert_send.h"
#include "alert_webhook.h"
#include "log.h"
#include "manager.h"
#include "masker.h"
#include "notice.h"
#include "outbox.h"
#include "report_json.h"
#include "store.h"
#include "template.h"

/* The window of alerts.rate_limit. */
#define RATE_WINDOW 60
/* Messages looked at per pass of the scheduler, and sent at once. */
#define PASS_MAX     256
#define INFLIGHT_MAX 8
#define PURGE_USEC   (3600ull * 1000000)

/* What the scheduler knows of a channel between passes: one message in flight
 * at a time (in order), and after a failure the whole channel waits. */
struct chan {
        unsigned failures;
        int64_t retry_at;
        bool busy;
};

struct test;

struct send {
        struct vg_alerts *a;
        struct send *prev, *next;
        struct vg_xfer *x;
        char id[32];
        char channel[384];
        char kind[8];
        int64_t attempts;
        struct test *test; /* a test-alert send: not in the outbox */
        size_t slot;       /* its row in test->results */
};

struct test {
        struct vg_alerts *a;
        struct test *prev, *next;
        json_t *results;
        size_t pending;
        sd_event_source *defer;
        vg_alert_test_done done;
        void *userdata;
};

struct vg_alerts {
        struct vg_manager *m;
        struct vg_outbox *ob;
        struct vg_sender *sender;
        struct vg_templates *tpl;
        sd_event_source *timer;
        sd_event_source *purge;
        GHashTable *chans; /* channel key -> struct chan */
        struct send *sends;
        size_t nsends;
        struct test *tests;
        char host[256];
};

/* journald listens here; without it (a container, a test) the same facts go to
 * stderr as one key=value line. */
static bool have_journal(void)
{
        return access("/run/systemd/journal/socket", W_OK) == 0;
}

static const char *nz(const char *s)
{
        return s && *s ? s : NULL;
}

static int64_t now_s(void)
{
        return (int64_t)time(NULL);
}

static void journal_decision(const struct vg_decision *d)
{
        int prio = d->alert ? LOG_WARNING : LOG_INFO;
        const char *dets = nz(d->detectors);
        if (have_journal()) {
                sd_journal_send("MESSAGE=%s %s: %s -> %s%s%s", d->route, d->file, d->verdict,
                                d->action, dets ? " (" : "", dets ? dets : "", "PRIORITY=%d", prio,
                                "SYSLOG_IDENTIFIER=vigied", "VIGIE_ID=%s", d->id ? d->id : "",
                                "VIGIE_ROUTE=%s", d->route, "VIGIE_KIND=%s", d->kind,
                                "VIGIE_FILE=%s", d->file, "VIGIE_VERDICT=%s", d->verdict,
                                "VIGIE_ACTION=%s", d->action, "VIGIE_DETECTORS=%s",
                                dets ? dets : "", "VIGIE_SHA256=%s", d->sha256 ? d->sha256 : "",
                                "VIGIE_ORIGIN=%s", d->origin ? d->origin : "", "VIGIE_OWNER=%s",
                                d->owner ? d->owner : "", NULL);
                return;
        }
        vg_log(prio, "event=decision route=%s id=%s file=\"%s\" verdict=%s action=%s%s%s%s%s%s%s",
               d->route, d->id ? d->id : "-", d->file, d->verdict, d->action,
               dets ? " detectors=" : "", dets ? dets : "", nz(d->sha256) ? " sha256=" : "",
               nz(d->sha256) ? d->sha256 : "", d->extra ? " " : "", d->extra ? d->extra : "");
}

/* ---- channels ----------------------------------------------------------------------- */

static enum vg_lang lang_of(struct vg_alerts *a)
{
        return a->m->lang;
}

static const struct vg_config *cfg(struct vg_alerts *a)
{
        return a->m->config;
}

/* A webhook's channel key: a digest of its URL, so a URL (which may hold a
 * secret) is not a key in the outbox, and a changed URL is a new channel. */
static void hook_key(const char *url, char out[40])
{
        gchar *h = g_compute_checksum_for_string(G_CHECKSUM_SHA256, url, -1);
        snprintf(out, 40, "hook:%.16s", h ? h : "0");
        g_free(h);
}

static const struct vg_webhook *find_hook(struct vg_alerts *a, const char *key)
{
        for (size_t i = 0; i < cfg(a)->nwebhooks; i++) {
                char k[40];
                hook_key(cfg(a)->webhooks[i].url, k);
                if (strcmp(k, key) == 0)
                        return &cfg(a)->webhooks[i];
        }
        return NULL;
}

static bool is_admin(struct vg_alerts *a, const char *addr)
{
        for (size_t i = 0; i < cfg(a)->admins.n; i++)
                if (strcasecmp(cfg(a)->admins.v[i], addr) == 0)
                        return true;
        return false;
}

static struct chan *chan_get(struct vg_alerts *a, const char *key)
{
        struct chan *c = g_hash_table_lookup(a->chans, key);
        if (c)
                return c;
        c = g_new0(struct chan, 1);
        g_hash_table_insert(a->chans, g_strdup(key), c);
        return c;
}

/* A label for logs and test results: never a webhook's path (it often holds
 * a token), only its origin. */
static void chan_label(struct vg_alerts *a, const char *key, char *out, size_t n)
{
        if (strncmp(key, "hook:", 5) == 0) {
                const struct vg_webhook *w = find_hook(a, key);
                char origin[256];
                vg_url_origin(w ? w->url : "", origin, sizeof(origin));
                snprintf(out, n, "webhook %s (%s)", w ? origin : key,
                         w && w->format ? w->format : "json");
        } else if (strncmp(key, "mail:", 5) == 0) {
                snprintf(out, n, "mail %s", key + 5);
        } else {
                snprintf(out, n, "%s", key);
        }
}

/* ---- the employee's notice by mail ---------------------------------------------------- */

static const struct vg_route *route_cfg(struct vg_alerts *a, const char *name)
{
        for (size_t i = 0; name && i < cfg(a)->nroutes; i++)
                if (strcmp(cfg(a)->routes[i].name, name) == 0)
                        return &cfg(a)->routes[i];
        return NULL;
}

/* Who gets the notice by mail: the sender of a held mail when inside the
 * office, the owner of a held file when alerts.notice_domain names the
 * office's mail domain. Never an address outside the office (no backscatter:
 * a forged sender must not turn vigie into a spam relay). */
static bool notice_recipient(struct vg_alerts *a, const struct vg_decision *d, char *out, size_t n)
{
        const struct vg_config *c = cfg(a);
        const char *nd = c->notice_domain;
        if (d->kind && strcmp(d->kind, "mail") == 0) {
                if (!nz(d->sender))
                        return false;
                const struct vg_route *r = route_cfg(a, d->route);
                struct vg_strlist own = {.v = (char **)&nd, .n = nz(nd) ? 1 : 0};
                if (!vg_address_internal(d->sender, r ? &r->internal_domains : NULL, &c->admins) &&
                    !vg_address_internal(d->sender, &own, NULL)) {
                        vg_log(LOG_NOTICE,
                               "event=notice-mail-skipped id=%s reason=external-sender "
                               "sender=\"%s\"",
                               d->id ? d->id : "-",
                               vg_mail_address_ok(d->sender) ? d->sender : "(invalid)");
                        return false;
                }
                snprintf(out, n, "%s", d->sender);
                return true;
        }
        if (!nz(nd) || !nz(d->owner))
                return false;
        snprintf(out, n, "%s@%s", d->owner, nd);
        return vg_mail_address_ok(out);
}

/* ---- recording an alert ------------------------------------------------------------------ */

static void kick(struct vg_alerts *a)
{
        sd_event_source_set_time_relative(a->timer, 0);
        sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
}

static void new_alert_id(char out[24])
{
        vg_store_new_id(out);
        out[0] = 'a', out[1] = 'l';
}

static void enqueue(struct vg_alerts *a, const struct vg_decision *d)
{
        const struct vg_config *c = cfg(a);
        char id[24];
        if (d->id && strncmp(d->id, "vg-", 3) == 0 && strlen(d->id) < sizeof(id)) {
                snprintf(id, sizeof(id), "%s", d->id);
                if (vg_outbox_known(a->ob, id))
                        return; /* the same decision again: one alert */
        } else {
                new_alert_id(id);
        }
        int64_t now = now_s();
        json_t *facts = vg_alert_facts(d, now, a->host);
        if (facts && strcmp(json_string_value(json_object_get(facts, "id")) ?: "", id) != 0)
                json_object_set_new(facts, "id", json_string(id));
        size_t cap = c->admins.n + c->nwebhooks + 1, n = 0, waiting = 0;
        struct vg_out_channel *ch = calloc(cap, sizeof(*ch));
        char **keys = calloc(cap, sizeof(char *));
        uint64_t limit = c->alert_rate_limit;
        for (size_t i = 0; ch && keys && i < cap - 1; i++) {
                char key[400];
                if (i < c->admins.n) {
                        if (!vg_mail_address_ok(c->admins.v[i]))
                                continue; /* said at start and reload */
                        snprintf(key, sizeof(key), "mail:%s", c->admins.v[i]);
                } else {
                        hook_key(c->webhooks[i - c->admins.n].url, key);
                }
                bool single = limit == 0 || (!vg_outbox_waiting(a->ob, key) &&
                                             vg_outbox_recent(a->ob, key, "alert",
                                                              now - RATE_WINDOW) < (int64_t)limit);
                keys[n] = strdup(key);
                ch[n] = (struct vg_out_channel){keys[n], single ? VG_OUT_SEND : VG_OUT_WAIT};
                waiting += !single;
                n++;
        }
        char to[320];
        if (ch && keys && notice_recipient(a, d, to, sizeof(to))) {
                char key[400];
                snprintf(key, sizeof(key), "notice:%s", to);
                /* A person is told at most rate_limit times a minute; the notice
                 * files and the admins' alerts still say everything. */
                if (limit &&
                    vg_outbox_recent(a->ob, key, "notice", now - RATE_WINDOW) >= (int64_t)limit) {
                        vg_log(LOG_NOTICE, "event=notice-mail-skipped id=%s reason=rate to=%s", id,
                               to);
                } else {
                        keys[n] = strdup(key);
                        ch[n] = (struct vg_out_channel){keys[n], VG_OUT_NOTICE};
                        n++;
                }
        }
        bool ok = facts && ch && keys;
        for (size_t i = 0; ok && i < n; i++)
                ok = keys[i] != NULL;
        int e = ok ? vg_outbox_add(a->ob, id, now, facts, ch, n) : -ENOMEM;
        if (e == -EEXIST) {
                /* recorded already */
        } else if (e < 0) {
                /* The journal line above has the facts; the admins' mail cannot
                 * be promised: say so loudly. */
                vg_log(LOG_ERR, "event=alert-not-recorded id=%s error=\"%s\"", id, strerror(-e));
        } else {
                vg_log(LOG_INFO, "event=alert-queued id=%s route=%s channels=%zu digest=%zu", id,
                       d->route ? d->route : "-", n, waiting);
                kick(a);
        }
        for (size_t i = 0; keys && i < n; i++)
                free(keys[i]);
        free(keys);
        free(ch);
        json_decref(facts);
}

void vg_alert_decision(struct vg_manager *m, const struct vg_decision *d)
{
        journal_decision(d);
        if (d->alert && m && m->alerts)
                enqueue(m->alerts, d);
}

/* ---- sending ----------------------------------------------------------------------------- */

static void on_sent(void *userdata, int err, const char *detail);
static void test_step(struct test *t);

static void send_unlink(struct send *s)
{
        struct vg_alerts *a = s->a;
        if (s->prev)
                s->prev->next = s->next;
        else
                a->sends = s->next;
        if (s->next)
                s->next->prev = s->prev;
        a->nsends--;
}

static struct send *send_new(struct vg_alerts *a, const char *id, const char *channel,
                             const char *kind)
{
        struct send *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->a = a;
        snprintf(s->id, sizeof(s->id), "%s", id);
        snprintf(s->channel, sizeof(s->channel), "%s", channel);
        snprintf(s->kind, sizeof(s->kind), "%s", kind);
        s->next = a->sends;
        if (a->sends)
                a->sends->prev = s;
        a->sends = s;
        a->nsends++;
        return s;
}

static bool in_flight(struct vg_alerts *a, const char *id, const char *channel)
{
        for (struct send *s = a->sends; s; s = s->next)
                if (!s->test && strcmp(s->id, id) == 0 && strcmp(s->channel, channel) == 0)
                        return true;
        return false;
}

/* Starts one message on its channel. view: from vg_alert_view/vg_digest_view.
 * On a failure to start, *why says it and the caller treats it as a failed try. */
static int transmit(struct send *s, const json_t *view, const char **why)
{
        struct vg_alerts *a = s->a;
        const struct vg_config *c = cfg(a);
        const char *key = s->channel;
        *why = "out of memory";
        if (strncmp(key, "mail:", 5) == 0 || strncmp(key, "notice:", 7) == 0) {
                const char *to = strchr(key, ':') + 1;
                bool crlf = c->mail_relay[0] != '/';
                char *msg = vg_alert_mail_build(a->tpl, lang_of(a), s->kind, s->id, view,
                                                c->mail_from, to, crlf, now_s(), why);
                if (!msg)
                        return -EINVAL;
                int e = vg_send_mail(a->sender, c->mail_relay, c->mail_from, to, msg, on_sent, s,
                                     &s->x);
                free(msg);
                if (e < 0)
                        *why = c->mail_relay[0] == '/' ? "the mail program cannot be started"
                                                       : "the transfer cannot be started";
                return e;
        }
        const struct vg_webhook *w = find_hook(a, key);
        if (!w) {
                *why = "no such webhook";
                return -ENOENT;
        }
        struct vg_webhook_request r;
        int e = vg_alert_webhook_build(a->tpl, lang_of(a), w, s->kind, s->id, view, &r);
        if (e < 0) {
                *why = e == -EINVAL ? "the bearer token holds a line break" : "out of memory";
                return e;
        }
        e = vg_send_post(a->sender, w->url, r.content_type, r.body, (const char *const *)r.headers,
                         on_sent, s, &s->x);
        vg_webhook_request_clear(&r);
        if (e < 0)
                *why = "the transfer cannot be started";
        return e;
}

static struct vg_view_opts view_opts(struct vg_alerts *a)
{
        return (struct vg_view_opts){.lang = lang_of(a), .charter = cfg(a)->charter};
}

/* The channel of a message still exists in the configuration. */
static bool channel_alive(struct vg_alerts *a, const char *key)
{
        if (strncmp(key, "mail:", 5) == 0)
                return is_admin(a, key + 5);
        if (strncmp(key, "hook:", 5) == 0)
                return find_hook(a, key) != NULL;
        return strncmp(key, "notice:", 7) == 0;
}

static void fail_send(struct send *s, int err, const char *detail);

static void start_message(struct vg_alerts *a, const struct vg_out_msg *m)
{
        char label[512];
        chan_label(a, m->channel, label, sizeof(label));
        if (!channel_alive(a, m->channel)) {
                vg_outbox_give_up(a->ob, m->id, m->channel, "dropped",
                                  "channel no longer in the configuration");
                vg_log(LOG_WARNING,
                       "event=alert-dropped id=%s channel=\"%s\" reason=\"channel no longer in "
                       "the configuration\"",
                       m->id, label);
                return;
        }
        json_t *view = NULL;
        struct vg_view_opts o = view_opts(a);
        if (strcmp(m->kind, "digest") == 0) {
                size_t total = 0;
                json_t *list =
                    vg_outbox_digest_facts(a->ob, m->id, m->channel, VG_DIGEST_MAX_LIST, &total);
                view = list ? vg_digest_view(m->id, list, total, m->created, a->host, &o) : NULL;
                json_decref(list);
        } else {
                json_t *facts = vg_outbox_facts(a->ob, m->id);
                if (!facts) {
                        vg_outbox_give_up(a->ob, m->id, m->channel, "dropped", "facts missing");
                        vg_log(LOG_ERR,
                               "event=alert-dropped id=%s channel=\"%s\" reason=\"facts "
                               "missing from the outbox\"",
                               m->id, label);
                        return;
                }
                view = vg_alert_view(facts, &o);
                json_decref(facts);
        }
        struct send *s = send_new(a, m->id, m->channel, m->kind);
        if (!s) {
                json_decref(view);
                return;
        }
        s->attempts = m->attempts;
        chan_get(a, m->channel)->busy = true;
        const char *why = "out of memory";
        int e = view ? transmit(s, view, &why) : -ENOMEM;
        json_decref(view);
        if (e < 0)
                fail_send(s, e, why);
}

static uint64_t backoff(struct vg_alerts *a, unsigned failures)
{
        uint64_t lo = cfg(a)->alert_retry_min, hi = cfg(a)->alert_retry_max;
        uint64_t d = lo;
        for (unsigned i = 1; i < failures && d < hi; i++)
                d *= 2;
        return d < hi ? d : hi;
}

static void pump(struct vg_alerts *a)
{
        const struct vg_config *c = cfg(a);
        int64_t now = now_s(), next = 0;
        /* Alerts that waited long enough go out together. */
        if (vg_outbox_make_digests(a->ob, now - (int64_t)c->alert_digest_interval, now,
                                   vg_store_new_id) > 0)
                vg_log(LOG_INFO, "event=digests-made");
        static struct vg_out_msg msgs[PASS_MAX];
        size_t n = 0;
        if (vg_outbox_stale(a->ob, now - (int64_t)c->alert_expire, msgs, PASS_MAX, &n) == 0) {
                for (size_t i = 0; i < n; i++) {
                        if (in_flight(a, msgs[i].id, msgs[i].channel))
                                continue;
                        char label[512];
                        chan_label(a, msgs[i].channel, label, sizeof(label));
                        vg_outbox_give_up(a->ob, msgs[i].id, msgs[i].channel, "expired",
                                          "not delivered in time");
                        vg_log(LOG_ERR,
                               "event=alert-expired id=%s kind=%s channel=\"%s\" attempts=%lld",
                               msgs[i].id, msgs[i].kind, label, (long long)msgs[i].attempts);
                }
        }
        n = 0;
        vg_outbox_pending(a->ob, msgs, PASS_MAX, &n);
        for (size_t i = 0; i < n; i++) {
                const struct vg_out_msg *m = &msgs[i];
                if (in_flight(a, m->id, m->channel))
                        continue;
                struct chan *ch = chan_get(a, m->channel);
                if (ch->busy)
                        continue; /* its end starts a new pass */
                int64_t t = m->next_try > ch->retry_at ? m->next_try : ch->retry_at;
                if (t <= now && a->nsends < INFLIGHT_MAX) {
                        start_message(a, m);
                        continue;
                }
                if (t <= now)
                        t = now + 1;
                if (!next || t < next)
                        next = t;
        }
        int64_t d = vg_outbox_next_digest(a->ob, (int64_t)c->alert_digest_interval);
        if (d && (!next || d < next))
                next = d;
        /* the oldest pending message expires at created + expire: a pass then */
        if (n) {
                int64_t x = msgs[0].created + (int64_t)c->alert_expire;
                for (size_t i = 1; i < n; i++)
                        if (msgs[i].created + (int64_t)c->alert_expire < x)
                                x = msgs[i].created + (int64_t)c->alert_expire;
                if (!next || x < next)
                        next = x;
        }
        if (next) {
                uint64_t delta = next > now ? (uint64_t)(next - now) * 1000000 : 0;
                sd_event_source_set_time_relative(a->timer, delta);
                sd_event_source_set_enabled(a->timer, SD_EVENT_ONESHOT);
        }
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src;
        (void)usec;
        pump(userdata);
        return 0;
}

static void sent_ok(struct send *s, const char *detail)
{
        struct vg_alerts *a = s->a;
        char label[512];
        chan_label(a, s->channel, label, sizeof(label));
        /* The receiver has it: a crash before the next line sends it again,
         * with the same id (Message-ID, X-Vigie-Alert-Id). */
        vg_crashpoint("alert-after-send");
        int e = vg_outbox_sent(a->ob, s->id, s->channel, now_s());
        struct chan *ch = chan_get(a, s->channel);
        ch->failures = 0;
        ch->retry_at = 0;
        vg_log(LOG_INFO,
               "event=alert-sent id=%s kind=%s channel=\"%s\" attempts=%lld detail=\"%s\"%s", s->id,
               s->kind, label, (long long)s->attempts + 1, detail,
               e < 0 ? " outbox=not-updated" : "");
}

static void fail_send(struct send *s, int err, const char *detail)
{
        struct vg_alerts *a = s->a;
        send_unlink(s);
        if (s->test) {
                json_t *r = json_array_get(s->test->results, s->slot);
                json_object_set_new(r, "ok", json_false());
                json_object_set_new(r, "detail", json_string(detail));
                struct test *t = s->test;
                free(s);
                t->pending--;
                test_step(t);
                return;
        }
        struct chan *ch = chan_get(a, s->channel);
        ch->busy = false;
        ch->failures++;
        uint64_t wait = backoff(a, ch->failures);
        int64_t next = now_s() + (int64_t)wait;
        ch->retry_at = next;
        vg_outbox_failed(a->ob, s->id, s->channel, next, detail);
        char label[512];
        chan_label(a, s->channel, label, sizeof(label));
        vg_log(LOG_WARNING,
               "event=alert-failed id=%s kind=%s channel=\"%s\" attempts=%lld error=\"%s\" "
               "retry=%llus",
               s->id, s->kind, label, (long long)s->attempts + 1, detail, (unsigned long long)wait);
        (void)err;
        free(s);
        kick(a);
}

static void on_sent(void *userdata, int err, const char *detail)
{
        struct send *s = userdata;
        struct vg_alerts *a = s->a;
        s->x = NULL;
        if (err < 0) {
                fail_send(s, err, detail);
                return;
        }
        send_unlink(s);
        if (s->test) {
                json_t *r = json_array_get(s->test->results, s->slot);
                json_object_set_new(r, "ok", json_true());
                json_object_set_new(r, "detail", json_string(detail));
                struct test *t = s->test;
                free(s);
                t->pending--;
                test_step(t);
                return;
        }
        sent_ok(s, detail);
        chan_get(a, s->channel)->busy = false;
        free(s);
        kick(a);
}

/* ---- test-alert -------------------------------------------------------------------------- */

static void test_free(struct test *t)
{
        struct vg_alerts *a = t->a;
        if (t->prev)
                t->prev->next = t->next;
        else
                a->tests = t->next;
        if (t->next)
                t->next->prev = t->prev;
        sd_event_source_disable_unref(t->defer);
        json_decref(t->results);
        free(t);
}

static int on_test_done(sd_event_source *src, void *userdata)
{
        (void)src;
        struct test *t = userdata;
        json_t *res = json_pack("{s:O}", "channels", t->results);
        vg_alert_test_done done = t->done;
        void *ud = t->userdata;
        size_t i, good = 0;
        json_t *r;
        json_array_foreach(t->results, i, r) good += json_is_true(json_object_get(r, "ok"));
        vg_log(LOG_NOTICE, "event=test-alert-done channels=%zu ok=%zu", json_array_size(t->results),
               good);
        test_free(t);
        done(ud, res);
        return 0;
}

/* Every channel answered: the answer goes out from the loop, never from
 * inside the caller of vg_alerts_test(). */
static void test_step(struct test *t)
{
        if (t->pending || t->defer)
                return;
        if (sd_event_add_defer(t->a->m->event, &t->defer, on_test_done, t) < 0) {
                /* cannot defer: answer now (only from a send's callback) */
                on_test_done(NULL, t);
                return;
        }
        sd_event_source_set_enabled(t->defer, SD_EVENT_ONESHOT);
}

static json_t *result_row(const char *channel, bool ok, const char *detail)
{
        return json_pack("{s:s, s:b, s:s}", "channel", channel, "ok", ok, "detail", detail);
}

int vg_alerts_test(struct vg_alerts *a, const char *by, vg_alert_test_done done, void *userdata)
{
        const struct vg_config *c = cfg(a);
        struct test *t = calloc(1, sizeof(*t));
        if (!t || !(t->results = json_array())) {
                free(t);
                return -ENOMEM;
        }
        t->a = a;
        t->done = done;
        t->userdata = userdata;
        t->next = a->tests;
        if (a->tests)
                a->tests->prev = t;
        a->tests = t;
        char id[24];
        vg_store_new_id(id);
        char tid[32];
        snprintf(tid, sizeof(tid), "test-%s", id + 3);
        char origin[128];
        snprintf(origin, sizeof(origin), "vigiectl test-alert (%s)", by ? by : "?");
        struct vg_decision d = {
            .id = tid,
            .route = "test",
            .kind = "file",
            .file = "vigie-test.txt",
            .origin = origin,
            .owner = by,
            .verdict = "flagged",
            .action = "test",
            .detectors = "",
            .extra = "test=yes",
        };
        json_t *facts = vg_alert_facts(&d, now_s(), a->host);
        if (facts)
                json_object_set_new(facts, "test", json_true());
        struct vg_view_opts o = view_opts(a);
        json_t *view = facts ? vg_alert_view(facts, &o) : NULL;
        json_decref(facts);
        vg_log(LOG_NOTICE, "event=test-alert id=%s by=%s", tid, by ? by : "?");
        json_array_append_new(t->results,
                              result_row("journal", true, have_journal() ? "journald" : "stderr"));
        size_t cap = c->admins.n + c->nwebhooks;
        for (size_t i = 0; i < cap; i++) {
                char key[400], label[512];
                if (i < c->admins.n)
                        snprintf(key, sizeof(key), "mail:%s", c->admins.v[i]);
                else
                        hook_key(c->webhooks[i - c->admins.n].url, key);
                chan_label(a, key, label, sizeof(label));
                json_array_append_new(t->results, result_row(label, false, "..."));
                struct send *s = view ? send_new(a, tid, key, "test") : NULL;
                const char *why = "out of memory";
                if (i < c->admins.n && !vg_mail_address_ok(c->admins.v[i]))
                        why = "not a plain address";
                else if (s) {
                        s->test = t;
                        s->slot = json_array_size(t->results) - 1;
                        t->pending++;
                        if (transmit(s, view, &why) == 0)
                                continue;
                        t->pending--;
                }
                if (s) {
                        send_unlink(s);
                        free(s);
                }
                json_t *r = json_array_get(t->results, json_array_size(t->results) - 1);
                json_object_set_new(r, "detail", json_string(why));
        }
        json_decref(view);
        test_step(t);
        return 0;
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static int configure(struct vg_alerts *a)
{
        const struct vg_config *c = cfg(a);
        char warn[4096];
        struct vg_templates *t = NULL;
        int e = vg_templates_load(c->templates_dir, &t, warn, sizeof(warn));
        if (e < 0) {
                /* out of memory: the templates in use stay */
                vg_log(LOG_ERR, "event=templates-failed error=\"%s\"", strerror(-e));
                return a->tpl ? 0 : e;
        }
        vg_templates_free(a->tpl);
        a->tpl = t;
        for (char *line = warn, *save = NULL, *tok; (tok = strtok_r(line, "\n", &save));
             line = NULL)
                vg_log(LOG_WARNING, "event=template-refused %s", tok);
        vg_notice_configure(a->tpl, c->charter);
        vg_sender_set_timeout(a->sender, (unsigned)c->alert_timeout);
        for (size_t i = 0; i < c->admins.n; i++)
                if (!vg_mail_address_ok(c->admins.v[i]))
                        vg_log(LOG_ERR,
                               "event=alert-config admin=\"%s\" error=\"not a plain "
                               "address: no mail goes there\"",
                               c->admins.v[i]);
        if (!vg_mail_address_ok(c->mail_from))
                vg_log(LOG_ERR,
                       "event=alert-config from=\"%s\" error=\"not a plain address: no "
                       "mail can be sent\"",
                       c->mail_from);
        return 0;
}

static int on_purge(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vg_alerts *a = userdata;
        const struct vg_config *c = cfg(a);
        int64_t keep = (int64_t)c->retention_days * 86400;
        if (keep < 2 * (int64_t)c->alert_expire)
                keep = 2 * (int64_t)c->alert_expire;
        vg_outbox_purge(a->ob, now_s() - keep);
        sd_event_source_set_time(s, usec + PURGE_USEC);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

/* Held items with no alert: vigied stopped between the item's commit and its
 * alert. Their alert is made now from the store's record. */
static void recover(struct vg_alerts *a)
{
        int64_t since = vg_outbox_since(a->ob), floor = now_s() - (int64_t)cfg(a)->alert_expire;
        json_t *ids = vg_outbox_unalerted(a->ob, since > floor ? since : floor);
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
                const char *id = json_string_value(v);
                int err = 0;
                json_t *it = id ? vg_store_show(a->m->store, id, &err) : NULL;
                struct vg_report *r = NULL;
                if (!it || vg_report_from_json(json_object_get(it, "report"), &r) < 0) {
                        json_decref(it);
                        continue;
                }
                const char *origin = json_string_value(json_object_get(it, "origin"));
                char *origin_d = origin ? vg_masker_display(a->m->masker, origin) : NULL;
                char *dets = vg_alert_detectors(r);
                struct vg_decision d = {
                    .id = id,
                    .route = json_string_value(json_object_get(it, "route")),
                    .kind = json_string_value(json_object_get(it, "kind")),
                    .file = json_string_value(json_object_get(it, "name")),
                    .origin = origin_d,
                    .owner = json_string_value(json_object_get(it, "owner")),
                    .owner_uid = json_integer_value(json_object_get(it, "owner_uid")),
                    .verdict = json_string_value(json_object_get(it, "verdict")),
                    .action = json_string_value(json_object_get(it, "action")),
                    .detectors = dets,
                    .sha256 = json_string_value(json_object_get(it, "sha256")),
                    .extra = "recovered=yes",
                    .report = r,
                    .alert = true,
                };
                if (d.route && d.verdict && d.action && d.file) {
                        vg_log(LOG_NOTICE, "event=alert-recovered id=%s", id);
                        enqueue(a, &d);
                }
                g_free(dets);
                free(origin_d);
                vg_report_free(r);
                json_decref(it);
        }
        json_decref(ids);
}

int vg_alerts_new(struct vg_manager *m, struct vg_alerts **ret)
{
        struct vg_alerts *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->m = m;
        if (gethostname(a->host, sizeof(a->host) - 1) < 0 || !a->host[0])
                snprintf(a->host, sizeof(a->host), "localhost");
        a->chans = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        int e;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                free(a);
                return -ENOMEM;
        }
        if ((e = vg_outbox_open(vg_store_db(m->store), &a->ob)) < 0 ||
            (e = vg_sender_new(m->event, &a->sender)) < 0 || (e = configure(a)) < 0)
                goto fail;
        if ((e = sd_event_add_time_relative(m->event, &a->timer, CLOCK_MONOTONIC, 0, 0, on_timer,
                                            a)) < 0 ||
            (e = sd_event_add_time_relative(m->event, &a->purge, CLOCK_MONOTONIC, 90ull * 1000000,
                                            0, on_purge, a)) < 0)
                goto fail;
        recover(a);
        *ret = a;
        return 0;
fail:
        vg_alerts_free(a);
        return e;
}

void vg_alerts_reload(struct vg_alerts *a)
{
        if (!a)
                return;
        configure(a);
        /* a channel may have been fixed: try again now */
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, a->chans);
        while (g_hash_table_iter_next(&it, &k, &v))
                ((struct chan *)v)->retry_at = 0;
        kick(a);
}

void vg_alerts_free(struct vg_alerts *a)
{
        if (!a)
                return;
        /* Transfers in flight are dropped; their messages stay pending. */
        vg_sender_free(a->sender);
        while (a->sends) {
                struct send *s = a->sends;
                send_unlink(s);
                free(s);
        }
        while (a->tests) {
                struct test *t = a->tests;
                vg_alert_test_done done = t->done;
                void *ud = t->userdata;
                test_free(t);
                done(ud, NULL);
        }
        sd_event_source_disable_unref(a->timer);
        sd_event_source_disable_unref(a->purge);
        vg_notice_configure(NULL, NULL);
        vg_templates_free(a->tpl);
        vg_outbox_free(a->ob);
        if (a->chans)
                g_hash_table_destroy(a->chans);
        free(a);
        curl_global_cleanup();
}

json_t *vg_alerts_status(struct vg_alerts *a)
{
        json_t *c = vg_outbox_counts(a->ob);
        if (c)
                json_object_set_new(c, "in_flight", json_integer((json_int_t)a->nsends));
        return c;
}

char *vg_alert_detectors(const struct vg_report *r)
{
        GString *s = g_string_new(NULL);
        for (size_t i = 0; i < r->nfindings; i++)
                if (!strstr(s->str, r->findings[i].detector))
                        g_string_append_printf(s, "%s%s", s->len ? "," : "",
                                               r->findings[i].detector);
        for (size_t i = 0; i < r->nunscannable; i++)
                if (!strstr(s->str, vg_reason_name(r->unscannable[i].reason)))
                        g_string_append_printf(s, "%s%s", s->len ? "," : "",
                                               vg_reason_name(r->unscannable[i].reason));
        return g_string_free(s, FALSE);
}

/* vigied: the supervisor. One sd-event loop owns signals, timers, the folder
 * routes (inotify), the scan workers, the quarantine store and the control
 * socket. It never parses untrusted content itself: workers do. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "alert.h"
#include "config.h"
#include "control.h"
#include "folder.h"
#include "log.h"
#include "mailroute.h"
#include "manager.h"
#include "masker.h"
#include "store.h"
#include "worker.h"

#define STATUS_USEC (5ull * 1000000)
#define PURGE_USEC  (3600ull * 1000000)

static void engine_config(struct vg_manager *m)
{
        m->engine_cfg = (struct vg_engine_config){
            .limits = m->config->limits,
            .tmpdir = m->config->workers_tmpdir,
            .hold_images = m->config->images && strcmp(m->config->images, "hold") == 0,
            .custom = m->config->custom,
        };
}

struct vg_folder *vg_manager_folder(struct vg_manager *m, const char *route)
{
        for (size_t i = 0; i < m->nfolders; i++)
                if (m->folders[i] && strcmp(vg_folder_name(m->folders[i]), route) == 0)
                        return m->folders[i];
        return NULL;
}

void vg_manager_notify_status(struct vg_manager *m)
{
        const struct vg_counters *k = &m->counters;
        sd_notifyf(0,
                   "STATUS=%zu route(s); scanned %llu, delivered %llu, held %llu, unscannable "
                   "%llu; queue %zu; workers %u",
                   m->nfolders + m->nmail, (unsigned long long)k->scanned,
                   (unsigned long long)k->delivered, (unsigned long long)k->held,
                   (unsigned long long)k->unscannable, m->pool ? vg_pool_pending(m->pool) : 0,
                   m->pool ? vg_pool_workers(m->pool) : 0);
}

/* Mail routes are restarted on reload: a mail in flight stays in the spool, or
 * is already forwarded or held, so nothing is lost by starting over. */
static void start_mail_routes(struct vg_manager *m)
{
        for (size_t i = 0; i < m->nmail; i++)
                vg_mailroute_free(m->mail[i]);
        free(m->mail);
        m->nmail = 0;
        m->mail = calloc(m->config->nroutes + 1, sizeof(*m->mail));
        for (size_t i = 0; m->mail && i < m->config->nroutes; i++) {
                const struct vg_route *r = &m->config->routes[i];
                struct vg_mailroute *mr;
                if (r->type == VG_ROUTE_MAIL && vg_mailroute_new(m, r, &mr) == 0)
                        m->mail[m->nmail++] = mr;
        }
}

struct vg_mailroute *vg_manager_mailroute(struct vg_manager *m, const char *route)
{
        for (size_t i = 0; i < m->nmail; i++)
                if (strcmp(vg_mailroute_name(m->mail[i]), route) == 0)
                        return m->mail[i];
        return NULL;
}

/* Builds the running folder routes of the current config, reusing those whose
 * folders and mode did not change and retiring the others. */
static int start_routes(struct vg_manager *m)
{
        struct vg_folder **old = m->folders;
        size_t nold = m->nfolders;
        m->folders = calloc(m->config->nroutes + 1, sizeof(*m->folders));
        m->nfolders = 0;
        if (!m->folders) {
                m->folders = old;
                m->nfolders = nold;
                return -ENOMEM;
        }
        for (size_t i = 0; i < m->config->nroutes; i++) {
                const struct vg_route *r = &m->config->routes[i];
                if (r->type != VG_ROUTE_FOLDER)
                        continue;
                struct vg_folder *f = NULL;
                for (size_t k = 0; k < nold; k++)
                        if (old[k] && strcmp(vg_folder_name(old[k]), r->name) == 0 &&
                            vg_folder_same_place(old[k], r)) {
                                f = old[k];
                                old[k] = NULL;
                                vg_folder_update(f, r);
                        }
                if (!f && vg_folder_new(m, r, &f) < 0) {
                        /* Logged by the route; the others go on. */
                        continue;
                }
                m->folders[m->nfolders++] = f;
        }
        for (size_t k = 0; k < nold; k++)
                vg_folder_retire(old ? old[k] : NULL);
        free(old);
        start_mail_routes(m);
        return 0;
}

int vg_manager_reload(struct vg_manager *m, char *msg, size_t msgsz)
{
        sd_notify(0, "RELOADING=1");
        struct vg_config *nc = NULL;
        char err[1024];
        int e = vg_config_load(m->config_path, &nc, err, sizeof(err));
        if (e < 0) {
                vg_log(LOG_ERR, "event=reload-refused config-error=\"%s\" kept=running", err);
                snprintf(msg, msgsz, "%s", err);
        } else {
                struct vg_config *old = m->config;
                struct vg_masker *nm = NULL;
                if (vg_masker_new(nc->custom, &nm) == 0) {
                        vg_masker_free(m->masker);
                        m->masker = nm;
                }
                m->config = nc;
                m->lang = vg_lang_from_name(nc->language);
                engine_config(m);
                vg_pool_set_engine(m->pool, &m->engine_cfg);
                vg_alerts_reload(m->alerts);
                start_routes(m);
                vg_config_free(old);
                m->reloads++;
                vg_log(LOG_INFO, "event=reloaded config=%s routes=%zu", nc->path, m->nfolders);
                snprintf(msg, msgsz, "configuration %s reloaded, %zu folder route(s)", nc->path,
                         m->nfolders);
        }
        sd_notify(0, "READY=1");
        vg_manager_notify_status(m);
        return e;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void)s;
        (void)si;
        char msg[1024];
        vg_manager_reload(userdata, msg, sizeof(msg));
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct vg_manager *m = userdata;
        (void)s;
        vg_log(LOG_INFO, "event=stopping signal=%s", strsignal((int)si->ssi_signo));
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static int on_status(sd_event_source *s, uint64_t usec, void *userdata)
{
        vg_manager_notify_status(userdata);
        sd_event_source_set_time(s, usec + STATUS_USEC);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static int on_purge(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct vg_manager *m = userdata;
        int n = vg_store_purge(m->store, (int64_t)m->config->retention_days * 86400);
        if (n > 0)
                vg_log(LOG_INFO, "event=purged items=%d retention_days=%llu", n,
                       (unsigned long long)m->config->retention_days);
        else if (n < 0)
                vg_log(LOG_ERR, "event=purge-failed error=\"%s\"", strerror(-n));
        sd_event_source_set_time(s, usec + PURGE_USEC);
        sd_event_source_set_enabled(s, SD_EVENT_ON);
        return 0;
}

static void usage(FILE *f)
{
        fputs("Usage: vigied [-c CONFIG] [--check-config]\n"
              "Watches the configured routes, holds what must not leave and lets the admin\n"
              "decide (vigiectl). Runs in the foreground; systemd supervises it.\n"
              "  -c, --config FILE   configuration (default: /etc/vigie/vigie.conf if it\n"
              "                      exists, else the built-in defaults)\n"
              "  --check-config      validate the configuration and exit (0 valid, 2 not)\n"
              "  -h, --help          this help\n"
              "  --version           the version\n",
              f);
}

static void raise_nofile(void)
{
        /* One descriptor per file in flight: use what the system allows. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
            {"foreground", no_argument, NULL, 'f'},   {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
        };
        struct vg_manager m = {0};
        bool check = false;
        int c;
        while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        m.config_path = optarg;
                        break;
                case 'C':
                        check = true;
                        break;
                case 'f':
                        break; /* vigied never daemonizes itself: systemd does */
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        puts("vigied " VIGIE_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        vg_log_init("vigied");
        char err[1024];
        if (vg_config_load(m.config_path, &m.config, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s\n", err);
                return 2;
        }
        if (check) {
                printf("%s: configuration valid (%zu route(s), %zu policy(ies))\n", m.config->path,
                       m.config->nroutes, m.config->npolicies);
                vg_config_free(m.config);
                return 0;
        }
        raise_nofile();
        m.lang = vg_lang_from_name(m.config->language);
        engine_config(&m);
        int r;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        sd_event_source *status = NULL;
        if ((r = sd_event_default(&m.event)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGTERM, on_exit_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_exit_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGHUP, on_sighup, &m)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                vg_log(LOG_ERR, "event=start-failed error=\"%s\"", strerror(-r));
                goto out;
        }
        if ((r = vg_masker_new(m.config->custom, &m.masker)) < 0)
                goto out;
        if ((r = vg_store_open(m.config->store_dir, &m.store)) < 0) {
                vg_log(LOG_ERR, "event=start-failed store=\"%s\" error=\"%s\"", m.config->store_dir,
                       strerror(-r));
                goto out;
        }
        if ((r = vg_alerts_new(&m, &m.alerts)) < 0) {
                vg_log(LOG_ERR, "event=start-failed alerts error=\"%s\"", strerror(-r));
                goto out;
        }
        struct vg_pool_config pc = {
            .engine = &m.engine_cfg,
            .count = (unsigned)m.config->workers_count,
            .memory = m.config->workers_memory,
        };
        if ((r = vg_pool_new(m.event, &pc, &m.pool)) < 0) {
                vg_log(LOG_ERR, "event=start-failed workers error=\"%s\"", strerror(-r));
                goto out;
        }
        if ((r = vg_control_new(&m, m.config->control_socket, &m.control)) < 0) {
                vg_log(LOG_ERR, "event=start-failed control=\"%s\" error=\"%s\"",
                       m.config->control_socket, strerror(-r));
                goto out;
        }
        m.started = time(NULL);
        if ((r = start_routes(&m)) < 0)
                goto out;
        sd_event_add_time_relative(m.event, &status, CLOCK_MONOTONIC, STATUS_USEC, 0, on_status,
                                   &m);
        sd_event_add_time_relative(m.event, &m.purge_timer, CLOCK_MONOTONIC, 60ull * 1000000, 0,
                                   on_purge, &m);
        vg_log(LOG_INFO, "event=started version=%s config=%s routes=%zu workers=%u store=%s",
               VIGIE_VERSION, m.config->path, m.nfolders, vg_pool_workers(m.pool),
               m.config->store_dir);
        sd_notify(0, "READY=1");
        vg_manager_notify_status(&m);
        r = sd_event_loop(m.event);
        vg_log(LOG_INFO, "event=stopped");
out:
        /* Alerts first: a pending `vigiectl test-alert` gets its answer. */
        vg_alerts_free(m.alerts);
        m.alerts = NULL;
        sd_event_source_disable_unref(status);
        sd_event_source_disable_unref(m.purge_timer);
        vg_control_free(m.control);
        /* Files in flight stay in staging and are decided at the next start. */
        vg_pool_free(m.pool);
        for (size_t i = 0; i < m.nfolders; i++)
                vg_folder_free(m.folders[i]);
        for (size_t i = 0; i < m.nmail; i++)
                vg_mailroute_free(m.mail[i]);
        free(m.mail);
        free(m.folders);
        vg_store_close(m.store);
        vg_masker_free(m.masker);
        sd_event_unref(m.event);
        vg_config_free(m.config);
        return r < 0 ? 1 : 0;
}

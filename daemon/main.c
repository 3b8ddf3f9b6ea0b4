/* vigied: the supervisor. One sd-event loop owns signals, timers and (as the
 * routes arrive) inotify watches, scan workers, the store and the control socket.
 * It never parses untrusted content itself. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "config.h"
#include "log.h"

struct manager {
        sd_event *event;
        const char *config_path;
        struct vg_config *config;
        time_t started;
        unsigned reloads;
};

static int load_config(const char *path, struct vg_config **ret)
{
        char err[1024];
        int e = vg_config_load(path, ret, err, sizeof(err));
        if (e < 0)
                vg_log(LOG_ERR, "event=config-error message=\"%s\"", err);
        return e;
}

static void notify_status(struct manager *m)
{
        sd_notifyf(0, "STATUS=vigied running: %zu route(s), config %s, reloads %u",
                   m->config->nroutes, m->config->path, m->reloads);
}

/* SIGHUP: a broken new config is refused and the old one stays. */
static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void)s;
        (void)si;
        struct manager *m = userdata;
        sd_notify(0, "RELOADING=1");
        struct vg_config *nc = NULL;
        if (load_config(m->config_path, &nc) < 0) {
                vg_log(LOG_WARNING, "event=reload-refused config=%s kept=old", m->config->path);
        } else {
                vg_config_free(m->config);
                m->config = nc;
                m->reloads++;
                vg_log(LOG_INFO, "event=reloaded config=%s routes=%zu", nc->path, nc->nroutes);
        }
        sd_notify(0, "READY=1");
        notify_status(m);
        return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct manager *m = userdata;
        (void)s;
        vg_log(LOG_INFO, "event=stopping signal=%s", strsignal((int)si->ssi_signo));
        sd_notify(0, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static void usage(FILE *f)
{
        fputs("Usage: vigied [-c CONFIG] [--check-config] [--foreground]\n"
              "  -c, --config FILE   configuration (default: /etc/vigie/vigie.conf if it\n"
              "                      exists, else the built-in defaults)\n"
              "  --check-config      validate the configuration and exit (0 valid, 2 not)\n"
              "  -h, --help          this help\n"
              "  --version           the version\n",
              f);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"config", required_argument, NULL, 'c'}, {"check-config", no_argument, NULL, 'C'},
            {"foreground", no_argument, NULL, 'f'},   {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
        };
        struct manager m = {0};
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
        if (check) {
                char err[1024];
                struct vg_config *cfg = NULL;
                if (vg_config_load(m.config_path, &cfg, err, sizeof(err)) < 0) {
                        fprintf(stderr, "%s\n", err);
                        return 2;
                }
                printf("%s: configuration valid (%zu route(s), %zu policy(ies))\n", cfg->path,
                       cfg->nroutes, cfg->npolicies);
                vg_config_free(cfg);
                return 0;
        }
        if (load_config(m.config_path, &m.config) < 0)
                return 2;
        int r;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = sd_event_default(&m.event)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGTERM, on_exit_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGINT, on_exit_signal, &m)) < 0 ||
            (r = sd_event_add_signal(m.event, NULL, SIGHUP, on_sighup, &m)) < 0 ||
            (r = sd_event_set_watchdog(m.event, true)) < 0) {
                vg_log(LOG_ERR, "event=start-failed error=\"%s\"", strerror(-r));
                goto out;
        }
        m.started = time(NULL);
        vg_log(LOG_INFO, "event=started version=%s config=%s routes=%zu", VIGIE_VERSION,
               m.config->path, m.config->nroutes);
        sd_notify(0, "READY=1");
        notify_status(&m);
        r = sd_event_loop(m.event);
        vg_log(LOG_INFO, "event=stopped");
out:
        sd_event_unref(m.event);
        vg_config_free(m.config);
        return r < 0 ? 1 : 0;
}

#include "mailroute.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include "alert.h"
#include "log.h"
#include "manager.h"
#include "masker.h"
#include "notice.h"
#include "policy.h"
#include "spool.h"
#include "store.h"
#include "worker.h"

#define RETRY_FIRST_USEC (5ull * 1000000)
#define RETRY_MAX_USEC   (3600ull * 1000000)
#define SUBJECT_SCAN     (64 * 1024)

/* Services people paste documents into; mails to them get the route's
 * ai_domains_policy. Admins list their own with ai_domains. */
const char *const vg_ai_domains_default[] = {
    "openai.com",
    "chatgpt.com",
    "anthropic.com",
    "claude.ai",
    "mistral.ai",
    "perplexity.ai",
    "gemini.google.com",
    "deepseek.com",
    "copilot.microsoft.com",
    "x.ai",
    "huggingface.co",
    "poe.com",
    NULL,
};

struct vg_mailroute {
        struct vg_manager *m;
        struct vg_route *cfg;
        char *name;
        int spool_fd;
        int new_fd;
        int tmp_fd;
        int ino_fd;
        sd_event_source *ino_src;
        GHashTable *inflight; /* spool names being handled */
        size_t jobs;
};

struct mjob {
        struct vg_mailroute *r;
        char *name; /* spool file name, NULL for a notice */
        char id[24];
        int fd;        /* the spool file (or the stored blob) */
        int msg_fd;    /* the message alone, for the scan */
        off_t msg_off; /* where the message starts in fd */
        struct vg_envelope env;
        char *subject; /* masked */
        sd_event_source *timer;
        sd_event_source *child;
        unsigned attempts;
        bool notice;       /* a notice to the sender, not a mail of a user */
        char pass_sha[65]; /* a released mail, forwarded on a one-time pass */
};

static void mjob_free(struct mjob *j)
{
        if (!j)
                return;
        if (j->fd >= 0)
                close(j->fd);
        if (j->msg_fd >= 0)
                close(j->msg_fd);
        sd_event_source_disable_unref(j->timer);
        sd_event_source_disable_unref(j->child);
        if (j->name && j->r)
                g_hash_table_remove(j->r->inflight, j->name);
        if (j->r)
                j->r->jobs--;
        free(j->name);
        free(j->subject);
        vg_envelope_clear(&j->env);
        free(j);
}

static const char *domain_of(const char *addr)
{
        const char *at = strrchr(addr, '@');
        return at ? at + 1 : "";
}

static bool in_list(const char *domain, const struct vg_strlist *l, const char *const *dflt)
{
        if (l->n) {
                for (size_t i = 0; i < l->n; i++)
                        if (strcasecmp(domain, l->v[i]) == 0)
                                return true;
                return false;
        }
        for (size_t i = 0; dflt && dflt[i]; i++)
                if (strcasecmp(domain, dflt[i]) == 0)
                        return true;
        return false;
}

static bool internal(const struct vg_mailroute *r, const char *addr)
{
        return in_list(domain_of(addr), &r->cfg->internal_domains, NULL);
}

/* ---- sending (a child process per mail: the loop never waits on a relay) ---- */

struct upload {
        int fd;
        off_t off;
        bool cr; /* the last byte handed out was CR */
};

/* SMTP wants CRLF line ends: a spool written by an MTA's pipe or by an
 * application has bare LFs, which are sent as CRLF (lines already ending in
 * CRLF are left as they are). curl does the dot-stuffing and adds the final
 * CRLF only when the data does not end with one. */
static size_t read_cb(char *buf, size_t size, size_t n, void *userdata)
{
        struct upload *u = userdata;
        size_t room = size * n;
        if (room < 2)
                return CURL_READFUNC_ABORT;
        char in[32768];
        size_t want = room / 2 < sizeof(in) ? room / 2 : sizeof(in);
        ssize_t r;
        do
                r = pread(u->fd, in, want, u->off);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return CURL_READFUNC_ABORT;
        u->off += r;
        size_t o = 0;
        for (ssize_t i = 0; i < r; i++) {
                if (in[i] == '\n' && !u->cr)
                        buf[o++] = '\r';
                buf[o++] = in[i];
                u->cr = in[i] == '\r';
        }
        return o;
}

/* In the child, for forward = "/path/to/sendmail": the program reads the message
 * (without vigie's envelope block) on its standard input, as PROG -i -f SENDER
 * -- RCPT... It gets its own open file description of the spool file, so the
 * daemon's offset is untouched. Its sysexits status decides: refused for good
 * only on the codes that say so (unknown user or host, unavailable, bad data,
 * no permission); anything else (EX_TEMPFAIL, a crash, a hang past 10 minutes,
 * a missing program) means the mail stays and is tried again. */
static void __attribute__((noreturn))
program_child(const char *prog, const char *sender, char *const *rcpts, size_t n, int fd, off_t off)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0 || lseek(in, off, SEEK_SET) != off)
                _exit(EX_TEMPFAIL);
        char **argv = calloc(n + 6, sizeof(char *));
        if (!argv)
                _exit(EX_TEMPFAIL);
        size_t k = 0;
        argv[k++] = (char *)prog;
        argv[k++] = (char *)"-i";
        argv[k++] = (char *)"-f";
        argv[k++] = (char *)sender;
        argv[k++] = (char *)"--";
        for (size_t i = 0; i < n; i++)
                argv[k++] = rcpts[i];
        pid_t pid = fork();
        if (pid < 0)
                _exit(EX_TEMPFAIL);
        if (pid == 0) {
                if (dup2(in, STDIN_FILENO) < 0)
                        _exit(EX_TEMPFAIL);
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null >= 0)
                        dup2(null, STDOUT_FILENO);
                execv(prog, argv);
                _exit(EX_TEMPFAIL); /* cannot run it: the mail waits, the log says why */
        }
        int status = 0;
        for (int waited = 0;; waited++) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                if (w < 0 || waited >= 6000) { /* 10 minutes at 100 ms */
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        _exit(EX_TEMPFAIL);
                }
                struct timespec ts = {0, 100 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        if (!WIFEXITED(status))
                _exit(EX_TEMPFAIL);
        switch (WEXITSTATUS(status)) {
        case EX_OK:
                _exit(0);
        case EX_DATAERR:
        case EX_NOUSER:
        case EX_NOHOST:
        case EX_UNAVAILABLE:
        case EX_NOPERM:
                _exit(EX_UNAVAILABLE);
        default:
                _exit(EX_TEMPFAIL);
        }
}

/* In the child: one SMTP transaction (or the program above). Exit 0 sent, EX_UNAVAILABLE refused
 * for good (5xx), EX_TEMPFAIL anything else (the relay is down: try again). */
static void __attribute__((noreturn))
send_child(const char *url, const char *sender, char *const *rcpts, size_t n, int fd, off_t off)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        if (url[0] == '/')
                program_child(url, sender, rcpts, n, fd, off);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
                _exit(EX_TEMPFAIL);
        CURL *c = curl_easy_init();
        if (!c)
                _exit(EX_TEMPFAIL);
        char from[VG_ADDR_MAX + 3];
        snprintf(from, sizeof(from), "<%s>", sender);
        struct curl_slist *rl = NULL;
        for (size_t i = 0; i < n; i++) {
                char to[VG_ADDR_MAX + 3];
                snprintf(to, sizeof(to), "<%s>", rcpts[i]);
                rl = curl_slist_append(rl, to);
        }
        struct upload u = {fd, off, false};
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 600L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode res = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        _exit(res == CURLE_OK ? 0 : (code >= 500 && code < 600) ? EX_UNAVAILABLE : EX_TEMPFAIL);
}

enum notice_kind { NOTICE_HELD, NOTICE_REFUSED, NOTICE_DELETED };
static void send_notice(struct vg_mailroute *r, const struct mjob *j, const struct vg_report *rep,
                        enum notice_kind kind);
static void forward(struct mjob *j);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void)s;
        (void)usec;
        struct mjob *j = userdata;
        j->timer = sd_event_source_disable_unref(j->timer);
        forward(j);
        return 0;
}

static void finished_sending(struct mjob *j)
{
        struct vg_mailroute *r = j->r;
        struct vg_manager *m = r->m;
        if (j->pass_sha[0]) /* a released mail: its pass is used up now */
                vg_store_take_pass(m->store, r->name, j->name, j->pass_sha);
        if (j->name) {
                /* Sent: only now does the spool file go. A crash just before this
                 * line sends the mail again; its Message-ID makes that visible. */
                unlinkat(r->new_fd, j->name, 0);
                fsync(r->new_fd);
                m->counters.delivered++;
        }
        mjob_free(j);
}

static int on_sent(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        (void)s;
        struct mjob *j = userdata;
        struct vg_mailroute *r = j->r;
        j->child = sd_event_source_disable_unref(j->child);
        int code = si->si_code == CLD_EXITED ? si->si_status : EX_TEMPFAIL;
        if (code == 0) {
                finished_sending(j);
                return 0;
        }
        if (code == EX_UNAVAILABLE && !j->notice) {
                /* Refused for good: the sender learns it; the mail is not retried. */
                vg_log(LOG_WARNING, "event=mail-refused route=%s id=%s relay=\"%s\"", r->name,
                       j->id, r->cfg->forward);
                send_notice(r, j, NULL, NOTICE_REFUSED);
                if (j->name)
                        unlinkat(r->new_fd, j->name, 0);
                mjob_free(j);
                return 0;
        }
        /* The relay is down or busy: keep the mail, try again later. */
        uint64_t delay = RETRY_FIRST_USEC << (j->attempts < 10 ? j->attempts : 10);
        if (delay > RETRY_MAX_USEC)
                delay = RETRY_MAX_USEC;
        j->attempts++;
        vg_log(LOG_WARNING, "event=mail-deferred route=%s id=%s relay=\"%s\" retry=%llus", r->name,
               j->id, r->cfg->forward, (unsigned long long)(delay / 1000000));
        if (sd_event_add_time_relative(r->m->event, &j->timer, CLOCK_MONOTONIC, delay, 0, on_retry,
                                       j) < 0)
                mjob_free(j); /* stays in the spool: picked up again at start */
        return 0;
}

static void forward(struct mjob *j)
{
        struct vg_mailroute *r = j->r;
        pid_t pid = fork();
        if (pid < 0) {
                vg_log(LOG_ERR, "event=mail-send-failed route=%s error=\"%s\"", r->name,
                       strerror(errno));
                mjob_free(j);
                return;
        }
        if (pid == 0)
                send_child(r->cfg->forward, j->env.sender, j->env.rcpts, j->env.nrcpts, j->fd,
                           j->msg_off);
        if (sd_event_add_child(r->m->event, &j->child, pid, WEXITED, on_sent, j) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                mjob_free(j);
        }
}

/* The notice to the sender, in the office's language, through the same relay.
 * Only people inside the office get one: never backscatter to outsiders. */
static void send_notice(struct vg_mailroute *r, const struct mjob *j, const struct vg_report *rep,
                        enum notice_kind kind)
{
        struct vg_manager *m = r->m;
        const char *sender = j->env.sender;
        /* No internal_domains: nobody is known to be inside, nobody is told. */
        if (!sender || !*sender || !internal(r, sender))
                return;
        bool fr = m->lang == VG_LANG_FR;
        char *body = NULL;
        const char *subject;
        if (kind == NOTICE_REFUSED) {
                body = g_strdup(fr ? "Le serveur de messagerie a refusé définitivement ce courriel "
                                     ": il n'a pas été remis. Vérifiez les adresses, ou "
                                     "demandez de l'aide à votre administrateur.\n"
                                   : "The mail server refused this mail for good: it was not "
                                     "delivered. Check the addresses, or ask your "
                                     "administrator.\n");
                subject = fr ? "=?utf-8?Q?Courriel_non_remis?=" : "Mail not delivered";
        } else if (kind == NOTICE_DELETED) {
                body = g_strdup_printf(
                    fr ? "Votre courriel « %s » (référence %s), retenu par vigie, a été supprimé "
                         "par l'administrateur après examen : il n'a pas été envoyé et ne le sera "
                         "pas. Si vous pensez qu'il doit partir, parlez-en à votre "
                         "administrateur.\n"
                       : "Your mail \"%s\" (reference %s), held by vigie, was deleted by the "
                         "administrator after review: it was not sent and will not be. If you "
                         "think it must go out, talk to your administrator.\n",
                    j->subject ? j->subject : "(sans objet)", j->id);
                subject = fr ? "=?utf-8?Q?Courriel_retenu_supprim=C3=A9?=" : "Held mail deleted";
        } else {
                body = vg_notice_text(j->subject ? j->subject : "(mail)", j->id, rep, m->lang);
                subject =
                    fr ? "=?utf-8?Q?Votre_courriel_a_=C3=A9t=C3=A9_retenu?=" : "Your mail was held";
        }
        GString *msg = g_string_new(NULL);
        g_string_append_printf(msg,
                               "From: %s\nTo: %s\nSubject: %s\nAuto-Submitted: auto-replied\n"
                               "Message-ID: <%s.%s@vigie>\nMIME-Version: 1.0\n"
                               "Content-Type: text/plain; charset=utf-8\n"
                               "Content-Transfer-Encoding: 8bit\n\n",
                               m->config->mail_from, sender, subject, j->id,
                               kind == NOTICE_DELETED ? "deleted" : "notice");
        if (fr)
                g_string_append(msg, "Destinataires : ");
        else
                g_string_append(msg, "Recipients: ");
        for (size_t i = 0; i < j->env.nrcpts; i++)
                g_string_append_printf(msg, "%s%s", i ? ", " : "", j->env.rcpts[i]);
        g_string_append(msg, "\n\n");
        g_string_append(msg, body ? body : "");
        g_free(body);
        int fd = open(r->cfg->spool, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, msg->str, msg->len) != (ssize_t)msg->len) {
                if (fd >= 0)
                        close(fd);
                g_string_free(msg, TRUE);
                return;
        }
        g_string_free(msg, TRUE);
        struct mjob *n = calloc(1, sizeof(*n));
        if (!n) {
                close(fd);
                return;
        }
        n->r = r;
        n->fd = fd;
        n->msg_fd = -1;
        n->notice = true;
        memcpy(n->id, j->id, sizeof(n->id));
        n->env.sender = strdup("");
        n->env.rcpts = calloc(1, sizeof(char *));
        if (!n->env.sender || !n->env.rcpts || !(n->env.rcpts[0] = strdup(sender))) {
                free(n->env.sender);
                free(n->env.rcpts);
                close(fd);
                free(n);
                return;
        }
        n->env.nrcpts = 1;
        r->jobs++;
        forward(n);
}

/* The spool belongs to the group vigie-mail (made by the package), which
 * vigie-sendmail is setgid to: the route folder 0710 and tmp/, new/ 1730, as
 * Postfix's maildrop. The group may enter, create and rename, not list nor
 * read; the sticky bit keeps one submitter from removing another's file.
 * Without the group (a test set-up, a source install) the folders stay as the
 * admin made them. */
#define SPOOL_GROUP "vigie-mail"
static void spool_permissions(struct vg_mailroute *r)
{
        struct group *g = getgrnam(SPOOL_GROUP);
        if (!g)
                return;
        gid_t gid = g->gr_gid;
        static const struct {
                const char *name;
                mode_t mode;
        } dirs[] = {{".", 0710}, {"tmp", 01730}, {"new", 01730}};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                int fd = openat(r->spool_fd, dirs[i].name,
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue; /* the open of new/ that follows reports it */
                if (fchown(fd, (uid_t)-1, gid) < 0 || fchmod(fd, dirs[i].mode) < 0)
                        vg_log(LOG_WARNING, "event=spool-permissions route=%s dir=%s error=\"%s\"",
                               r->name, dirs[i].name, strerror(errno));
                close(fd);
        }
}

/* ---- deciding ------------------------------------------------------------------ */

static const struct vg_policy *policy_named(struct vg_manager *m, const char *name,
                                            const char *fallback)
{
        const struct vg_policy *p = name ? vg_config_policy(m->config, name) : NULL;
        if (!p)
                p = vg_config_policy(m->config, fallback);
        return p ? p : vg_config_policy(m->config, "default");
}

/* The most severe action among the recipients' policies. */
static void apply_policies(struct mjob *j, struct vg_report *rep)
{
        struct vg_mailroute *r = j->r;
        const struct vg_route *c = r->cfg;
        const struct vg_policy *best = NULL;
        enum vg_action worst = VG_ACTION_PASS;
        for (size_t i = 0; i < j->env.nrcpts; i++) {
                const char *d = domain_of(j->env.rcpts[i]);
                const struct vg_policy *p;
                if (in_list(d, &c->internal_domains, NULL))
                        p = policy_named(r->m, c->internal_policy, c->policy);
                else if (in_list(d, &c->ai_domains, vg_ai_domains_default))
                        p = policy_named(r->m, c->ai_domains_policy, c->policy);
                else
                        p = policy_named(r->m, c->external_policy, c->policy);
                vg_policy_apply(p, rep);
                if (!best || rep->action > worst) {
                        best = p;
                        worst = rep->action;
                }
        }
        if (best)
                vg_policy_apply(best, rep);
}

static void decided(struct mjob *j, const struct vg_report *rep, const char *action, bool alert)
{
        char *dets = vg_alert_detectors(rep);
        char *origin = vg_masker_display(j->r->m->masker, j->env.sender);
        struct vg_decision d = {
            .id = j->id,
            .route = j->r->name,
            .kind = "mail",
            .file = j->subject ? j->subject : "(mail)",
            .origin = origin,
            .owner = j->env.sender,
            .owner_uid = -1,
            .verdict = vg_verdict_name(rep->verdict),
            .action = action,
            .detectors = dets,
            .sha256 = rep->sha256,
            .extra = rep->monitor ? "monitor=yes" : NULL,
            .report = rep,
            .alert = alert,
        };
        vg_alert_decision(j->r->m, &d);
        free(origin);
        g_free(dets);
}

static void hold(struct mjob *j, struct vg_report *rep)
{
        struct vg_mailroute *r = j->r;
        struct vg_manager *m = r->m;
        if (j->name && vg_store_holds(m->store, r->name, j->name, rep->sha256)) {
                /* Held already: a crash came between the commit and the removal
                 * of the spool file. */
                unlinkat(r->new_fd, j->name, 0);
                fsync(r->new_fd);
                mjob_free(j);
                return;
        }
        char *origin = NULL;
        if (asprintf(&origin, "%s", j->env.sender[0] ? j->env.sender : "<>") < 0)
                origin = NULL;
        struct vg_item it = {
            .route = r->name,
            .kind = "mail",
            .origin = origin ? origin : "",
            .relpath = j->name ? j->name : "",
            .name = j->subject ? j->subject : "(mail)",
            .owner_uid = -1,
            .owner = j->env.sender,
            .mode = "mail",
            .report = rep,
            .sender = j->env.sender,
            .rcpts = (const char *const *)j->env.rcpts,
            .nrcpts = j->env.nrcpts,
            .subject = j->subject,
        };
        memcpy(it.id, j->id, sizeof(it.id));
        int e = vg_store_put(m->store, &it, j->msg_fd);
        free(origin);
        if (e < 0) {
                /* The mail stays in the spool and is decided again later. */
                vg_log(LOG_ERR, "event=quarantine-failed route=%s id=%s error=\"%s\" source=kept",
                       r->name, j->id, strerror(-e));
                m->counters.errors++;
                mjob_free(j);
                return;
        }
        unlinkat(r->new_fd, j->name, 0);
        fsync(r->new_fd);
        m->counters.held++;
        decided(j, rep, vg_action_name(rep->action), true);
        send_notice(r, j, rep, NOTICE_HELD);
        mjob_free(j);
}

static void on_scanned(void *userdata, struct vg_report *rep, int err)
{
        struct mjob *j = userdata;
        struct vg_manager *m = j->r->m;
        if (err < 0 || !rep) {
                mjob_free(j); /* stays in the spool */
                return;
        }
        m->counters.scanned++;
        apply_policies(j, rep);
        if (rep->verdict == VG_VERDICT_FLAGGED)
                m->counters.flagged++;
        else if (rep->verdict == VG_VERDICT_UNSCANNABLE)
                m->counters.unscannable++;
        else
                m->counters.clean++;
        /* A released mail comes back through the spool with a one-time pass. */
        bool allowed =
            rep->sha256[0] && (vg_store_allowed(m->store, rep->sha256) ||
                               vg_store_has_pass(m->store, j->r->name, j->name, rep->sha256));
        if (allowed && !vg_store_allowed(m->store, rep->sha256))
                snprintf(j->pass_sha, sizeof(j->pass_sha), "%s", rep->sha256);
        if (!allowed && (rep->action == VG_ACTION_QUARANTINE || rep->action == VG_ACTION_REDACT)) {
                hold(j, rep);
        } else {
                decided(j, rep, allowed ? "pass" : vg_action_name(rep->action),
                        rep->verdict != VG_VERDICT_CLEAN && !allowed);
                close(j->msg_fd);
                j->msg_fd = -1;
                forward(j);
        }
        vg_report_free(rep);
}

/* The Subject, for `show` and the notice: kept only when it is plain text, and
 * masked; an encoded subject is not decoded here (the supervisor parses no
 * content) and is shown as such. */
static char *subject_of(struct vg_mailroute *r, int fd, off_t off)
{
        char buf[SUBJECT_SCAN + 1];
        ssize_t n = pread(fd, buf, SUBJECT_SCAN, off);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        for (char *p = buf; p && *p;) {
                if (*p == '\n' || (*p == '\r' && p[1] == '\n'))
                        break; /* end of headers */
                if (strncasecmp(p, "Subject:", 8) == 0) {
                        char *v = p + 8, *e = strchr(v, '\n');
                        size_t len = e ? (size_t)(e - v) : strlen(v);
                        while (len && (*v == ' ' || *v == '\t')) {
                                v++;
                                len--;
                        }
                        while (len && (v[len - 1] == '\r' || v[len - 1] == ' '))
                                len--;
                        if (len > 200)
                                len = 200;
                        char *raw = strndup(v, len);
                        if (!raw)
                                return NULL;
                        char *out = strstr(raw, "=?") ? strdup("(sujet encodé)")
                                                      : vg_masker_display(r->m->masker, raw);
                        free(raw);
                        return out;
                }
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return NULL;
}

/* The message alone (without the envelope block) in an unlinked file, for the
 * worker and for the store. */
static int copy_message(struct vg_mailroute *r, int fd, off_t off)
{
        int out = openat(r->spool_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (out < 0)
                return -errno;
        char buf[65536];
        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = -errno;
                        close(out);
                        return e;
                }
                if (n == 0)
                        break;
                off += n;
                if (write(out, buf, (size_t)n) != n) {
                        close(out);
                        return -EIO;
                }
        }
        /* The worker shares this open file description: it must find the
         * offset at the start, as with a file just opened. */
        if (lseek(out, 0, SEEK_SET) != 0) {
                int e = -errno;
                close(out);
                return e;
        }
        return out;
}

static void process(struct vg_mailroute *r, const char *name)
{
        if (name[0] == '.' || g_hash_table_contains(r->inflight, name))
                return;
        struct mjob *j = calloc(1, sizeof(*j));
        if (!j)
                return;
        j->r = r;
        j->fd = j->msg_fd = -1;
        r->jobs++;
        if (!(j->name = strdup(name))) {
                mjob_free(j);
                return;
        }
        g_hash_table_add(r->inflight, g_strdup(name));
        vg_store_new_id(j->id);
        j->fd = openat(r->new_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        struct stat st;
        if (j->fd < 0 || fstat(j->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                mjob_free(j);
                return;
        }
        int e = vg_envelope_read(j->fd, &j->env);
        if (e < 0) {
                /* Not a mail vigie-sendmail wrote: moved aside, never forwarded. */
                vg_log(LOG_ERR, "event=mail-malformed route=%s file=%s kept=new/.bad-%s", r->name,
                       name, name);
                char bad[512];
                snprintf(bad, sizeof(bad), ".bad-%s", name);
                renameat(r->new_fd, name, r->new_fd, bad);
                mjob_free(j);
                return;
        }
        j->msg_off = j->env.message_offset;
        j->subject = subject_of(r, j->fd, j->msg_off);
        j->msg_fd = copy_message(r, j->fd, j->msg_off);
        if (j->msg_fd < 0 || vg_pool_submit(r->m->pool, j->msg_fd, "mail.eml", on_scanned, j) < 0) {
                mjob_free(j);
                return;
        }
}

static void scan_new(struct vg_mailroute *r)
{
        int fd = fcntl(r->new_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        rewinddir(d);
        struct dirent *de;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        g_ptr_array_add(names, g_strdup(de->d_name));
        closedir(d);
        for (guint i = 0; i < names->len; i++)
                process(r, g_ptr_array_index(names, i));
        g_ptr_array_free(names, TRUE);
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void)s;
        (void)revents;
        struct vg_mailroute *r = userdata;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
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
                        if (ev->mask & IN_Q_OVERFLOW)
                                overflow = true;
                        else if (ev->len)
                                process(r, ev->name);
                }
        }
        if (overflow)
                scan_new(r);
        return 0;
}

int vg_mailroute_new(struct vg_manager *m, const struct vg_route *cfg, struct vg_mailroute **ret)
{
        struct vg_mailroute *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->m = m;
        r->spool_fd = r->new_fd = r->tmp_fd = r->ino_fd = -1;
        r->cfg = vg_route_copy(cfg);
        r->name = strdup(cfg->name);
        r->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        int e = r->cfg && r->name ? 0 : -ENOMEM;
        if (!e && !cfg->forward) {
                vg_log(LOG_ERR,
                       "event=route-failed route=%s error=\"a mail route needs forward "
                       "= \\\"smtp://host:port\\\"\"",
                       cfg->name);
                e = -EINVAL;
        }
        if (!e) {
                mkdir(cfg->spool, 0710); /* its parent is the admin's (/var/spool/vigie) */
                r->spool_fd = open(cfg->spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (r->spool_fd >= 0) {
                        mkdirat(r->spool_fd, "tmp", 0770);
                        mkdirat(r->spool_fd, "new", 0770);
                        spool_permissions(r);
                        r->new_fd = openat(r->spool_fd, "new",
                                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (r->new_fd < 0) {
                        e = -errno;
                        vg_log(LOG_ERR, "event=route-failed route=%s spool=\"%s\" error=\"%s\"",
                               cfg->name, cfg->spool, strerror(errno));
                }
        }
        if (!e) {
                char path[64];
                r->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                snprintf(path, sizeof(path), "/proc/self/fd/%d", r->new_fd);
                if (r->ino_fd < 0 ||
                    inotify_add_watch(r->ino_fd, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
                        e = -errno;
        }
        if (!e)
                e = sd_event_add_io(m->event, &r->ino_src, r->ino_fd, EPOLLIN, on_inotify, r);
        if (e < 0) {
                vg_mailroute_free(r);
                return e;
        }
        scan_new(r);
        *ret = r;
        return 0;
}

void vg_mailroute_free(struct vg_mailroute *r)
{
        if (!r)
                return;
        sd_event_source_disable_unref(r->ino_src);
        if (r->ino_fd >= 0)
                close(r->ino_fd);
        if (r->new_fd >= 0)
                close(r->new_fd);
        if (r->spool_fd >= 0)
                close(r->spool_fd);
        if (r->inflight)
                g_hash_table_destroy(r->inflight);
        vg_route_free(r->cfg);
        free(r->name);
        free(r);
}

const char *vg_mailroute_name(const struct vg_mailroute *r)
{
        return r->name;
}

size_t vg_mailroute_pending(const struct vg_mailroute *r)
{
        return r->jobs;
}

int vg_mailroute_deleted(struct vg_mailroute *r, const char *id)
{
        if (!r->cfg->tell_sender_on_delete)
                return 0;
        json_t *env = vg_store_envelope(r->m->store, id);
        if (!env)
                return -ENOENT;
        struct mjob j = {.r = r, .fd = -1, .msg_fd = -1};
        snprintf(j.id, sizeof(j.id), "%s", id);
        json_t *rc = json_object_get(env, "recipients");
        j.env.sender = (char *)json_string_value(json_object_get(env, "sender"));
        j.subject = (char *)json_string_value(json_object_get(env, "subject"));
        j.env.nrcpts = json_array_size(rc);
        j.env.rcpts = calloc(j.env.nrcpts + 1, sizeof(char *));
        if (!j.env.rcpts) {
                json_decref(env);
                return -ENOMEM;
        }
        for (size_t i = 0; i < j.env.nrcpts; i++)
                j.env.rcpts[i] = (char *)json_string_value(json_array_get(rc, i));
        send_notice(r, &j, NULL, NOTICE_DELETED);
        free(j.env.rcpts); /* the strings belong to env */
        json_decref(env);
        return 0;
}

/* Writes the spool file NAME as vigie-sendmail does (tmp/, fsync, rename into
 * new/, fsync), from a stored message. */
static int spool_write(struct vg_mailroute *r, const char *sender, json_t *rcpts, int msg_fd,
                       const char *name)
{
        int td = openat(r->spool_fd, "tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (td < 0)
                return -errno;
        int fd = openat(td, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        if (fd < 0) {
                int e = -errno;
                close(td);
                return e;
        }
        GString *env = g_string_new("VIGIE-ENVELOPE 1\n");
        g_string_append_printf(env, "sender %s\n", sender);
        size_t i;
        json_t *v;
        json_array_foreach(rcpts, i, v)
            g_string_append_printf(env, "rcpt %s\n", json_string_value(v));
        g_string_append(env, "end\n");
        int e = write(fd, env->str, env->len) == (ssize_t)env->len ? 0 : -EIO;
        g_string_free(env, TRUE);
        char buf[65536];
        for (off_t off = 0; !e;) {
                ssize_t n = pread(msg_fd, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        e = -errno;
                if (n <= 0)
                        break;
                off += n;
                if (write(fd, buf, (size_t)n) != n)
                        e = -EIO;
        }
        if (!e && fsync(fd) < 0)
                e = -errno;
        if (close(fd) < 0 && !e)
                e = -errno;
        if (!e && renameat(td, name, r->new_fd, name) < 0)
                e = -errno;
        if (!e && fsync(r->new_fd) < 0)
                e = -errno;
        if (e)
                unlinkat(td, name, 0);
        close(td);
        return e;
}

/* A released mail goes back through the spool, with a one-time pass for its
 * spool name and content: from there it is forwarded as any clean mail is,
 * retried while the relay is down, and survives a restart of vigied. The pass
 * is recorded first, so a crash leaves at worst an unused pass (the item is
 * still held: release it again) or a mail sent while the item still says held;
 * never a released mail that is not sent. */
int vg_mailroute_release(struct vg_mailroute *r, const char *id, char *err, size_t errsz)
{
        json_t *env = vg_store_envelope(r->m->store, id);
        json_t *item = NULL;
        int fd = -1, e;
        if (!env) {
                snprintf(err, errsz, "no envelope stored for %s", id);
                return -ENOENT;
        }
        int se = 0;
        item = vg_store_show(r->m->store, id, &se);
        const char *sha = item ? json_string_value(json_object_get(item, "sha256")) : NULL;
        const char *sender = json_string_value(json_object_get(env, "sender"));
        json_t *rc = json_object_get(env, "recipients");
        fd = vg_store_open_blob(r->m->store, id);
        if (fd < 0 || !sha || !sender || !json_array_size(rc)) {
                snprintf(err, errsz, "the stored mail %s cannot be opened", id);
                e = fd < 0 ? fd : -EBADMSG;
                goto out;
        }
        char name[96];
        snprintf(name, sizeof(name), "%lld.released.%s", (long long)time(NULL), id);
        e = vg_store_add_pass(r->m->store, r->name, name, sha);
        if (e < 0) {
                snprintf(err, errsz, "cannot record the release: %s", strerror(-e));
                goto out;
        }
        e = spool_write(r, sender, rc, fd, name);
        if (e < 0)
                snprintf(err, errsz, "cannot write into the spool %s: %s", r->cfg->spool,
                         strerror(-e));
out:
        if (fd >= 0)
                close(fd);
        json_decref(item);
        json_decref(env);
        return e;
}

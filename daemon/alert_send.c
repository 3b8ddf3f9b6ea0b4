#include "alert_send.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a receiver may answer that we read: enough for a status line. */
#define RESPONSE_MAX (64 * 1024)

struct vg_sender {
        sd_event *ev;
        CURLM *multi;
        sd_event_source *timer;
        unsigned timeout;
        struct vg_xfer *xfers;
};

struct vg_xfer {
        struct vg_sender *s;
        struct vg_xfer *prev, *next;
        vg_xfer_done done;
        void *userdata;
        char *payload;
        size_t len, off;
        /* curl */
        CURL *easy;
        struct curl_slist *list;
        bool http;
        size_t received;
        char errbuf[CURL_ERROR_SIZE];
        /* a sendmail-style program */
        pid_t pid;
        int pipe_fd;
        sd_event_source *child_src, *pipe_src, *timer_src;
        bool timed_out;
};

static void xfer_free(struct vg_xfer *x)
{
        struct vg_sender *s = x->s;
        if (x->prev)
                x->prev->next = x->next;
        else if (s->xfers == x)
                s->xfers = x->next;
        if (x->next)
                x->next->prev = x->prev;
        if (x->easy) {
                curl_multi_remove_handle(s->multi, x->easy);
                curl_easy_cleanup(x->easy);
        }
        curl_slist_free_all(x->list);
        sd_event_source_disable_unref(x->pipe_src);
        if (x->pipe_fd >= 0)
                close(x->pipe_fd);
        sd_event_source_disable_unref(x->timer_src);
        /* The child source owns the process: freeing it kills (if still running)
         * and reaps it, so no zombie is left behind by a cancel. */
        sd_event_source_disable_unref(x->child_src);
        free(x->payload);
        free(x);
}

static void finish(struct vg_xfer *x, int err, const char *detail)
{
        vg_xfer_done done = x->done;
        void *ud = x->userdata;
        char copy[CURL_ERROR_SIZE + 64];
        snprintf(copy, sizeof(copy), "%s", detail ? detail : "");
        xfer_free(x);
        done(ud, err, copy);
}

void vg_xfer_cancel(struct vg_xfer *x)
{
        if (x)
                xfer_free(x);
}

static struct vg_xfer *xfer_new(struct vg_sender *s, const char *payload, vg_xfer_done done,
                                void *userdata)
{
        struct vg_xfer *x = calloc(1, sizeof(*x));
        if (!x)
                return NULL;
        x->s = s;
        x->pipe_fd = -1;
        x->done = done;
        x->userdata = userdata;
        x->len = strlen(payload);
        if (!(x->payload = strdup(payload))) {
                free(x);
                return NULL;
        }
        x->next = s->xfers;
        if (s->xfers)
                s->xfers->prev = x;
        s->xfers = x;
        return x;
}

/* ---- libcurl on sd-event ------------------------------------------------------ */

static int curl_errno(CURLcode rc)
{
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_USE_SSL_FAILED:
                return -EKEYREJECTED;
        default:
                return -EIO;
        }
}

static void drain(struct vg_sender *s)
{
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(s->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                struct vg_xfer *x = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                if (!x)
                        continue;
                CURLcode rc = msg->data.result;
                long code = 0;
                curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
                char detail[CURL_ERROR_SIZE + 64];
                int err = 0;
                if (rc != CURLE_OK) {
                        err = curl_errno(rc);
                        snprintf(detail, sizeof(detail), "%s",
                                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
                } else if (x->http && (code < 200 || code > 299)) {
                        err = -EPROTO;
                        snprintf(detail, sizeof(detail), "HTTP %ld", code);
                } else {
                        snprintf(detail, sizeof(detail), "%s %ld", x->http ? "HTTP" : "SMTP", code);
                }
                finish(x, err, detail);
        }
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        (void)src;
        struct vg_sender *s = userdata;
        int action = 0, running;
        if (revents & (EPOLLIN | EPOLLHUP))
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        curl_multi_socket_action(s->multi, fd, action, &running);
        drain(s);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src;
        (void)usec;
        struct vg_sender *s = userdata;
        int running;
        curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain(s);
        return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
        (void)easy;
        struct vg_sender *s = userp;
        sd_event_source *src = socketp;
        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(src);
                curl_multi_assign(s->multi, fd, NULL);
                return 0;
        }
        uint32_t events =
            ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
        if (src) {
                if (sd_event_source_set_io_events(src, events) < 0)
                        return -1;
                return sd_event_source_set_enabled(src, SD_EVENT_ON) < 0 ? -1 : 0;
        }
        if (sd_event_add_io(s->ev, &src, fd, events, on_io, s) < 0)
                return -1;
        curl_multi_assign(s->multi, fd, src);
        return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
        (void)multi;
        struct vg_sender *s = userp;
        if (timeout_ms < 0)
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        uint64_t now;
        sd_event_now(s->ev, CLOCK_MONOTONIC, &now);
        /* curl asks not to be called back from inside this callback: a zero
         * timeout fires on the next loop iteration. */
        if (sd_event_source_set_time(s->timer, now + (uint64_t)timeout_ms * 1000) < 0 ||
            sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

int vg_sender_new(sd_event *ev, struct vg_sender **ret)
{
        struct vg_sender *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ev = sd_event_ref(ev);
        s->timeout = 30;
        int e = -ENOMEM;
        if (!(s->multi = curl_multi_init()))
                goto fail;
        if ((e = sd_event_add_time(ev, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, s)) < 0)
                goto fail;
        sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
        *ret = s;
        return 0;
fail:
        vg_sender_free(s);
        return e;
}

void vg_sender_free(struct vg_sender *s)
{
        if (!s)
                return;
        while (s->xfers)
                xfer_free(s->xfers);
        if (s->multi)
                curl_multi_cleanup(s->multi);
        sd_event_source_disable_unref(s->timer);
        sd_event_unref(s->ev);
        free(s);
}

void vg_sender_set_timeout(struct vg_sender *s, unsigned seconds)
{
        s->timeout = seconds ? seconds : 30;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
        struct vg_xfer *x = userdata;
        size_t n = size * nitems, left = x->len - x->off;
        if (n > left)
                n = left;
        memcpy(buf, x->payload + x->off, n);
        x->off += n;
        return n;
}

static size_t discard_cb(char *buf, size_t size, size_t nmemb, void *userdata)
{
        (void)buf;
        struct vg_xfer *x = userdata;
        size_t n = size * nmemb;
        /* a receiver that talks on and on is cut short (an error for curl) */
        if (x->received + n > RESPONSE_MAX)
                return 0;
        x->received += n;
        return n;
}

static bool loopback(const char *url)
{
        CURLU *u = curl_url();
        char *host = NULL;
        bool lo = false;
        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
                lo = strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
                     strcmp(host, "[::1]") == 0;
        curl_free(host);
        curl_url_cleanup(u);
        return lo;
}

void vg_url_origin(const char *url, char *out, size_t n)
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL;
        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
                curl_url_get(u, CURLUPART_PORT, &port, 0);
                snprintf(out, n, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
        } else {
                snprintf(out, n, "(invalid URL)");
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
}

static CURL *easy_new(struct vg_xfer *x, const char *url, const char *protocols)
{
        CURL *e = curl_easy_init();
        if (!e)
                return NULL;
        long t = (long)x->s->timeout;
        bool ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
                  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols) == CURLE_OK;
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, t);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, t);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        /* the loopback is never reached through a proxy from the environment */
        curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
        if (!ok) {
                curl_easy_cleanup(e);
                return NULL;
        }
        return e;
}

static int start_curl(struct vg_xfer *x, CURL *e, struct vg_xfer **ret)
{
        x->easy = e;
        if (curl_multi_add_handle(x->s->multi, e) != CURLM_OK) {
                xfer_free(x);
                return -ENOMEM;
        }
        *ret = x;
        return 0;
}

/* ---- a sendmail-style program ------------------------------------------------------- */

static void program_check(struct vg_xfer *x, const siginfo_t *si)
{
        char detail[96];
        if (x->timed_out) {
                finish(x, -ETIMEDOUT, "the mail program did not finish in time");
        } else if (si->si_code == CLD_EXITED && si->si_status == 0 && x->off == x->len) {
                finish(x, 0, "exit 0");
        } else if (si->si_code == CLD_EXITED) {
                snprintf(detail, sizeof(detail), "the mail program exited with status %d%s",
                         si->si_status, x->off < x->len ? " before reading the message" : "");
                finish(x, -EIO, detail);
        } else {
                snprintf(detail, sizeof(detail), "the mail program was killed by signal %d",
                         si->si_status);
                finish(x, -EIO, detail);
        }
}

static int on_child(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        (void)src;
        program_check(userdata, si);
        return 0;
}

static int on_pipe(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        (void)src;
        (void)revents;
        struct vg_xfer *x = userdata;
        while (x->off < x->len) {
                ssize_t w = write(fd, x->payload + x->off, x->len - x->off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN)
                        return 0;
                if (w <= 0)
                        break; /* EPIPE: the program's exit status tells the rest */
                x->off += (size_t)w;
        }
        /* all written (or the program is gone): EOF ends the message */
        x->pipe_src = sd_event_source_disable_unref(x->pipe_src);
        close(x->pipe_fd);
        x->pipe_fd = -1;
        return 0;
}

static int on_program_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void)src;
        (void)usec;
        struct vg_xfer *x = userdata;
        x->timed_out = true;
        sd_event_source_send_child_signal(x->child_src, SIGKILL, NULL, 0);
        return 0;
}

static int start_program(struct vg_xfer *x, const char *prog, const char *from, const char *to)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        /* stdin is the message, stdout goes nowhere, stderr is ours (the log) */
        posix_spawn_file_actions_adddup2(&fa, p[0], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        sigset_t none, dfl;
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGHUP);
        sigaddset(&dfl, SIGCHLD);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &dfl);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        char *argv[] = {(char *)prog, "-i", "-f", (char *)from, "--", (char *)to, NULL};
        char *envp[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
        /* posix_spawn is vfork+exec: nothing of vigied runs in the child. */
        int e = -posix_spawn(&x->pid, prog, &fa, &at, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(p[0]);
        x->pipe_fd = p[1];
        if (e < 0)
                return e;
        fcntl(x->pipe_fd, F_SETFL, fcntl(x->pipe_fd, F_GETFL) | O_NONBLOCK);
        if ((e = sd_event_add_child(x->s->ev, &x->child_src, x->pid, WEXITED, on_child, x)) < 0) {
                kill(x->pid, SIGKILL);
                waitpid(x->pid, NULL, 0);
                return e;
        }
        sd_event_source_set_child_process_own(x->child_src, true);
        if ((e = sd_event_add_io(x->s->ev, &x->pipe_src, x->pipe_fd, EPOLLOUT, on_pipe, x)) < 0 ||
            (e = sd_event_add_time_relative(x->s->ev, &x->timer_src, CLOCK_MONOTONIC,
                                            (uint64_t)x->s->timeout * 1000000, 0,
                                            on_program_timeout, x)) < 0)
                return e;
        return 0;
}

/* ---- the two kinds of transfer ---------------------------------------------------------- */

int vg_send_mail(struct vg_sender *s, const char *relay, const char *from, const char *to,
                 const char *message, vg_xfer_done done, void *userdata, struct vg_xfer **ret)
{
        struct vg_xfer *x = xfer_new(s, message, done, userdata);
        if (!x)
                return -ENOMEM;
        if (relay[0] == '/') {
                int e = start_program(x, relay, from, to);
                if (e < 0) {
                        xfer_free(x);
                        return e;
                }
                *ret = x;
                return 0;
        }
        char addr[320];
        CURL *e = easy_new(x, relay, "smtp,smtps");
        snprintf(addr, sizeof(addr), "<%s>", to);
        x->list = curl_slist_append(NULL, addr);
        if (!e || !x->list) {
                curl_easy_cleanup(e);
                xfer_free(x);
                return -ENOMEM;
        }
        snprintf(addr, sizeof(addr), "<%s>", from);
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, addr);
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->list);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        /* A relay on this machine (Postfix) often has a self-signed certificate
         * and nothing to protect against; elsewhere STARTTLS is used whenever
         * the server offers it, and smtps:// always encrypts. */
        curl_easy_setopt(e, CURLOPT_USE_SSL,
                         loopback(relay) ? (long)CURLUSESSL_NONE : (long)CURLUSESSL_TRY);
        return start_curl(x, e, ret);
}

int vg_send_post(struct vg_sender *s, const char *url, const char *content_type, const char *body,
                 const char *const *headers, vg_xfer_done done, void *userdata,
                 struct vg_xfer **ret)
{
        struct vg_xfer *x = xfer_new(s, body, done, userdata);
        if (!x)
                return -ENOMEM;
        x->http = true;
        CURL *e = easy_new(x, url, "http,https");
        char line[256];
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        struct curl_slist *l = curl_slist_append(NULL, line);
        /* no "Expect: 100-continue" round trip for a small body */
        if (l)
                l = curl_slist_append(l, "Expect:");
        for (size_t i = 0; l && headers && headers[i]; i++) {
                struct curl_slist *n = curl_slist_append(l, headers[i]);
                if (!n) {
                        curl_slist_free_all(l);
                        l = NULL;
                }
                l = n;
        }
        x->list = l;
        if (!e || !l) {
                curl_easy_cleanup(e);
                xfer_free(x);
                return -ENOMEM;
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->list);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->payload);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_cb);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "vigie/" VIGIE_VERSION);
        return start_curl(x, e, ret);
}

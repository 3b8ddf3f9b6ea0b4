/* Sending without blocking the event loop. libcurl's multi interface runs on
 * sd-event (its sockets are io sources, its timeout one timer), so SMTP and
 * HTTP transfers progress between other events; a sendmail-style command is a
 * child process fed through a non-blocking pipe and reaped by sd-event. Every
 * transfer has a time limit; a transfer ends exactly once, with done() called,
 * unless it is cancelled (then done() is never called). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct vg_sender;
struct vg_xfer;

/* err is 0 when the receiver accepted the message, else a negative errno;
 * detail says what the receiver answered or what went wrong (no message
 * content, no URL path: webhook paths often carry secrets). */
typedef void (*vg_xfer_done)(void *userdata, int err, const char *detail);

int vg_sender_new(sd_event *ev, struct vg_sender **ret);
/* Cancels every transfer still running (no callbacks). */
void vg_sender_free(struct vg_sender *s);
void vg_sender_set_timeout(struct vg_sender *s, unsigned seconds);

/* A mail to one recipient. relay is "smtp://host[:port]" (STARTTLS when the
 * server offers it, except on loopback), "smtps://host[:port]" (TLS), or the
 * absolute path of a sendmail-compatible program (run as PROG -i -f FROM --
 * TO). message is complete, with CRLF line ends for SMTP and LF for a program
 * (vg_mail_compose). Certificates are always verified. */
int vg_send_mail(struct vg_sender *s, const char *relay, const char *from, const char *to,
                 const char *message, vg_xfer_done done, void *userdata, struct vg_xfer **ret);

/* An HTTP(S) POST of body (content_type) to url, with extra header lines
 * ("Name: value", NULL-terminated list, may be NULL). No redirects; 2xx is
 * success. */
int vg_send_post(struct vg_sender *s, const char *url, const char *content_type, const char *body,
                 const char *const *headers, vg_xfer_done done, void *userdata,
                 struct vg_xfer **ret);

void vg_xfer_cancel(struct vg_xfer *x);

/* "https://hooks.example.org:8443" from a URL: what logs may show of it. */
void vg_url_origin(const char *url, char *out, size_t n);

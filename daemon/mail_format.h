/* Writing a mail (RFC 5322) for the alert and notice mails: UTF-8 subjects as
 * RFC 2047 encoded words, bodies in quoted-printable (short lines, 7-bit, so
 * any relay takes them unchanged), a stable Message-ID. Pure functions. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_mail {
        const char *from;       /* address */
        const char *from_name;  /* display name (UTF-8), may be NULL */
        const char *to;         /* one address */
        const char *subject;    /* UTF-8, one line */
        const char *message_id; /* without the angle brackets */
        const char *alert_id;   /* X-Vigie-Alert-Id, may be NULL */
        const char *body;       /* UTF-8, LF line ends */
        int64_t date;
};

/* The whole message, lines ending in CRLF (SMTP) or LF (a sendmail command).
 * NULL when an address is not plain (vg_mail_address_ok) or on ENOMEM. */
char *vg_mail_compose(const struct vg_mail *m, bool crlf);

/* A rendered mail template starts with "Subject: ..." then a blank line. Splits
 * it: *subject (caller frees; CR, LF and tabs become spaces, at most 300 bytes)
 * and *body (points into text). Without a Subject line, *subject is a copy of
 * fallback and the whole text is the body. -ENOMEM only. */
int vg_mail_split(const char *text, const char *fallback, char **subject, const char **body);

/* "=?UTF-8?B?...?=" words (folded) for a header value with non-ASCII bytes; a
 * plain copy otherwise. Caller frees. */
char *vg_mail_encode_header(const char *utf8);
/* Quoted-printable, lines of at most 76 characters. Caller frees. */
char *vg_mail_qp(const char *text, bool crlf);
/* RFC 5322 date in English whatever the locale: "Tue, 03 Feb 2026 14:05:09 +0100". */
void vg_mail_date(int64_t t, char *out, size_t n);

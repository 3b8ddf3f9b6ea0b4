#include "mail_format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_facts.h"
#include "buf.h"

/* A message is a few KiB; a digest of hundreds of alerts stays well below. */
#define MAIL_MAX (4u << 20)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_b64(struct vg_buf *b, const unsigned char *p, size_t n)
{
        int e = 0;
        for (size_t i = 0; i < n && e == 0; i += 3) {
                unsigned v = (unsigned)p[i] << 16;
                if (i + 1 < n)
                        v |= (unsigned)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63],
                             i + 1 < n ? b64[(v >> 6) & 63] : '=', i + 2 < n ? b64[v & 63] : '='};
                e = vg_buf_append(b, q, 4);
        }
        return e;
}

char *vg_mail_encode_header(const char *s)
{
        struct vg_buf b;
        vg_buf_init(&b, MAIL_MAX);
        bool plain = true;
        for (const char *p = s; *p && plain; p++)
                plain = (unsigned char)*p >= ' ' && (unsigned char)*p < 0x7f;
        int e = 0;
        if (plain) {
                e = vg_buf_appends(&b, s);
        } else {
                /* 45 bytes give 60 base64 characters: with "=?UTF-8?B?" and "?="
                 * each word stays under the 75 of RFC 2047, and a word never
                 * splits a UTF-8 character. */
                const unsigned char *p = (const unsigned char *)s;
                size_t n = strlen(s), i = 0;
                while (i < n && e == 0) {
                        size_t k = n - i > 45 ? 45 : n - i;
                        while (k > 0 && i + k < n && (p[i + k] & 0xc0) == 0x80)
                                k--;
                        if (k == 0)
                                k = n - i > 45 ? 45 : n - i;
                        e = vg_buf_appends(&b, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
                        if (e == 0)
                                e = put_b64(&b, p + i, k);
                        if (e == 0)
                                e = vg_buf_appends(&b, "?=");
                        i += k;
                }
        }
        char *out = e == 0 ? vg_buf_take(&b) : NULL;
        vg_buf_free(&b);
        return out;
}

char *vg_mail_qp(const char *text, bool crlf)
{
        struct vg_buf b;
        vg_buf_init(&b, MAIL_MAX);
        const char *eol = crlf ? "\r\n" : "\n";
        static const char hex[] = "0123456789ABCDEF";
        size_t col = 0;
        int e = 0;
        for (const unsigned char *p = (const unsigned char *)text; *p && e == 0; p++) {
                unsigned char c = *p;
                if (c == '\r' && p[1] == '\n')
                        continue;
                if (c == '\n') {
                        e = vg_buf_appends(&b, eol);
                        col = 0;
                        continue;
                }
                bool at_eol = p[1] == '\n' || p[1] == '\0' || (p[1] == '\r' && p[2] == '\n');
                /* Literal: printable ASCII but '='; a space or tab unless it ends
                 * the line. Encoded too: a '.' opening a line (SMTP's end of
                 * data) and the 'F' of "From " (mbox would mangle it). */
                bool lit =
                    (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
                size_t w = lit ? 1 : 3;
                if (col + w > 75) {
                        e = vg_buf_appendc(&b, '=');
                        if (e == 0)
                                e = vg_buf_appends(&b, eol);
                        col = 0;
                        if (e)
                                break;
                }
                if (col == 0 && lit &&
                    (c == '.' || (c == 'F' && strncmp((const char *)p, "From ", 5) == 0))) {
                        lit = false;
                        w = 3;
                }
                if (lit) {
                        e = vg_buf_appendc(&b, (char)c);
                } else {
                        char q[3] = {'=', hex[c >> 4], hex[c & 15]};
                        e = vg_buf_append(&b, q, 3);
                }
                col += w;
        }
        char *out = e == 0 ? vg_buf_take(&b) : NULL;
        vg_buf_free(&b);
        return out;
}

void vg_mail_date(int64_t t, char *out, size_t n)
{
        static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t tt = (time_t)t;
        struct tm tm;
        if (!localtime_r(&tt, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
            tm.tm_mon > 11) {
                snprintf(out, n, "Thu, 01 Jan 1970 00:00:00 +0000");
                return;
        }
        long off = tm.tm_gmtoff / 60;
        char sign = off < 0 ? '-' : '+';
        if (off < 0)
                off = -off;
        snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", days[tm.tm_wday],
                 tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 sign, off / 60, off % 60);
}

int vg_mail_split(const char *text, const char *fallback, char **subject, const char **body)
{
        const char *b = text, *s = fallback;
        size_t n = strlen(fallback);
        if (strncmp(text, "Subject:", 8) == 0) {
                s = text + 8;
                while (*s == ' ' || *s == '\t')
                        s++;
                const char *nl = strchr(s, '\n');
                n = nl ? (size_t)(nl - s) : strlen(s);
                b = nl ? nl + 1 : s + n;
                if (*b == '\n')
                        b++;
                else if (b[0] == '\r' && b[1] == '\n')
                        b += 2;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
                n--;
        if (n > 300) {
                n = 300;
                /* never cut a UTF-8 character */
                while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                        n--;
        }
        char *out = strndup(s, n);
        if (!out)
                return -ENOMEM;
        for (char *p = out; *p; p++)
                if (*p == '\r' || *p == '\n' || *p == '\t')
                        *p = ' ';
        *subject = out;
        *body = b;
        return 0;
}

char *vg_mail_compose(const struct vg_mail *m, bool crlf)
{
        if (!vg_mail_address_ok(m->from) || !vg_mail_address_ok(m->to) || !m->message_id ||
            strpbrk(m->message_id, "<>\r\n \t") || (m->alert_id && strpbrk(m->alert_id, "\r\n")))
                return NULL;
        const char *eol = crlf ? "\r\n" : "\n";
        char date[64];
        vg_mail_date(m->date, date, sizeof(date));
        char *subj = vg_mail_encode_header(m->subject ? m->subject : "");
        char *name = m->from_name ? vg_mail_encode_header(m->from_name) : NULL;
        char *body = vg_mail_qp(m->body ? m->body : "", crlf);
        /* encoded words fold with CRLF SP; a program gets LF line ends */
        for (char *h = subj; !crlf && h && *h; h++)
                if (h[0] == '\r' && h[1] == '\n')
                        memmove(h, h + 1, strlen(h));
        for (char *h = name; !crlf && h && *h; h++)
                if (h[0] == '\r' && h[1] == '\n')
                        memmove(h, h + 1, strlen(h));
        struct vg_buf b;
        vg_buf_init(&b, MAIL_MAX);
        int e = subj && body && (name || !m->from_name) ? 0 : -ENOMEM;
        char line[1024];
#define HDR(...)                                                                                   \
        do {                                                                                       \
                if (e == 0) {                                                                      \
                        snprintf(line, sizeof(line), __VA_ARGS__);                                 \
                        e = vg_buf_appends(&b, line);                                              \
                        if (e == 0)                                                                \
                                e = vg_buf_appends(&b, eol);                                       \
                }                                                                                  \
        } while (0)
        if (name)
                HDR("From: %s <%s>", name, m->from);
        else
                HDR("From: <%s>", m->from);
        HDR("To: <%s>", m->to);
        if (e == 0)
                e = vg_buf_appends(&b, "Subject: ");
        if (e == 0)
                e = vg_buf_appends(&b, subj);
        if (e == 0)
                e = vg_buf_appends(&b, eol);
        HDR("Date: %s", date);
        HDR("Message-ID: <%s>", m->message_id);
        if (m->alert_id)
                HDR("X-Vigie-Alert-Id: %s", m->alert_id);
        /* RFC 3834: machines must not answer it (no vacation replies). */
        HDR("Auto-Submitted: auto-generated");
        HDR("MIME-Version: 1.0");
        HDR("Content-Type: text/plain; charset=UTF-8");
        HDR("Content-Transfer-Encoding: quoted-printable");
#undef HDR
        if (e == 0)
                e = vg_buf_appends(&b, eol);
        if (e == 0)
                e = vg_buf_appends(&b, body);
        char *out = e == 0 ? vg_buf_take(&b) : NULL;
        vg_buf_free(&b);
        free(subj);
        free(name);
        free(body);
        return out;
}

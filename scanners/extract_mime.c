/* Mail: an RFC 5322 message and its MIME parts, through GMime 3.
 *
 * What is read, and where it lands:
 * - Headers. Those people write (Subject, Comments, Keywords, Organization, ...)
 *   and every other header that is not routing or a trace are text of the mail
 *   itself, RFC 2047 words decoded and raw 8-bit bytes read as UTF-8, else
 *   Windows-1252. The addresses of From, To, Cc, Bcc, Reply-To, Sender (and
 *   their Resent- and notification forms) are the mail's routing, not its
 *   content: only their display names are read, and not those holding an '@'
 *   (Outlook writes the address again as the name). Trace and identifier headers
 *   (Received, Message-ID, References, Date, DKIM and ARC signatures, ...) are
 *   skipped; in the remaining machine headers (X-..., List-...) addresses are
 *   blanked out before the text is read.
 * - The body: text parts (text/plain, text/html, ...) without a file name,
 *   decoded (base64, quoted-printable), converted to UTF-8 from their charset,
 *   are text of the mail itself (`where` is the mail's name); HTML and RTF go
 *   through the markup extractor, format=flowed lines are joined; both sides of
 *   a multipart/alternative are read, and so are a multipart's prologue and
 *   epilogue (they leave with the mail). GMime 3.2 drops the last byte of a part
 *   whose lines end with "\n" when its boundary line ends with "\r\n"; the
 *   byte is given back (see repair()).
 * - Every other part is an object of its own, scanned by whichever extractor its
 *   content calls for: `mail.eml/contrat.docx`. It is named by its file name
 *   (RFC 2231 and RFC 2047 decoded, directories dropped) or, without one,
 *   `part-<section>.<ext>`, <section> being its IMAP section number (1, 2, 2.1)
 *   and <ext> eml, txt, html or bin by its type: a stable name that depends only
 *   on the mail's structure. A forwarded message/rfc822 part is such an object,
 *   a mail of its own one layer down: `mail.eml/part-2.eml/piece.pdf` (or the
 *   part's own file name for the middle element). Its bytes are written out again
 *   by GMime to an unlinked temporary file, charged to the budget.
 * - uuencode: an x-uuencode part, and a "begin 644 name" block inside a plain
 *   text body, are decoded into an object named after the begin line.
 *
 * Held rather than passed (fail closed):
 * - a mail GMime cannot parse at all: `corrupt` (its bytes are still scanned as
 *   plain text, so what can be seen is seen);
 * - base64 with bytes outside the alphabet, data after the padding or a length
 *   that is not a multiple of four, a uuencoded block without its end, a NUL byte
 *   in a header block: `corrupt`; a Content-Transfer-Encoding GMime does not
 *   know (the part is then read as it is): `unsupported`;
 * - TNEF (winmail.dat), message/partial fragments, S/MIME signed-data wrappers:
 *   `unsupported`; multipart/encrypted, S/MIME enveloped data, inline PGP
 *   messages: `encrypted`;
 * - a charset neither iconv nor the engine knows, on text holding NUL bytes:
 *   `charset` (the text is read as Windows-1252 all the same).
 *
 * Limits. GMime builds the whole tree of a mail in memory before anything can be
 * looked at: every part (about 2 KB each), the text of every header field, and
 * multipart prologues and epilogues (part contents stay in the file: GMime keeps
 * offsets into it, which is why the mail is spooled to a file when it arrives as
 * a stream). A survey of the raw bytes comes first, in one pass, and bounds what
 * GMime would build:
 * - parts: at most one per boundary line (a line "--" + a boundary declared in a
 *   Content-Type), plus nested messages. Past the members still allowed, the scan
 *   stops with `limit:members` before GMime sees the mail; past OBJECTS_MAX parts
 *   in one mail, whatever max_members says, the mail is `limit:members` too;
 * - bytes GMime would hold (header blocks, prologues, epilogues) past HELD_MAX,
 *   header lines past HEADER_LINES_MAX, or one header field (folded lines
 *   included) past FIELD_BYTES_MAX (GMime grows its header buffer 64 bytes at a
 *   time; real fields are a few KB, the longest address lists some 100 KB):
 *   `limit:memory`;
 * - GMime compares each line starting with "--" to every open boundary, so lines
 *   times nesting past BOUNDARY_WORK_MAX would take too long, and it spends some
 *   8 us on each word of a header (a 10 MB Subject of short words takes half a
 *   minute and 600 MB): past HEADER_WORDS_MAX words in header blocks,
 *   `limit:time`.
 * In those three cases the raw bytes are still scanned as plain text. Multipart
 * nesting counts toward max_depth (`limit:depth` for the part too deep), nested
 * messages are layers of their own, every part counts as a member, and every
 * byte decoded or written out is charged with vg_layer_charge().
 *
 * Not done: mbox files (several messages one after the other) are parsed as their
 * first message, the others read as its text; TNEF is not decoded; a
 * message/partial is not reassembled; PGP and S/MIME are not decrypted. */
#include <errno.h>
#include <fcntl.h>
#include <gmime/gmime.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "scan_internal.h"

#define IO_BUF     (64 * 1024)
#define LINE_CAP   1024 /* a line longer than this is read in pieces */
#define NAME_CAP   255  /* bytes of a part's name kept for `where` */
#define SECT_CAP   512  /* an IMAP section number, 64 levels deep at most */
#define HTML_QUEUE (1u << 20)

/* Survey bounds. 2 KB per part keeps OBJECTS_MAX parts near 100 MB; HELD_MAX of
 * header text costs GMime five times as much (raw and decoded copies); a
 * BOUNDARY_WORK_MAX of comparisons takes about a second. */
#define OBJECTS_MAX       50000u
#define HELD_MAX          (32u << 20)
#define HEADER_LINES_MAX  (256u * 1024)
#define HEADER_WORDS_MAX  (128u * 1024)
#define FIELD_BYTES_MAX   (1u << 20)
#define BOUNDARY_WORK_MAX (32ull << 20)
#define GMIME_MAX_LEVEL   1024 /* GMime's own nesting limit (gmime-parser.c) */
#define PREFIX_MAX        8192 /* bytes of a line the survey looks at */
#define FIELD_MAX         8192 /* bytes of a Content-Type field it parses */
#define BOUNDARY_LEN_MAX  256
#define BOUNDARY_SLOTS    512

/* ------------------------------------------------------------------------ */
/* Small string helpers                                                      */

static bool ieq(const char *a, const char *b)
{
        return strcasecmp(a, b) == 0;
}

static bool iprefix(const char *s, size_t n, const char *p)
{
        size_t k = strlen(p);
        return n >= k && strncasecmp(s, p, k) == 0;
}

static bool icontains(const char *s, size_t n, const char *p)
{
        size_t k = strlen(p);
        for (size_t i = 0; i + k <= n; i++)
                if (strncasecmp(s + i, p, k) == 0)
                        return true;
        return false;
}

static bool is_wsp(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ------------------------------------------------------------------------ */
/* Is it a mail? libmagic, with charset checks off, calls nearly every mail
 * text/plain, and one with a NUL or binary part application/octet-stream; the
 * head tells. */

static bool is_message_type(const char *type)
{
        return strcmp(type, "message/rfc822") == 0 || strcmp(type, "message/news") == 0 ||
               strcmp(type, "message/global") == 0;
}

static bool is_tnef_type(const char *type)
{
        return strcmp(type, "application/vnd.ms-tnef") == 0 ||
               strcmp(type, "application/ms-tnef") == 0;
}

/* Header names that only mails (and news articles) carry. */
static bool mail_header_name(const char *s, size_t n)
{
        static const char *const names[] = {
            "from",
            "to",
            "cc",
            "subject",
            "date",
            "message-id",
            "mime-version",
            "received",
            "return-path",
            "delivered-to",
            "reply-to",
            "sender",
            "in-reply-to",
            "references",
            "dkim-signature",
            "content-type",
            "newsgroups",
            "x-mailer",
            "authentication-results",
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strlen(names[i]) == n && strncasecmp(s, names[i], n) == 0)
                        return true;
        return false;
}

/* The head starts with a header block: an optional mbox "From " line, then only
 * header fields (a name of printable ASCII without ':' or spaces, blanks allowed
 * before the colon) and their folded continuations, ended by an empty line (or
 * filling the whole head), with at least two fields and two distinct names only
 * mails carry. A note that merely starts with "Date: ..." is text. */
static bool looks_like_mail(const unsigned char *h, size_t n)
{
        size_t i = 0, fields = 0, known = 0;
        char seen[4][24];
        if (n >= 5 && memcmp(h, "From ", 5) == 0) {
                const unsigned char *nl = memchr(h, '\n', n);
                if (!nl)
                        return false;
                i = (size_t)(nl - h) + 1;
        }
        while (i < n) {
                const unsigned char *nl = memchr(h + i, '\n', n - i);
                size_t end = nl ? (size_t)(nl - h) : n;
                size_t len = end - i;
                if (len > 0 && h[end - 1] == '\r')
                        len--;
                if (len == 0)
                        return nl && fields >= 2 && known >= 2;
                if (h[i] == ' ' || h[i] == '\t') {
                        if (fields == 0)
                                return false;
                } else {
                        size_t k = 0;
                        while (k < len && h[i + k] > 0x20 && h[i + k] < 0x7f && h[i + k] != ':')
                                k++;
                        size_t name = k;
                        while (k < len && (h[i + k] == ' ' || h[i + k] == '\t'))
                                k++;
                        if (name == 0 || k >= len || h[i + k] != ':')
                                return false;
                        fields++;
                        if (mail_header_name((const char *)h + i, name) && name < sizeof(seen[0])) {
                                bool dup = false;
                                for (size_t s = 0; s < known && s < 4; s++)
                                        if (strlen(seen[s]) == name &&
                                            strncasecmp(seen[s], (const char *)h + i, name) == 0)
                                                dup = true;
                                if (!dup && known < 4) {
                                        memcpy(seen[known], h + i, name);
                                        seen[known][name] = '\0';
                                        known++;
                                }
                        }
                }
                if (!nl) /* the head ends inside the header block */
                        return n >= VG_HEAD_MAX && fields >= 2 && known >= 2;
                i = end + 1;
        }
        return n >= VG_HEAD_MAX && fields >= 2 && known >= 2;
}

/* ------------------------------------------------------------------------ */
/* The survey: one pass over the raw bytes, before GMime (see the top). It follows
 * the mail's structure the way GMime will, erring on the side of counting more:
 * a header block starts the mail, follows each boundary line and follows the
 * header block of a nested message; a multipart's body up to its first boundary
 * is its prologue, and what follows its closing boundary its epilogue. */

enum sv_mode { SV_HEADERS, SV_BODY };

struct sv_block {
        bool has_ct, multipart, message, has_boundary, encoded;
};

struct survey {
        char *bnd[BOUNDARY_SLOTS]; /* boundaries declared anywhere (open addressing) */
        size_t nbnd;
        bool unknown; /* a multipart whose boundary the survey cannot read */
        bool digest;  /* multipart/digest: parts without a type are messages */
        enum sv_mode mode;
        bool face;   /* in a prologue or epilogue */
        bool sticky; /* a multipart without a boundary: GMime keeps all of it */
        struct sv_block blk;
        bool in_ct; /* reading a Content-Type field */
        bool field_cut;
        size_t nfield;
        char field[FIELD_MAX];
        uint64_t dash_lines, bnd_lines, msg_parts, mp_fields, held, header_lines, header_words;
        uint64_t field_bytes, field_max; /* the header field being read, the longest */
        bool in_word;
        bool nul_in_headers;
};

static uint32_t fnv(const char *s, size_t n)
{
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 16777619u;
        return h;
}

static bool bnd_has(const struct survey *s, const char *b, size_t n)
{
        for (uint32_t i = fnv(b, n) % BOUNDARY_SLOTS, k = 0; k < BOUNDARY_SLOTS;
             i = (i + 1) % BOUNDARY_SLOTS, k++) {
                if (!s->bnd[i])
                        return false;
                if (strlen(s->bnd[i]) == n && memcmp(s->bnd[i], b, n) == 0)
                        return true;
        }
        return false;
}

static int bnd_add(struct survey *s, const char *b, size_t n)
{
        /* The line after "--" is compared with its trailing blanks dropped; a
         * declared boundary ending with blanks is stored that way too, which at
         * worst counts more lines. */
        while (n > 0 && is_wsp(b[n - 1]))
                n--;
        if (n == 0 || n > BOUNDARY_LEN_MAX || memchr(b, '\0', n)) {
                s->unknown = true;
                return 0;
        }
        if (bnd_has(s, b, n))
                return 0;
        if (s->nbnd >= BOUNDARY_SLOTS / 2) { /* more would make lookups slow */
                s->unknown = true;
                return 0;
        }
        uint32_t i = fnv(b, n) % BOUNDARY_SLOTS;
        while (s->bnd[i])
                i = (i + 1) % BOUNDARY_SLOTS;
        s->bnd[i] = strndup(b, n);
        if (!s->bnd[i])
                return -ENOMEM;
        s->nbnd++;
        return 0;
}

static void survey_free(struct survey *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < BOUNDARY_SLOTS; i++)
                free(s->bnd[i]);
        free(s);
}

/* Skips blanks, line ends and RFC 5322 comments, as GMime's parser does. */
static size_t skip_cfws(const char *f, size_t n, size_t i)
{
        int depth = 0;
        while (i < n) {
                if (depth == 0 && is_wsp(f[i])) {
                        i++;
                } else if (f[i] == '(') {
                        depth++;
                        i++;
                } else if (depth > 0 && f[i] == '\\' && i + 1 < n) {
                        i += 2;
                } else if (depth > 0) {
                        if (f[i] == ')')
                                depth--;
                        i++;
                } else {
                        break;
                }
        }
        return i;
}

/* The boundary parameters of a multipart's Content-Type field. What the survey
 * cannot read with certainty (RFC 2231 continuations, encoded words, a field too
 * long, an unterminated quote) makes it count every "--" line instead. */
static int ct_boundaries(struct survey *s, const char *f, size_t n, bool *found)
{
        bool bad = s->field_cut;
        char val[BOUNDARY_LEN_MAX + 1];
        for (size_t i = 0; i + 8 <= n; i++) {
                if (strncasecmp(f + i, "boundary", 8) != 0)
                        continue;
                size_t j = i + 8;
                while (j < n && is_wsp(f[j]))
                        j++;
                if (j < n && f[j] == '*') {
                        *found = bad = true;
                        continue;
                }
                if (j >= n || f[j] != '=')
                        continue;
                *found = true;
                j++;
                while (j < n && is_wsp(f[j]))
                        j++;
                size_t v = 0;
                if (j < n && f[j] == '"') {
                        bool closed = false;
                        for (j++; j < n; j++) {
                                if (f[j] == '\\' && j + 1 < n)
                                        j++;
                                else if (f[j] == '"') {
                                        closed = true;
                                        break;
                                }
                                if (v < BOUNDARY_LEN_MAX)
                                        val[v] = f[j];
                                v++;
                        }
                        if (!closed)
                                bad = true;
                } else {
                        /* A token; GMime's loose mode may also take it up to the
                         * ';' with blanks inside, so both readings are kept. */
                        size_t start = j, end = j;
                        while (end < n && f[end] != ';' && !is_wsp(f[end]) && f[end] != '(')
                                end++;
                        size_t semi = end;
                        while (semi < n && f[semi] != ';')
                                semi++;
                        while (semi > start && is_wsp(f[semi - 1]))
                                semi--;
                        if (semi > end) {
                                int e = bnd_add(s, f + start, semi - start);
                                if (e < 0)
                                        return e;
                        }
                        v = end - start;
                        if (v <= BOUNDARY_LEN_MAX)
                                memcpy(val, f + start, v);
                }
                if (v == 0 || v > BOUNDARY_LEN_MAX) {
                        bad = true;
                        continue;
                }
                val[v] = '\0';
                if (strstr(val, "=?"))
                        bad = true;
                int e = bnd_add(s, val, v);
                if (e < 0)
                        return e;
        }
        if (bad)
                s->unknown = true;
        return 0;
}

static int ct_finish(struct survey *s)
{
        s->in_ct = false;
        const char *f = s->field;
        size_t n = s->nfield;
        if (icontains(f, n, "digest"))
                s->digest = true;
        size_t i = skip_cfws(f, n, 0), t = i;
        while (t < n && f[t] != '/' && f[t] != ';' && f[t] != '(' && !is_wsp(f[t]))
                t++;
        if (t - i == 9 && strncasecmp(f + i, "multipart", 9) == 0) {
                s->blk.multipart = true;
                s->mp_fields++;
                bool found = false;
                int e = ct_boundaries(s, f, n, &found);
                if (e < 0)
                        return e;
                s->blk.has_boundary = s->blk.has_boundary || found;
        } else if (t - i == 7 && strncasecmp(f + i, "message", 7) == 0) {
                s->blk.message = true;
        }
        return 0;
}

static void field_append(struct survey *s, const char *p, size_t n, uint64_t len)
{
        size_t room = FIELD_MAX - s->nfield;
        if (n > room || len > n) {
                s->field_cut = true;
                n = n > room ? room : n;
        }
        memcpy(s->field + s->nfield, p, n);
        s->nfield += n;
}

static int header_start(struct survey *s, const char *p, size_t n, uint64_t len)
{
        size_t k = 0;
        while (k < n && p[k] != ':' && p[k] != ' ' && p[k] != '\t')
                k++;
        size_t name = k;
        while (k < n && (p[k] == ' ' || p[k] == '\t'))
                k++;
        if (k >= n || p[k] != ':')
                return 0;
        k++;
        if (name == 12 && strncasecmp(p, "content-type", 12) == 0) {
                s->blk.has_ct = true;
                s->in_ct = true;
                s->nfield = 0;
                s->field_cut = false;
                field_append(s, p + k, n - k, len - k);
        } else if (name == 25 && strncasecmp(p, "content-transfer-encoding", 25) == 0) {
                /* Only what GMime surely takes for an encoding: a message part so
                 * encoded is a leaf, its body not headers. Anything else counts as
                 * headers, which errs on the side of counting more. */
                static const char *const enc[] = {"base64", "quoted-printable", "x-uuencode",
                                                  "uuencode", "x-uue"};
                size_t a = k, b = n;
                while (a < b && is_wsp(p[a]))
                        a++;
                while (b > a && is_wsp(p[b - 1]))
                        b--;
                for (size_t i = 0; i < sizeof(enc) / sizeof(enc[0]); i++)
                        if (strlen(enc[i]) == b - a && strncasecmp(p + a, enc[i], b - a) == 0)
                                s->blk.encoded = true;
        }
        return 0;
}

static int block_end(struct survey *s)
{
        if (s->in_ct) {
                int e = ct_finish(s);
                if (e < 0)
                        return e;
        }
        struct sv_block b = s->blk;
        memset(&s->blk, 0, sizeof(s->blk));
        if ((b.message && !b.encoded) || (!b.has_ct && s->digest)) {
                s->msg_parts++; /* a nested message: its own headers follow */
                return 0;
        }
        s->mode = SV_BODY;
        s->face = b.multipart;
        s->sticky = b.multipart && !b.has_boundary;
        return 0;
}

/* 0: not a boundary line; 1: a boundary; 2: a closing boundary. The line is
 * "--" + a declared boundary, then only blanks (GMime's is_boundary()). */
static int bnd_match(const struct survey *s, const char *p, size_t n)
{
        size_t e = n;
        while (e > 2 && is_wsp(p[e - 1]))
                e--;
        if (bnd_has(s, p + 2, e - 2))
                return 1;
        if (e >= 4 && p[e - 1] == '-' && p[e - 2] == '-' && bnd_has(s, p + 2, e - 4))
                return 2;
        return 0;
}

/* One line: its first n bytes (n <= PREFIX_MAX) and its whole length, without
 * the '\n'. */
static int sv_line(struct survey *s, const char *p, size_t n, uint64_t len, bool nul)
{
        int e = 0;
        if (n == len && n > 0 && p[n - 1] == '\r')
                n--, len--;
        bool blank = len == 0;
        bool cont = !blank && (p[0] == ' ' || p[0] == '\t');
        if (s->in_ct) {
                if (cont && s->mode == SV_HEADERS)
                        field_append(s, p, n, len);
                else if ((e = ct_finish(s)) < 0)
                        return e;
        }
        if (len >= 2 && p[0] == '-' && p[1] == '-') {
                s->dash_lines++;
                int k = len > n ? 1 : bnd_match(s, p, n); /* too long to tell: count it */
                if (k == 1)
                        s->bnd_lines++;
                if ((k && len == n) || (s->unknown && !s->sticky)) {
                        bool closing =
                            k == 2 || (k == 0 && n >= 4 && p[n - 1] == '-' && p[n - 2] == '-');
                        s->mode = closing ? SV_BODY : SV_HEADERS;
                        s->face = closing;
                        s->sticky = false;
                        s->in_ct = false;
                        memset(&s->blk, 0, sizeof(s->blk));
                        return 0;
                }
        }
        if (s->mode == SV_HEADERS) {
                s->held += len + 1;
                s->header_lines++;
                s->nul_in_headers = s->nul_in_headers || nul;
                s->field_bytes = cont ? s->field_bytes + len + 1 : len + 1;
                if (s->field_bytes > s->field_max)
                        s->field_max = s->field_bytes;
                if (blank)
                        return block_end(s);
                if (cont)
                        return 0;
                return header_start(s, p, n, len);
        }
        if (s->face)
                s->held += len + 1;
        return 0;
}

static int survey_run(struct vg_layer *l, int fd, struct survey *s)
{
        char *buf = malloc(IO_BUF);
        char *pre = malloc(PREFIX_MAX);
        int e = -ENOMEM;
        if (!buf || !pre)
                goto out;
        size_t npre = 0;
        uint64_t len = 0;
        bool nul = false;
        off_t off = 0;
        e = 0;
        for (;;) {
                ssize_t r;
                do
                        r = pread(fd, buf, IO_BUF, off);
                while (r < 0 && errno == EINTR);
                if (r < 0) {
                        e = -errno;
                        goto out;
                }
                if (r == 0)
                        break;
                off += r;
                if ((e = vg_layer_check_time(l)) < 0)
                        goto out;
                size_t i = 0;
                while (i < (size_t)r) {
                        const char *nl = memchr(buf + i, '\n', (size_t)r - i);
                        size_t seg = nl ? (size_t)(nl - (buf + i)) : (size_t)r - i;
                        size_t take = seg < PREFIX_MAX - npre ? seg : PREFIX_MAX - npre;
                        memcpy(pre + npre, buf + i, take);
                        npre += take;
                        if (s->mode == SV_HEADERS) {
                                if (memchr(buf + i, '\0', seg))
                                        nul = true;
                                for (size_t k = i; k < i + seg; k++) {
                                        bool sp = buf[k] == ' ' || buf[k] == '\t' || buf[k] == '\r';
                                        s->header_words += !sp && !s->in_word;
                                        s->in_word = !sp;
                                }
                        }
                        len += seg;
                        i += seg;
                        if (nl) {
                                if ((e = sv_line(s, pre, npre, len, nul)) < 0)
                                        goto out;
                                npre = 0;
                                len = 0;
                                nul = false;
                                s->in_word = false;
                                i++;
                        }
                }
        }
        if (len > 0 && (e = sv_line(s, pre, npre, len, nul)) < 0)
                goto out;
        if (s->in_ct)
                e = ct_finish(s);
out:
        free(buf);
        free(pre);
        return e;
}

/* ------------------------------------------------------------------------ */
/* Decoding a part's content: base64 and quoted-printable by GMime's decoders,
 * every other encoding as it is. Base64 is checked as it goes: a byte outside the
 * alphabet, data after the padding or a length not a multiple of four means
 * GMime skipped or dropped something. Every byte out is charged. */

struct dec {
        struct vg_layer *l;
        GMimeStream *raw; /* the part's content stream, borrowed */
        GMimeContentEncoding enc;
        GMimeEncoding st;
        uint64_t b64_chars;
        bool b64_pad, b64_bad;
        bool eof, flushed;
        char *in, *out;
        size_t out_len, out_pos;
};

static int dec_init(struct dec *d, struct vg_layer *l, GMimeStream *raw, GMimeContentEncoding enc)
{
        memset(d, 0, sizeof(*d));
        d->l = l;
        d->raw = raw;
        d->enc =
            enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                ? enc
                : GMIME_CONTENT_ENCODING_DEFAULT;
        g_mime_encoding_init_decode(&d->st, d->enc);
        d->in = malloc(IO_BUF);
        /* base64 and quoted-printable never grow; 8 bytes of slack for the state */
        d->out = malloc(IO_BUF + 8);
        if (!d->in || !d->out)
                return -ENOMEM;
        return g_mime_stream_reset(raw) < 0 ? -EIO : 0;
}

static void dec_free(struct dec *d)
{
        free(d->in);
        free(d->out);
}

static void b64_check(struct dec *d, const unsigned char *s, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                unsigned char c = s[i];
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/') {
                        if (d->b64_pad)
                                d->b64_bad = true;
                        d->b64_chars++;
                } else if (c == '=') {
                        d->b64_pad = true;
                        d->b64_chars++;
                } else if (!is_wsp((char)c)) {
                        d->b64_bad = true;
                }
        }
}

/* Fills d->out with the next decoded bytes; 0 at the end. */
static ssize_t dec_refill(struct dec *d)
{
        d->out_pos = d->out_len = 0;
        while (d->out_len == 0) {
                if (d->eof) {
                        if (d->flushed || d->enc == GMIME_CONTENT_ENCODING_DEFAULT)
                                return 0;
                        d->flushed = true;
                        d->out_len = g_mime_encoding_flush(&d->st, d->in, 0, d->out);
                        if (d->enc == GMIME_CONTENT_ENCODING_BASE64 && d->b64_chars % 4 != 0)
                                d->b64_bad = true;
                        break;
                }
                /* A bounded GMime stream fails a read at its end rather than
                 * returning 0: its end is asked first. */
                ssize_t r =
                    g_mime_stream_eos(d->raw) ? 0 : g_mime_stream_read(d->raw, d->in, IO_BUF);
                if (r < 0 && !g_mime_stream_eos(d->raw))
                        return -EIO;
                if (r <= 0) {
                        d->eof = true;
                        continue;
                }
                if (d->enc == GMIME_CONTENT_ENCODING_DEFAULT) {
                        memcpy(d->out, d->in, (size_t)r);
                        d->out_len = (size_t)r;
                } else {
                        if (d->enc == GMIME_CONTENT_ENCODING_BASE64)
                                b64_check(d, (const unsigned char *)d->in, (size_t)r);
                        d->out_len = g_mime_encoding_step(&d->st, d->in, (size_t)r, d->out);
                }
        }
        int e = vg_layer_charge(d->l, d->out_len);
        return e < 0 ? e : (ssize_t)d->out_len;
}

static ssize_t dec_read(void *ctx, void *buf, size_t n)
{
        struct dec *d = ctx;
        if (d->out_pos == d->out_len) {
                ssize_t r = dec_refill(d);
                if (r <= 0)
                        return r;
        }
        size_t k = d->out_len - d->out_pos;
        if (k > n)
                k = n;
        memcpy(buf, d->out + d->out_pos, k);
        d->out_pos += k;
        return (ssize_t)k;
}

/* ------------------------------------------------------------------------ */
/* Lines of decoded text, for uuencoded blocks and flowed text. A line longer than
 * LINE_CAP comes in pieces. */

struct lines {
        struct dec *d;
        char *buf;
        size_t pos, len;
        bool eof;
        bool midline; /* the next piece continues a line */
};

/* The length of the piece at pos + off: through its '\n', or LINE_CAP bytes, or
 * what is left; 0 at the end. */
static ssize_t lines_ensure(struct lines *r, size_t off)
{
        for (;;) {
                size_t have = r->len - r->pos;
                if (off < have || r->eof) {
                        if (off >= have)
                                return 0;
                        const char *s = r->buf + r->pos + off;
                        size_t avail = have - off;
                        size_t lim = avail < LINE_CAP ? avail : LINE_CAP;
                        const char *nl = memchr(s, '\n', lim);
                        if (nl)
                                return nl - s + 1;
                        if (avail >= LINE_CAP || r->eof)
                                return (ssize_t)lim;
                }
                if (r->pos > 0) {
                        memmove(r->buf, r->buf + r->pos, have);
                        r->len = have;
                        r->pos = 0;
                }
                if (r->len == IO_BUF) /* cannot happen with off <= LINE_CAP */
                        return off < have ? (ssize_t)(have - off < LINE_CAP ? have - off : LINE_CAP)
                                          : 0;
                ssize_t k = dec_read(r->d, r->buf + r->len, IO_BUF - r->len);
                if (k < 0)
                        return k;
                if (k == 0)
                        r->eof = true;
                r->len += (size_t)k;
        }
}

static void lines_consume(struct lines *r, size_t n)
{
        r->midline = n == 0 || r->buf[r->pos + n - 1] != '\n';
        r->pos += n;
}

/* "begin <mode> <name>": the name, NUL-terminated in out (directories dropped). */
static bool uu_begin(const char *p, size_t n, char *out, size_t outsz)
{
        while (n > 0 && is_wsp(p[n - 1]))
                n--;
        if (n < 10 || memcmp(p, "begin ", 6) != 0)
                return false;
        size_t i = 6, digits = 0;
        while (i < n && p[i] >= '0' && p[i] <= '7')
                i++, digits++;
        if (digits < 3 || digits > 4 || i >= n || p[i] != ' ')
                return false;
        i++;
        size_t s = i;
        for (size_t k = i; k < n; k++)
                if (p[k] == '/' || p[k] == '\\')
                        s = k + 1;
        size_t len = n - s;
        if (len == 0 || len >= outsz)
                return false;
        memcpy(out, p + s, len);
        out[len] = '\0';
        return true;
}

static bool uu_end(const char *p, size_t n)
{
        while (n > 0 && is_wsp(p[n - 1]))
                n--;
        return n == 3 && memcmp(p, "end", 3) == 0;
}

/* A uuencoded data line: its first character gives the byte count, and the line
 * holds the 4 characters per 3 bytes it announces (some encoders add a checksum
 * character or trailing blanks), all in the uuencode alphabet. */
static bool uu_data(const char *p, size_t n)
{
        while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
                n--;
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x60)
                        return false;
        size_t count = ((unsigned char)p[0] - 0x20) & 0x3f;
        size_t want = 1 + (count + 2) / 3 * 4;
        return n >= want && n <= want + 2;
}

/* A uuencoded block read as the object it encodes. It stops at "end", after the
 * zero-length line, or at the first line that is not uuencode (left for the
 * text); stopping any other way than at "end" after a zero-length line leaves
 * the block truncated. */
struct uu {
        struct lines *r;
        struct vg_layer *l;
        int state;
        guint32 save;
        bool done, bad;
        unsigned char out[LINE_CAP];
        size_t out_len, out_pos;
};

static int uu_step(struct uu *u)
{
        ssize_t n = lines_ensure(u->r, 0);
        if (n < 0)
                return (int)n;
        const char *p = u->r->buf + u->r->pos;
        bool ended = u->state & GMIME_UUDECODE_STATE_END;
        if (n > 0 && !u->r->midline && uu_end(p, (size_t)n)) {
                lines_consume(u->r, (size_t)n);
                u->done = true;
                return 0;
        }
        /* after the zero-length line only "end" may come; anything else that is not
         * uuencode is left for the text */
        if (n == 0 || u->r->midline || ended || !uu_data(p, (size_t)n)) {
                u->done = true;
                u->bad = !ended;
                return 0;
        }
        u->out_pos = 0;
        u->out_len = g_mime_encoding_uudecode_step((const unsigned char *)p, (size_t)n, u->out,
                                                   &u->state, &u->save);
        lines_consume(u->r, (size_t)n);
        return vg_layer_charge(u->l, u->out_len);
}

static ssize_t uu_read(void *ctx, void *buf, size_t n)
{
        struct uu *u = ctx;
        while (u->out_pos == u->out_len) {
                if (u->done)
                        return 0;
                int e = uu_step(u);
                if (e < 0)
                        return e;
        }
        size_t k = u->out_len - u->out_pos;
        if (k > n)
                k = n;
        memcpy(buf, u->out + u->out_pos, k);
        u->out_pos += k;
        return (ssize_t)k;
}

/* ------------------------------------------------------------------------ */
/* Charsets. A text part is read in the charset it declares, with two exceptions
 * that the bytes decide: a byte-order mark or the zero bytes of UTF-16 (a label
 * cannot hide digits that way), and UTF-16/32 labels on text without them. The
 * engine's decoders take UTF-8, UTF-16, Windows-1252 and Latin-1, iconv the
 * rest (GMime's aliases applied); a charset neither knows falls back to the
 * engine's guess (UTF-8 when valid, else Windows-1252). Bytes iconv rejects
 * become U+FFFD, one at a time, so the rest is read. */

struct conv {
        struct vg_layer *l;
        struct vg_buf *q; /* iconv output goes here instead of the text, if set */
        iconv_t cd;       /* (iconv_t)-1: the engine's decoder */
        struct vg_decoder dec;
        char pend[8];
        size_t npend;
        char *work, *out;
};

#define CONV_OUT (IO_BUF * 4)

static int conv_emit(struct conv *c, const char *s, size_t n)
{
        if (n == 0)
                return 0;
        return c->q ? vg_buf_append(c->q, s, n) : vg_layer_text(c->l, s, n);
}

/* Opens iconv for a MIME charset label: "UTF-8" output, GMime's alias table for
 * the input (latin1, ks_c_5601-1987, ...). */
static iconv_t open_iconv(const char *label)
{
        const char *name = g_mime_charset_iconv_name(label);
        return iconv_open("UTF-8", name ? name : label);
}

static int conv_init(struct conv *c, struct vg_layer *l, struct vg_buf *q, iconv_t cd,
                     enum vg_charset cs)
{
        memset(c, 0, sizeof(*c));
        c->l = l;
        c->q = q;
        c->cd = cd;
        vg_decoder_init(&c->dec, cs);
        if (cd == (iconv_t)-1)
                return q ? -EINVAL : vg_layer_text(l, "", 0); /* the decoder needs the sink */
        c->work = malloc(IO_BUF + sizeof(c->pend));
        c->out = malloc(CONV_OUT);
        return c->work && c->out ? 0 : -ENOMEM;
}

static void conv_free(struct conv *c)
{
        if (c->cd != (iconv_t)-1)
                iconv_close(c->cd);
        free(c->work);
        free(c->out);
}

static int conv_push(struct conv *c, const char *s, size_t n)
{
        if (c->cd == (iconv_t)-1)
                return vg_decoder_push(&c->dec, c->l->text, (const unsigned char *)s, n);
        while (n > 0) {
                size_t k = n < IO_BUF ? n : IO_BUF;
                memcpy(c->work, c->pend, c->npend);
                memcpy(c->work + c->npend, s, k);
                char *ip = c->work;
                size_t il = c->npend + k;
                c->npend = 0;
                s += k;
                n -= k;
                while (il > 0) {
                        char *op = c->out;
                        size_t ol = CONV_OUT;
                        size_t r = iconv(c->cd, &ip, &il, &op, &ol);
                        int err = r == (size_t)-1 ? errno : 0;
                        int e = conv_emit(c, c->out, (size_t)(op - c->out));
                        if (e < 0)
                                return e;
                        if (!err || err == E2BIG)
                                continue;
                        if (err == EINVAL && il < sizeof(c->pend)) {
                                memcpy(c->pend, ip, il); /* cut multibyte: next time */
                                c->npend = il;
                                break;
                        }
                        if ((e = conv_emit(c, "\xef\xbf\xbd", 3)) < 0)
                                return e;
                        ip++;
                        il--;
                }
        }
        return 0;
}

static int conv_end(struct conv *c)
{
        if (c->cd == (iconv_t)-1)
                return vg_decoder_end(&c->dec, c->l->text);
        int e = 0;
        if (c->npend)
                e = conv_emit(c, "\xef\xbf\xbd", 3);
        c->npend = 0;
        char *op = c->out;
        size_t ol = CONV_OUT;
        (void)iconv(c->cd, NULL, NULL, &op, &ol); /* a stateful charset's closing shift */
        if (!e)
                e = conv_emit(c, c->out, (size_t)(op - c->out));
        return e;
}

/* The engine's guess for bytes without a usable label. */
static enum vg_charset guess(const unsigned char *h, size_t n)
{
        size_t bom;
        return vg_charset_sniff(h, n, &bom);
}

static bool is_wide_label(const char *label)
{
        return strncasecmp(label, "utf-16", 6) == 0 || strncasecmp(label, "utf-32", 6) == 0 ||
               strncasecmp(label, "ucs-2", 5) == 0 || strncasecmp(label, "ucs-4", 5) == 0 ||
               strncasecmp(label, "ucs2", 4) == 0 || strncasecmp(label, "unicode", 7) == 0;
}

/* Picks the reading of a text part from its label and its first bytes. *bom: bytes
 * of a byte-order mark to skip; *unreadable: no charset could be found and the
 * bytes hold NULs, so no guess is right. */
static int conv_pick(struct conv *c, struct vg_layer *l, const char *label, const unsigned char *h,
                     size_t n, size_t *bom, bool *unreadable)
{
        enum vg_charset sniffed = vg_charset_sniff(h, n, bom);
        *unreadable = false;
        if (sniffed == VG_CS_UTF16LE || sniffed == VG_CS_UTF16BE || *bom)
                return conv_init(c, l, NULL, (iconv_t)-1, sniffed);
        if (label && *label && !is_wide_label(label)) {
                int known = vg_charset_from_name(label);
                if (known < 0) {
                        const char *canon = g_mime_charset_canon_name(label);
                        if (canon)
                                known = vg_charset_from_name(canon);
                }
                if (known >= 0)
                        return conv_init(c, l, NULL, (iconv_t)-1, (enum vg_charset)known);
                iconv_t cd = open_iconv(label);
                if (cd != (iconv_t)-1)
                        return conv_init(c, l, NULL, cd, VG_CS_UTF8);
                *unreadable = memchr(h, '\0', n) != NULL;
        }
        return conv_init(c, l, NULL, (iconv_t)-1, sniffed);
}

/* ------------------------------------------------------------------------ */
/* The mail being read. */

struct mail {
        struct vg_layer *l;
        GMimeParserOptions *opt;
        bool overflow; /* GMime's own nesting limit was reached */
};

static void on_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer data)
{
        (void)offset;
        (void)item;
        struct mail *m = data;
        if (code == GMIME_CRIT_NESTING_OVERFLOW)
                m->overflow = true;
}

static int text_break(struct vg_layer *l)
{
        return vg_layer_text_break(l);
}

/* Bytes without a charset of their own (a prologue): UTF-8 when valid, else
 * Windows-1252. */
static int push_raw(struct vg_layer *l, const char *s, size_t n)
{
        struct vg_decoder dec;
        int e = vg_layer_text(l, "", 0);
        if (e < 0 || n == 0)
                return e;
        vg_decoder_init(&dec, guess((const unsigned char *)s, n));
        if ((e = vg_decoder_push(&dec, l->text, (const unsigned char *)s, n)) == 0)
                e = vg_decoder_end(&dec, l->text);
        return e ? e : text_break(l);
}

/* ---- headers ---- */

enum hkind { H_SKIP, H_ADDRESS, H_HUMAN, H_OTHER };

static enum hkind header_kind(const char *name)
{
        static const char *const address[] = {
            "from",
            "to",
            "cc",
            "bcc",
            "reply-to",
            "sender",
            "resent-from",
            "resent-to",
            "resent-cc",
            "resent-bcc",
            "resent-sender",
            "resent-reply-to",
            "disposition-notification-to",
            "return-receipt-to",
            "mail-followup-to",
            "mail-reply-to",
            "errors-to",
            "apparently-to",
        };
        static const char *const human[] = {
            "subject",
            "comments",
            "keywords",
            "summary",
            "thread-topic",
            "organization",
            "content-description",
        };
        /* Routing, traces, identifiers, signatures and structure: nothing a person
         * wrote, and addresses or long random tokens a detector would misread. */
        static const char *const skip[] = {
            "return-path",
            "received",
            "x-received",
            "delivered-to",
            "x-original-to",
            "envelope-to",
            "x-envelope-to",
            "x-envelope-from",
            "message-id",
            "resent-message-id",
            "references",
            "in-reply-to",
            "date",
            "resent-date",
            "mime-version",
            "dkim-signature",
            "x-google-dkim-signature",
            "domainkey-signature",
            "authentication-results",
            "received-spf",
            "autocrypt",
            "autocrypt-gossip",
            "thread-index",
            "x-ms-tnef-correlator",
            "face",
            "x-face",
            "user-agent",
        };
        for (size_t i = 0; i < sizeof(address) / sizeof(address[0]); i++)
                if (ieq(name, address[i]))
                        return H_ADDRESS;
        for (size_t i = 0; i < sizeof(human) / sizeof(human[0]); i++)
                if (ieq(name, human[i]))
                        return H_HUMAN;
        for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
                if (ieq(name, skip[i]))
                        return H_SKIP;
        size_t n = strlen(name);
        if (iprefix(name, n, "content-") || iprefix(name, n, "arc-"))
                return H_SKIP;
        return H_OTHER;
}

static bool addr_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c != 0 && strchr(".-_+=%!#$&'*/?^`{|}~", c) != NULL);
}

static bool dom_char(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-' || c == '[' || c == ']' || c == ':';
}

/* A machine header's value with its e-mail addresses blanked out: they are
 * routing wherever they appear in headers. */
static char *without_addresses(const char *v)
{
        char *out = strdup(v);
        if (!out)
                return NULL;
        size_t n = strlen(out);
        for (char *at = memchr(out, '@', n); at;
             at = memchr(at + 1, '@', n - (size_t)(at + 1 - out))) {
                char *a = at, *b = at + 1;
                while (a > out && addr_char((unsigned char)a[-1]))
                        a--;
                while (*b && dom_char((unsigned char)*b))
                        b++;
                if (a == at || b == at + 1)
                        continue;
                memset(a, ' ', (size_t)(b - a));
                at = b - 1;
                if (at + 1 >= out + n)
                        break;
        }
        return out;
}

static int push_text_line(struct vg_layer *l, const char *s)
{
        size_t n = strlen(s);
        if (n == 0)
                return 0;
        int e = vg_layer_text(l, s, n);
        return e ? e : text_break(l);
}

static int push_names(struct vg_layer *l, InternetAddressList *list, unsigned level)
{
        int n = list ? internet_address_list_length(list) : 0;
        for (int i = 0; i < n; i++) {
                InternetAddress *ia = internet_address_list_get_address(list, i);
                const char *name = internet_address_get_name(ia);
                int e;
                if (name && !strchr(name, '@') && (e = push_text_line(l, name)) < 0)
                        return e;
                /* "To: Marie" in a memo: no address, so not routing but content */
                if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
                        const char *a =
                            internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
                        if (a && !strchr(a, '@') && (e = push_text_line(l, a)) < 0)
                                return e;
                }
                if (INTERNET_ADDRESS_IS_GROUP(ia) && level < 4 &&
                    (e = push_names(l,
                                    internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                                    level + 1)) < 0)
                        return e;
        }
        return 0;
}

static int push_headers(struct mail *m, GMimeObject *o)
{
        GMimeHeaderList *hl = g_mime_object_get_header_list(o);
        int n = hl ? g_mime_header_list_get_count(hl) : 0;
        for (int i = 0; i < n; i++) {
                GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
                const char *name = h ? g_mime_header_get_name(h) : NULL;
                if (!name)
                        continue;
                int e = 0;
                switch (header_kind(name)) {
                case H_SKIP:
                        break;
                case H_ADDRESS: {
                        const char *raw = g_mime_header_get_raw_value(h);
                        InternetAddressList *list =
                            raw ? internet_address_list_parse(m->opt, raw) : NULL;
                        e = push_names(m->l, list, 0);
                        if (list)
                                g_object_unref(list);
                        break;
                }
                case H_HUMAN: {
                        const char *v = g_mime_header_get_value(h);
                        if (v)
                                e = push_text_line(m->l, v);
                        break;
                }
                case H_OTHER: {
                        const char *v = g_mime_header_get_value(h);
                        char *clean = v ? without_addresses(v) : NULL;
                        if (v && !clean)
                                return -ENOMEM;
                        if (clean)
                                e = push_text_line(m->l, clean);
                        free(clean);
                        break;
                }
                }
                if (e < 0)
                        return e;
                if ((e = vg_layer_check_time(m->l)) < 0)
                        return e;
        }
        return 0;
}

/* ---- names ---- */

/* The part's file name without directories, cut to NAME_CAP bytes on a UTF-8
 * boundary; NULL when it has none. */
static char *file_name(GMimeObject *o)
{
        const char *fn = g_mime_object_get_content_disposition_parameter(o, "filename");
        if (!fn || !*fn)
                fn = g_mime_object_get_content_type_parameter(o, "name");
        if (!fn)
                return NULL;
        for (const char *p = fn; *p; p++)
                if (*p == '/' || *p == '\\')
                        fn = p + 1;
        while (*fn == ' ' || *fn == '\t')
                fn++;
        size_t n = strlen(fn);
        while (n > 0 && (fn[n - 1] == ' ' || fn[n - 1] == '\t'))
                n--;
        if (n == 0 || (n == 1 && fn[0] == '.') || (n == 2 && fn[0] == '.' && fn[1] == '.'))
                return NULL;
        if (n > NAME_CAP) {
                n = NAME_CAP;
                while (n > 0 && ((unsigned char)fn[n] & 0xc0) == 0x80)
                        n--;
        }
        return strndup(fn, n);
}

static char *generated_name(const char *sect, const char *ext)
{
        char buf[SECT_CAP + 16];
        int k = snprintf(buf, sizeof(buf), "part-%s.%s", sect, ext);
        return k > 0 && (size_t)k < sizeof(buf) ? strdup(buf) : NULL;
}

static const char *ext_of(GMimeObject *o)
{
        GMimeContentType *ct = g_mime_object_get_content_type(o);
        if (!ct)
                return "bin";
        if (g_mime_content_type_is_type(ct, "message", "*"))
                return "eml";
        if (g_mime_content_type_is_type(ct, "text", "plain"))
                return "txt";
        if (g_mime_content_type_is_type(ct, "text", "html"))
                return "html";
        return "bin";
}

static char *part_name(GMimeObject *o, const char *sect)
{
        char *n = file_name(o);
        return n ? n : generated_name(sect, ext_of(o));
}

/* ---- objects ---- */

static int child_input(struct vg_layer *l, const char *name, ssize_t (*rd)(void *, void *, size_t),
                       void *ctx)
{
        struct vg_input *in = malloc(sizeof(*in)); /* it holds a 64 KiB head */
        if (!in)
                return -ENOMEM;
        vg_input_init_stream(in, rd, ctx);
        int e = vg_layer_child(l, name, in);
        free(in);
        return e;
}

/* A uuencoded block whose begin line was just read: the object it encodes, then
 * what is left of the block skipped. */
static int uu_block(struct mail *m, struct lines *r, const char *name, bool *any)
{
        struct uu u = {.r = r, .l = m->l, .state = GMIME_UUDECODE_STATE_BEGIN};
        int e = child_input(m->l, name, uu_read, &u);
        unsigned char sink[256];
        while (e == 0 && !u.done) { /* the child may stop early: drain the block */
                ssize_t k = uu_read(&u, sink, sizeof(sink));
                if (k < 0)
                        e = (int)k;
        }
        if (e == 0 && u.bad)
                e = vg_layer_child_unscannable(m->l, name, VG_REASON_CORRUPT);
        *any = true;
        return e;
}

/* An x-uuencode part: its begin line names the object, unless the part has a name
 * of its own. No begin line at all: nothing was decoded, the part is corrupt. */
static int uu_part(struct mail *m, struct dec *d, const char *fname, const char *name)
{
        struct lines r = {.d = d, .buf = malloc(IO_BUF)};
        if (!r.buf)
                return -ENOMEM;
        bool any = false;
        int e = 0;
        for (;;) {
                ssize_t n = lines_ensure(&r, 0);
                if (n <= 0) {
                        e = (int)n;
                        break;
                }
                char begin[NAME_CAP + 1];
                bool start = !r.midline;
                bool is_begin = start && uu_begin(r.buf + r.pos, (size_t)n, begin, sizeof(begin));
                lines_consume(&r, (size_t)n);
                if (is_begin && (e = uu_block(m, &r, fname ? fname : begin, &any)) < 0)
                        break;
        }
        free(r.buf);
        if (e == 0 && !any)
                e = vg_layer_child_unscannable(m->l, name, VG_REASON_CORRUPT);
        return e;
}

/* A plain text body: converted to UTF-8 into the mail's text, format=flowed soft
 * breaks joined, uuencoded blocks taken out as objects of their own. Lines are
 * gathered into runs so the converter sees large pieces. */
static int plain_body(struct mail *m, struct dec *d, GMimeObject *o)
{
        struct lines r = {.d = d, .buf = malloc(IO_BUF)};
        struct conv c;
        bool conv_ready = false;
        struct vg_buf run;
        vg_buf_init(&run, IO_BUF + LINE_CAP);
        int e = r.buf ? 0 : -ENOMEM;
        const char *label = g_mime_object_get_content_type_parameter(o, "charset");
        const char *fmt = g_mime_object_get_content_type_parameter(o, "format");
        const char *delsp = g_mime_object_get_content_type_parameter(o, "delsp");
        bool flowed = fmt && ieq(fmt, "flowed");
        bool del = delsp && ieq(delsp, "yes");
        bool uu_ok = false;
        /* the first bytes decide with the label (see conv_pick) */
        while (e == 0 && !r.eof && r.len < IO_BUF) {
                ssize_t k = dec_read(d, r.buf + r.len, IO_BUF - r.len);
                if (k < 0)
                        e = (int)k;
                else if (k == 0)
                        r.eof = true;
                else
                        r.len += (size_t)k;
        }
        if (e == 0) {
                size_t bom = 0;
                bool unreadable = false;
                e = conv_pick(&c, m->l, label, (const unsigned char *)r.buf, r.len, &bom,
                              &unreadable);
                conv_ready = true; /* conv_free() takes a half-made converter too */
                r.pos = bom;
                /* uuencode is ASCII: not looked for in UTF-16 text */
                uu_ok =
                    c.cd != (iconv_t)-1 || (c.dec.cs != VG_CS_UTF16LE && c.dec.cs != VG_CS_UTF16BE);
                if (e == 0 && unreadable)
                        (void)vg_layer_fail(m->l, VG_REASON_CHARSET);
        }
        while (e == 0) {
                ssize_t n = lines_ensure(&r, 0);
                if (n <= 0) {
                        e = (int)n;
                        break;
                }
                const char *p = r.buf + r.pos;
                char begin[NAME_CAP + 1];
                if (uu_ok && !r.midline && p[0] == 'b' &&
                    uu_begin(p, (size_t)n, begin, sizeof(begin))) {
                        ssize_t n2 = lines_ensure(&r, (size_t)n);
                        if (n2 < 0) {
                                e = (int)n2;
                                break;
                        }
                        p = r.buf + r.pos; /* the buffer may have moved */
                        if (n2 > 0 && uu_data(p + n, (size_t)n2)) {
                                if ((e = conv_push(&c, run.data, run.len)) < 0)
                                        break;
                                vg_buf_reset(&run);
                                lines_consume(&r, (size_t)n);
                                bool any = false;
                                e = uu_block(m, &r, begin, &any);
                                continue;
                        }
                }
                size_t keep = (size_t)n;
                if (flowed && p[n - 1] == '\n') {
                        /* "text \n": a soft break, the line goes on */
                        size_t k = (size_t)n - 1;
                        if (k > 0 && p[k - 1] == '\r')
                                k--;
                        if (k > 0 && p[k - 1] == ' ' && !(k == 3 && memcmp(p, "-- ", 3) == 0))
                                keep = del ? k - 1 : k;
                }
                if ((e = vg_buf_append(&run, p, keep)) < 0)
                        break;
                lines_consume(&r, (size_t)n);
                if (run.len >= IO_BUF) {
                        if ((e = conv_push(&c, run.data, run.len)) < 0)
                                break;
                        vg_buf_reset(&run);
                }
        }
        if (e == 0 && (e = conv_push(&c, run.data, run.len)) == 0)
                e = conv_end(&c);
        if (conv_ready)
                conv_free(&c);
        vg_buf_free(&run);
        free(r.buf);
        return e ? e : text_break(m->l);
}

/* An HTML body, through the markup extractor into the mail's own text. The
 * declared charset is applied here (to UTF-8 behind a byte-order mark, which the
 * markup extractor obeys before any <meta>); without a usable label the markup
 * extractor decides from the bytes. */
struct html_src {
        struct dec *d;
        struct conv *c; /* NULL: bytes as they are */
        struct vg_buf q;
        size_t qpos;
        bool bom, ended;
        char *tmp;
};

static ssize_t html_read(void *ctx, void *buf, size_t n)
{
        struct html_src *h = ctx;
        while (h->qpos == h->q.len) {
                vg_buf_reset(&h->q);
                h->qpos = 0;
                if (h->bom) {
                        h->bom = false;
                        int e = vg_buf_append(&h->q, "\xef\xbb\xbf", 3);
                        if (e < 0)
                                return e;
                        continue;
                }
                if (h->ended)
                        return 0;
                ssize_t k = dec_read(h->d, h->tmp, IO_BUF);
                if (k < 0)
                        return k;
                int e;
                if (k == 0) {
                        h->ended = true;
                        e = h->c ? conv_end(h->c) : 0;
                } else {
                        e = h->c ? conv_push(h->c, h->tmp, (size_t)k)
                                 : vg_buf_append(&h->q, h->tmp, (size_t)k);
                }
                if (e < 0)
                        return e;
        }
        size_t k = h->q.len - h->qpos;
        if (k > n)
                k = n;
        memcpy(buf, h->q.data + h->qpos, k);
        h->qpos += k;
        return (ssize_t)k;
}

/* type: "text/html" or "text/rtf", what the markup extractor reads the body as
 * (RTF names its own code page: its bytes go as they are). */
static int markup_body(struct mail *m, struct dec *d, GMimeObject *o, const char *type)
{
        struct html_src h = {.d = d, .tmp = malloc(IO_BUF)};
        struct conv c;
        vg_buf_init(&h.q, HTML_QUEUE);
        struct vg_input *in = malloc(sizeof(*in));
        int e = h.tmp && in ? 0 : -ENOMEM;
        const char *label = g_mime_object_get_content_type_parameter(o, "charset");
        if (e == 0 && strcmp(type, "text/html") == 0 && label && *label && !is_wide_label(label)) {
                if (vg_charset_from_name(label) == VG_CS_UTF8) {
                        h.bom = true;
                } else {
                        iconv_t cd = open_iconv(label);
                        if (cd != (iconv_t)-1) {
                                e = conv_init(&c, m->l, &h.q, cd, VG_CS_UTF8);
                                h.c = &c; /* conv_free() closes cd even if that failed */
                                h.bom = true;
                        }
                }
        }
        if (e == 0) {
                /* The markup extractor reads the layer's type; for the length of
                 * this body the layer is that kind of document. */
                char saved[sizeof(m->l->type)];
                memcpy(saved, m->l->type, sizeof(saved));
                snprintf(m->l->type, sizeof(m->l->type), "%s", type);
                vg_input_init_stream(in, html_read, &h);
                e = vg_input_fill_head(in);
                if (e == 0)
                        e = vg_extract_markup.run(m->l, in);
                memcpy(m->l->type, saved, sizeof(saved));
        }
        if (h.c)
                conv_free(&c);
        vg_buf_free(&h.q);
        free(h.tmp);
        free(in);
        return e ? e : text_break(m->l);
}

/* A nested message: GMime writes it out again (headers as they were, part
 * contents as they were encoded) to an unlinked file, scanned as a mail one layer
 * down. */
static int message_part(struct mail *m, GMimeObject *o, const char *sect)
{
        GMimeMessage *msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (!msg)
                return 0;
        char *name = part_name(o, sect);
        if (!name)
                return -ENOMEM;
        int e = 0;
        int fd = open(vg_layer_tmpdir(m->l), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0) {
                e = vg_layer_child_unscannable(m->l, name, VG_REASON_IO_ERROR);
                goto out;
        }
        GMimeStream *st = g_mime_stream_fs_new(fd);
        g_mime_stream_fs_set_owner(GMIME_STREAM_FS(st), FALSE);
        ssize_t w = g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL, st);
        if (w >= 0 && g_mime_stream_flush(st) < 0)
                w = -1;
        g_object_unref(st);
        if (w < 0) {
                e = vg_layer_child_unscannable(m->l, name, VG_REASON_IO_ERROR);
                goto out;
        }
        if ((e = vg_layer_charge(m->l, (uint64_t)w)) < 0)
                goto out;
        struct vg_input *in = malloc(sizeof(*in));
        if (!in) {
                e = -ENOMEM;
                goto out;
        }
        vg_input_init_fd(in, fd);
        e = vg_layer_child(m->l, name, in);
        free(in);
out:
        if (fd >= 0)
                close(fd);
        free(name);
        return e;
}

static bool blank_string(const char *s)
{
        while (*s && is_wsp(*s))
                s++;
        return *s == '\0';
}

/* Marks something wrong with a part: on the mail itself for its body, on the
 * object for an attachment. */
static int mark(struct mail *m, bool body, const char *name, enum vg_reason r)
{
        if (body) {
                (void)vg_layer_fail(m->l, r);
                return 0;
        }
        return vg_layer_child_unscannable(m->l, name, r);
}

static int leaf(struct mail *m, GMimeObject *o, const char *sect)
{
        GMimePart *part = GMIME_PART(o);
        GMimeContentType *ct = g_mime_object_get_content_type(o);
        char *fname = file_name(o);
        char *name = fname ? fname : generated_name(sect, ext_of(o));
        if (!name)
                return -ENOMEM;
        bool text = ct && g_mime_content_type_is_type(ct, "text", "*");
        bool body = text && !fname;
        int e = 0;
        struct dec d = {0};
        bool dec_ready = false;

        bool tnef = (ct && (g_mime_content_type_is_type(ct, "application", "ms-tnef") ||
                            g_mime_content_type_is_type(ct, "application", "vnd.ms-tnef"))) ||
                    (fname && ieq(fname, "winmail.dat"));
        if (tnef) {
                e = vg_layer_child_unscannable(m->l, name, VG_REASON_UNSUPPORTED);
                goto out;
        }
        if (ct && (g_mime_content_type_is_type(ct, "application", "pkcs7-mime") ||
                   g_mime_content_type_is_type(ct, "application", "x-pkcs7-mime"))) {
                const char *t = g_mime_content_type_get_parameter(ct, "smime-type");
                bool signed_only = t && ieq(t, "signed-data");
                e = vg_layer_child_unscannable(
                    m->l, name, signed_only ? VG_REASON_UNSUPPORTED : VG_REASON_ENCRYPTED);
                goto out;
        }
        GMimeDataWrapper *w = g_mime_part_get_content(part);
        GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
        if (!raw)
                goto out; /* a part without content */
        GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(w);
        const char *cte = g_mime_object_get_header(o, "Content-Transfer-Encoding");
        bool unknown_cte =
            cte && !blank_string(cte) &&
            g_mime_content_encoding_from_string(cte) == GMIME_CONTENT_ENCODING_DEFAULT;
        if ((e = dec_init(&d, m->l, raw, enc)) < 0)
                goto out;
        dec_ready = true;
        if (enc == GMIME_CONTENT_ENCODING_UUENCODE)
                e = uu_part(m, &d, fname, name);
        else if (body && g_mime_content_type_is_type(ct, "text", "html"))
                e = markup_body(m, &d, o, "text/html");
        else if (body && g_mime_content_type_is_type(ct, "text", "rtf"))
                e = markup_body(m, &d, o, "text/rtf");
        else if (body)
                e = plain_body(m, &d, o);
        else
                e = child_input(m->l, name, dec_read, &d);
        if (e < 0)
                goto out;
        if (d.b64_bad && (e = mark(m, body, name, VG_REASON_CORRUPT)) < 0)
                goto out;
        if (unknown_cte && (e = mark(m, body, name, VG_REASON_UNSUPPORTED)) < 0)
                goto out;
        if (g_mime_part_get_openpgp_data(part) == GMIME_OPENPGP_DATA_ENCRYPTED &&
            (e = mark(m, body, name, VG_REASON_ENCRYPTED)) < 0)
                goto out;
        if (ct && g_mime_content_type_is_type(ct, "message", "partial"))
                e = mark(m, false, name, VG_REASON_UNSUPPORTED);
out:
        if (dec_ready)
                dec_free(&d);
        free(name);
        return e;
}

static int walk(struct mail *m, GMimeObject *o, char *sect, unsigned nest);

static int multipart(struct mail *m, GMimeObject *o, char *sect, unsigned nest)
{
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        const char *pro = g_mime_multipart_get_prologue(mp);
        const char *epi = g_mime_multipart_get_epilogue(mp);
        int e = 0;
        if (pro && (e = push_raw(m->l, pro, strlen(pro))) < 0)
                return e;
        int n = g_mime_multipart_get_count(mp);
        size_t base = strlen(sect);
        for (int i = 0; i < n && e == 0; i++) {
                GMimeObject *c = g_mime_multipart_get_part(mp, i);
                int k = base ? snprintf(sect + base, SECT_CAP - base, ".%d", i + 1)
                             : snprintf(sect, SECT_CAP, "%d", i + 1);
                if (k < 0 || (size_t)k >= SECT_CAP - base)
                        e = -ENAMETOOLONG;
                else if (c)
                        e = walk(m, c, sect, nest + 1);
                sect[base] = '\0';
        }
        if (e == 0 && epi)
                e = push_raw(m->l, epi, strlen(epi));
        return e;
}

/* One MIME object. sect is its section number (the buffer is SECT_CAP bytes and
 * is extended for its children); nest its multipart nesting within this mail. */
static int walk(struct mail *m, GMimeObject *o, char *sect, unsigned nest)
{
        struct vg_layer *l = m->l;
        int e;
        if ((e = vg_layer_count_member(l)) < 0 || (e = vg_layer_check_time(l)) < 0)
                return e;
        if (l->depth + nest > l->scan->engine->cfg.limits.max_depth) {
                char *name = part_name(o, *sect ? sect : "1");
                if (!name)
                        return -ENOMEM;
                e = vg_layer_child_unscannable(l, name, VG_REASON_LIMIT_DEPTH);
                free(name);
                return e;
        }
        if ((e = push_headers(m, o)) < 0)
                return e;
        if (GMIME_IS_MULTIPART_ENCRYPTED(o)) {
                char *name = part_name(o, *sect ? sect : "1");
                if (!name)
                        return -ENOMEM;
                e = vg_layer_child_unscannable(l, name, VG_REASON_ENCRYPTED);
                free(name);
                return e;
        }
        if (GMIME_IS_MULTIPART(o))
                return multipart(m, o, sect, nest);
        if (GMIME_IS_MESSAGE_PART(o))
                return message_part(m, o, *sect ? sect : "1");
        if (GMIME_IS_PART(o))
                return leaf(m, o, *sect ? sect : "1");
        return 0;
}

/* ------------------------------------------------------------------------ */

/* GMime 3.2 ends a part's content where the boundary line starts, less the line
 * break before it, which it takes to be "\r\n" when the boundary line itself ends
 * with "\r\n" (gmime-parser.c, parser_scan_content). When the part's last line
 * ends with a bare "\n" (mixed line ends, as hand-made mails have), the last byte
 * of the content is lost, silently: the digit that completes an identifier, the
 * padding of a base64 body. The first bytes past each part's end say whether that
 * happened ("\r\n" or "\n" is right; anything else then "\n" is one byte cut),
 * and the part gets its byte back. Nested messages are repaired before GMime
 * writes them out, so the mail one layer down has it too. */
static void repair(GMimeObject *o, int fd, unsigned level)
{
        if (level > GMIME_MAX_LEVEL)
                return;
        if (GMIME_IS_MULTIPART(o)) {
                GMimeMultipart *mp = GMIME_MULTIPART(o);
                int n = g_mime_multipart_get_count(mp);
                for (int i = 0; i < n; i++) {
                        GMimeObject *c = g_mime_multipart_get_part(mp, i);
                        if (c)
                                repair(c, fd, level + 1);
                }
                return;
        }
        if (GMIME_IS_MESSAGE_PART(o)) {
                GMimeMessage *msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
                GMimeObject *body = msg ? g_mime_message_get_mime_part(msg) : NULL;
                if (body)
                        repair(body, fd, level + 1);
                return;
        }
        if (!GMIME_IS_PART(o))
                return;
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        GMimeStream *raw = w ? g_mime_data_wrapper_get_stream(w) : NULL;
        if (!raw || !GMIME_IS_STREAM_FS(raw) || GMIME_STREAM_FS(raw)->fd != fd ||
            raw->bound_end < raw->bound_start || raw->bound_start < 0)
                return;
        char two[2];
        ssize_t r;
        do
                r = pread(fd, two, sizeof(two), (off_t)raw->bound_end);
        while (r < 0 && errno == EINTR);
        if (r != 2 || two[0] == '\r' || two[0] == '\n' || two[1] != '\n')
                return;
        GMimeStream *fixed = g_mime_stream_substream(raw, raw->bound_start, raw->bound_end + 1);
        if (fixed) {
                g_mime_data_wrapper_set_stream(w, fixed);
                g_object_unref(fixed);
        }
}

/* What cannot be parsed as a mail is still read as plain text. */
static int scan_raw(struct vg_layer *l, int fd)
{
        struct vg_input *in = malloc(sizeof(*in));
        if (!in)
                return -ENOMEM;
        vg_input_init_fd(in, fd);
        int e = vg_input_fill_head(in);
        if (e == 0)
                e = vg_extract_text.run(l, in);
        free(in);
        return e;
}

static int refuse(struct vg_layer *l, int fd, enum vg_reason r)
{
        (void)vg_layer_fail(l, r);
        return scan_raw(l, fd);
}

static int read_mail(struct vg_layer *l, int fd)
{
        struct survey *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        int e = survey_run(l, fd, s);
        if (e < 0)
                goto out;
        const struct vg_limits *lim = &l->scan->engine->cfg.limits;
        uint64_t per = s->digest ? 2 : 1;
        uint64_t objects = 1 + (s->unknown ? s->dash_lines : s->bnd_lines) * per + s->msg_parts;
        uint64_t used = l->scan->members;
        uint64_t left = used < lim->max_members ? lim->max_members - used : 0;
        uint64_t nesting = s->mp_fields < GMIME_MAX_LEVEL ? s->mp_fields : GMIME_MAX_LEVEL;
        if (objects > left) {
                /* Past the members still allowed: the scan-wide limit, recorded
                 * the engine's way, before GMime builds a single part. */
                for (uint64_t i = 0; i <= left; i++)
                        if ((e = vg_layer_count_member(l)) < 0)
                                goto out;
        }
        if (objects > OBJECTS_MAX) {
                e = refuse(l, fd, VG_REASON_LIMIT_MEMBERS);
                goto out;
        }
        if (s->held > HELD_MAX || s->header_lines > HEADER_LINES_MAX ||
            s->field_max > FIELD_BYTES_MAX) {
                e = refuse(l, fd, VG_REASON_LIMIT_MEMORY);
                goto out;
        }
        if (s->dash_lines * nesting > BOUNDARY_WORK_MAX || s->header_words > HEADER_WORDS_MAX) {
                e = refuse(l, fd, VG_REASON_LIMIT_TIME);
                goto out;
        }
        if (s->nul_in_headers) /* GMime's strings end at a NUL: what follows is lost */
                (void)vg_layer_fail(l, VG_REASON_CORRUPT);

        if (lseek(fd, 0, SEEK_SET) < 0) {
                e = -errno;
                goto out;
        }
        struct mail m = {.l = l, .opt = g_mime_parser_options_new()};
        static const char *fallback[] = {"UTF-8", "windows-1252", NULL};
        g_mime_parser_options_set_fallback_charsets(m.opt, fallback);
        g_mime_parser_options_set_rfc2047_compliance_mode(m.opt, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_parameter_compliance_mode(m.opt, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_address_compliance_mode(m.opt, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_allow_addresses_without_domain(m.opt, TRUE);
        g_mime_parser_options_set_warning_callback(m.opt, on_warning, &m);
        GMimeStream *st = g_mime_stream_fs_new(fd);
        g_mime_stream_fs_set_owner(GMIME_STREAM_FS(st), FALSE);
        GMimeParser *p = g_mime_parser_new_with_stream(st);
        g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
        g_mime_parser_set_persist_stream(p, TRUE); /* contents stay in the file */
        GMimeMessage *msg = g_mime_parser_construct_message(p, m.opt);
        if (!msg) {
                e = refuse(l, fd, VG_REASON_CORRUPT);
        } else {
                char sect[SECT_CAP] = "";
                GMimeObject *body = g_mime_message_get_mime_part(msg);
                if (body)
                        repair(body, fd, 0);
                if (e == 0)
                        e = vg_layer_text(l, "", 0);
                if (e == 0)
                        e = push_headers(&m, GMIME_OBJECT(msg));
                if (e == 0 && body)
                        e = walk(&m, body, sect, 0);
                if (e == 0 && m.overflow)
                        (void)vg_layer_fail(l, VG_REASON_LIMIT_DEPTH);
                g_object_unref(msg);
        }
        g_object_unref(p);
        g_object_unref(st);
        g_mime_parser_options_free(m.opt);
out:
        survey_free(s);
        return e;
}

/* Not a mail after all: the extractor that would have had it otherwise, the
 * rows that follow this one in scan.c's table, in their order (the archive
 * extractor looks for a zip at the end of an unknown binary, markup for HTML in
 * text/plain). */
static int pass_on(struct vg_layer *l, struct vg_input *in)
{
        static const struct vg_extractor *const next[] = {
            &vg_extract_archive, &vg_extract_media, &vg_extract_pdf,
            &vg_extract_markup,  &vg_extract_text,
        };
        for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++)
                if (next[i]->accepts(l->type))
                        return next[i]->run(l, in);
        return vg_extract_binary.run(l, in);
}

static bool accepts(const char *type)
{
        return is_message_type(type) || is_tnef_type(type) || strcmp(type, "text/plain") == 0 ||
               strcmp(type, "application/octet-stream") == 0;
}

static int run(struct vg_layer *l, struct vg_input *in)
{
        if (is_tnef_type(l->type))
                return vg_layer_fail(l, VG_REASON_UNSUPPORTED);
        if (!is_message_type(l->type) && !looks_like_mail(in->head, in->head_len))
                return pass_on(l, in);
        /* libmagic said text/plain or octet-stream: the report says what it is */
        int e = l->parent ? 0 : vg_report_set_type(l->scan->report, "message/rfc822");
        int fd;
        bool owned;
        if (e == 0)
                e = vg_input_as_fd(in, vg_layer_tmpdir(l), &fd, &owned);
        if (e < 0)
                return e;
        e = read_mail(l, fd);
        if (owned)
                close(fd);
        return e;
}

const struct vg_extractor vg_extract_mime = {
    .name = "mime",
    .accepts = accepts,
    .run = run,
};

/* GMime initialises once per process, before any worker confines itself; the
 * iconv converters of the charsets mail uses are opened now and held, so glibc has
 * their modules loaded before the sandbox forbids opening files. */
/* volatile: written once and never read, so the compiler would drop the stores,
 * and leak checkers would see the converters as lost. */
static iconv_t volatile pins[24];

int vg_mime_preload(void)
{
        static gsize done;
        static int result;
        if (g_once_init_enter(&done)) {
                static const char *const charsets[] = {
                    "ISO-8859-1",   "ISO-8859-2",  "ISO-8859-15",  "WINDOWS-1250", "WINDOWS-1251",
                    "WINDOWS-1252", "UTF-7",       "UTF-16",       "UTF-16LE",     "UTF-16BE",
                    "UTF-32",       "KOI8-R",      "IBM850",       "MACINTOSH",    "SHIFT_JIS",
                    "EUC-JP",       "ISO-2022-JP", "GBK",          "GB18030",      "BIG5",
                    "EUC-KR",       "ISO-8859-9",  "WINDOWS-1256", "ISO-8859-7",
                };
                g_mime_init();
                for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
                        pins[i] = iconv_open("UTF-8", charsets[i]);
                /* One small mail read through the paths a scan takes: GMime's types,
                 * its RFC 2047 and RFC 2231 decoders. */
                static const char sample[] =
                    "From: =?iso-8859-1?q?J=E9r=F4me?= <a@b.fr>\n"
                    "Subject: =?utf-8?b?w6l0w6k=?=\n"
                    "MIME-Version: 1.0\n"
                    "Content-Type: multipart/mixed; boundary=b\n\n"
                    "--b\nContent-Type: text/plain; charset=utf-8\n\nvigie\n"
                    "--b\nContent-Type: application/octet-stream\n"
                    "Content-Disposition: attachment; filename*=utf-8''%C3%A9.txt\n"
                    "Content-Transfer-Encoding: base64\n\ndmlnaWU=\n--b--\n";
                GMimeStream *st = g_mime_stream_mem_new_with_buffer(sample, sizeof(sample) - 1);
                GMimeParser *p = g_mime_parser_new_with_stream(st);
                GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
                result = -EIO;
                if (msg) {
                        const char *subject = g_mime_message_get_subject(msg);
                        GMimeObject *body = g_mime_message_get_mime_part(msg);
                        if (subject && GMIME_IS_MULTIPART(body) &&
                            g_mime_multipart_get_count(GMIME_MULTIPART(body)) == 2) {
                                GMimeObject *att =
                                    g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
                                if (GMIME_IS_PART(att) && g_mime_part_get_filename(GMIME_PART(att)))
                                        result = 0;
                        }
                        g_object_unref(msg);
                }
                g_object_unref(p);
                g_object_unref(st);
                g_once_init_leave(&done, 1);
        }
        return result;
}

#include "text.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "detect.h"

/* Each chunk after the first starts with the last OVERLAP bytes of the previous
 * one. Of those, the first CONTEXT bytes are only there for look-behinds and
 * context words; counting starts at CONTEXT. A non-final chunk counts the matches
 * that start before len - OVERLAP + CONTEXT, which is exactly where the next chunk
 * starts counting: every match is counted in one chunk only. A match is at most
 * VG_MAX_MATCH bytes, and OVERLAP - CONTEXT leaves room for it and its look-ahead,
 * so a counted match is always whole. */
#define CONTEXT 512
#define OVERLAP (CONTEXT + VG_MAX_MATCH + 512)

struct vg_text {
        struct vg_detect *det;
        char *buf;
        size_t len;
        size_t chunk;
        size_t cap;
        bool carried; /* buf starts with an overlap from the previous chunk */
        unsigned char pend[4];
        size_t npend;
        unsigned long long total;
        unsigned long long detect_ns;
        struct vg_buf *tap; /* redaction: a copy of the text as pushed */
};

int vg_text_new(struct vg_detect *det, size_t chunk, struct vg_text **ret)
{
        if (chunk < 4 * OVERLAP)
                chunk = 4 * OVERLAP;
        struct vg_text *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->det = det;
        t->chunk = chunk;
        t->cap = chunk + OVERLAP + 8;
        t->buf = malloc(t->cap);
        if (!t->buf) {
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void vg_text_free(struct vg_text *t)
{
        if (!t)
                return;
        free(t->buf);
        free(t);
}

static int scan(struct vg_text *t, bool final)
{
        size_t from = t->carried ? CONTEXT : 0;
        size_t until = final ? t->len : t->len - OVERLAP + CONTEXT;
        /* Timed always: two clock reads per chunk of TEXT_CHUNK bytes cost nothing. */
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        int e = vg_detect_run(t->det, t->buf, t->len, from, until);
        clock_gettime(CLOCK_MONOTONIC, &b);
        t->detect_ns +=
            (unsigned long long)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
        if (e < 0)
                return e;
        if (!final) {
                memmove(t->buf, t->buf + t->len - OVERLAP, OVERLAP);
                t->len = OVERLAP;
                t->carried = true;
        }
        return 0;
}

static int put(struct vg_text *t, const char *s, size_t n)
{
        while (n > 0) {
                size_t room = t->chunk + OVERLAP - t->len;
                size_t k = n < room ? n : room;
                memcpy(t->buf + t->len, s, k);
                t->len += k;
                t->total += k;
                s += k;
                n -= k;
                if (t->len >= t->chunk + OVERLAP) {
                        int e = scan(t, false);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

/* Length of the UTF-8 sequence started by lead byte c (1 for invalid bytes, which
 * pass through as themselves). */
size_t vg_utf8_seq_len(unsigned char c)
{
        if (c < 0xc2)
                return 1;
        if (c < 0xe0)
                return 2;
        if (c < 0xf0)
                return 3;
        if (c < 0xf5)
                return 4;
        return 1;
}

/* Normalisation for detection: the no-break spaces (U+00A0, U+202F, U+2007) become
 * spaces, dashes (U+2010-U+2015, U+2212) become '-', full-width digits and letters
 * fold to ASCII, and invisible characters (soft hyphen, zero-width space and
 * joiners, BOM) are dropped, so none of them can split or hide an identifier.
 * Returns the replacement (possibly empty) or NULL to keep the sequence. */
const char *vg_text_fold_seq(const unsigned char *s, size_t n, char tmp[2])
{
        if (n == 2 && s[0] == 0xc2) {
                if (s[1] == 0xa0)
                        return " ";
                if (s[1] == 0xad)
                        return "";
        } else if (n == 3 && s[0] == 0xe2 && s[1] == 0x80) {
                if (s[2] == 0xaf || s[2] == 0x87 || (s[2] >= 0x80 && s[2] <= 0x8a))
                        return " ";
                if (s[2] >= 0x90 && s[2] <= 0x95)
                        return "-";
                if (s[2] >= 0x8b && s[2] <= 0x8d)
                        return "";
        } else if (n == 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0xa0) {
                return ""; /* word joiner */
        } else if (n == 3 && s[0] == 0xe2 && s[1] == 0x88 && s[2] == 0x92) {
                return "-";
        } else if (n == 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf) {
                return "";
        } else if (n == 3 && s[0] == 0xef && s[1] == 0xbc && s[2] >= 0x90 && s[2] <= 0x99) {
                tmp[0] = (char)('0' + (s[2] - 0x90));
                tmp[1] = '\0';
                return tmp;
        } else if (n == 3 && s[0] == 0xef && s[1] == 0xbc && s[2] >= 0xa1 && s[2] <= 0xba) {
                tmp[0] = (char)('A' + (s[2] - 0xa1));
                tmp[1] = '\0';
                return tmp;
        } else if (n == 3 && s[0] == 0xef && s[1] == 0xbd && s[2] >= 0x81 && s[2] <= 0x9a) {
                tmp[0] = (char)('a' + (s[2] - 0x81));
                tmp[1] = '\0';
                return tmp;
        }
        return NULL;
}

static int put_seq(struct vg_text *t, const unsigned char *s, size_t n)
{
        char tmp[2];
        const char *rep = vg_text_fold_seq(s, n, tmp);
        if (rep)
                return put(t, rep, strlen(rep));
        return put(t, (const char *)s, n);
}

void vg_text_set_tap(struct vg_text *t, struct vg_buf *tap)
{
        t->tap = tap;
}

int vg_text_push(struct vg_text *t, const char *str, size_t n)
{
        /* Nothing to add (an extractor may pass an empty value as NULL, 0). */
        if (n == 0)
                return 0;
        const unsigned char *s = (const unsigned char *)str;
        size_t i = 0;
        int e;
        if (t->tap && (e = vg_buf_append(t->tap, str, n)) < 0)
                return e;
        /* Complete a sequence left open by the previous push. */
        while (t->npend > 0 && i < n) {
                size_t want = vg_utf8_seq_len(t->pend[0]);
                if ((s[i] & 0xc0) != 0x80) {
                        /* broken sequence: pass the bytes through as they are */
                        e = put(t, (const char *)t->pend, t->npend);
                        t->npend = 0;
                        if (e < 0)
                                return e;
                        break;
                }
                t->pend[t->npend++] = s[i++];
                if (t->npend == want) {
                        e = put_seq(t, t->pend, t->npend);
                        t->npend = 0;
                        if (e < 0)
                                return e;
                }
        }
        size_t run = i; /* start of a run of bytes copied unchanged */
        while (i < n) {
                if (s[i] < 0x80) {
                        i += vg_ascii_prefix(s + i, n - i);
                        continue;
                }
                /* U+00C0..U+07FF (accented letters): kept as they are, and
                 * not checked, as below (vg_text_fold_seq() changes none) */
                if (s[i] >= 0xc3 && s[i] < 0xe0 && i + 2 <= n) {
                        i += 2;
                        continue;
                }
                size_t want = vg_utf8_seq_len(s[i]);
                if (want == 1) {
                        i++;
                        continue;
                }
                if (i + want > n) {
                        /* Sequence cut by the end of this push: keep it for the next. */
                        if ((e = put(t, (const char *)s + run, i - run)) < 0)
                                return e;
                        memcpy(t->pend, s + i, n - i);
                        t->npend = n - i;
                        return 0;
                }
                char tmp[2];
                const char *rep = vg_text_fold_seq(s + i, want, tmp);
                if (rep) {
                        if ((e = put(t, (const char *)s + run, i - run)) < 0 ||
                            (e = put(t, rep, strlen(rep))) < 0)
                                return e;
                        run = i + want;
                }
                i += want;
        }
        return put(t, (const char *)s + run, n - run);
}

int vg_text_break(struct vg_text *t)
{
        if (t->len == 0 || t->buf[t->len - 1] == '\n') {
                /* the copy breaks too: another layer's text may have come between */
                if (t->tap && t->tap->len && t->tap->data[t->tap->len - 1] != '\n')
                        return vg_buf_appendc(t->tap, '\n');
                return 0;
        }
        return vg_text_push(t, "\n", 1);
}

int vg_text_end(struct vg_text *t)
{
        if (t->npend) {
                int e = put(t, (const char *)t->pend, t->npend);
                t->npend = 0;
                if (e < 0)
                        return e;
        }
        return scan(t, true);
}

unsigned long long vg_text_detect_ns(const struct vg_text *t)
{
        return t->detect_ns;
}

unsigned long long vg_text_bytes(const struct vg_text *t)
{
        return t->total;
}

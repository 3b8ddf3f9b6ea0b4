#include "charset.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* Windows-1252 0x80-0x9f; 0 marks the five undefined bytes (sent as U+FFFD). */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static bool utf8_valid_prefix(const unsigned char *s, size_t n)
{
        size_t i = 0;
        while (i < n) {
                i += vg_ascii_prefix(s + i, n - i);
                if (i >= n)
                        break;
                unsigned char c = s[i];
                size_t len;
                uint32_t min;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c < 0xe0) {
                        len = 2;
                        min = 0x80;
                } else if (c >= 0xe0 && c < 0xf0) {
                        len = 3;
                        min = 0x800;
                } else if (c >= 0xf0 && c < 0xf5) {
                        len = 4;
                        min = 0x10000;
                } else {
                        return false;
                }
                if (i + len > n)
                        return true; /* cut by the end of the head: judge what we saw */
                uint32_t cp = c & (0xff >> (len + 1));
                for (size_t k = 1; k < len; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += len;
        }
        return true;
}

/* UTF-16 without a BOM: most ASCII text has a zero in every other byte. */
static int utf16_guess(const unsigned char *s, size_t n)
{
        size_t even = 0, odd = 0, pairs = n / 2;
        /* no zero byte (memchr is fast): no UTF-16 */
        if (pairs < 8 || !memchr(s, 0, n))
                return -1;
        for (size_t i = 0; i + 1 < n; i += 2) {
                even += s[i] == 0;
                odd += s[i + 1] == 0;
        }
        if (odd * 10 >= pairs * 7 && even * 10 < pairs)
                return VG_CS_UTF16LE;
        if (even * 10 >= pairs * 7 && odd * 10 < pairs)
                return VG_CS_UTF16BE;
        return -1;
}

enum vg_charset vg_charset_sniff(const unsigned char *h, size_t n, size_t *bom)
{
        *bom = 0;
        if (n >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf) {
                *bom = 3;
                return VG_CS_UTF8;
        }
        if (n >= 2 && h[0] == 0xff && h[1] == 0xfe) {
                *bom = 2;
                return VG_CS_UTF16LE;
        }
        if (n >= 2 && h[0] == 0xfe && h[1] == 0xff) {
                *bom = 2;
                return VG_CS_UTF16BE;
        }
        int g = utf16_guess(h, n);
        if (g >= 0)
                return (enum vg_charset)g;
        return utf8_valid_prefix(h, n) ? VG_CS_UTF8 : VG_CS_CP1252;
}

int vg_charset_from_name(const char *name)
{
        static const struct {
                const char *name;
                enum vg_charset cs;
        } names[] = {
            {"utf-8", VG_CS_UTF8},       {"utf8", VG_CS_UTF8},
            {"us-ascii", VG_CS_UTF8},    {"ascii", VG_CS_UTF8},
            {"utf-16le", VG_CS_UTF16LE}, {"utf-16be", VG_CS_UTF16BE},
            {"utf-16", VG_CS_UTF16LE},   {"windows-1252", VG_CS_CP1252},
            {"cp1252", VG_CS_CP1252},    {"iso-8859-1", VG_CS_CP1252},
            {"latin1", VG_CS_CP1252},    {"iso-8859-15", VG_CS_CP1252},
        };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcasecmp(name, names[i].name) == 0)
                        return (int)names[i].cs;
        return -1;
}

void vg_decoder_init(struct vg_decoder *d, enum vg_charset cs)
{
        d->cs = cs;
        d->npend = 0;
        d->hi_surrogate = 0;
}

static size_t put_utf8(uint32_t cp, char *o)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

#define OUT_MAX 16384

struct out {
        char buf[OUT_MAX + 8];
        size_t len;
};

static int flush(struct out *o, struct vg_text *t)
{
        int e = o->len ? vg_text_push(t, o->buf, o->len) : 0;
        o->len = 0;
        return e;
}

static int emit(struct out *o, struct vg_text *t, uint32_t cp)
{
        if (o->len >= OUT_MAX) {
                int e = flush(o, t);
                if (e < 0)
                        return e;
        }
        o->len += put_utf8(cp, o->buf + o->len);
        return 0;
}

static int utf16_unit(struct vg_decoder *d, struct out *o, struct vg_text *t, unsigned u)
{
        int e = 0;
        if (u >= 0xd800 && u <= 0xdbff) {
                if (d->hi_surrogate)
                        e = emit(o, t, 0xfffd); /* unpaired high surrogate */
                d->hi_surrogate = u;
                return e;
        }
        if (u >= 0xdc00 && u <= 0xdfff) {
                if (!d->hi_surrogate)
                        return emit(o, t, 0xfffd);
                uint32_t cp = 0x10000 + ((d->hi_surrogate - 0xd800) << 10) + (u - 0xdc00);
                d->hi_surrogate = 0;
                return emit(o, t, cp);
        }
        if (d->hi_surrogate) {
                d->hi_surrogate = 0;
                if ((e = emit(o, t, 0xfffd)) < 0)
                        return e;
        }
        return emit(o, t, u);
}

int vg_decoder_push(struct vg_decoder *d, struct vg_text *t, const unsigned char *s, size_t n)
{
        if (d->cs == VG_CS_UTF8)
                return vg_text_push(t, (const char *)s, n);
        struct out o;
        o.len = 0;
        int e = 0;
        size_t i = 0;
        if (d->cs == VG_CS_CP1252) {
                for (; i < n && e == 0; i++) {
                        /* ASCII is itself: copied a run at a time */
                        size_t a = vg_ascii_prefix(s + i, n - i);
                        while (a > 0 && e == 0) {
                                if (o.len >= OUT_MAX && (e = flush(&o, t)) < 0)
                                        break;
                                size_t k = OUT_MAX - o.len < a ? OUT_MAX - o.len : a;
                                memcpy(o.buf + o.len, s + i, k);
                                o.len += k;
                                i += k;
                                a -= k;
                        }
                        if (i >= n || e < 0)
                                break;
                        unsigned char c = s[i];
                        uint32_t cp = c;
                        if (c >= 0x80 && c < 0xa0)
                                cp = cp1252_high[c - 0x80] ? cp1252_high[c - 0x80] : 0xfffd;
                        e = emit(&o, t, cp);
                }
        } else {
                bool le = d->cs == VG_CS_UTF16LE;
                if (d->npend && n > 0) {
                        unsigned char b0 = d->pend[0], b1 = s[i++];
                        d->npend = 0;
                        e = utf16_unit(
                            d, &o, t, le ? (unsigned)(b0 | (b1 << 8)) : (unsigned)((b0 << 8) | b1));
                }
                for (; i + 1 < n && e == 0; i += 2) {
                        unsigned u = le ? (unsigned)(s[i] | (s[i + 1] << 8))
                                        : (unsigned)((s[i] << 8) | s[i + 1]);
                        e = utf16_unit(d, &o, t, u);
                }
                if (e == 0 && i < n)
                        d->pend[d->npend++] = s[i];
        }
        if (e < 0)
                return e;
        return flush(&o, t);
}

int vg_decoder_end(struct vg_decoder *d, struct vg_text *t)
{
        if (d->cs == VG_CS_UTF16LE || d->cs == VG_CS_UTF16BE) {
                if (d->hi_surrogate || d->npend) {
                        d->hi_surrogate = 0;
                        d->npend = 0;
                        return vg_text_push(t, "\xef\xbf\xbd", 3);
                }
        }
        return 0;
}

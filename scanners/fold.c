/* Case and accent folding for words: markings, health terms, context words and
 * dictionaries match "CONFIDENTIEL", "Confidentiel" and "confidentiél" alike. */
#include <string.h>

#include "detect.h"

/* Base letters of U+00C0..U+00FF (Latin-1 Supplement letters); 0 = keep as is. */
static const char latin1[64] = {
    'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   's',
    'a', 'a', 'a', 'a', 'a', 'a', 0,   'c', 'e', 'e', 'e', 'e', 'i', 'i', 'i', 'i',
    'd', 'n', 'o', 'o', 'o', 'o', 'o', 0,   'o', 'u', 'u', 'u', 'u', 'y', 0,   'y',
};

size_t vg_fold(const char *str, size_t n, char *out, uint32_t *map)
{
        const unsigned char *s = (const unsigned char *)str;
        size_t o = 0;
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                const char *rep = NULL;
                char one[2] = {0, 0};
                size_t in_len = 1;
                if (c >= 'A' && c <= 'Z') {
                        one[0] = (char)(c - 'A' + 'a');
                        rep = one;
                } else if (c == 0xc3 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0xbf) {
                        in_len = 2;
                        unsigned char d = s[i + 1];
                        if (d == 0x86 || d == 0xa6)
                                rep = "ae";
                        else if (latin1[d - 0x80]) {
                                one[0] = latin1[d - 0x80];
                                rep = one;
                        }
                } else if (c == 0xc5 && i + 1 < n && (s[i + 1] == 0x92 || s[i + 1] == 0x93)) {
                        in_len = 2;
                        rep = "oe";
                } else if (c == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
                           (s[i + 2] == 0x98 || s[i + 2] == 0x99)) {
                        /* typographic apostrophes: "d’imposition" is "d'imposition" */
                        in_len = 3;
                        rep = "'";
                } else if (c == 0xc2 && i + 1 < n && (s[i + 1] == 0xab || s[i + 1] == 0xbb)) {
                        /* French quotation marks around a word: «CNI» */
                        in_len = 2;
                        rep = "\"";
                }
                if (rep) {
                        for (size_t k = 0; rep[k]; k++) {
                                if (map)
                                        map[o] = (uint32_t)i;
                                out[o++] = rep[k];
                        }
                } else {
                        for (size_t k = 0; k < in_len; k++) {
                                if (map)
                                        map[o] = (uint32_t)(i + k);
                                out[o++] = (char)s[i + k];
                        }
                }
                i += in_len;
        }
        out[o] = '\0';
        return o;
}

static bool word_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

bool vg_match_has_context(const struct vg_match *m, const char *const *words, size_t window)
{
        if (!words)
                return false;
        if (window == 0)
                window = 64;
        if (window > VG_MAX_WINDOW)
                window = VG_MAX_WINDOW;
        size_t lo = m->start > window ? m->start - window : 0;
        size_t hi = m->end + window < m->len ? m->end + window : m->len;
        /* before and after, folded, with the match itself left out */
        char before[2 * VG_MAX_WINDOW + 1], after[2 * VG_MAX_WINDOW + 1];
        size_t nb = vg_fold(m->buf + lo, m->start - lo, before, NULL);
        size_t na = vg_fold(m->buf + m->end, hi - m->end, after, NULL);
        const char *parts[2] = {before, after};
        size_t lens[2] = {nb, na};
        for (const char *const *w = words; *w; w++) {
                size_t wl = strlen(*w);
                for (int p = 0; p < 2; p++) {
                        const char *h = parts[p];
                        for (const char *f = h; (f = memmem(f, lens[p] - (size_t)(f - h), *w, wl));
                             f++) {
                                bool left = f == h || !word_char(f[-1]);
                                bool right = (size_t)(f - h) + wl >= lens[p] || !word_char(f[wl]);
                                if (left && right)
                                        return true;
                        }
                }
        }
        return false;
}

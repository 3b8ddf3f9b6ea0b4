/* French personal identifiers: NIR (social security number). */
#include "detect.h"
#include "mask.h"
#include "validate.h"

#include <stdbool.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static unsigned num2(const char *s)
{
        return (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
}

/* INSEE rules for the body: sex 1/2 (3, 4, 7, 8: temporary numbers), month 01-12
 * or the special ranges 20, 30-42, 50-99 (unknown or unverified month), department
 * 01-95 or 2A/2B (Corsica), 97x/98x (overseas: the third digit belongs to the
 * department), 99 (born abroad); commune and order number never 000. */
static bool nir_body_plausible(const char *c)
{
        if (c[0] != '1' && c[0] != '2' && c[0] != '3' && c[0] != '4' && c[0] != '7' && c[0] != '8')
                return false;
        unsigned month = num2(c + 3);
        if (!((month >= 1 && month <= 12) || month == 20 || (month >= 30 && month <= 42) ||
              month >= 50))
                return false;
        if (c[5] == '2' && (c[6] == 'A' || c[6] == 'B')) {
                /* Corsica since 1976 */
        } else if (!is_digit(c[5]) || !is_digit(c[6])) {
                return false;
        } else {
                unsigned dep = num2(c + 5);
                if (dep == 0 || dep == 96)
                        return false;
                if (dep == 97 && (c[7] < '1' || c[7] > '8'))
                        return false;
        }
        if (c[7] == '0' && c[8] == '0' && c[9] == '0')
                return false;
        if (c[10] == '0' && c[11] == '0' && c[12] == '0')
                return false;
        return true;
}

static bool nir_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        size_t k = 0;
        for (size_t i = 0; i < n && k < 16; i++) {
                char c = s[i];
                if (c == 'a' || c == 'b')
                        c = (char)(c - 'a' + 'A');
                if (is_digit(c) || c == 'A' || c == 'B')
                        h->canon[k++] = c;
        }
        if (k != 15 || !nir_body_plausible(h->canon) || !vg_nir_valid(h->canon, 15))
                return false;
        h->canon[k] = '\0';
        h->canon_len = k;
        h->used = n;
        /* 1 85 05 ** *** *** **: sex, year and month stay; place, order and key go. */
        static const unsigned char groups[] = {1, 2, 2, 2, 3, 3, 2, 0};
        return vg_mask_groups(h->canon, k, groups, 5, 0, h->masked, sizeof(h->masked)) > 0;
}

const struct vg_detector vg_detectors_fr_id[] = {
    {
        .id = "fr_nir",
        /* Sex digit, then twelve characters (digits, A/B for Corsica) and the key,
         * with at most two separators between digits (spaces, dots, dashes). */
        .pattern = "(?<![0-9A-Za-z])[1234578](?:[ \\t.-]{0,2}[0-9ABab]){12}"
                   "[ \\t.-]{0,2}[0-9]{2}(?![0-9A-Za-z])",
        .check = nir_check,
    },
    {.id = NULL},
};

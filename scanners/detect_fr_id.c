/* French personal identifiers: NIR (social security number), tax number (SPI),
 * driving licence, health professionals and establishments (RPPS, ADELI, FINESS),
 * identity card, passport. All but the NIR need a context word nearby: their
 * shapes are too common to be taken alone. */
#include "detect.h"
#include "mask.h"
#include "validate.h"

#include <stdbool.h>
#include <string.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_alnum(char c)
{
        return is_digit(c) || is_alpha(c);
}

static char upper(char c)
{
        return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
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
        /* The tail of a longer run of digit groups ("FR58 4849 0042 3849 2572
         * 3378 715", an account number, a phone list) is not a NIR: a digit
         * one separator before the match says so. */
        if (m->start >= 2 && is_digit(m->buf[m->start - 2]) &&
            (m->buf[m->start - 1] == ' ' || m->buf[m->start - 1] == '.' ||
             m->buf[m->start - 1] == '-' || m->buf[m->start - 1] == '\t'))
                return false;
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

/* The match's letters and digits, upper-cased, into out (at most max); 0 when
 * there are more. The patterns allow only separators between them. */
static size_t compact(const struct vg_match *m, char *out, size_t max)
{
        size_t k = 0;
        for (size_t i = m->start; i < m->end; i++) {
                if (!is_alnum(m->buf[i]))
                        continue;
                if (k == max)
                        return 0;
                out[k++] = upper(m->buf[i]);
        }
        out[k] = '\0';
        return k;
}

static bool is_group_sep(char c)
{
        return c == ' ' || c == '.' || c == '-' || c == '/';
}

/* Whether the match is a piece of something longer: a digit and a separator
 * right before it or a separator and a digit right after it ("1 85 05 78 006 084
 * 91" holds thirteen digits that are not a tax number), a decimal part after it
 * (an amount), or a code and a dash before it ("CMD-908916258502"). */
static bool in_longer_run(const struct vg_match *m)
{
        const char *b = m->buf;
        if (m->start >= 2 && is_group_sep(b[m->start - 1]) && is_digit(b[m->start - 2]))
                return true;
        if (m->start >= 2 && b[m->start - 1] == '-' && is_alnum(b[m->start - 2]))
                return true;
        return m->end + 1 < m->len && (is_group_sep(b[m->end]) || b[m->end] == ',') &&
               is_digit(b[m->end + 1]);
}

/* The lengths of the groups of alphanumerics in the match, 0-terminated (at most
 * max - 1 groups; false when there are more). */
static bool group_sizes(const struct vg_match *m, unsigned char *g, size_t max)
{
        size_t n = 0;
        g[0] = 0;
        for (size_t i = m->start; i < m->end; i++) {
                if (is_alnum(m->buf[i])) {
                        g[n]++;
                } else if (g[n]) {
                        if (++n == max - 1)
                                return false;
                        g[n] = 0;
                }
        }
        g[n + (g[n] ? 1 : 0)] = 0;
        return true;
}

/* Whether the groups are one of the 0-terminated layouts in `ok`, themselves
 * separated by a 0 and ended by two. */
static bool layout_in(const unsigned char *g, const unsigned char *ok)
{
        while (ok[0]) {
                size_t i = 0;
                while (ok[i] && g[i] == ok[i])
                        i++;
                if (!ok[i] && !g[i])
                        return true;
                while (ok[i])
                        i++;
                ok += i + 1;
        }
        return false;
}

/* Whether one of `words` stands within `window` bytes before the match. */
static bool label_before(const struct vg_match *m, const char *const *words, size_t window)
{
        struct vg_match before = *m;
        before.len = m->end; /* nothing after the match */
        before.raw_len = m->raw_end;
        return vg_match_has_context(&before, words, window);
}

static bool two_digits(const char *c, unsigned *v)
{
        if (!is_digit(c[0]) || !is_digit(c[1]))
                return false;
        *v = num2(c);
        return true;
}

/* A department as written in identifiers: 01-95, 2A/2B, 97 (overseas, the next
 * character completes it). */
static bool department(const char *c)
{
        unsigned d;
        if (c[0] == '2' && (c[1] == 'A' || c[1] == 'B'))
                return true;
        return two_digits(c, &d) && ((d >= 1 && d <= 95) || d == 97);
}

static bool mask(struct vg_hit *h, size_t k, const unsigned char *groups, size_t head)
{
        h->canon_len = k;
        return vg_mask_groups(h->canon, k, groups, head, 0, h->masked, sizeof(h->masked)) > 0;
}

static const char *const tax_words[] = {
    "fiscal",
    "fiscale",
    "spi",
    "numero fiscal",
    "avis d'imposition",
    "avis d\xe2\x80\x99imposition",
    "imposition",
    "impot",
    "impots",
    "reference de l'avis",
    "reference de l\xe2\x80\x99"
    "avis",
    "declarant",
    "declarants",
    "nif",
    "tax id",
    "tax identification",
    NULL,
};

static const char *const licence_words[] = {
    "permis de conduire",
    "permis",
    "neph",
    "driving licence",
    "driving license",
    "driver's license",
    "driver\xe2\x80\x99s license",
    "driver license",
    "licence de conduire",
    NULL,
};

static const char *const health_words[] = {
    "rpps", "adeli", "finess", "idnat", "professionnel de sante", "etablissement de sante", NULL,
};

static const char *const cni_words[] = {
    "carte nationale d'identite",
    "carte nationale d\xe2\x80\x99identite",
    "carte d'identite",
    "carte d\xe2\x80\x99identite",
    "cni",
    "cnie",
    "n\xc2\xb0 de la carte",
    "numero de la carte",
    "piece d'identite",
    "piece d\xe2\x80\x99identite",
    "identity card",
    "id card",
    NULL,
};

/* How close before the match the nearest of `words` ends, in steps of 8 bytes up
 * to `max` (max + 1: none). A number between two labels belongs to the nearer. */
static size_t nearest_before(const struct vg_match *m, const char *const *words, size_t max)
{
        for (size_t w = 8; w <= max; w += 8)
                if (label_before(m, words, w))
                        return w;
        return max + 1;
}

/* Numéro fiscal (SPI): 13 digits, the first 0-3, key = first ten mod 511 (the
 * rule of the DGFiP's identifier, as python-stdnum's fr.nif also checks it). */
static bool tax_check(const struct vg_match *m, struct vg_hit *h)
{
        if (compact(m, h->canon, 13) != 13 || !vg_spi_valid(h->canon, 13) || in_longer_run(m))
                return false;
        if (memcmp(h->canon, "0000000000", 10) == 0)
                return false; /* zeros pass mod 511: a placeholder */
        /* 30 ** *** *** ***: the first two digits only */
        static const unsigned char groups[] = {2, 2, 3, 3, 3, 0};
        return mask(h, 13, groups, 2);
}

/* Driving licence, 12 characters. Since 2013 the number is the NEPH: year (2),
 * month (2), department (2), prefecture (2), order (4), all digits. Licences
 * issued before keep their old number: year (2), department (2, 2A/2B), two
 * letters or digits of the issuing office, six digits of order. Both are read as:
 * two digits, a department or month (01-95, 97, 2A/2B), two letters or digits, six
 * digits; there is no key. */
static bool licence_check(const struct vg_match *m, struct vg_hit *h)
{
        /* As written: compact, in pairs, in fours, or the old licence's
         * "87 75 AB 123456" and the NEPH's "14 05 34 30 0210". */
        static const unsigned char layouts[] = {12, 0, 2, 2, 2, 2, 2, 2, 0, 4, 4, 4, 0,
                                                2,  2, 2, 6, 0, 2, 2, 2, 2, 4, 0, 0};
        unsigned char g[8];
        if (compact(m, h->canon, 12) != 12 || in_longer_run(m) || !group_sizes(m, g, sizeof(g)) ||
            !layout_in(g, layouts))
                return false;
        const char *c = h->canon;
        if (!is_digit(c[0]) || !is_digit(c[1]) || !department(c + 2))
                return false;
        /* twelve digits are also the old identity card's: the nearer label wins */
        if (nearest_before(m, cni_words, 80) < nearest_before(m, licence_words, 80))
                return false;
        for (size_t i = 6; i < 12; i++)
                if (!is_digit(c[i]))
                        return false;
        /* 15 08 ** ** ****: the year and month or department only */
        static const unsigned char groups[] = {2, 2, 2, 2, 4, 0};
        return mask(h, 12, groups, 4);
}

static const char *const passport_words[] = {
    "passeport", "passeports", "passport", "passports", NULL,
};

/* Passport: 2 digits, 2 letters, 5 digits (the French format since 2006). */
static bool passport_shape(const char *c)
{
        for (size_t i = 0; i < 9; i++) {
                bool letter = i == 2 || i == 3;
                if (letter ? !is_alpha(c[i]) : !is_digit(c[i]))
                        return false;
        }
        return true;
}

static bool passport_check(const struct vg_match *m, struct vg_hit *h)
{
        if (compact(m, h->canon, 9) != 9 || !passport_shape(h->canon) || in_longer_run(m))
                return false;
        /* 12 ** *****: the two digits of the issuing year or office only */
        static const unsigned char groups[] = {2, 2, 5, 0};
        return mask(h, 9, groups, 2);
}

/* Identity card. The card of 1988-2021: 12 digits, year and month of issue (4),
 * department and office (3, "2A"/"2B" for Corsica), order (5); no key in the
 * printed number. The card of 2021: 9 letters and digits (the ICAO document
 * number), at least one of each, printed in upper case. */
static bool cni_check(const struct vg_match *m, struct vg_hit *h)
{
        size_t k = compact(m, h->canon, 12);
        const char *c = h->canon;
        if (in_longer_run(m))
                return false;
        if (k == 12) {
                /* compact, or as printed: 8806 923 10285 */
                static const unsigned char layouts[] = {12, 0, 4, 3, 5, 0, 0};
                unsigned char g[8];
                if (!group_sizes(m, g, sizeof(g)) || !layout_in(g, layouts))
                        return false;
                unsigned month;
                if (!two_digits(c + 2, &month) || month < 1 || month > 12 || !department(c + 4))
                        return false;
                if (nearest_before(m, licence_words, 80) < nearest_before(m, cni_words, 80))
                        return false;
                /* 8806 *** *****: year and month of issue only */
                static const unsigned char groups[] = {4, 3, 5, 0};
                return mask(h, 12, groups, 4);
        }
        if (k != 9)
                return false;
        size_t digits = 0;
        for (size_t i = 0; i < 9; i++)
                digits += is_digit(c[i]);
        if (digits == 0 || digits == 9)
                return false;
        /* A passport number in a sentence that also names the identity card is
         * the passport's. */
        if (passport_shape(c) && vg_match_has_context(m, passport_words, 80))
                return false;
        static const unsigned char groups[] = {9, 0};
        return mask(h, 9, groups, 2);
}

/* Company numbers that share the shapes of health numbers (a SIREN is 9 digits
 * and passes Luhn). */
static const char *const company_labels[] = {
    "siren", "siret", "tva", "rcs", NULL,
};

/* RPPS (11 digits, Luhn), ADELI (9 digits, Luhn), FINESS (9 characters, 2A/2B and
 * 9A-9F departments, Luhn key). Public directories: reported for the health
 * score and for policies that ask, never flagged alone by the default policy. */
static bool health_id_check(const struct vg_match *m, struct vg_hit *h)
{
        size_t k = compact(m, h->canon, 11);
        bool ok = k == 11  ? vg_rpps_valid(h->canon, k)
                  : k == 9 ? vg_finess_valid(h->canon, k) || vg_adeli_valid(h->canon, k)
                           : false;
        if (!ok || label_before(m, company_labels, 16))
                return false;
        static const unsigned char groups[] = {11, 0};
        return mask(h, k, groups, 2);
}

/* ---- Gates (see detect.c): where each pattern can start, read from the runs
 * of digits. Each is a promise about the pattern, whatever the check says. All
 * these patterns start with a digit after no letter or digit (a run start),
 * except the nine-character CNI, which is a whole token. */

/* Whether a match may start at run k: no letter or digit before it. */
static bool run_word_start(const struct vg_prescan *p, size_t k)
{
        return !vg_alnum_at(p, p->run_s[k] - 1);
}

/* Digits of the runs from run k on that start before `end` (a run that starts
 * there counts whole: an upper bound). */
static size_t digits_before(const struct vg_prescan *p, size_t k, size_t end)
{
        size_t n = 0;
        for (; k < p->nruns && p->run_s[k] < end; k++)
                n += p->run_e[k] - p->run_s[k];
        return n;
}

/* NIR: [1234578], then twelve of [0-9ABab] and two digits, each after at most
 * two of [ \t.-]: fifteen such units from a run start. */
static bool nir_unit(unsigned char c)
{
        return vg_is_digit(c) || c == 'A' || c == 'B' || c == 'a' || c == 'b';
}

static bool nir_sep(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '.' || c == '-';
}

static int nir_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k];
                unsigned char d = p->b[s];
                if (d == '0' || d == '6' || d == '9' || !run_word_start(p, k))
                        continue;
                /* the run itself, then units and separators */
                size_t units = p->run_e[k] - s, q = p->run_e[k], seps = 0;
                while (units < 15 && q < p->len && seps <= 2) {
                        if (nir_unit(p->b[q])) {
                                units++;
                                seps = 0;
                        } else if (nir_sep(p->b[q])) {
                                seps++;
                        } else {
                                break;
                        }
                        q++;
                }
                if (units < 15)
                        continue;
                int e = vg_cand_add(c, s, s + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* Tax number: [0-3] at a run start, then twelve digits, each after at most one
 * space or dot: thirteen digits of a chain of runs joined by one of those. */
static int tax_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns;) {
                size_t n = p->run_e[k] - p->run_s[k], j = k;
                while (j + 1 < p->nruns && p->run_s[j + 1] == p->run_e[j] + 1 &&
                       (p->b[p->run_e[j]] == ' ' || p->b[p->run_e[j]] == '.')) {
                        j++;
                        n += p->run_e[j] - p->run_s[j];
                }
                /* n: the digits from run i to the chain's end. The
                 * thirteenth digit ends a run (the look-ahead). */
                for (size_t i = k; i <= j && n >= 13; i++) {
                        size_t s = p->run_s[i], m = 0, q = i;
                        while (q <= j && (m += p->run_e[q] - p->run_s[q]) < 13)
                                q++;
                        if (m == 13 && p->b[s] <= '3' && run_word_start(p, i)) {
                                int e = vg_cand_add(c, s, s + 1);
                                if (e < 0)
                                        return e;
                        }
                        n -= p->run_e[i] - s;
                }
                k = j + 1;
        }
        return 0;
}

/* Driving licence: twelve characters, digits but for "2A"/"2B" and two
 * letters or digits, optionally spaced: at most 17 bytes of [0-9A-Za-z ] from
 * a run of two digits at least, nine of them digits. */
static int licence_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k], e = p->run_e[k];
                /* a shorter run goes on with a letter or a space; a longer
                 * one than the twelve characters has a digit after them */
                if (e - s < 2 || e - s > 12 ||
                    (e - s < 9 && !(e < p->len && (p->b[e] == ' ' || vg_is_alpha(p->b[e])))) ||
                    !run_word_start(p, k) || digits_before(p, k, s + 17) < 9)
                        continue;
                size_t n = 0;
                for (size_t q = s; q < s + 17 && q < p->len; q++) {
                        unsigned char b = p->b[q];
                        if (vg_is_digit(b))
                                n++;
                        else if (!vg_is_alpha(b) && b != ' ')
                                break;
                }
                if (n < 9)
                        continue;
                int r = vg_cand_add(c, s, s + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* RPPS, FINESS, ADELI: a whole token of 11 or 9 digits, or [29], a hex letter
 * and 7 digits. */
static int health_id_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k], n = p->run_e[k] - s, at;
                if (vg_alnum_at(p, p->run_e[k]))
                        continue;
                if ((n == 9 || n == 11) && run_word_start(p, k))
                        at = s;
                else if (n == 7 && s >= 2 && (p->b[s - 2] == '2' || p->b[s - 2] == '9') &&
                         (unsigned char)((p->b[s - 1] | 0x20) - 'a') < 6 && !vg_alnum_at(p, s - 3))
                        at = s - 2;
                else
                        continue;
                int e = vg_cand_add(c, at, at + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* CNI: the old card's twelve characters (digits but for "2A"/"2B", optional
 * spaces: eleven digits at least within 14 bytes of a run of four), or a whole
 * token of nine upper-case letters and digits, which holds a run. */
static int cni_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k], e = p->run_e[k];
                bool left = s > 0 && vg_is_alpha(p->b[s - 1]);
                bool right = e < p->len && vg_is_alpha(p->b[e]);
                /* the token around the run, when it is nine bytes long and
                 * holds a letter */
                bool token = false;
                size_t at = s;
                if (left || right) {
                        size_t ts = s, te = e;
                        while (ts > 0 && vg_is_alnum(p->b[ts - 1]) && e - ts < 10)
                                ts--;
                        while (te < p->len && vg_is_alnum(p->b[te]) && te - ts < 10)
                                te++;
                        token = te - ts == 9 && !vg_alnum_at(p, ts - 1) && !vg_alnum_at(p, te);
                        at = ts;
                }
                /* the old card: a shorter run goes on with "2A"/"2B" or a space */
                bool old = !left && e - s >= 4 && e - s <= 12 &&
                           (e - s == 12 ||
                            (e < p->len && (p->b[e] == ' ' || p->b[e] == 'A' || p->b[e] == 'B' ||
                                            p->b[e] == 'a' || p->b[e] == 'b'))) &&
                           digits_before(p, k, s + 14) >= 11;
                if (!token && !old)
                        continue;
                int r = vg_cand_add(c, at, at + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Passport: a run of two digits (after no letter or digit), two letters with
 * optional spaces, a run of five. */
static int passport_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k + 1 < p->nruns; k++) {
                size_t s = p->run_s[k], gap = p->run_s[k + 1] - p->run_e[k];
                if (p->run_e[k] - s != 2 || p->run_e[k + 1] - p->run_s[k + 1] != 5 || gap < 2 ||
                    gap > 4 || !run_word_start(p, k))
                        continue;
                int e = vg_cand_add(c, s, s + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

const struct vg_detector vg_detectors_fr_id[] = {
    {
        .id = "fr_nir",
        /* Sex digit, then twelve characters (digits, A/B for Corsica) and the key,
         * with at most two separators between digits (spaces, dots, dashes). */
        .pattern = "(?<![0-9A-Za-z])[1234578](?:[ \\t.-]{0,2}[0-9ABab]){12}"
                   "[ \\t.-]{0,2}[0-9]{2}(?![0-9A-Za-z])",
        .check = nir_check,
        .gate = {.find = nir_find},
    },
    {
        .id = "fr_tax_id",
        /* 13 digits starting 0-3, with spaces or dots anywhere ("30 12 345 678
         * 901" on the notices). */
        .pattern = "(?<![0-9A-Za-z])[0-3](?:[ .]?[0-9]){12}(?![0-9A-Za-z])",
        .check = tax_check,
        .gate = {.find = tax_find},
        .context = tax_words,
        .window = 80,
        .context_required = true,
    },
    {
        .id = "fr_driving_licence",
        /* 12 characters, optionally spaced in pairs or fours. */
        .pattern = "(?<![0-9A-Za-z])[0-9]{2} ?(?:[0-9]{2}|2[ABab]) ?[0-9A-Za-z]{2} ?[0-9]{2} ?"
                   "[0-9]{2} ?[0-9]{2}(?![0-9A-Za-z])",
        .check = licence_check,
        .gate = {.find = licence_find},
        .context = licence_words,
        .window = 80,
        .context_required = true,
    },
    {
        .id = "fr_health_id",
        .pattern = "(?<![0-9A-Za-z])(?:[0-9]{11}|[0-9]{9}|[29][A-Fa-f][0-9]{7})(?![0-9A-Za-z])",
        .check = health_id_check,
        .gate = {.find = health_id_find},
        .context = health_words,
        .window = 80,
        .context_required = true,
    },
    {
        .id = "fr_cni",
        /* The old card's 12 digits, or 9 upper-case letters and digits with at
         * least one of each (look-aheads: every capitalised word is not a
         * candidate). */
        .pattern = "(?<![0-9A-Za-z])(?:[0-9]{4} ?(?:[0-9]{3}|2[ABab][0-9]) ?[0-9]{5}"
                   "|(?=[A-Z]{0,8}[0-9])(?=[0-9]{0,8}[A-Z])[0-9A-Z]{9})(?![0-9A-Za-z])",
        .check = cni_check,
        .gate = {.find = cni_find},
        .context = cni_words,
        .window = 80,
        .context_required = true,
    },
    {
        .id = "fr_passport",
        .pattern = "(?<![0-9A-Za-z])[0-9]{2} ?[A-Za-z]{2} ?[0-9]{5}(?![0-9A-Za-z])",
        .check = passport_check,
        .gate = {.find = passport_find},
        .context = passport_words,
        .window = 80,
        .context_required = true,
    },
    {.id = NULL},
};

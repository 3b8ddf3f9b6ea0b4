/* Bank identifiers: IBAN. */
#include "detect.h"
#include "mask.h"
#include "validate.h"

#include <stdbool.h>

static bool is_alnum(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
        return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The pattern is loose about separators and greedy about length; the country's
 * length decides where the IBAN ends, and the character after it must not be
 * alphanumeric ("FR76...189 EUR" is an IBAN, "FR76...189EUR" is not). */
static bool iban_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        if (n < 4)
                return false;
        char cc[2] = {upper(s[0]), upper(s[1])};
        unsigned want = vg_iban_country_length(cc);
        if (!want || want > sizeof(h->canon) - 1)
                return false;
        size_t k = 0, i = 0, end = 0;
        for (; i < n && k < want; i++) {
                if (is_alnum(s[i])) {
                        h->canon[k++] = upper(s[i]);
                        end = i + 1;
                } else if (s[i] != ' ' && s[i] != '-' && s[i] != '\t') {
                        break;
                }
        }
        if (k != want || (end < n && is_alnum(s[end])))
                return false;
        h->canon[k] = '\0';
        h->canon_len = k;
        h->used = end;
        if (!vg_iban_valid(h->canon, k))
                return false;
        static const unsigned char groups[] = {4, 0};
        return vg_mask_groups(h->canon, k, groups, 4, 3, h->masked, sizeof(h->masked)) > 0;
}

const struct vg_detector vg_detectors_bank[] = {
    {
        .id = "iban",
        /* Country, check digits, then 11 to 30 alphanumerics with optional single
         * separators (print format groups by four). */
        .pattern = "(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \\t-]?[0-9A-Za-z]){11,30}"
                   "(?![A-Za-z0-9])",
        .check = iban_check,
    },
    {.id = NULL},
};

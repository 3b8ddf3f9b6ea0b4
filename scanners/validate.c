#include "validate.h"

#include <stdint.h>
#include <string.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

bool vg_luhn_valid(const char *d, size_t n)
{
        if (n == 0)
                return false;
        unsigned sum = 0;
        bool dbl = false;
        for (size_t i = n; i-- > 0;) {
                if (!is_digit(d[i]))
                        return false;
                unsigned v = (unsigned)(d[i] - '0');
                if (dbl) {
                        v *= 2;
                        if (v > 9)
                                v -= 9;
                }
                sum += v;
                dbl = !dbl;
        }
        return sum % 10 == 0;
}

/* IBAN lengths: the SWIFT IBAN registry, plus the French overseas territories that
 * use the French format and the partial-IBAN countries French offices meet most
 * (Maghreb, West and Central Africa). */
static const struct {
        char cc[3];
        unsigned char len;
} iban_lengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AO", 25}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BF", 28}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BJ", 28}, {"BL", 27}, {"BR", 29}, {"BY", 28},
    {"CF", 27}, {"CG", 27}, {"CH", 21}, {"CI", 28}, {"CM", 27}, {"CR", 22}, {"CV", 25}, {"CY", 28},
    {"CZ", 24}, {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"DZ", 26}, {"EE", 20}, {"EG", 29},
    {"ES", 24}, {"FI", 18}, {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GA", 27}, {"GB", 22}, {"GE", 22},
    {"GF", 27}, {"GI", 23}, {"GL", 18}, {"GP", 27}, {"GQ", 27}, {"GR", 27}, {"GT", 28}, {"GW", 25},
    {"HN", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IR", 26}, {"IS", 26},
    {"IT", 27}, {"JO", 30}, {"KM", 27}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21},
    {"LT", 20}, {"LU", 20}, {"LV", 21}, {"LY", 25}, {"MA", 28}, {"MC", 27}, {"MD", 24}, {"ME", 22},
    {"MF", 27}, {"MG", 27}, {"MK", 19}, {"ML", 28}, {"MN", 20}, {"MQ", 27}, {"MR", 27}, {"MT", 31},
    {"MU", 30}, {"MZ", 25}, {"NC", 27}, {"NE", 28}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23},
    {"PF", 27}, {"PK", 24}, {"PL", 28}, {"PM", 27}, {"PS", 29}, {"PT", 25}, {"QA", 29}, {"RE", 27},
    {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18}, {"SE", 24}, {"SI", 19},
    {"SK", 24}, {"SM", 27}, {"SN", 28}, {"SO", 23}, {"ST", 25}, {"SV", 28}, {"TD", 27}, {"TF", 27},
    {"TG", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"WF", 27},
    {"XK", 20}, {"YE", 30}, {"YT", 27},
};

unsigned vg_iban_country_length(const char *cc)
{
        if (!is_upper(cc[0]) || !is_upper(cc[1]))
                return 0;
        size_t lo = 0, hi = sizeof(iban_lengths) / sizeof(iban_lengths[0]);
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = memcmp(cc, iban_lengths[mid].cc, 2);
                if (c == 0)
                        return iban_lengths[mid].len;
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return 0;
}

/* Countries whose BBAN is the French RIB (bank 5, branch 5, account 11, key 2). */
static bool french_bban(const char *cc)
{
        static const char fr[][3] = {"BL", "FR", "GF", "GP", "MC", "MF", "MQ",
                                     "NC", "PF", "PM", "RE", "TF", "WF", "YT"};
        for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++)
                if (memcmp(cc, fr[i], 2) == 0)
                        return true;
        return false;
}

bool vg_iban_valid(const char *s, size_t n)
{
        if (n < 5 || vg_iban_country_length(s) != n)
                return false;
        if (!is_digit(s[2]) || !is_digit(s[3]))
                return false;
        /* ISO 7064 mod 97-10: move the first four characters to the end, read letters
         * as 10..35, and the whole number mod 97 must be 1. Folding digit by digit
         * keeps the remainder below 97*100, far from overflow. */
        unsigned r = 0;
        for (size_t k = 0; k < n; k++) {
                char c = s[(k + 4) % n];
                if (is_digit(c))
                        r = (r * 10 + (unsigned)(c - '0')) % 97;
                else if (is_upper(c))
                        r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
                else
                        return false;
        }
        if (r != 1)
                return false;
        if (french_bban(s))
                return vg_rib_valid(s + 4, s + 9, s + 14, s + 25);
        return true;
}

/* RIB letter mapping: A-I -> 1-9, J-R -> 1-9, S-Z -> 2-9. */
static int rib_digit(char c)
{
        if (is_digit(c))
                return c - '0';
        if (c >= 'A' && c <= 'I')
                return c - 'A' + 1;
        if (c >= 'J' && c <= 'R')
                return c - 'J' + 1;
        if (c >= 'S' && c <= 'Z')
                return c - 'S' + 2;
        return -1;
}

static bool rib_number(const char *s, size_t n, uint64_t *ret)
{
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
                int d = rib_digit(s[i]);
                if (d < 0)
                        return false;
                v = v * 10 + (uint64_t)d;
        }
        *ret = v;
        return true;
}

bool vg_rib_valid(const char *bank, const char *branch, const char *account, const char *key)
{
        uint64_t b, g, a, k;
        /* The bank and branch codes are digits only; the account may hold letters. */
        for (int i = 0; i < 5; i++)
                if (!is_digit(bank[i]) || !is_digit(branch[i]))
                        return false;
        if (!is_digit(key[0]) || !is_digit(key[1]))
                return false;
        if (!rib_number(bank, 5, &b) || !rib_number(branch, 5, &g) ||
            !rib_number(account, 11, &a) || !rib_number(key, 2, &k))
                return false;
        /* 89*99999 + 15*99999 + 3*99999999999 fits easily in 64 bits. */
        uint64_t want = 97 - ((89 * b + 15 * g + 3 * a) % 97);
        return k == want;
}

int vg_nir_key(const char *s)
{
        uint64_t n = 0;
        for (int i = 0; i < 13; i++) {
                /* Corsica: the department 2A counts as 19 and 2B as 18 in N. */
                if (i == 5 && s[5] == '2' && (s[6] == 'A' || s[6] == 'B')) {
                        n = n * 100 + (s[6] == 'A' ? 19 : 18);
                        i++;
                        continue;
                }
                if (!is_digit(s[i]))
                        return -1;
                n = n * 10 + (uint64_t)(s[i] - '0');
        }
        return (int)(97 - n % 97);
}

bool vg_nir_valid(const char *s, size_t n)
{
        if (n != 15 || !is_digit(s[13]) || !is_digit(s[14]))
                return false;
        int key = vg_nir_key(s);
        return key >= 1 && key == (s[13] - '0') * 10 + (s[14] - '0');
}

/* Payment card brands by issuer identification number (the leading digits) and the
 * lengths each brand issues, from the networks' published ranges. French CB cards
 * are co-branded Visa or Mastercard and carry their ranges. Only the lengths a
 * brand really issues are accepted: that is what sets a 14-digit SIRET apart from
 * a card, since a SIRET passes Luhn by construction. */
static unsigned lead(const char *d, size_t k)
{
        unsigned v = 0;
        for (size_t i = 0; i < k; i++)
                v = v * 10 + (unsigned)(d[i] - '0');
        return v;
}

const char *vg_card_brand(const char *d, size_t n)
{
        if (n < 13 || n > 19)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(d[i]))
                        return NULL;
        unsigned p2 = lead(d, 2), p3 = lead(d, 3), p4 = lead(d, 4);
        if (d[0] == '4')
                return n == 13 || n == 16 || n == 19 ? "visa" : NULL;
        if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
                return n == 16 ? "mastercard" : NULL;
        if (p2 == 34 || p2 == 37)
                return n == 15 ? "amex" : NULL;
        if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65)
                return n >= 16 ? "discover" : NULL;
        if (p4 >= 3528 && p4 <= 3589)
                return n >= 16 ? "jcb" : NULL;
        if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
                return n >= 14 ? "diners" : NULL;
        return NULL;
}

bool vg_card_valid(const char *d, size_t n)
{
        return vg_card_brand(d, n) && vg_luhn_valid(d, n);
}

bool vg_spi_valid(const char *d, size_t n)
{
        if (n != 13 || d[0] < '0' || d[0] > '3')
                return false;
        uint64_t body = 0;
        unsigned key = 0;
        for (size_t i = 0; i < 13; i++) {
                if (!is_digit(d[i]))
                        return false;
                if (i < 10)
                        body = body * 10 + (uint64_t)(d[i] - '0');
                else
                        key = key * 10 + (unsigned)(d[i] - '0');
        }
        return body % 511 == key;
}

bool vg_rpps_valid(const char *d, size_t n)
{
        return n == 11 && vg_luhn_valid(d, n);
}

/* ADELI: department (01-95, or 97 followed by the overseas digit), profession and
 * order digits, Luhn key. */
bool vg_adeli_valid(const char *d, size_t n)
{
        if (n != 9 || !is_digit(d[0]) || !is_digit(d[1]))
                return false;
        unsigned dep = lead(d, 2);
        if (dep == 0 || dep == 96 || dep > 97)
                return false;
        return vg_luhn_valid(d, n);
}

/* FINESS: department (01-95, 2A/2B for Corsica, 9A-9F for the overseas
 * departments), six digits, key. The key is Luhn over the nine digits; for the
 * departments written with a letter no published rule could be checked, so the
 * structure alone is accepted (these numbers are only reported with context). */
bool vg_finess_valid(const char *s, size_t n)
{
        if (n != 9)
                return false;
        for (size_t i = 2; i < 9; i++)
                if (!is_digit(s[i]))
                        return false;
        if (s[0] == '2' && (s[1] == 'A' || s[1] == 'B'))
                return true;
        if (s[0] == '9' && s[1] >= 'A' && s[1] <= 'F')
                return true;
        if (!is_digit(s[0]) || !is_digit(s[1]))
                return false;
        unsigned dep = lead(s, 2);
        if (dep == 0 || dep > 95)
                return false;
        return vg_luhn_valid(s, n);
}

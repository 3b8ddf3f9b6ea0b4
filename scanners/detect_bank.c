/* Bank identifiers: IBAN, payment card numbers, French RIB. */
#include "detect.h"
#include "mask.h"
#include "validate.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

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
        /* A dashed token that goes on before the match (a UUID's last groups,
         * "…-be84-123456789012") is not an IBAN, whatever its mod 97. */
        if (m->start >= 2 && m->buf[m->start - 1] == '-' && is_alnum(m->buf[m->start - 2]) &&
            memchr(s, '-', n))
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

/* Whether one of `words` stands within `window` bytes before the match (not after
 * it): labels come before values. */
static bool label_before(const struct vg_match *m, const char *const *words, size_t window)
{
        struct vg_match before = *m;
        before.len = m->end; /* nothing after the match */
        before.raw_len = m->raw_end;
        return vg_match_has_context(&before, words, window);
}

/* Cards of 13 or 14 digits are rare (13-digit Visa is long gone, Diners is little
 * used in France) while EAN-13 barcodes and SIRETs have those lengths and may pass
 * Luhn: those lengths need a word about cards nearby. */
static const char *const card_words[] = {
    "carte",   "cartes", "cb",       "visa",         "mastercard", "amex",   "american express",
    "diners",  "jcb",    "discover", "card",         "credit",     "debit",  "paiement",
    "payment", "cvv",    "cvc",      "cryptogramme", "expiration", "expire", "pan",
    NULL,
};
/* A number labelled as one of these is not a card, whatever Luhn says. */
static const char *const not_card_words[] = {
    "siret", "siren",   "rcs",        "tva",         "ean",        "gtin",        "isbn",
    "issn",  "barcode", "code-barre", "code-barres", "code barre", "code barres", NULL,
};
/* Reference labels right before a number ("Commande n° ...", "Facture : ..."). */
static const char *const reference_labels[] = {
    "commande", "facture", "invoice", "order", "ref", "reference", "dossier", "ticket", NULL,
};

/* Card print formats: compact, groups of four (the last one shorter), Amex 4-6-5,
 * Diners 4-6-4, old 13-digit Visa 4-3-3-3. Anything else (a SIRET's 3-3-3-5, a
 * phone's pairs) is some other number. */
static bool card_grouping(const unsigned char *g, size_t ng)
{
        if (ng == 1)
                return true;
        bool fours = true;
        for (size_t i = 0; i + 1 < ng; i++)
                fours = fours && g[i] == 4;
        if (fours && g[ng - 1] >= 1 && g[ng - 1] <= 4)
                return true;
        if (ng == 3 && g[0] == 4 && g[1] == 6 && (g[2] == 5 || g[2] == 4))
                return true;
        return ng == 4 && g[0] == 4 && g[1] == 3 && g[2] == 3 && g[3] == 3;
}

/* The pattern took a whole run of digit groups (never part of a longer one: its
 * look-arounds refuse a digit or a separator and a digit on either side); here
 * the run must be a card: one separator kind, a card grouping, a brand that issues
 * that length, Luhn. */
static bool card_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        unsigned char groups[20];
        size_t ng = 0, k = 0;
        char sep = 0;
        groups[0] = 0;
        for (size_t i = 0; i < n; i++) {
                if (is_digit(s[i])) {
                        if (k >= 19 || ng >= 19)
                                return false;
                        h->canon[k++] = s[i];
                        groups[ng]++;
                        continue;
                }
                if ((sep && s[i] != sep) || ng + 2 >= sizeof(groups))
                        return false;
                sep = s[i];
                groups[++ng] = 0;
        }
        ng++;
        if (k < 13 || !card_grouping(groups, ng) || !vg_card_valid(h->canon, k))
                return false;
        /* An amount or a version: "4970101234567899,50", "v1.4970..." */
        if (m->end + 1 < m->len && (m->buf[m->end] == ',' || m->buf[m->end] == '.') &&
            is_digit(m->buf[m->end + 1]))
                return false;
        char before = m->start >= 2 ? m->buf[m->start - 1] : 0;
        if ((before == ',' || before == '.' || before == '/') && is_digit(m->buf[m->start - 2]))
                return false;
        if (vg_match_has_context(m, not_card_words, 20) || label_before(m, reference_labels, 14))
                return false;
        if (k <= 14 && !vg_match_has_context(m, card_words, 64))
                return false;
        h->canon[k] = '\0';
        h->canon_len = k;
        /* 4970 **** **** 1234: the brand's first four and the last four, which is
         * how card holders and statements name a card; never a middle digit. */
        static const unsigned char g4[] = {4, 0};
        return vg_mask_groups(h->canon, k, g4, 4, 4, h->masked, sizeof(h->masked)) > 0;
}

/* Words that make a compact 23-character run a RIB (written without separators,
 * it is too much like any long reference to be taken alone). */
static const char *const rib_words[] = {
    "rib",
    "releve d'identite bancaire",
    "releve d\xe2\x80\x99identite bancaire",
    "bancaire",
    "bancaires",
    "banque",
    "compte",
    "guichet",
    "virement",
    "prelevement",
    "domiciliation",
    "bic",
    "swift",
    "bank",
    "account",
    NULL,
};

/* When the match is the BBAN of an IBAN written in RIB groups ("FR76 30006 00001
 * 12345678901 89"), the iban detector counts it; the same digits are not a second
 * finding. Only a valid IBAN takes them: a RIB behind a wrong IBAN prefix is still
 * a RIB. */
static bool bban_of_iban(const struct vg_match *m, const char *bban)
{
        size_t p = m->start;
        if (p > 0 && (m->buf[p - 1] == ' ' || m->buf[p - 1] == '\t' || m->buf[p - 1] == '-'))
                p--;
        if (p < 4)
                return false;
        const char *c = m->buf + p - 4;
        if (!is_alpha(c[0]) || !is_alpha(c[1]) || !is_digit(c[2]) || !is_digit(c[3]))
                return false;
        if (p > 4 && is_alnum(c[-1]))
                return false;
        char iban[27] = {upper(c[0]), upper(c[1]), c[2], c[3]};
        memcpy(iban + 4, bban, 23);
        return vg_iban_valid(iban, sizeof(iban));
}

/* RIB: bank 5 digits, branch 5 digits, account 11 alphanumerics, key 2 digits. The
 * pattern finds them in one line (table rows and CSV included) or after their
 * labels; labels have no digits, so the values are the match's alphanumeric runs
 * that hold a digit, in order. */
static bool rib_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        size_t start[5], len[5], nv = 0;
        for (size_t i = 0; i < n;) {
                if (!is_alnum(s[i])) {
                        i++;
                        continue;
                }
                size_t j = i;
                bool digit = false;
                for (; j < n && is_alnum(s[j]); j++)
                        if (is_digit(s[j]))
                                digit = true;
                if (digit) {
                        if (nv == 5)
                                return false;
                        start[nv] = i;
                        len[nv++] = j - i;
                }
                i = j;
        }
        static const size_t want[] = {5, 5, 11, 2};
        size_t k = 0;
        if (nv == 1 && len[0] == 23 && is_digit(s[0])) {
                memcpy(h->canon, s + start[0], 23);
                k = 23;
        } else if (nv == 4) {
                for (size_t v = 0; v < 4; v++) {
                        if (len[v] != want[v])
                                return false;
                        memcpy(h->canon + k, s + start[v], len[v]);
                        k += len[v];
                }
        } else {
                return false;
        }
        size_t letters = 0;
        for (size_t i = 0; i < 23; i++) {
                h->canon[i] = upper(h->canon[i]);
                if (is_alpha(h->canon[i])) {
                        /* letters only in the account, and few of them: a word of
                         * eleven letters between two numbers is not an account */
                        if (i < 10 || i >= 21 || ++letters > 2)
                                return false;
                }
        }
        h->canon[23] = '\0';
        h->canon_len = 23;
        if (!vg_rib_valid(h->canon, h->canon + 5, h->canon + 10, h->canon + 21))
                return false;
        if (is_digit(s[0])) {
                if (nv == 1 && !vg_match_has_context(m, rib_words, 64))
                        return false;
                if (bban_of_iban(m, h->canon))
                        return false;
        }
        /* 30006 ***** **********1 89: the bank code (an institution, not a person)
         * and the same last three characters the masked IBAN shows. */
        static const unsigned char groups[] = {5, 5, 11, 2, 0};
        return vg_mask_groups(h->canon, 23, groups, 5, 3, h->masked, sizeof(h->masked)) > 0;
}

/* Separators between RIB fields: spaces and tabs (table columns), or one
 * punctuation mark (CSV, dashes, pipes) with optional spaces around it. */
#define RIB_SEP "(?:[ \\t]{1,8}|[ \\t]*[-./|;,][ \\t]*)"
/* "é" and "É" in UTF-8; the patterns of identifiers run over unfolded text. */
#define E_ACUTE "(?:e|E|\\xc3\\xa9|\\xc3\\x89)"

/* ---- Gates (see detect.c): where each pattern can start, read from the runs
 * of digits. Each is a promise about the pattern, whatever the check says. */

/* IBAN: two letters at a word start, then the check digits; so a run of two
 * digits at least, after two letters that follow no letter or digit. */
static int iban_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k];
                if (s < 2 || p->run_e[k] - s < 2 || !vg_is_alpha(p->b[s - 1]) ||
                    !vg_is_alpha(p->b[s - 2]) || vg_alnum_at(p, s - 3))
                        continue;
                int e = vg_cand_add(c, s - 2, s - 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* Cards: digits joined by single spaces or dashes, not after a digit and one of
 * those (the look-behind), so a match starts at the first run of such a chain
 * and the chain holds its 13 digits at least. */
static int card_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns;) {
                size_t s = p->run_s[k], n = p->run_e[k] - s, j = k;
                while (j + 1 < p->nruns && p->run_s[j + 1] == p->run_e[j] + 1 &&
                       (p->b[p->run_e[j]] == ' ' || p->b[p->run_e[j]] == '-')) {
                        j++;
                        n += p->run_e[j] - p->run_s[j];
                }
                k = j + 1;
                /* the match ends where the chain does (the look-ahead) */
                if (n < 13 || n > 19 || vg_alnum_at(p, s - 1))
                        continue;
                int e = vg_cand_add(c, s, s + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

/* RIB: five digits at a run start (after no letter or digit), then either the
 * other digits at once (a run of ten at least) or separators (blanks, one
 * punctuation mark of RIB_SEP) and a run of five at least; or, labelled, a
 * run of exactly five digits within 30 bytes after "banque" (6 + 24). */
static bool rib_banque_before(const struct vg_prescan *p, size_t s)
{
        size_t lo = s > 30 ? s - 30 : 0;
        for (size_t i = lo; i + 6 <= s; i++)
                if ((p->b[i] | 0x20) == 'b' &&
                    strncasecmp((const char *)p->b + i, "banque", 6) == 0)
                        return true;
        return false;
}

static bool rib_blank(unsigned char c)
{
        return c == ' ' || c == '\t';
}

static int rib_find(const struct vg_prescan *p, struct vg_cand *c)
{
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k], n = p->run_e[k] - s;
                if (n < 5)
                        continue;
                bool plain = false;
                if (!vg_alnum_at(p, s - 1) && n >= 10) {
                        /* compact: the account's eleven characters start at
                         * s + 10, so a run that ends before s + 21 goes on
                         * with a letter (or ends with the branch code) */
                        plain = n == 10 || n >= 21 || vg_is_alpha(p->b[p->run_e[k]]);
                } else if (!vg_alnum_at(p, s - 1) && n == 5 && k + 1 < p->nruns) {
                        /* RIB_SEP: blanks, at most one of its punctuation marks */
                        size_t q = p->run_e[k];
                        while (q < p->len && rib_blank(p->b[q]))
                                q++;
                        if (q < p->len && p->b[q] && strchr("-./|;,", p->b[q]))
                                q++;
                        while (q < p->len && rib_blank(p->b[q]))
                                q++;
                        plain = p->run_s[k + 1] == q && p->run_e[k + 1] - q >= 5;
                }
                bool labelled = n == 5 && rib_banque_before(p, s);
                if (!plain && !labelled)
                        continue;
                int e = vg_cand_add(c, labelled ? (s > 30 ? s - 30 : 0) : s, s + 1);
                if (e < 0)
                        return e;
        }
        return 0;
}

const struct vg_detector vg_detectors_bank[] = {
    {
        .id = "iban",
        /* Country, check digits, then 11 to 30 alphanumerics with optional single
         * separators (print format groups by four). */
        .pattern = "(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \\t-]?[0-9A-Za-z]){11,30}"
                   "(?![A-Za-z0-9])",
        .check = iban_check,
        /* the check digits, at most 4 bytes in; "FR76" at a word start is rare
         * (digit windows alone: 99,000 per 32 MiB of the bench text) */
        .gate = {.find = iban_find},
    },
    {
        .id = "credit_card",
        /* A run of 13 to 19 digits with single spaces or dashes, whole: not after a
         * letter, a digit or a digit and a separator, not before a digit. */
        .pattern = "(?<![0-9A-Za-z])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12,18}(?![ -]?[0-9])"
                   "(?![A-Za-z])",
        .check = card_check,
        .gate = {.find = card_find},
    },
    {
        .id = "fr_rib",
        /* One line: bank, branch, account, key, compact or separated. Labelled:
         * "Code banque : 30006 / Code guichet : 00001 / N° de compte : ... / Clé
         * RIB : 89", the labels in that order, on one line or several. */
        .pattern = "(?<![0-9A-Za-z])(?:"
                   "[0-9]{5}" RIB_SEP "?[0-9]{5}" RIB_SEP "?[0-9A-Za-z]{11}" RIB_SEP "?[0-9]{2}"
                   "|(?i:banque)[^0-9\\n]{0,24}[0-9]{5}"
                   "[^0-9]{1,48}?(?i:guichet)[^0-9\\n]{0,24}[0-9]{5}"
                   "[^0-9]{1,48}?(?i:compte)(?:[ \\t]+(?i:n|no|num" E_ACUTE "ro))?"
                   "[^0-9A-Za-z\\n]{0,12}[0-9A-Za-z]{11}"
                   "[^0-9]{1,48}?(?i:cl)" E_ACUTE "(?:[ \\t]*(?i:rib))?[^0-9A-Za-z\\n]{0,12}"
                   "[0-9]{2})(?![0-9A-Za-z])",
        .check = rib_check,
        .gate = {.find = rib_find},
    },
    {.id = NULL},
};

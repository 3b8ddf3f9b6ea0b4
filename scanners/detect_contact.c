/* Contact details: e-mail addresses and French phone numbers. One of them is a
 * signature; the policy looks at how many distinct ones an object holds (a contact
 * list), so each hit's canon is the normalised value: an address in lower case, a
 * number in its national form 0XXXXXXXXX. */
#include "detect.h"
#include "mask.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static char lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether one of `words` stands within `window` bytes before the match. */
static bool label_before(const struct vg_match *m, const char *const *words, size_t window)
{
        struct vg_match before = *m;
        before.len = m->end; /* nothing after the match */
        before.raw_len = m->raw_end;
        return vg_match_has_context(&before, words, window);
}

/* Names of files that look like addresses ("logo@2x.png", "photo@home.jpg"):
 * these endings are file types, not mail domains. */
static const char *const file_types[] = {
    "png", "jpg", "jpeg", "gif",  "svg",  "webp", "bmp",  "ico", "tif", "tiff", "heic",
    "pdf", "css", "js",   "json", "xml",  "txt",  "csv",  "log", "md",  "html", "htm",
    "php", "py",  "sh",   "yml",  "yaml", "ini",  "conf", "zip", "gz",  "tar",  NULL,
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ull;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ull;
        }
        return h;
}

/* The pattern bounds the local part (64) and the labels (63, at most 9 of them);
 * here the address must also be well formed where a regular expression would be
 * slow to say it: dots, hyphens, the last label, and what surrounds it. */
static bool email_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start;
        const char *at = memchr(s, '@', n);
        if (!at)
                return false;
        size_t local = (size_t)(at - s);
        if (local == 0 || s[local - 1] == '.')
                return false;
        for (size_t i = 0; i + 1 < local; i++)
                if (s[i] == '.' && s[i + 1] == '.')
                        return false;
        const char *d = at + 1;
        size_t dn = n - local - 1, label = 0, tld = 0;
        for (size_t i = 0; i <= dn; i++) {
                if (i < dn && d[i] != '.')
                        continue;
                if (i == label || d[label] == '-' || d[i - 1] == '-')
                        return false;
                tld = label;
                label = i + 1;
        }
        for (const char *const *t = file_types; *t; t++) {
                size_t tl = strlen(*t);
                if (dn - tld != tl)
                        continue;
                size_t j = 0;
                while (j < tl && lower(d[tld + j]) == (*t)[j])
                        j++;
                if (j == tl)
                        return false;
        }
        /* "scheme://user:secret@host" is a credential in a URL (the password
         * detector's), "git@host:path" a repository: neither is an address. */
        size_t b = m->start, lim = m->start > VG_MAX_WINDOW ? m->start - VG_MAX_WINDOW : 0;
        while (b > lim && !is_space(m->buf[b - 1]) && m->buf[b - 1] != '<' &&
               m->buf[b - 1] != '"' && m->buf[b - 1] != '\'' && m->buf[b - 1] != '(')
                b--;
        if (memmem(m->buf + b, m->start - b, "://", 3))
                return false;
        if (m->end + 1 < m->len && m->buf[m->end] == ':' && !is_space(m->buf[m->end + 1]))
                return false;
        /* canon: the address in lower case; a very long one keeps its start and a
         * hash of the whole, so two long addresses still count as two. */
        size_t k = n < sizeof(h->canon) - 1 ? n : 100;
        for (size_t i = 0; i < k; i++)
                h->canon[i] = lower(s[i]);
        if (k < n) {
                uint64_t v = fnv1a(s, n);
                static const char hex[] = "0123456789abcdef";
                h->canon[k++] = '#';
                for (int i = 15; i >= 0; i--)
                        h->canon[k++] = hex[(v >> (4 * i)) & 15];
        }
        h->canon[k] = '\0';
        h->canon_len = k;
        /* j***@exemple.fr: the first letter of the local part and the domain. */
        size_t o = 0;
        h->masked[o++] = lower(s[0]);
        memcpy(h->masked + o, "***@", 4);
        o += 4;
        size_t room = sizeof(h->masked) - o - 1, from = 0;
        if (dn > room) {
                memcpy(h->masked + o, "...", 3);
                o += 3;
                from = dn - (room - 3);
        }
        for (size_t i = from; i < dn; i++)
                h->masked[o++] = lower(d[i]);
        h->masked[o] = '\0';
        return true;
}

static bool phone_sep(char c)
{
        return c == ' ' || c == '.' || c == '-';
}

/* Labels that make a number a reference rather than a phone, unless a word about
 * phones is just as close. */
static const char *const reference_labels[] = {
    "commande", "cde",     "facture",     "ref",     "reference", "dossier", "ticket", "colis",
    "suivi",    "contrat", "order",       "invoice", "siret",     "siren",   "tva",    "rcs",
    "serie",    "lot",     "transaction", "montant", "total",     NULL,
};
static const char *const phone_words[] = {
    "tel",      "telephone", "portable", "mobile",  "fax",     "phone", "gsm",
    "standard", "joindre",   "appeler",  "appelez", "contact", "ligne", "numero de telephone",
    NULL,
};

/* Country codes with a French numbering plan of nine digits after the trunk 0:
 * France, Reunion/Mayotte, Guadeloupe (and Saint-Martin, Saint-Barthelemy),
 * Guyane, Martinique. */
static const char *const country_codes[] = {"33", "262", "590", "594", "596", NULL};

static bool phone_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start, i = 0, k = 0;
        bool intl = false;
        if (s[i] == '(')
                i++;
        if (s[i] == '+') {
                i++;
                intl = true;
        } else if (n > 2 && s[0] == '0' && s[1] == '0') {
                i = 2;
                intl = true;
        }
        if (intl) {
                bool found = false;
                for (const char *const *cc = country_codes; *cc && !found; cc++) {
                        size_t cl = strlen(*cc);
                        if (i + cl <= n && memcmp(s + i, *cc, cl) == 0) {
                                i += cl;
                                found = true;
                        }
                }
                if (!found)
                        return false;
                if (i < n && s[i] == ')')
                        i++;
                while (i < n && phone_sep(s[i]))
                        i++;
                /* the trunk 0 some write after the country code: "(0)6", "06" */
                if (i + 2 < n && s[i] == '(' && s[i + 1] == '0' && s[i + 2] == ')')
                        i += 3;
                else if (i < n && s[i] == '0')
                        i++;
                while (i < n && phone_sep(s[i]))
                        i++;
                h->canon[k++] = '0';
        }
        /* The national part: digits and one kind of separator, never two in a row
         * ("06 12.34-56 78" is not how anyone writes a number). */
        char sep = 0;
        for (; i < n; i++) {
                if (is_digit(s[i])) {
                        if (k == 10)
                                return false;
                        h->canon[k++] = s[i];
                } else if (phone_sep(s[i]) && i > 0 && is_digit(s[i - 1]) &&
                           (!sep || s[i] == sep)) {
                        sep = s[i];
                } else {
                        return false;
                }
        }
        if (k != 10 || h->canon[0] != '0' || h->canon[1] == '0')
                return false;
        /* Not a piece of a longer run of digit groups. */
        const char *b = m->buf;
        if (m->start >= 2 && phone_sep(b[m->start - 1]) && is_digit(b[m->start - 2]))
                return false;
        if (m->end + 1 < m->len && phone_sep(b[m->end]) && is_digit(b[m->end + 1]))
                return false;
        /* An amount: "01 23 45 67 89 €" */
        size_t e = m->end;
        if (e < m->len && b[e] == ' ')
                e++;
        if ((e + 3 <= m->len && memcmp(b + e, "\xe2\x82\xac", 3) == 0) ||
            (e + 3 <= m->len && (memcmp(b + e, "EUR", 3) == 0 || memcmp(b + e, "eur", 3) == 0)))
                return false;
        if (label_before(m, reference_labels, 20) && !label_before(m, phone_words, 20))
                return false;
        h->canon[k] = '\0';
        h->canon_len = k;
        /* 06 ** ** ** 78 */
        static const unsigned char pairs[] = {2, 0};
        return vg_mask_groups(h->canon, k, pairs, 2, 2, h->masked, sizeof(h->masked)) > 0;
}

#define CC "(?:33|262|590|594|596)"
/* After the country code: separators, the optional trunk 0, then nine digits. */
#define INTL_REST "[ .-]{0,2}(?:\\(0\\)[ .-]?|0[ .-]?)?[1-9](?:[ .-]?[0-9]){8}"

/* Gate of phone_fr (see detect.c): a promise about the pattern. A national
 * number starts with "0[1-9]" at a run start and is a chain of ten digits
 * joined by single [ .-]; an international one starts with "00" at a run start,
 * or "+" or "(+" just before the run of the country code, and holds eleven
 * digits at least (code, nine digits) within 27 bytes of that run ("590) (0) "
 * then nine digits and eight separators): 32 is taken. */
static int phone_find(const struct vg_prescan *p, struct vg_cand *c)
{
        const unsigned char *b = p->b;
        for (size_t k = 0; k < p->nruns; k++) {
                size_t s = p->run_s[k], n = p->run_e[k] - s;
                bool plus = s > 0 && b[s - 1] == '+';
                bool zero = b[s] == '0' && n >= 2 && b[s + 1] == '0';
                bool national = false;
                if (b[s] == '0' && n >= 2 && n <= 10 && b[s + 1] != '0') {
                        /* ten digits exactly, the tenth ending a run */
                        for (size_t j = k;
                             n < 10 && j + 1 < p->nruns && p->run_s[j + 1] == p->run_e[j] + 1 &&
                             phone_sep((char)b[p->run_e[j]]);
                             j++)
                                n += p->run_e[j + 1] - p->run_s[j + 1];
                        national = n == 10;
                }
                if (plus || zero) {
                        size_t d = 0;
                        for (size_t j = k; j < p->nruns && p->run_s[j] < s + 32; j++)
                                d += p->run_e[j] - p->run_s[j];
                        if (d < 11)
                                plus = zero = false;
                }
                if (!plus && !zero && !national)
                        continue;
                size_t lo = plus ? (s >= 2 ? s - 2 : s - 1) : s;
                size_t hi = zero || national ? s + 1 : s;
                int e = vg_cand_add(c, lo, hi);
                if (e < 0)
                        return e;
        }
        return 0;
}

const struct vg_detector vg_detectors_contact[] = {
    {
        .id = "email",
        /* Starts only where a local part can start (a quick refusal everywhere
         * else), local part up to 64, up to 9 labels, a last label of letters. */
        .pattern = "(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
                   "(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])",
        .check = email_check,
        /* the '@' after a local part of 1 to 64 bytes */
        .gate = {.bytes = "@", .lead = 64},
    },
    {
        .id = "phone_fr",
        /* +33, 0033, (+33) with an optional (0), or a national 0X with four pairs,
         * with spaces, dots or dashes. */
        .pattern = "(?<![0-9A-Za-z+_@])(?:(?:\\+|00)" CC INTL_REST "|\\(\\+" CC "\\)" INTL_REST
                   "|0[1-9](?:[ .-]?[0-9]{2}){4})(?![0-9A-Za-z])",
        .check = phone_check,
        .gate = {.find = phone_find},
    },
    {.id = NULL},
};

/* Confidentiality markings: "CONFIDENTIEL", "Diffusion restreinte", "Internal use
 * only"... as a stamp, not as a word of prose.
 *
 * A stamp stands apart: a line of its own, a segment of a header or a title set
 * off by a separator ("Rapport T3 — Confidentiel — page 2"), a field
 * ("Classification : Diffusion restreinte"), a bracket in a mail subject
 * ("[CONFIDENTIEL] Budget"), or an all-capitals title line. Extractors keep
 * headers, footers and titles on lines of their own, which makes this decidable
 * from the line around the match. The same words inside a sentence ("le secret de
 * la réussite", "traitées de façon confidentielle") and the confidentiality
 * disclaimer at the foot of a mail are not markings. The admin adds phrases of
 * their own (rules.d: markings = [ ... ]). */
#include "detect.h"

#include <stdlib.h>
#include <string.h>

/* Folded (lower case, no accents). Longer phrases sharing a start are found
 * whole: the pattern is a trie, greedy. */
static const char *const markings[] = {
    "confidentiel",
    "confidentielle",
    "strictement confidentiel",
    "strictement confidentielle",
    "tres confidentiel",
    "tres confidentielle",
    "hautement confidentiel",
    "confidentiel entreprise",
    "confidentiel defense",
    "diffusion restreinte",
    "diffusion limitee",
    "diffusion interne",
    "diffusion interne uniquement",
    "usage interne",
    "usage interne uniquement",
    "usage interne seulement",
    "usage strictement interne",
    "a usage interne",
    "pour usage interne",
    "document interne",
    "interne uniquement",
    "ne pas diffuser",
    "ne pas transmettre",
    "ne pas divulguer",
    "ne pas copier",
    "secret",
    "tres secret",
    "secret defense",
    "secret-defense",
    "confidentiel-defense",
    "tres secret defense",
    "secret medical",
    "secret professionnel",
    "secret des affaires",
    "confidential",
    "strictly confidential",
    "highly confidential",
    "company confidential",
    "private and confidential",
    "proprietary and confidential",
    "confidential and proprietary",
    "internal use only",
    "for internal use only",
    "internal only",
    "restricted distribution",
    "do not distribute",
    "do not forward",
    "do not copy",
    "not for distribution",
    "not for external distribution",
    "top secret",
    "classified",
    "tlp:red",
    "tlp:amber",
};

/* Single words that are ordinary in prose: never accepted on the strength of
 * capitals alone. */
static const char *const weak[] = {"secret", "classified", NULL};

/* Nouns a stamp may start with: "Document strictement confidentiel". */
static const char *const stamp_nouns[] = {
    "document",
    "documents",
    "note",
    "dossier",
    "fichier",
    "annexe",
    "information",
    "informations",
    "mention",
    "niveau",
    "classification",
    "marquage",
    "statut",
    "status",
    "label",
    "etiquette",
    "sensibilite",
    "confidentialite",
    "protection",
    "c1",
    "c2",
    "c3",
    "c4",
    "c0",
    NULL,
};

/* What a confidentiality disclaimer says: its vocabulary on the line (or the next)
 * makes the marking part of the disclaimer. */
static const char *const disclaimer[] = {
    "ce message",
    "ce courriel",
    "ce mail",
    "cet e-mail",
    "cet email",
    "ce courrier electronique",
    "this e-mail",
    "this email",
    "this message",
    "this communication",
    "pieces jointes",
    "piece jointe",
    "attachments",
    "destinataire",
    "intended recipient",
    "addressee",
    "intended solely",
    "intended only",
    "si vous avez recu",
    "if you have received",
    "if you are not",
    "exclusive",
    NULL,
};

static const char **marking_phrases(const struct vg_custom *custom, size_t *n)
{
        size_t nb = sizeof(markings) / sizeof(markings[0]);
        size_t nc = custom ? custom->nmarkings : 0;
        const char **all = calloc(nb + nc, sizeof(*all));
        if (!all)
                return NULL;
        for (size_t i = 0; i < nb; i++)
                all[i] = markings[i];
        for (size_t i = 0; i < nc; i++)
                all[nb + i] = custom->markings[i];
        *n = nb + nc;
        return all;
}

static char *marking_pattern(const struct vg_custom *custom)
{
        size_t n;
        const char **all = marking_phrases(custom, &n);
        if (!all)
                return NULL;
        char *p = vg_phrases_pattern(all, n);
        free(all);
        return p;
}

static bool word_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

static bool has_phrase(const char *s, size_t n, const char *const *list)
{
        for (const char *const *w = list; *w; w++) {
                size_t k = strlen(*w);
                for (const char *f = s; (f = memmem(f, n - (size_t)(f - s), *w, k)); f++) {
                        bool left = f == s || !word_byte((unsigned char)f[-1]);
                        bool right = (size_t)(f - s) + k >= n || !word_byte((unsigned char)f[k]);
                        if (left && right)
                                return true;
                }
        }
        return false;
}

static bool in_list(const char *s, size_t n, const char *const *list)
{
        for (const char *const *w = list; *w; w++)
                if (strlen(*w) == n && memcmp(*w, s, n) == 0)
                        return true;
        return false;
}

enum sep {
        SEP_NONE, /* a word: the match is inside prose */
        SEP_EDGE, /* the start or the end of the line */
        SEP_MARK, /* a separator */
        SEP_OPEN, /* ( */
        SEP_CLOSE /* ) */
};

/* Decoration around a stamp: *** CONFIDENTIEL ***, « Confidentiel », "Secret." */
static bool decoration(unsigned char c)
{
        return c == ' ' || c == '*' || c == '=' || c == '_' || c == '~' || c == '#' || c == '"' ||
               c == '\'';
}

/* A separator starting at s[i] (UTF-8 « » • · included); returns its length. */
static size_t separator_at(const char *s, size_t i, size_t n)
{
        unsigned char c = (unsigned char)s[i];
        if (strchr(":|/[]{}<>\t", c) && c)
                return 1;
        if (c == '-' && ((i + 1 < n && s[i + 1] == ' ') || (i > 0 && s[i - 1] == ' ') ||
                         (i + 1 < n && s[i + 1] == '-')))
                return 1;
        if (c == 0xc2 && i + 1 < n &&
            ((unsigned char)s[i + 1] == 0xab || (unsigned char)s[i + 1] == 0xbb ||
             (unsigned char)s[i + 1] == 0xb7))
                return 2;
        if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0xa2 || (unsigned char)s[i + 2] == 0xa6))
                return 3;
        return 0;
}

/* Looks left of `pos` (within the line starting at ls): decoration, up to two
 * stamp nouns, then a separator or the line's start. */
static enum sep left_of(const char *s, size_t ls, size_t pos, bool *label)
{
        size_t i = pos;
        int nouns = 0;
        *label = false;
        for (;;) {
                while (i > ls && decoration((unsigned char)s[i - 1]))
                        i--;
                if (i == ls)
                        return SEP_EDGE;
                unsigned char c = (unsigned char)s[i - 1];
                if (c == '(')
                        return SEP_OPEN;
                /* a separator ending just before i */
                for (size_t k = 1; k <= 3 && k <= i - ls; k++)
                        if (separator_at(s, i - k, i) == k) {
                                if (c == ':') {
                                        /* a field: "Classification :", "Objet :" */
                                        size_t e = i - 1;
                                        while (e > ls && s[e - 1] == ' ')
                                                e--;
                                        size_t b = e;
                                        while (b > ls && word_byte((unsigned char)s[b - 1]))
                                                b--;
                                        *label = in_list(s + b, e - b, stamp_nouns);
                                }
                                return SEP_MARK;
                        }
                if (!word_byte(c) || nouns == 2)
                        return SEP_NONE;
                size_t b = i;
                while (b > ls && word_byte((unsigned char)s[b - 1]))
                        b--;
                if (!in_list(s + b, i - b, stamp_nouns))
                        return SEP_NONE;
                nouns++;
                i = b;
        }
}

/* Looks right of `pos` (within the line ending at le): decoration and a final
 * full stop, then a separator or the line's end. */
static enum sep right_of(const char *s, size_t pos, size_t le)
{
        size_t i = pos;
        while (i < le && decoration((unsigned char)s[i]))
                i++;
        while (i < le && (s[i] == '.' || s[i] == '!'))
                i++;
        while (i < le && decoration((unsigned char)s[i]))
                i++;
        if (i == le || s[i] == '\r')
                return SEP_EDGE;
        if (s[i] == ')') {
                /* "(confidentiel)" closes a title, not a clause */
                i++;
                while (i < le && decoration((unsigned char)s[i]))
                        i++;
                if (i == le || s[i] == '\r' || separator_at(s, i, le))
                        return SEP_CLOSE;
                return SEP_NONE;
        }
        if (s[i] == ',' || s[i] == ';')
                return SEP_NONE;
        return separator_at(s, i, le) ? SEP_MARK : SEP_NONE;
}

/* The raw line is written in capitals: a title or a stamp ("RAPPORT FINANCIER
 * CONFIDENTIEL"). Latin-1 lower-case letters are U+00DF..U+00FF (C3 9F..C3 BF). */
static bool caps_line(const struct vg_match *m)
{
        size_t lo = m->raw_start > VG_MAX_WINDOW ? m->raw_start - VG_MAX_WINDOW : 0;
        size_t hi =
            m->raw_end + VG_MAX_WINDOW < m->raw_len ? m->raw_end + VG_MAX_WINDOW : m->raw_len;
        size_t a = m->raw_start, b = m->raw_end;
        while (a > lo && m->raw[a - 1] != '\n')
                a--;
        while (b < hi && m->raw[b] != '\n')
                b++;
        if ((a == lo && lo > 0) || (b == hi && hi < m->raw_len) || b - a > 120)
                return false;
        size_t letters = 0;
        for (size_t i = a; i < b; i++) {
                unsigned char c = (unsigned char)m->raw[i];
                if (c >= 'a' && c <= 'z')
                        return false;
                if (c == 0xc3 && i + 1 < b && (unsigned char)m->raw[i + 1] >= 0x9f)
                        return false;
                letters += c >= 'A' && c <= 'Z';
        }
        return letters >= 4;
}

static bool colon_after(const char *s, size_t pos, size_t le)
{
        while (pos < le && decoration((unsigned char)s[pos]))
                pos++;
        return pos < le && s[pos] == ':';
}

/* The match itself is in capitals. */
static bool caps_match(const struct vg_match *m)
{
        size_t letters = 0;
        for (size_t i = m->raw_start; i < m->raw_end; i++) {
                unsigned char c = (unsigned char)m->raw[i];
                if ((c >= 'a' && c <= 'z') ||
                    (c == 0xc3 && i + 1 < m->raw_end && (unsigned char)m->raw[i + 1] >= 0x9f))
                        return false;
                letters += c >= 'A' && c <= 'Z';
        }
        return letters >= 2;
}

static bool marking_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf;
        size_t lo = m->start > VG_MAX_WINDOW ? m->start - VG_MAX_WINDOW : 0;
        size_t hi = m->end + VG_MAX_WINDOW < m->len ? m->end + VG_MAX_WINDOW : m->len;
        size_t ls = m->start, le = m->end;
        while (ls > lo && s[ls - 1] != '\n')
                ls--;
        while (le < hi && s[le] != '\n')
                le++;
        /* a line longer than the window is prose, whatever its separators */
        bool long_line = (ls == lo && lo > 0) || (le == hi && hi < m->len) || le - ls > 160;
        /* the disclaimer: its vocabulary on this line or the next */
        size_t ne = le < hi ? le + 1 : le;
        while (ne < hi && s[ne] != '\n')
                ne++;
        bool disc = has_phrase(s + ls, ne - ls, disclaimer);

        bool label;
        enum sep l = left_of(s, ls, m->start, &label);
        enum sep r = right_of(s, m->end, le);
        bool ok;
        if (label && r != SEP_NONE)
                ok = true; /* "Classification : Confidentiel" */
        else if (disc || long_line)
                ok = false;
        else if (l == SEP_OPEN)
                ok = r == SEP_CLOSE;
        else
                ok = l != SEP_NONE && (r == SEP_EDGE || r == SEP_MARK);
        /* "Secret: ..." labels what follows; "CONFIDENTIEL :" in capitals stamps it */
        if (ok && r == SEP_MARK && !label && colon_after(s, m->end, le) && !caps_match(m))
                ok = false;
        if (!ok && !disc && !long_line && !in_list(s + m->start, m->end - m->start, weak) &&
            caps_line(m))
                ok = true;
        if (!ok)
                return false;
        /* canon: the folded phrase; shown: as written (markings are not personal) */
        size_t n = m->end - m->start, o = 0;
        for (size_t i = 0; i < n && o + 1 < sizeof(h->canon); i++) {
                char c = s[m->start + i];
                bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r';
                if (sp && o > 0 && h->canon[o - 1] == ' ')
                        continue;
                h->canon[o++] = sp ? ' ' : c;
        }
        h->canon[o] = '\0';
        h->canon_len = o;
        o = 0;
        size_t rn = m->raw_end - m->raw_start;
        for (size_t i = 0; i < rn && o + 1 < sizeof(h->masked) && o < 100; i++) {
                char c = m->raw[m->raw_start + i];
                bool sp = c == ' ' || c == '\t' || c == '\n' || c == '\r';
                if (sp && o > 0 && h->masked[o - 1] == ' ')
                        continue;
                h->masked[o++] = sp ? ' ' : c;
        }
        /* never end on a cut UTF-8 sequence */
        size_t j = o;
        while (j > 0 && ((unsigned char)h->masked[j - 1] & 0xc0) == 0x80)
                j--;
        if (j > 0 && (unsigned char)h->masked[j - 1] >= 0xc0) {
                unsigned char lead = (unsigned char)h->masked[j - 1];
                size_t want = lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
                if (j - 1 + want > o)
                        o = j - 1;
        }
        h->masked[o] = '\0';
        return o > 0;
}

const struct vg_detector vg_detectors_marking[] = {
    {
        .id = "marking",
        .build = marking_pattern,
        .phrases = marking_phrases,
        .check = marking_check,
        .folded = true,
    },
    {.id = NULL},
};

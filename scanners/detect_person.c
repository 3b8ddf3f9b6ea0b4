/* person_name: names of people, for redaction. A copy that still names the
 * person is not anonymised, so redaction needs names; but a name alone is not
 * data to hold a document for, so this family is compiled into redaction's
 * rules only (vg_rules_new_redaction): it never flags, and scan reports, alerts
 * and notices do not list names.
 *
 * A name is recognised by what announces it, never by a capital letter alone:
 * a civility title (M., Mme, Dr, Maître...), a form field (Nom :, Patient :),
 * a mail header's display name (From: "Chloé Legrand" <...>), or a common first
 * name (etc/prenoms.txt, built in) next to a surname. Names in running text with
 * none of these (a surname alone, an unknown first name) are not found: the
 * README says so.
 *
 * Patterns run in byte mode over UTF-8: letters are ASCII or the Latin-1
 * letters of French (two bytes, 0xc3 lead). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "detect.h"

extern const char vg_prenoms_text[];

/* An upper-case letter, a lower-case one (French accents included: À-Þ minus ×,
 * ß-ÿ minus ÷), a word of a name (two letters at least, an inner hyphen or
 * apostrophe for Jean-Pierre, O'Neil), a name of one to three such words. */
#define UP   "(?:[A-Z]|\\xc3[\\x80-\\x96\\x98-\\x9e])"
#define LO   "(?:[a-z]|\\xc3[\\x9f-\\xb6\\xb8-\\xbf])"
#define WORD UP "(?:" LO "|" UP ")+(?:['-]" UP "(?:" LO "|" UP ")+)?"
/* Particles inside a surname: "de La Fontaine", "Le Goff" is a WORD already. */
#define PART              "(?:(?:de|du|des|van|von|di|da|d')[ \\t]?)?"
#define NAME              PART WORD "(?:[ \\t]+" PART WORD "){0,2}"
#define NOT_LETTER_BEFORE "(?<![A-Za-z0-9\\x80-\\xff])"
#define NOT_LETTER_AFTER  "(?![A-Za-z0-9\\x80-\\xff])"

/* Words that start a sentence or a heading after a title, never a name. */
static const char *const not_names[] = {
    "Le",  "La",   "Les", "Un",   "Une",    "De",   "Du",      "Des", "Et",
    "Ou",  "Pour", "Par", "Avec", "Dans",   "Sur",  "Au",      "Aux", "The",
    "And", "Of",   "To",  "Nom",  "Prénom", "Date", "Adresse", NULL,
};

static bool word_is(const char *s, size_t n, const char *w)
{
        return strlen(w) == n && memcmp(s, w, n) == 0;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

/* The name inside the match: after a title when there is one (the title is
 * replaced with the name, but the same person with or without "Mme" is one). */
static bool person_check(const struct vg_match *m, struct vg_hit *h)
{
        const char *s = m->buf + m->start;
        size_t n = m->end - m->start, i = 0;
        const struct vg_detector *d = m->det;
        if (d->data) { /* a title first: skip it */
                while (i < n && !is_space(s[i]))
                        i++;
                while (i < n && is_space(s[i]))
                        i++;
        }
        /* the first word of the name must not be a word of a sentence */
        size_t w = i;
        while (w < n && !is_space(s[w]))
                w++;
        for (const char *const *x = not_names; *x; x++)
                if (word_is(s + i, w - i, *x))
                        return false;
        size_t k = 0;
        bool initial = true;
        h->masked[0] = '\0';
        size_t mk = 0;
        for (size_t j = i; j < n && k + 1 < sizeof(h->canon); j++) {
                unsigned char c = (unsigned char)s[j];
                if (is_space((char)c)) {
                        if (k > 0 && h->canon[k - 1] != ' ')
                                h->canon[k++] = ' ';
                        initial = true;
                        continue;
                }
                h->canon[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
                if (initial && mk + 8 < sizeof(h->masked)) {
                        /* initials only, the length hidden: "C*** L***" */
                        if (mk)
                                h->masked[mk++] = ' ';
                        h->masked[mk++] = (char)c;
                        if (c >= 0xc0 && j + 1 < n)
                                h->masked[mk++] = s[j + 1];
                        memcpy(h->masked + mk, "***", 4);
                        mk += 3;
                }
                initial = false;
        }
        while (k > 0 && h->canon[k - 1] == ' ')
                k--;
        h->canon[k] = '\0';
        h->canon_len = k;
        return k > 0;
}

static int title_flag; /* non-NULL data: the match starts with a title */

/* The first names as one alternation, longest first is not needed: a name is
 * followed by a space and a surname, so "Anne" cannot stop short of "Annie". */
static char *names_alternation(void)
{
        struct vg_buf b;
        vg_buf_init(&b, 1u << 20);
        const char *p = vg_prenoms_text;
        bool first = true;
        while (*p) {
                const char *eol = strchr(p, '\n');
                size_t n = eol ? (size_t)(eol - p) : strlen(p);
                const char *line = p;
                p += n + (eol != NULL);
                while (n > 0 && (line[n - 1] == '\r' || is_space(line[n - 1])))
                        n--;
                if (n == 0 || line[0] == '#')
                        continue;
                if (!first && vg_buf_appendc(&b, '|') < 0)
                        goto fail;
                first = false;
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)line[i];
                        bool plain = c >= 0x80 || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
                        int e;
                        if (plain) {
                                e = vg_buf_appendc(&b, (char)c);
                        } else {
                                char esc[8];
                                snprintf(esc, sizeof(esc), "\\x%02x", c);
                                e = vg_buf_appends(&b, esc);
                        }
                        if (e < 0)
                                goto fail;
                }
        }
        if (first && vg_buf_appends(&b, "(*FAIL)") < 0)
                goto fail;
        return vg_buf_take(&b);
fail:
        vg_buf_free(&b);
        return NULL;
}

static char *wrap(const char *before, const char *after)
{
        char *alt = names_alternation();
        if (!alt)
                return NULL;
        size_t n = strlen(before) + strlen(alt) + strlen(after) + 16;
        char *out = malloc(n);
        if (out)
                snprintf(out, n, "%s(?:%s)%s", before, alt, after);
        free(alt);
        return out;
}

/* Chloé LEGRAND, Chloé Legrand, Jean-Pierre de La Fontaine */
static char *build_first_last(const struct vg_custom *c)
{
        (void)c;
        return wrap(NOT_LETTER_BEFORE, "(?:-" UP LO "+)?[ \\t]+" NAME NOT_LETTER_AFTER);
}

/* LEGRAND Chloé (forms and lists put the surname first, in capitals) */
static char *build_last_first(const struct vg_custom *c)
{
        (void)c;
        return wrap(NOT_LETTER_BEFORE "(?:[A-Z]|\\xc3[\\x80-\\x96\\x98-\\x9e]){2,}"
                                      "(?:-(?:[A-Z]|\\xc3[\\x80-\\x96\\x98-\\x9e]){2,})?[ \\t]+",
                    NOT_LETTER_AFTER);
}

const struct vg_detector vg_detectors_person[] = {
    {
        /* A civility title, then the name: the title goes with it. */
        .id = "person_name",
        .pattern = NOT_LETTER_BEFORE
        "(?:M\\.|MM\\.|Mme\\.?|Mmes|Mlle\\.?|Mr\\.?|Mrs\\.?|Ms\\.?|Dr\\.?|Pr\\.?|Me|"
        "Ma(?:\\xc3\\xae|i)tre|Monsieur|Madame|Mademoiselle|Docteur|Professeur)"
        "[ \\t]+" NAME NOT_LETTER_AFTER,
        .check = person_check,
        .data = &title_flag,
    },
    {
        /* A form field, then the name (the field's label stays). */
        .id = "person_name",
        .pattern = NOT_LETTER_BEFORE
        "(?:Nom(?: de naissance| d'usage| complet| et pr\\xc3\\xa9nom)?|NOM|"
        "Pr\\xc3\\xa9nom(?:\\(s\\)|s)?|PR\\xc3\\x89NOM|Patient(?:e)?|Salari\\xc3\\xa9(?:e)?|"
        "Destinataire|Exp\\xc3\\xa9diteur|Signataire|Employ\\xc3\\xa9(?:e)?|Assur\\xc3\\xa9(?:e)?|"
        "B\\xc3\\xa9n\\xc3\\xa9ficiaire|Titulaire|Name|Full name|Sign\\xc3\\xa9 par|Signed by)"
        "[ \\t]*:[ \\t]*\\K" NAME NOT_LETTER_AFTER,
        .check = person_check,
    },
    {
        /* A mail header's display name: From: "Chloé Legrand" <chloe@...> */
        .id = "person_name",
        .pattern = "(?m)^(?:From|To|Cc|Reply-To|De|\\xc3\\x80|A|Pour)[ \\t]*:[ \\t]*\"?\\K" NAME
                   "(?=\"?[ \\t]*<)",
        .check = person_check,
    },
    {
        /* A signature: a closing formula, then a name on the next line. */
        .id = "person_name",
        .pattern = "(?:Cordialement|Bien \\xc3\\xa0 vous|Sinc\\xc3\\xa8res salutations|"
                   "Bien cordialement|Regards|Best regards|Sincerely)[,.!]?[ \\t]*\\r?\\n"
                   "[ \\t]*\\K" NAME "[ \\t]*(?=\\r?\\n|$)",
        .check = person_check,
    },
    {.id = "person_name", .build = build_first_last, .check = person_check},
    {.id = "person_name", .build = build_last_first, .check = person_check},
    {.id = NULL},
};

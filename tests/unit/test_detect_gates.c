/* The gates of the prefilter (detect.c: one SSE2 pass listing digit runs and
 * operator bytes, each rule's find function reading its pattern's shape from
 * them; phrase prefixes; the anchored copies of the patterns) must not change
 * a single finding. Adversarial texts go through the engine with the gates and
 * in reference mode (every rule over the whole text) and the reports must be
 * identical: detectors, counts, distinct counts and masked samples.
 *
 * The texts are dense with near misses: digit runs of every length from 1 to
 * 25 joined by every separator the patterns know (and some they do not),
 * identifiers with right check digits in every layout, next to letters, to
 * bytes past 0x7f (UTF-8 and lone Windows-1252 bytes), at every offset of the
 * 64-byte blocks of the pass and of the chunks (filler of random length), and
 * phrases in upper case and with accents. Nothing here is a real person's;
 * only masked samples are compared.
 *
 * Also here: the fast paths of the sink's neighbours, each against a plain
 * byte loop: the Windows-1252 decoder (seen through the text sink's tap) and
 * the charset guess. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "detect.h"
#include "report.h"
#include "text.h"
#include "validate.h"

#include "detect_same.h"

static const char *pick(const char *const *v, size_t n)
{
        return v[rnd((uint32_t)n)];
}

#define PICK(v) pick(v, NELEM(v))

static void rdigits(char *d, size_t n)
{
        for (size_t i = 0; i < n; i++)
                d[i] = (char)('0' + rnd(10));
}

/* Digits d[0,n) in groups of `g` (0: none) joined by sep. */
static void grouped(struct out *o, const char *d, size_t n, size_t g, const char *sep)
{
        for (size_t i = 0; i < n; i++) {
                if (g && i && i % g == 0)
                        puts_(o, sep);
                put(o, d + i, 1);
        }
}

static const char *const seps[] = {
    " ", "-", ".", "/", "\t", "  ", " . ", ",", ";", "|", " - ", "\t\t", "", "", "", " ",
};

static void card(struct out *o)
{
        char d[19];
        size_t n = 13 + rnd(7);
        rdigits(d, n);
        d[0] = "3456"[rnd(4)];
        for (d[n - 1] = '0'; !vg_luhn_valid(d, n); d[n - 1]++)
                ;
        grouped(o, d, n, rnd(2) ? 4 : 0, (const char *[]){" ", "-", "  ", ".", ""}[rnd(5)]);
}

static void nir(struct out *o)
{
        char d[16];
        snprintf(d, sizeof(d), "%u%02u%02u%02u%03u%03u", 1 + rnd(2), rnd(100), 1 + rnd(12),
                 1 + rnd(95), 1 + rnd(998), 1 + rnd(998));
        if (rnd(4) == 0) { /* Corsica */
                d[5] = '2';
                d[6] = "AB"[rnd(2)];
        }
        int key = vg_nir_key(d);
        if (key < 0 || key > 99)
                key = 1;
        d[13] = (char)('0' + key / 10);
        d[14] = (char)('0' + key % 10);
        static const size_t cuts[] = {1, 3, 5, 7, 10, 13};
        const char *sep = (const char *[]){" ", ".", "-", "  ", "\t", "", " - "}[rnd(7)];
        for (size_t i = 0, c = 0; i < 15; i++) {
                if (c < NELEM(cuts) && i == cuts[c]) {
                        if (rnd(3))
                                puts_(o, sep);
                        c++;
                }
                put(o, d + i, 1);
        }
}

static void iban(struct out *o)
{
        char b[40];
        char bban[24];
        rdigits(bban, 23);
        for (unsigned k = 0; k < 100; k++) {
                snprintf(b, sizeof(b), "FR%02u%.23s", k, bban);
                if (vg_iban_valid(b, 27))
                        break;
        }
        if (rnd(2))
                b[0] = 'f';
        grouped(o, b, 27, rnd(2) ? 4 : 0, (const char *[]){" ", "-", "\t", "  "}[rnd(4)]);
}

static void rib(struct out *o)
{
        char bank[6], branch[6], acc[12], key[3];
        rdigits(bank, 5);
        rdigits(branch, 5);
        rdigits(acc, 11);
        bank[5] = branch[5] = acc[11] = key[2] = '\0';
        if (rnd(3) == 0)
                acc[rnd(11)] = (char)('A' + rnd(26));
        for (unsigned k = 0; k < 100; k++) {
                key[0] = (char)('0' + k / 10);
                key[1] = (char)('0' + k % 10);
                if (vg_rib_valid(bank, branch, acc, key))
                        break;
        }
        char b[160];
        switch (rnd(4)) {
        case 3: { /* each gap on its own: compact runs of 10, 21 or 23 */
                const char *g[3];
                for (int i = 0; i < 3; i++)
                        g[i] = (const char *[]){"", " ", ";", "\t"}[rnd(4)];
                snprintf(b, sizeof(b), "RIB %s%s%s%s%s%s%s", bank, g[0], branch, g[1], acc, g[2],
                         key);
                break;
        }
        case 0: {
                const char *s = (const char *[]){" ",   "",  ";",   " | ",      "\t",
                                                 " / ", "-", ",  ", "         "}[rnd(9)];
                snprintf(b, sizeof(b), "%s%s%s%s%s%s%s", bank, s, branch, s, acc, s, key);
                break;
        }
        case 1:
                snprintf(b, sizeof(b),
                         "%s : %s / Code guichet : %s / N° de compte : %s / Clé RIB : %s",
                         (const char *[]){"Code banque", "BANQUE", "banque"}[rnd(3)], bank, branch,
                         acc, key);
                break;
        default:
                snprintf(b, sizeof(b), "Banque %s\nGuichet %s\nCompte %s\nCLÉ %s", bank, branch,
                         acc, key);
                break;
        }
        puts_(o, b);
}

static void tax(struct out *o)
{
        char d[13];
        rdigits(d, 13);
        d[0] = (char)('0' + rnd(4));
        for (unsigned k = 0; k < 1000 && !vg_spi_valid(d, 13); k++) {
                d[10] = (char)('0' + k / 100);
                d[11] = (char)('0' + k / 10 % 10);
                d[12] = (char)('0' + k % 10);
        }
        puts_(o, PICK(((const char *const[]){"numéro fiscal ", "SPI : ", "Numéro Fiscal: ", ""})));
        grouped(o, d, 13, rnd(2) ? 3 : 0, (const char *[]){" ", ".", ""}[rnd(3)]);
}

static void phone(struct out *o)
{
        char b[64];
        unsigned a = rnd(100), c = rnd(100), d = rnd(100), e = rnd(100);
        const char *s = (const char *[]){" ", ".", "-", "", "  ", "/"}[rnd(6)];
        switch (rnd(6)) {
        case 0:
                snprintf(b, sizeof(b), "0%u%s%02u%s%02u%s%02u%s%02u", 1 + rnd(9), s, a, s, c, s, d,
                         s, e);
                break;
        case 1:
                snprintf(b, sizeof(b), "+33 %u %02u%s%02u%s%02u%s%02u", 1 + rnd(9), a, s, c, s, d,
                         s, e);
                break;
        case 2:
                snprintf(b, sizeof(b), "0033%s%u%02u%02u%02u%02u", s, 1 + rnd(9), a, c, d, e);
                break;
        case 3:
                snprintf(b, sizeof(b), "(+%s) (0) %u %02u %02u %02u %02u",
                         (const char *[]){"33", "590", "262", "596"}[rnd(4)], 1 + rnd(9), a, c, d,
                         e);
                break;
        case 4:
                snprintf(b, sizeof(b), "+33 (0)%u%s%02u%s%02u%s%02u%s%02u", 1 + rnd(9), s, a, s, c,
                         s, d, s, e);
                break;
        default:
                snprintf(b, sizeof(b), "+594%u%02u%02u%02u%02u", 1 + rnd(9), a, c, d, e);
                break;
        }
        puts_(o, b);
}

/* Numbers of every length with every separator: chains near every gate's
 * thresholds, hex letters, "2A", letters around. */
static void soup(struct out *o)
{
        unsigned groups = 1 + rnd(6);
        const char *s = PICK(seps);
        for (unsigned g = 0; g < groups; g++) {
                char d[25];
                size_t n = 1 + rnd(rnd(2) ? 6 : 25);
                rdigits(d, n);
                put(o, d, n);
                if (g + 1 < groups)
                        puts_(o, rnd(6) ? s
                                        : PICK(((const char *const[]){
                                              "A", "B", "2A", "ab", "F", "AB", " AB ", "x", "é",
                                              "(0)", "+", "(+", "\xe9", "\xc2\xa0"})));
        }
}

static void password(struct out *o)
{
        puts_(o, PICK(((const char *const[]){"password", "PASSWORD", "Passwd", "pwd",
                                             "mot de passe", "Mot_de_Passe", "motdepasse", "MDP",
                                             "passphrase", "Passwort", "pass", "word", "pwd'"})));
        puts_(o, PICK(((const char *const[]){"", "\"", "'", " ", "    ", "     ", "\t", "\t\t",
                                             " \""})));
        puts_(o, PICK(((const char *const[]){"=", ":", ":=", "=>", ">", "\t", " = ", ""})));
        puts_(o, PICK(((const char *const[]){"", " ", "  ", "\"", "'", "     "})));
        for (unsigned i = 0, n = rnd(30); i < n; i++) {
                char c = "abcdefghijKLMNOP0123456789+/_-=.~!"[rnd(34)];
                put(o, &c, 1);
        }
}

static void url(struct out *o)
{
        puts_(o, PICK(((const char *const[]){"https://", "postgres://", "ftp://", "://", ":/"})));
        puts_(o, PICK(((const char *const[]){"admin", "jean.dupont", "", "u"})));
        puts_(o, PICK(((const char *const[]){":", "@", ":s3cr3tPass@", ":Xy9!kLm2@"})));
        puts_(o, PICK(((const char *const[]){"db.exemple.fr", "10.0.0.1:5432", "", "h"})));
}

static void token(struct out *o)
{
        puts_(o, PICK(((const char *const[]){"api_key", "token", "secret", "key", "AKIA", "ghp_",
                                             "sk-proj-", "xoxb-", "glpat-", "AIza", "Bearer ",
                                             "sk_live_"})));
        puts_(o, PICK(((const char *const[]){"", "=", ": ", ":\t\"", " => '", "=     "})));
        for (unsigned i = 0, n = 10 + rnd(40); i < n; i++) {
                char c = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789+/_-."[rnd(51)];
                put(o, &c, 1);
        }
}

static void ids(struct out *o)
{
        char d[16];
        switch (rnd(6)) {
        case 0: /* passport */
                puts_(o, PICK(((const char *const[]){"passeport ", "PASSEPORT n° ",
                                                     "Passport: ", ""})));
                rdigits(d, 2);
                put(o, d, 2);
                puts_(o, PICK(((const char *const[]){"", " "})));
                d[0] = (char)('A' + rnd(26));
                d[1] = (char)((rnd(2) ? 'A' : 'a') + rnd(26));
                put(o, d, 2);
                puts_(o, PICK(((const char *const[]){"", " "})));
                rdigits(d, 5);
                put(o, d, 5);
                break;
        case 1: /* licence */
                puts_(o, PICK(((const char *const[]){"permis de conduire ", "NEPH ", "Permis n° ",
                                                     ""})));
                rdigits(d, 12);
                if (rnd(3) == 0) {
                        d[2] = '2';
                        d[3] = "AB"[rnd(2)];
                }
                if (rnd(3) == 0) {
                        d[4] = (char)('A' + rnd(26));
                        d[5] = (char)('A' + rnd(26));
                }
                grouped(o, d, 12, (size_t[]){0, 2, 4}[rnd(3)], " ");
                break;
        case 2: /* health professionals */
                puts_(o, PICK(((const char *const[]){"RPPS ", "n° ADELI : ", "FINESS ", ""})));
                rdigits(d, 11);
                if (rnd(2)) {
                        d[0] = '1';
                        for (d[10] = '0'; !vg_luhn_valid(d, 11) && d[10] < '9'; d[10]++)
                                ;
                        put(o, d, 11);
                } else if (rnd(2)) {
                        put(o, d, 9);
                } else {
                        d[0] = "29"[rnd(2)];
                        d[1] = "ABCDEFabcdefG"[rnd(13)];
                        put(o, d, 9);
                }
                break;
        case 3: /* identity card */
                puts_(o, PICK(((const char *const[]){"carte d'identité ", "CNI ",
                                                     "Carte Nationale d’Identité : ", ""})));
                if (rnd(2)) {
                        rdigits(d, 12);
                        d[4] = '7';
                        d[5] = '5';
                        if (rnd(3) == 0) {
                                d[4] = '2';
                                d[5] = "AB"[rnd(2)];
                        }
                        grouped(o, d, 12, rnd(2) ? 4 : 0, " ");
                } else {
                        for (int i = 0; i < 9; i++)
                                d[i] = rnd(2) ? (char)('0' + rnd(10)) : (char)('A' + rnd(26));
                        if (rnd(4) == 0)
                                d[rnd(9)] = 'x';
                        put(o, d, 9 - rnd(2) + rnd(2));
                }
                break;
        case 4:
                tax(o);
                break;
        default:
                rib(o);
                break;
        }
}

static const char *const words[] = {
    "CONFIDENTIEL",
    "Confidentiel",
    "Diffusion Restreinte",
    "À usage interne",
    "a usage interne",
    "TRÈS SECRET",
    "Secret-Défense",
    "ne pas DIFFUSER",
    "pour usage interne",
    "document",
    "CHIMIOTHÉRAPIE",
    "Diabète",
    "ordonnance",
    "patient",
    "traitement",
    "cancer",
    "facture",
    "réunion",
    "projet",
    "le",
    "de",
    "pour",
    "à",
    "mail",
    "tél.",
    "carte bancaire",
    "clé",
    "œuvre",
    "Œdème",
    "\xe9t\xe9",
    "\x80",
    "é",
    "…",
    "\xc2\xa0",
    "«CNI»",
    "d’identité",
    "jean.dupont@exemple.fr",
    "x@y.z",
    "@",
};

static void piece(struct out *o)
{
        switch (rnd(16)) {
        case 0:
                card(o);
                break;
        case 1:
                nir(o);
                break;
        case 2:
                iban(o);
                break;
        case 3:
                phone(o);
                break;
        case 4:
        case 5:
        case 6:
                soup(o);
                break;
        case 7:
                password(o);
                break;
        case 8:
                url(o);
                break;
        case 9:
                token(o);
                break;
        case 10:
        case 11:
                ids(o);
                break;
        default:
                puts_(o, PICK(words));
                break;
        }
        /* what follows: nothing (letters or digits may touch), a separator,
         * a byte past 0x7f, or filler that moves the next piece along the
         * 64-byte blocks of the prefilter's pass */
        switch (rnd(8)) {
        case 0:
                break;
        case 1:
                puts_(o, PICK(((const char *const[]){"é", "\xe9", "€", "\x92", "x", "7"})));
                break;
        case 2:
                for (unsigned i = 0, n = rnd(128); i < n; i++)
                        put(o, "abcdefgh ijklmnop" + rnd(17), 1);
                break;
        default:
                puts_(o, PICK(((const char *const[]){" ", "\n", ", ", "; ", "\t", " (", ") "})));
                break;
        }
}

static void test_gates_adversarial(void **state)
{
        (void)state;
        struct vg_rules *fast, *ref;
        assert_int_equal(vg_rules_new(NULL, &fast), 0);
        assert_int_equal(vg_rules_new(NULL, &ref), 0);
        vg_rules_set_reference(ref, true);
        size_t cap = 120000;
        struct out o = {.p = malloc(cap), .cap = cap};
        assert_non_null(o.p);
        /* every gated rule had findings to compare */
        static const char *const expect[] = {
            "iban",         "credit_card", "fr_rib",
            "fr_nir",       "fr_tax_id",   "fr_driving_licence",
            "fr_health_id", "fr_cni",      "fr_passport",
            "phone_fr",     "password",    "api_token",
            "email",        "marking",
        };
        bool seen[NELEM(expect)] = {0};
        for (uint64_t seed = 1; seed <= 24; seed++) {
                rng = seed * 0x9e3779b97f4a7c15ull;
                o.n = 0;
                size_t want = 4000 + rnd((uint32_t)(cap - 4000));
                while (o.n < want)
                        piece(&o);
                /* the smallest chunk (four overlaps, so many boundaries) and the
                 * engine's own */
                const size_t chunks[] = {1, 256 * 1024};
                for (size_t k = 0; k < NELEM(chunks); k++) {
                        struct vg_report *a =
                            scan_pieces(fast, o.p, o.n, chunks[k], 3000, chunks[k] * 31 + o.n);
                        struct vg_report *b =
                            scan_pieces(ref, o.p, o.n, chunks[k], 3000, chunks[k] * 31 + o.n);
                        same(a, b);
                        for (size_t f = 0; f < a->nfindings; f++)
                                for (size_t w = 0; w < NELEM(expect); w++)
                                        if (strcmp(a->findings[f].detector, expect[w]) == 0)
                                                seen[w] = true;
                        vg_report_free(a);
                        vg_report_free(b);
                }
        }
        for (size_t w = 0; w < NELEM(expect); w++)
                if (!seen[w])
                        fail_msg("no %s finding in the generated texts", expect[w]);
        free(o.p);
        vg_rules_free(fast);
        vg_rules_free(ref);
}

/* One identifier of each gated kind at every offset 0..191 of the text (so at
 * every position of the prefilter's 64-byte blocks and of the fold's 16-byte
 * ones), after ASCII, after an accented letter and after a lone cp1252 byte. */
static void test_gates_every_offset(void **state)
{
        (void)state;
        struct vg_rules *fast, *ref;
        assert_int_equal(vg_rules_new(NULL, &fast), 0);
        assert_int_equal(vg_rules_new(NULL, &ref), 0);
        vg_rules_set_reference(ref, true);
        static const char *const items[] = {
            "4970 1012 3456 7895", /* Luhn-valid */
            "FR76 3000 6000 0112 3456 7890 189",
            "1 85 05 78 006 084 36", /* NIR, right key */
            "06 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "password = Xy9!kLm2pQ",
            "https://jean:Xy9kLm2pQ@db.exemple.fr",
            "token: AbCdEfGhIjKlMnOpQrStUv",
            "passeport 12AB34567",
            "permis de conduire 87 75 AB 123456",
            "CONFIDENTIEL",
            "Très Confidentiel",
            "jean.dupont@exemple.fr",
        };
        static const char *const before[] = {"", "é", "\xe9", "x", "\xc2\xa0"};
        char text[512];
        for (size_t it = 0; it < NELEM(items); it++)
                for (size_t bf = 0; bf < NELEM(before); bf++)
                        for (size_t off = 0; off < 192; off++) {
                                size_t n = 0;
                                for (; n < off; n++)
                                        text[n] = (char)(n % 7 == 6 ? ' ' : 'a' + n % 5);
                                n += (size_t)snprintf(text + n, sizeof(text) - n, " %s%s fin",
                                                      before[bf], items[it]);
                                struct vg_report *a = scan_pieces(fast, text, n, 1, 3000, 31 + n);
                                struct vg_report *b = scan_pieces(ref, text, n, 1, 3000, 31 + n);
                                same(a, b);
                                vg_report_free(a);
                                vg_report_free(b);
                        }
        vg_rules_free(fast);
        vg_rules_free(ref);
}

/* The Windows-1252 decoder copies ASCII a run at a time: its output must be
 * that of a byte at a time (the sink's tap sees what the decoder pushes). */
static void test_cp1252_fast_path(void **state)
{
        (void)state;
        struct vg_rules *rs;
        assert_int_equal(vg_rules_new(NULL, &rs), 0);
        static const uint16_t high[32] = {
            0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
            0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
            0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
        };
        size_t n = 100000;
        unsigned char *in = malloc(n);
        char *want = malloc(3 * n);
        assert_non_null(in);
        assert_non_null(want);
        rng = 7;
        for (size_t i = 0; i < n; i++) /* long ASCII runs, and every high byte */
                in[i] = (unsigned char)(rnd(40) ? 0x20 + rnd(0x5f) : 0x80 + rnd(0x80));
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
                uint32_t cp = in[i];
                if (cp >= 0x80 && cp < 0xa0)
                        cp = high[cp - 0x80] ? high[cp - 0x80] : 0xfffd;
                if (cp < 0x80) {
                        want[w++] = (char)cp;
                } else if (cp < 0x800) {
                        want[w++] = (char)(0xc0 | cp >> 6);
                        want[w++] = (char)(0x80 | (cp & 0x3f));
                } else {
                        want[w++] = (char)(0xe0 | cp >> 12);
                        want[w++] = (char)(0x80 | (cp >> 6 & 0x3f));
                        want[w++] = (char)(0x80 | (cp & 0x3f));
                }
        }
        for (size_t step = 1; step <= 70000; step = step * 7 + 3) {
                struct vg_detect *d;
                struct vg_text *t;
                struct vg_buf tap;
                vg_buf_init(&tap, 4 * n);
                assert_int_equal(vg_detect_new(rs, &d), 0);
                assert_int_equal(vg_text_new(d, 0, &t), 0);
                vg_text_set_tap(t, &tap);
                struct vg_decoder dec;
                vg_decoder_init(&dec, VG_CS_CP1252);
                for (size_t i = 0; i < n; i += step)
                        assert_int_equal(
                            vg_decoder_push(&dec, t, in + i, n - i < step ? n - i : step), 0);
                assert_int_equal(vg_decoder_end(&dec, t), 0);
                assert_int_equal(vg_text_end(t), 0);
                assert_int_equal(tap.len, w);
                assert_memory_equal(tap.data, want, w);
                vg_buf_free(&tap);
                vg_text_free(t);
                vg_detect_free(d);
        }
        free(in);
        free(want);
        vg_rules_free(rs);
}

/* The charset guess skips ASCII and zero-free heads quickly: same answers as
 * before on heads built to sit on either side of each rule. */
/* the length of a literal that may hold zero bytes */
#define CASE(s, cs)                                                                                \
        {                                                                                          \
                s, sizeof(s) - 1, cs                                                               \
        }

static void test_sniff_fast_paths(void **state)
{
        (void)state;
        static const struct {
                const char *head;
                size_t n;
                enum vg_charset cs;
        } cases[] = {
            CASE("plain ASCII text, long enough to look at", VG_CS_UTF8),
            CASE("caf\xc3\xa9 cr\xc3\xa8me, deux \xc3\xa9t\xc3\xa9s pleins", VG_CS_UTF8),
            CASE("caf\xe9 cr\xe8me, deux \xe9t\xe9s pleins et plus", VG_CS_CP1252),
            CASE("0123456789abcdef0123456789abcdef\xc3", VG_CS_UTF8), /* cut at the end */
            CASE("0123456789abcdef0123456789abcdef\xc3(", VG_CS_CP1252),
            CASE("0123456789abcdef0123456789abcde\xe0\x80\x80", VG_CS_CP1252),  /* overlong */
            CASE("0123456789abcdef0123456789abcdef\xed\xa0\x80", VG_CS_CP1252), /* surrogate */
            CASE("h\0e\0l\0l\0o\0 \0w\0o\0r\0l\0d\0!\0", VG_CS_UTF16LE),
            CASE("\0h\0e\0l\0l\0o\0 \0w\0o\0r\0l\0d\0!", VG_CS_UTF16BE),
            CASE("with one zero\0 byte in an ASCII head", VG_CS_UTF8),
        };
        for (size_t i = 0; i < NELEM(cases); i++) {
                size_t bom;
                assert_int_equal(
                    vg_charset_sniff((const unsigned char *)cases[i].head, cases[i].n, &bom),
                    cases[i].cs);
                assert_int_equal(bom, 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_gates_adversarial),
            cmocka_unit_test(test_gates_every_offset),
            cmocka_unit_test(test_cp1252_fast_path),
            cmocka_unit_test(test_sniff_fast_paths),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

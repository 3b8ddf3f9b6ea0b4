/* The prefilter (detect.c) must not change a single finding: the same generated
 * texts go through the engine with it and in reference mode (every rule over
 * the whole text, as before the prefilter), with small chunks so that many
 * identifiers straddle a chunk boundary, and the reports must be identical:
 * detectors, counts, distinct counts and masked samples. Custom rules and
 * dictionaries from the configuration are part of the rule set.
 *
 * The generated identifiers have correct check digits (Luhn, mod 97, NIR key);
 * nothing here is a real person's. Only masked samples are ever compared. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "report.h"
#include "text.h"

#include "detect_same.h"

static void digits(struct out *o, unsigned n, const char *seps)
{
        for (unsigned i = 0; i < n; i++) {
                char c = (char)('0' + rnd(10));
                put(o, &c, 1);
                if (seps && rnd(4) == 0)
                        put(o, seps + rnd((uint32_t)strlen(seps)), 1);
        }
}

static bool luhn(const char *d, size_t n)
{
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned v = (unsigned)(d[n - 1 - i] - '0');
                if (i % 2 && (v *= 2) > 9)
                        v -= 9;
                sum += v;
        }
        return sum % 10 == 0;
}

/* A 16-digit number with a right Luhn sum, grouped by four. */
static void card(struct out *o, const char *sep)
{
        char d[16];
        d[0] = '4';
        for (int i = 1; i < 16; i++)
                d[i] = (char)('0' + rnd(10));
        for (d[15] = '0'; !luhn(d, 16); d[15]++)
                ;
        for (int g = 0; g < 4; g++) {
                put(o, d + 4 * g, 4);
                if (g < 3)
                        puts_(o, sep);
        }
}

static void nir(struct out *o)
{
        char d[16];
        snprintf(d, sizeof(d), "%u%02u%02u%02u%03u%03u", 1 + rnd(2), 40 + rnd(59), 1 + rnd(12),
                 1 + rnd(95), 1 + rnd(998), 1 + rnd(998));
        unsigned long long v = strtoull(d, NULL, 10);
        char k[4];
        snprintf(k, sizeof(k), "%02u", 97 - (unsigned)(v % 97));
        put(o, d, 13);
        puts_(o, rnd(2) ? " " : "");
        puts_(o, k);
}

static const char *const words[] = {
    "le",
    "de",
    "pour",
    "à",
    "usage",
    "interne",
    "document",
    "Confidentiel",
    "CONFIDENTIEL",
    "diffusion",
    "restreinte",
    "ne pas diffuser",
    "secret",
    "patient",
    "diabète",
    "traitement",
    "ordonnance",
    "chimiothérapie",
    "cancer",
    "alinéa",
    "RGPD",
    "facture",
    "réunion",
    "Très",
    "projet",
    "orion",
    "matricule",
    "employé",
    "carte",
    "bancaire",
    "IBAN",
    "banque",
    "guichet",
    "compte",
    "clé RIB",
    "passeport",
    "permis de conduire",
    "numéro fiscal",
    "RPPS",
    "sécurité sociale",
    "tél.",
    "mail",
};

static void piece(struct out *o)
{
        char b[128];
        switch (rnd(30)) {
        case 0:
                card(o, (const char *[]){" ", "-", ""}[rnd(3)]);
                break;
        case 1:
                puts_(o,
                      rnd(2) ? "FR76 3000 6000 0112 3456 7890 189" : "FR7630006000011234567890189");
                break;
        case 2:
                nir(o);
                break;
        case 3:
                snprintf(b, sizeof(b), "jean.dupont%u@exemple.fr", rnd(1000));
                puts_(o, b);
                break;
        case 4:
                snprintf(b, sizeof(b), "%s6 %02u %02u %02u %02u", rnd(2) ? "+33 " : "0", rnd(100),
                         rnd(100), rnd(100), rnd(100));
                puts_(o, b);
                break;
        case 5:
                puts_(o, (const char *[]){"password = ", "mot de passe : ", "pwd=", "token: ",
                                          "Authorization: Bearer "}[rnd(5)]);
                for (unsigned i = 0, n = 8 + rnd(30); i < n; i++) {
                        char c = "abcdefghijKLMNOP0123456789+/_-"[rnd(30)];
                        put(o, &c, 1);
                }
                break;
        case 6:
                puts_(o, "MAT-");
                digits(o, 6, NULL);
                break;
        case 7: /* number-like decoys, with separators */
        case 8:
        case 9:
                digits(o, 1 + rnd(24), (const char *[]){" ", " .-/", "\t", NULL}[rnd(4)]);
                break;
        case 10:
                snprintf(b, sizeof(b), "%02u%c%c%05u", rnd(100), 'A' + rnd(26), 'A' + rnd(26),
                         rnd(100000));
                puts_(o, b);
                break;
        case 11:
                puts_(o, (const char *[]){"\n", "\t", "\xc2\xa0", "  ", "\r\n", ". ", ", ", ": ",
                                          "=", "://", "«", "»", "’"}[rnd(13)]);
                break;
        case 12:
                puts_(o, "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n");
                break;
        case 13:
                puts_(o, "AKIA");
                for (int i = 0; i < 16; i++) {
                        char c = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[rnd(32)];
                        put(o, &c, 1);
                }
                break;
        default:
                puts_(o, words[rnd(NELEM(words))]);
                puts_(o, rnd(5) ? " " : "");
                break;
        }
        if (rnd(2))
                puts_(o, " ");
}

static char *terms_a[] = {"phenix", "projet orion", "orion bleu", "acme industries", NULL};
static char *ctx_a[] = {"matricule", "employe", NULL};

static void test_prefilter_same_findings(void **state)
{
        (void)state;
        struct vg_custom_rule cr[] = {
            {.id = "matricule", .pattern = "MAT-[0-9]{6}", .context = ctx_a, .window = 40},
            {.id = "projets", .terms = terms_a, .nterms = 4, .show = VG_SHOW_VALUE},
        };
        char *marks[] = {"projet orion - diffusion limitee", NULL};
        struct vg_custom c = {.rules = cr, .nrules = NELEM(cr), .markings = marks, .nmarkings = 1};
        struct vg_rules *fast, *ref;
        assert_int_equal(vg_rules_new(&c, &fast), 0);
        assert_int_equal(vg_rules_new(&c, &ref), 0);
        vg_rules_set_reference(ref, true);
        size_t cap = 400000;
        struct out o = {.p = malloc(cap), .cap = cap};
        assert_non_null(o.p);
        size_t total = 0;
        /* every kind of rule had findings to compare */
        static const char *const expect[] = {
            "iban",      "credit_card", "fr_nir",  "email",  "phone_fr",  "password",
            "api_token", "secret_key",  "marking", "health", "matricule", "projets",
        };
        bool seen[NELEM(expect)] = {0};
        for (uint64_t seed = 1; seed <= 14; seed++) {
                rng = seed * 0x9e3779b97f4a7c15ull;
                o.n = 0;
                /* the last ones short and medical: health is a density */
                bool medical = seed > 12;
                size_t want = medical ? 2000 + rnd(3000) : 20000 + rnd((uint32_t)(cap - 20000));
                while (o.n < want) {
                        if (medical && rnd(2))
                                puts_(&o,
                                      "Le patient présente un diabète, traitement par insuline, "
                                      "chimiothérapie, biopsie et bilan sanguin. ");
                        else
                                piece(&o);
                }
                /* the smallest chunk (4 overlaps) and the engine's own */
                const size_t chunks[] = {1, 64 * 1024, 256 * 1024};
                for (size_t k = 0; k < NELEM(chunks); k++) {
                        struct vg_report *a = scan_pieces(fast, o.p, o.n, chunks[k], 6000, seed);
                        struct vg_report *b = scan_pieces(ref, o.p, o.n, chunks[k], 6000, seed);
                        same(a, b);
                        total += a->nfindings;
                        for (size_t f = 0; f < a->nfindings; f++)
                                for (size_t w = 0; w < NELEM(expect); w++)
                                        if (strcmp(a->findings[f].detector, expect[w]) == 0)
                                                seen[w] = true;
                        vg_report_free(a);
                        vg_report_free(b);
                }
        }
        /* the texts did have findings to compare */
        assert_true(total > 14 * 3 * 5);
        for (size_t w = 0; w < NELEM(expect); w++)
                if (!seen[w])
                        fail_msg("no %s finding in the generated texts", expect[w]);
        free(o.p);
        vg_rules_free(fast);
        vg_rules_free(ref);
}

/* Identifiers planted at every offset around the chunk boundaries: each is
 * counted once, by both engines. */
static void test_prefilter_boundaries(void **state)
{
        (void)state;
        struct vg_rules *fast, *ref;
        assert_int_equal(vg_rules_new(NULL, &fast), 0);
        assert_int_equal(vg_rules_new(NULL, &ref), 0);
        vg_rules_set_reference(ref, true);
        size_t cap = 300000;
        struct out o = {.p = malloc(cap), .cap = cap};
        assert_non_null(o.p);
        rng = 42;
        size_t planted = 0;
        /* filler of a fixed length so that the cards fall on every offset */
        while (o.n + 64 < cap) {
                puts_(&o, "texte ");
                for (unsigned i = 0, n = rnd(7); i < n; i++)
                        puts_(&o, "x");
                puts_(&o, " carte ");
                card(&o, " ");
                planted++;
                puts_(&o, " fin\n");
        }
        for (size_t chunk = 1; chunk <= 16384; chunk *= 2) {
                struct vg_report *a = scan_pieces(fast, o.p, o.n, chunk, 6000, chunk);
                struct vg_report *b = scan_pieces(ref, o.p, o.n, chunk, 6000, chunk);
                same(a, b);
                assert_int_equal(a->nfindings, 1);
                assert_string_equal(a->findings[0].detector, "credit_card");
                assert_int_equal(a->findings[0].count, planted);
                vg_report_free(a);
                vg_report_free(b);
        }
        free(o.p);
        vg_rules_free(fast);
        vg_rules_free(ref);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_prefilter_same_findings),
            cmocka_unit_test(test_prefilter_boundaries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

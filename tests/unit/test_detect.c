/* Detection through the real path: text sink (normalisation, chunks with
 * overlap) -> rules (PCRE2) -> validators -> counts and masked samples. */
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

static struct vg_rules *rules;

static int setup(void **state)
{
        (void)state;
        return vg_rules_new(NULL, &rules);
}

static int teardown(void **state)
{
        (void)state;
        vg_rules_free(rules);
        return 0;
}

/* Scans `text` pushed in pieces of `step` bytes; returns the report. */
static struct vg_report *scan_text(const char *text, size_t len, size_t step, size_t chunk)
{
        struct vg_detect *d;
        struct vg_text *t;
        assert_int_equal(vg_detect_new(rules, &d), 0);
        assert_int_equal(vg_text_new(d, chunk, &t), 0);
        for (size_t i = 0; i < len; i += step) {
                size_t n = len - i < step ? len - i : step;
                assert_int_equal(vg_text_push(t, text + i, n), 0);
        }
        assert_int_equal(vg_text_end(t), 0);
        struct vg_report *r = vg_report_new("t");
        assert_non_null(r);
        assert_int_equal(vg_detect_report(d, r, "t"), 0);
        vg_text_free(t);
        vg_detect_free(d);
        return r;
}

static uint64_t count_of(const struct vg_report *r, const char *det)
{
        for (size_t i = 0; i < r->nfindings; i++)
                if (strcmp(r->findings[i].detector, det) == 0)
                        return r->findings[i].count;
        return 0;
}

static uint64_t count(const char *text, const char *det)
{
        struct vg_report *r = scan_text(text, strlen(text), strlen(text) + 1, 1 << 20);
        uint64_t c = count_of(r, det);
        vg_report_free(r);
        return c;
}

static void test_iban_positives(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "FR76 3000 6000 0112 3456 7890 189",
            "IBAN: FR7630006000011234567890189.",
            "iban fr76 3000 6000 0112 3456 7890 189 merci",
            "FR76-3000-6000-0112-3456-7890-189",
            "Virement (FR76 3000 6000 0112 3456 7890 189) reçu",
            "FR76\xc2\xa0"
            "3000\xc2\xa0"
            "6000\xc2\xa0"
            "0112\xc2\xa0"
            "3456\xc2\xa0"
            "7890\xc2\xa0"
            "189",
            "FR76\xe2\x80\xaf"
            "3000 6000 0112 3456 7890 189",
            "\xef\xbc\xa6\xef\xbc\xb2\xef\xbc\x97\xef\xbc\x96"
            " 3000 6000 0112 3456 7890 189",
            "GB82 WEST 1234 5698 7654 32",
            "Konto DE89 3704 0044 0532 0130 00 bei",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91ABNA0417164300",
            "\tBE68 5390 0754 7034\t",
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
            "FR76 3000 6000 0112 3456 7890 189 EUR",
            "compte;FR7630006000011234567890189;actif",
        };
        for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++)
                if (count(pos[i], "iban") != 1)
                        fail_msg("IBAN not found once in: %s", pos[i]);
}

static void test_iban_negatives(void **state)
{
        (void)state;
        static const char *const neg[] = {
            "FR76 3000 6000 0112 3456 7890 188",    /* wrong check */
            "FR0630006000011234567890188",          /* mod 97 ok, RIB key wrong */
            "FR76 3000 6000 0112 3456 7890 189EUR", /* glued to a word */
            "XFR7630006000011234567890189",         /* inside a longer token */
            "FR76300060000112345678901890",         /* one digit too many */
            "Commande CM12 3456 7890 1234 5678 90",
            "Facture FA2023 0001 2345 6789",
            "ref: AB12CDEF34567890123",
            "uuid 550e8400-e29b-41d4-a716-446655440000",
            "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "GB82 WEST 1234 5698 7654 33",
            "DE89 3704 0044 0532 0130 01",
            "tel 01 23 45 67 89 00 11 22",
            "FR76 3000 6000",
            "IBAN: FR76 **** **** **** **** **** 189",
            /* a UUID whose last two groups pass mod 97 as a Belgian IBAN */
            "request 3f2a9c1e-77d0-4c1b-be68-539007547034",
        };
        for (size_t i = 0; i < sizeof(neg) / sizeof(neg[0]); i++)
                if (count(neg[i], "iban") != 0)
                        fail_msg("IBAN wrongly found in: %s", neg[i]);
}

static void test_nir_positives(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "1 85 05 78 006 084 91",
            "NIR : 185057800608491",
            "n° sécu 1.85.05.78.006.084.91",
            "1-85-05-78-006-084-91",
            "2 69 02 99 341 015 26",
            "1 85 05 2A 012 345 79",
            "2 85 05 2B 123 456 10",
            "1 76 01 971 12 345 06",
            "patient 2991299352123 24 suivi",
            "1 01 01 75 056 001 91",
            "2780359350099 36",
            "(1 45 10 13 055 321 45)",
            "2 62 06 31 555 111 21.",
            "3 85 05 78 006 084 88",
            "1\xc2\xa0"
            "85\xc2\xa0"
            "05\xc2\xa0"
            "78\xc2\xa0"
            "006\xc2\xa0"
            "084\xc2\xa0"
            "91",
        };
        for (size_t i = 0; i < sizeof(pos) / sizeof(pos[0]); i++)
                if (count(pos[i], "fr_nir") != 1)
                        fail_msg("NIR not found once in: %s", pos[i]);
}

static void test_nir_negatives(void **state)
{
        (void)state;
        static const char *const neg[] = {
            "1 85 05 78 006 084 92", /* wrong key */
            "5 85 05 78 006 084 91", /* no such sex digit */
            "1 85 13 78 006 084 91", /* month 13 */
            "1 85 05 00 006 084 91", /* department 00 */
            "1 85 05 78 000 084 91", /* commune 000 */
            "1 85 05 2C 012 345 79", /* 2C */
            "11850578006084911",     /* inside a longer number */
            "SIRET 732 829 320 00074",
            "Commande 1850578006084", /* no key */
            "tel: 1 85 05 78 006 08",
            "2024-05-12 10:11:12.123456",
            "0185057800608491",
            "ISBN 978-2-07-036822-8",
            "1 85 05 ** *** *** **",
            "a1850578006084 91",
            /* the tail of an IBAN whose own check fails: 3849 2572 3378 715 */
            "compte FR58 4849 0042 3849 2572 3378 715 ce mois-ci",
        };
        for (size_t i = 0; i < sizeof(neg) / sizeof(neg[0]); i++)
                if (count(neg[i], "fr_nir") != 0)
                        fail_msg("NIR wrongly found in: %s", neg[i]);
}

static void test_masked_samples(void **state)
{
        (void)state;
        const char *text = "FR7630006000011234567890189 et 1 85 05 78 006 084 91 et "
                           "FR7630006000011234567890189";
        struct vg_report *r = scan_text(text, strlen(text), 7, 1 << 20);
        assert_int_equal(r->nfindings, 2);
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *f = &r->findings[i];
                if (strcmp(f->detector, "iban") == 0) {
                        assert_int_equal(f->count, 2);
                        assert_int_equal(f->distinct, 1);
                        assert_int_equal(f->nsamples, 1);
                        assert_string_equal(f->samples[0], "FR76 **** **** **** **** **** 189");
                } else {
                        assert_string_equal(f->detector, "fr_nir");
                        assert_string_equal(f->samples[0], "1 85 05 ** *** *** **");
                }
        }
        vg_report_free(r);
}

/* An identifier at every offset around chunk boundaries is found exactly once,
 * whatever the size of the pieces pushed. */
static void test_chunk_boundaries(void **state)
{
        (void)state;
        const char *iban = "FR76 3000 6000 0112 3456 7890 189";
        size_t chunk = 16384; /* the smallest chunk the sink accepts is larger */
        size_t len = 200000;
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        size_t hits = 0, runs = 0;
        for (size_t at = 16000; at < 18700; at += 7) {
                memset(buf, 'x', len);
                for (size_t k = 0; k < len; k += 80)
                        buf[k] = ' ';
                /* plant the IBAN with spaces around it */
                buf[at - 1] = ' ';
                memcpy(buf + at, iban, strlen(iban));
                buf[at + strlen(iban)] = ' ';
                /* and a NIR far later */
                const char *nir = " 1 85 05 78 006 084 91 ";
                memcpy(buf + at + 50000, nir, strlen(nir));
                buf[len] = '\0';
                size_t steps[] = {len, 4096, 1000, 37};
                for (size_t s = 0; s < 4; s++) {
                        struct vg_report *r = scan_text(buf, len, steps[s], chunk);
                        if (count_of(r, "iban") != 1 || count_of(r, "fr_nir") != 1)
                                fail_msg("at=%zu step=%zu: iban=%llu nir=%llu", at, steps[s],
                                         (unsigned long long)count_of(r, "iban"),
                                         (unsigned long long)count_of(r, "fr_nir"));
                        hits++;
                        vg_report_free(r);
                        runs++;
                }
        }
        assert_int_equal(hits, runs);
        free(buf);
}

static void test_mask_string(void **state)
{
        (void)state;
        const char *name = "RIB FR7630006000011234567890189 et 1 85 05 78 006 084 91.txt";
        char *m = vg_rules_mask_string(rules, name, strlen(name));
        assert_non_null(m);
        assert_string_equal(m,
                            "RIB FR76 **** **** **** **** **** 189 et 1 85 05 ** *** *** **.txt");
        free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_iban_positives), cmocka_unit_test(test_iban_negatives),
            cmocka_unit_test(test_nir_positives),  cmocka_unit_test(test_nir_negatives),
            cmocka_unit_test(test_masked_samples), cmocka_unit_test(test_chunk_boundaries),
            cmocka_unit_test(test_mask_string),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

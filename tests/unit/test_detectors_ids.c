/* Bank, French identity and contact detectors through the real path (text sink ->
 * rules -> validators -> counts and masked samples), and their validators.
 *
 * Every check digit below was computed independently of the C code, in Python:
 *   luhn(s): sum of the digits from the right, every second one doubled (minus 9
 *            above 9), == 0 mod 10; a card/RPPS/ADELI/FINESS body was completed
 *            with the digit that makes it so;
 *   spi:     first ten digits mod 511, written on three digits;
 *   rib key: 97 - ((89*bank + 15*branch + 3*account) mod 97), account letters
 *            A-I,J-R -> 1-9, S-Z -> 2-9 (tests/tools/vgfix.py, rib_key());
 *   iban:    98 - (BBAN + "FR00" with letters as 10..35) mod 97.
 * Every number is made up except the SIRET of the brief (732 829 320 00074) and
 * published institutional numbers (a hospital's FINESS and SIREN). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "policy.h"
#include "report.h"
#include "text.h"
#include "validate.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

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

/* Scans `text` pushed in pieces of `step` bytes, in chunks of `chunk`. */
static struct vg_report *scan_chunked(const char *text, size_t len, size_t step, size_t chunk)
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

static struct vg_report *scan_text(const char *text, size_t len, size_t step)
{
        return scan_chunked(text, len, step, 1 << 20);
}

static const struct vg_finding *finding(const struct vg_report *r, const char *det)
{
        for (size_t i = 0; i < r->nfindings; i++)
                if (strcmp(r->findings[i].detector, det) == 0)
                        return &r->findings[i];
        return NULL;
}

static uint64_t count_of(const struct vg_report *r, const char *det)
{
        const struct vg_finding *f = finding(r, det);
        return f ? f->count : 0;
}

/* Masked samples show at most a head and a tail: no run of four or more digits
 * anywhere but at the very start or the very end of the sample. */
static void assert_masks_hide_middle(const struct vg_report *r)
{
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *f = &r->findings[i];
                for (size_t k = 0; k < f->nsamples; k++) {
                        const char *s = f->samples[k];
                        size_t n = strlen(s);
                        if (!strchr(s, '*'))
                                fail_msg("%s: sample without a mask: %s", f->detector, s);
                        for (size_t a = 0; a < n;) {
                                if (s[a] < '0' || s[a] > '9') {
                                        a++;
                                        continue;
                                }
                                size_t b = a;
                                while (b < n && s[b] >= '0' && s[b] <= '9')
                                        b++;
                                if (b - a >= 4 && a != 0 && b != n)
                                        fail_msg("%s: middle digits shown: %s", f->detector, s);
                                a = b;
                        }
                }
        }
}

/* Count of `det` in `text`, pushed whole and in pieces of 5 bytes (a sequence
 * cut between two pushes must change nothing). Masks are checked every time. */
static uint64_t count(const char *text, const char *det)
{
        struct vg_report *r = scan_text(text, strlen(text), strlen(text) + 1);
        uint64_t c = count_of(r, det);
        assert_masks_hide_middle(r);
        vg_report_free(r);
        r = scan_text(text, strlen(text), 5);
        if (count_of(r, det) != c)
                fail_msg("%s: count depends on how the text is pushed: %s", det, text);
        vg_report_free(r);
        return c;
}

static void expect(const char *det, const char *const *texts, size_t n, uint64_t want)
{
        for (size_t i = 0; i < n; i++) {
                uint64_t c = count(texts[i], det);
                if (c != want)
                        fail_msg("%s: %llu instead of %llu in: %s", det, (unsigned long long)c,
                                 (unsigned long long)want, texts[i]);
        }
}

#define EXPECT(det, table, want) expect(det, table, NELEM(table), want)

/* The masked sample of the single finding of `det` in `text`. */
static void expect_mask(const char *text, const char *det, const char *masked)
{
        struct vg_report *r = scan_text(text, strlen(text), strlen(text) + 1);
        const struct vg_finding *f = finding(r, det);
        if (!f || f->nsamples != 1)
                fail_msg("%s: no single sample in: %s", det, text);
        if (strcmp(f->samples[0], masked) != 0)
                fail_msg("%s: masked as '%s', want '%s'", det, f->samples[0], masked);
        vg_report_free(r);
}

/* ---------------------------------------------------------------- validators */

static void test_card_validator(void **state)
{
        (void)state;
        static const struct {
                const char *n;
                const char *brand;
        } ok[] = {
            {"4970341672110687", "visa"},        {"4403885421430447", "visa"},
            {"4324451956832374182", "visa"},     {"4178492051800", "visa"},
            {"5140494836694674", "mastercard"},  {"5523440107488756", "mastercard"},
            {"2221231637425695", "mastercard"},  {"2720583510349939", "mastercard"},
            {"341524700514505", "amex"},         {"375452691493746", "amex"},
            {"6011246925905070", "discover"},    {"6442554917363102", "discover"},
            {"6490029290879350180", "discover"}, {"6546373376703673", "discover"},
            {"3528363730044384", "jcb"},         {"3589336425059196074", "jcb"},
            {"30061639254750", "diners"},        {"3056834567143069", "diners"},
            {"36924027976637", "diners"},        {"38032094166385", "diners"},
        };
        for (size_t i = 0; i < NELEM(ok); i++) {
                const char *b = vg_card_brand(ok[i].n, strlen(ok[i].n));
                if (!vg_card_valid(ok[i].n, strlen(ok[i].n)) || !b || strcmp(b, ok[i].brand))
                        fail_msg("valid card rejected: %s", ok[i].n);
        }
        static const char *const bad[] = {
            "4970341672110688",     /* Luhn */
            "5140494836694675",     /* Luhn */
            "73282932000074",       /* SIRET: Luhn-valid, no brand starts with 7 */
            "42041817097813",       /* Luhn-valid SIRET-length Visa: Visa has no 14 */
            "58364532000958",       /* Luhn-valid 14 digits from 5: Mastercard is 16 */
            "2220999999999996",     /* below the 2-series */
            "2721000000000006",     /* above it */
            "3415247005145",        /* Amex is 15 */
            "1234567812345670",     /* Luhn-valid, no brand */
            "9999999999999995",     /* Luhn-valid, no brand */
            "497034167211068",      /* 15-digit Visa */
            "49703416721106871234", /* 20 digits */
            "4970a41672110687",
        };
        for (size_t i = 0; i < NELEM(bad); i++)
                if (vg_card_valid(bad[i], strlen(bad[i])))
                        fail_msg("invalid card accepted: %s", bad[i]);
}

static void test_spi_validator(void **state)
{
        (void)state;
        static const char *const ok[] = {
            "3948799762250", "2955261929228", "1453959116085", "1555240908144",
            "0512297911482", "1739469373334", "2535887686108", "2476904287417",
            "2669028175058", "2147379123246", "0420269988082", "2083213051444",
        };
        for (size_t i = 0; i < NELEM(ok); i++)
                if (!vg_spi_valid(ok[i], 13))
                        fail_msg("valid SPI rejected: %s", ok[i]);
        static const char *const bad[] = {
            "3948799762251", "2955261929229", "1453959116086", "4948799762250", /* 4 */
            "5512297911482", "1739469373344", "253588768610",  "24769042874170",
            "26690281750a8", "2147379123247", "9420269988082",
        };
        for (size_t i = 0; i < NELEM(bad); i++)
                if (vg_spi_valid(bad[i], strlen(bad[i])))
                        fail_msg("invalid SPI accepted: %s", bad[i]);
}

static void test_health_validators(void **state)
{
        (void)state;
        static const char *const rpps[] = {
            "10816224868", "10846526068", "10040421215", "10903380789", "10276528931",
            "10179546907", "10349947514", "10351095871", "10512078899", "10303159247",
        };
        for (size_t i = 0; i < NELEM(rpps); i++)
                if (!vg_rpps_valid(rpps[i], 11))
                        fail_msg("valid RPPS rejected: %s", rpps[i]);
        static const char *const adeli[] = {
            "753546969", "130267180", "698484367", "335230769", "974566598",
            "013448105", "956494298", "595129131", "924371503", "067932137",
        };
        for (size_t i = 0; i < NELEM(adeli); i++)
                if (!vg_adeli_valid(adeli[i], 9))
                        fail_msg("valid ADELI rejected: %s", adeli[i]);
        static const char *const finess[] = {
            "759212020", "133409557", "699522306", "330204710", "013267984", "957855661",
            "590022539", "924359391", "065658130", "313528309", "750712184", "130786049",
            "2A0000123", "2B1234567", "9A0123456", "9F9999999",
        };
        for (size_t i = 0; i < NELEM(finess); i++)
                if (!vg_finess_valid(finess[i], 9))
                        fail_msg("valid FINESS rejected: %s", finess[i]);
        static const struct {
                const char *n;
                bool (*fn)(const char *, size_t);
        } bad[] = {
            {"10816224869", vg_rpps_valid}, {"10846526067", vg_rpps_valid},
            {"1081622486", vg_rpps_valid},  {"108162248680", vg_rpps_valid},
            {"1081622486a", vg_rpps_valid}, {"753546968", vg_adeli_valid},
            {"961234564", vg_adeli_valid}, /* Luhn-valid, department 96 */
            {"000000000", vg_adeli_valid},  {"7535469690", vg_adeli_valid},
            {"759212021", vg_finess_valid}, {"961234564", vg_finess_valid},
            {"000000000", vg_finess_valid}, {"2C0000123", vg_finess_valid},
            {"9G0123456", vg_finess_valid}, {"2A000012", vg_finess_valid},
            {"2a0000123", vg_finess_valid}, {"75921202A", vg_finess_valid},
        };
        for (size_t i = 0; i < NELEM(bad); i++)
                if (bad[i].fn(bad[i].n, strlen(bad[i].n)))
                        fail_msg("invalid health number accepted: %s", bad[i].n);
}

static void test_rib_validator(void **state)
{
        (void)state;
        /* bank, branch, account, key */
        static const char *const ok[][4] = {
            {"30006", "00001", "12345678901", "89"}, {"20041", "01005", "0500013M026", "06"},
            {"10278", "06000", "00012345601", "12"}, {"30004", "00819", "00001234567", "41"},
            {"11315", "00001", "12345678A01", "13"}, {"17515", "90000", "08012345678", "49"},
            {"30003", "03620", "00050123456", "68"}, {"12548", "02998", "98765432100", "48"},
            {"30006", "00001", "12345678901", "89"}, {"20041", "01005", "0500013M026", "06"},
        };
        for (size_t i = 0; i < NELEM(ok); i++)
                if (!vg_rib_valid(ok[i][0], ok[i][1], ok[i][2], ok[i][3]))
                        fail_msg("valid RIB rejected: %s %s", ok[i][0], ok[i][2]);
        static const char *const bad[][4] = {
            {"30006", "00001", "12345678901", "88"}, {"20041", "01005", "0500013M026", "07"},
            {"10278", "06000", "00012345602", "12"}, {"30004", "00818", "00001234567", "41"},
            {"11314", "00001", "12345678A01", "13"}, {"17515", "90000", "0801234567a", "49"},
            {"3000A", "03620", "00050123456", "68"}, {"12548", "02998", "98765432100", "4x"},
            {"30006", "00001", "12345678902", "89"}, {"20041", "01005", "0500013N026", "06"},
        };
        for (size_t i = 0; i < NELEM(bad); i++)
                if (vg_rib_valid(bad[i][0], bad[i][1], bad[i][2], bad[i][3]))
                        fail_msg("invalid RIB accepted: %s %s", bad[i][0], bad[i][2]);
}

/* ---------------------------------------------------------------- credit_card */

static void test_card(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "4970 3416 7211 0687",
            "Carte : 4970341672110687.",
            "CB 4970-3416-7211-0687 exp 12/27",
            "Visa 4403 8854 2143 0447",
            "4324 4519 5683 2374 182",
            "Mastercard 5140 4948 3669 4674",
            "5523440107488756;DUPONT;12/26",
            "2221 2316 3742 5695",
            "Amex 3415 247005 14505",
            "375452691493746",
            "Discover 6011 2469 2590 5070",
            "6442 5549 1736 3102",
            "JCB 3528 3637 3004 4384",
            "Diners Club 3692 402797 6637",
            "carte bancaire n\xc2\xb0 4178 4920 5180 0",
            "4970\xc2\xa0"
            "3416\xc2\xa0"
            "7211\xc2\xa0"
            "0687",
            "4970\xe2\x80\xaf"
            "3416\xe2\x80\xaf"
            "7211\xe2\x80\xaf"
            "0687",
            "Pay\xc3\xa9 avec la carte\n4970 3416 7211 0687\nmerci",
            "| 6546 3733 7670 3673 | Dupont |",
            "3589336425059196074",
            "4970\xe2\x80\x91"
            "3416\xe2\x80\x91"
            "7211\xe2\x80\x91"
            "0687",
            "paiement de la commande par carte 5140494836694674",
        };
        EXPECT("credit_card", pos, 1);
        static const char *const neg[] = {
            "4970 3416 7211 0688",                 /* Luhn */
            "SIRET 732 829 320 00074",             /* the brief's SIRET */
            "732 829 320 00074",                   /* and without its label */
            "73282932000074",                      /* compact */
            "SIRET : 36761119158660",              /* Luhn-valid, Diners prefix 36 */
            "carte 367 611 191 58660",             /* same, SIRET grouping */
            "36761119158660",                      /* 14 digits and no word about cards */
            "SIREN 367611191",                     /* nine digits */
            "Commande n\xc2\xb0 4970341672110687", /* an order reference */
            "Commande 2024 0512 3456 7890",
            "14970341672110687",                 /* inside a longer run */
            "4970 3416 7211 0687 12",            /* followed by another group */
            "FR76 3000 6000 0112 3456 7890 189", /* IBAN digits */
            "DE89 3704 0044 0532 0130 00",
            "30006 00001 12345678901 89", /* RIB digits */
            "uuid 550e8400-e29b-41d4-a716-446655440000",
            "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "Montant 4970341672110687,50",
            "tel 06 12 34 56 78 90 12 34",
            "4970 **** **** 0687",
            "2024-05-12 10:11:12.123456",
            "EAN 4006381333931",
            "4970 3416-7211 0687", /* mixed separators */
            "4178492051800",       /* 13 digits, no card word */
            "1 85 05 78 006 084 91",
            "4970341672110687EUR",
        };
        EXPECT("credit_card", neg, 0);
        /* A Luhn-valid compact 14-digit SIRET starting 36/38/39/300-305 with a card
         * word nearby and no SIRET label is the one writing taken as a Diners card
         * (README: deliberately not). Its SIRET grouping is refused even then. */
        expect_mask("Carte 4970 3416 7211 0687", "credit_card", "4970 **** **** 0687");
        expect_mask("Amex 375452691493746", "credit_card", "3754 **** ***3 746");
}

/* ---------------------------------------------------------------- fr_rib */

static void test_rib(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "30006 00001 12345678901 89",
            "RIB : 30006000011234567890189",
            "Code banque : 30006\nCode guichet : 00001\nN\xc2\xb0 de compte : 12345678901\n"
            "Cl\xc3\xa9 RIB : 89",
            "Banque 20041 Guichet 01005 Compte 0500013M026 Cl\xc3\xa9 06",
            "20041 01005 0500013M026 06",
            "10278;06000;00012345601;12",
            "30004\t00819\t00001234567\t41",
            "| 11315 | 00001 | 12345678A01 | 13 |",
            "17515-90000-08012345678-49",
            "30003\xc2\xa0"
            "03620\xc2\xa0"
            "00050123456\xc2\xa0"
            "68",
            "Coordonn\xc3\xa9"
            "es : 12548 02998 98765432100 48 (Cr\xc3\xa9"
            "dit)",
            "code banque: 30006 code guichet: 00001 num\xc3\xa9ro de compte: 12345678901 "
            "cl\xc3\xa9: 89",
            "CODE BANQUE 30004 / CODE GUICHET 00819 / COMPTE N\xc2\xb0 00001234567 / "
            "CL\xc3\x89 RIB 41",
            "Relev\xc3\xa9 d'identit\xc3\xa9 bancaire\n30003 03620 00050123456 68\n",
            "RIB 17515 90000 08012345678 49.",
            "Banque : 10278   Guichet : 06000   N\xc2\xb0 compte : 00012345601   Cl\xc3\xa9 : 12",
            "30006    00001    12345678901    89",
            "20041\xe2\x80\xaf"
            "01005\xe2\x80\xaf"
            "0500013M026\xe2\x80\xaf"
            "06",
        };
        EXPECT("fr_rib", pos, 1);
        static const char *const neg[] = {
            "30006 00001 12345678901 88", /* key */
            "Code banque : 30006 Code guichet : 00001 N\xc2\xb0 de compte : 12345678901 "
            "Cl\xc3\xa9 RIB : 88",
            "30006000011234567890189",             /* compact, no bank word */
            "Suivi colis 30006000011234567890189", /* idem */
            "FR76 3000 6000 0112 3456 7890 189",   /* the IBAN of that RIB */
            "FR7630006000011234567890189",
            "FR76 30006 00001 12345678901 89", /* IBAN written in RIB groups */
            "IBAN FR76-30006-00001-12345678901-89",
            "130006 00001 12345678901 89", /* six-digit bank */
            "30006 00001 1234567890 89",   /* ten-character account */
            "Commande 13001 13002 Marseillais 13",
            "uuid 550e8400-e29b-41d4-a716-446655440000",
            "SIRET 732 829 320 00074",
            "2024 05 12 10 11 12 123456",
            "30006 ***** **********1 89",
            "FR76-3000-6000-0112-3456-7890-189",
            "tel 01 23 45 67 89",
            "RIB 3000600001123456789018",
            "RIB 30006 00001 12345678901 8",
        };
        EXPECT("fr_rib", neg, 0);
        expect_mask("RIB 30006 00001 12345678901 89", "fr_rib", "30006 ***** **********1 89");
}

/* An IBAN and the RIB of the same account in one file: one IBAN, one RIB, and the
 * IBAN's digits are not a second RIB, in any of the IBAN's writings. */
static void test_iban_and_rib(void **state)
{
        (void)state;
        static const char *const texts[] = {
            "Coordonn\xc3\xa9"
            "es bancaires\nIBAN : FR76 3000 6000 0112 3456 7890 189\nBIC : AGRIFRPP\n"
            "RIB : 30006 00001 12345678901 89\n",
            "IBAN FR7630006000011234567890189\nCode banque : 30006\nCode guichet : 00001\n"
            "N\xc2\xb0 de compte : 12345678901\nCl\xc3\xa9 RIB : 89\n",
            "IBAN FR76 30006 00001 12345678901 89\nRIB 30006 00001 12345678901 89\n",
        };
        for (size_t i = 0; i < NELEM(texts); i++) {
                struct vg_report *r = scan_text(texts[i], strlen(texts[i]), 3);
                if (count_of(r, "iban") != 1 || count_of(r, "fr_rib") != 1)
                        fail_msg("iban=%llu fr_rib=%llu in: %s",
                                 (unsigned long long)count_of(r, "iban"),
                                 (unsigned long long)count_of(r, "fr_rib"), texts[i]);
                assert_int_equal(count_of(r, "credit_card"), 0);
                assert_int_equal(count_of(r, "phone_fr"), 0);
                vg_report_free(r);
        }
        /* The IBAN alone, written in RIB groups: no RIB at all. */
        const char *alone = "Virement sur FR76 30006 00001 12345678901 89 merci";
        struct vg_report *r = scan_text(alone, strlen(alone), 1000);
        assert_int_equal(count_of(r, "iban"), 1);
        assert_int_equal(count_of(r, "fr_rib"), 0);
        vg_report_free(r);
}

/* ---------------------------------------------------------------- fr_tax_id */

static void test_tax_id(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "Num\xc3\xa9ro fiscal : 3948799762250",
            "N\xc2\xb0 fiscal 29 55 261 929 228",
            "SPI : 1453959116085",
            "Avis d'imposition 2024, num\xc3\xa9ro fiscal 15 55 240 908 144",
            "Num\xc3\xa9ro fiscal du d\xc3\xa9"
            "clarant 1 : 0512297911482",
            "Dupont;1739469373334;num\xc3\xa9ro fiscal",
            "avis d\xe2\x80\x99imposition : 2535887686108",
            "Identifiant fiscal\n2476904287417\n",
            "Num\xc3\xa9ro fiscal : 26 69 028 175 058",
            "| D\xc3\xa9"
            "clarant | 2147379123246 |",
            "num\xc3\xa9ro fiscal\xc2\xa0: 0420\xc2\xa0"
            "269\xc2\xa0"
            "988\xc2\xa0"
            "082",
            "Tax ID: 2083213051444",
            "Imp\xc3\xb4ts : votre num\xc3\xa9ro 0404922621089.",
            "Num\xc3\xa9ro fiscal : 20 82 862 347 286\n",
            "NIF\xe2\x80\xaf: 1555240908144",
            "SPI 2955.261.929.228",
        };
        EXPECT("fr_tax_id", pos, 1);
        static const char *const neg[] = {
            "Num\xc3\xa9ro fiscal : 3948799762251", /* key */
            "3948799762250",                        /* no context */
            "Commande 3948799762250 livr\xc3\xa9"
            "e",
            "Num\xc3\xa9ro fiscal : 4948799762250",  /* first digit 4 */
            "Num\xc3\xa9ro fiscal : 39487997622501", /* 14 digits */
            "num\xc3\xa9ro fiscal : 0000000000000",
            "num\xc3\xa9ro fiscal 1 85 05 78 006 084 91", /* a NIR's digits */
            "SIRET 732 829 320 00074 (avis d'imposition)",
            "avis d'imposition 2024-05-12",
            "fiscal uuid 550e8400-e29b-41d4-a716-446655440000",
            "SPI 394879976225",
            "num\xc3\xa9ro fiscal 3948799762250EUR",
            "num\xc3\xa9ro fiscal : 39 48 79 97 62 25 0 1",
            "imp\xc3\xb4ts x3948799762250",
            "imp\xc3\xb4ts sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "fiscal 30 ** *** *** ***",
        };
        EXPECT("fr_tax_id", neg, 0);
        expect_mask("Num\xc3\xa9ro fiscal : 3948799762250", "fr_tax_id", "39 ** *** *** ***");
}

/* ---------------------------------------------------------------- fr_driving_licence */

static void test_driving_licence(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "Num\xc3\xa9ro de permis de conduire : 150833200011",
            "Permis n\xc2\xb0 14 05 34 30 0210",
            "NEPH : 1508 3320 0011",
            "permis de conduire 8775AB123456",
            "N\xc2\xb0 du permis : 922A0C004512",
            "Driving licence: 210375120345",
            "permis;990669120012;B",
            "Permis de conduire d\xc3\xa9livr\xc3\xa9 le 12/03/2015 sous le n\xc2\xb0 150375010123",
            "permis 87 75 ab 123456",
            "permis\xc2\xa0: 15\xc2\xa0"
            "08\xc2\xa0"
            "33\xc2\xa0"
            "20\xc2\xa0"
            "00\xc2\xa0"
            "11",
            "| Permis | 061313450078 |",
            "driver's license 150833200011",
            "licence de conduire n\xc2\xb0 201297123456",
            "NEPH\n160475300123\n",
            "permis B obtenu, num\xc3\xa9ro 0906ZZ000123",
        };
        EXPECT("fr_driving_licence", pos, 1);
        static const char *const neg[] = {
            "150833200011", /* no context */
            "permis 15083320001",
            "permis 1508332000111",
            "permis 150033200011", /* department 00 */
            "permis 159833200011", /* 98 */
            "permis 15083320001A",
            "permis de construire PC 075 056 23 A0012",
            "permis 1 85 05 78 006 084 91",
            "permis uuid 550e8400-e29b-41d4-a716-446655440000",
            "permis 2024-05-12",
            "permis ABCD12345678",
            "permis 15 08 33 20 00 11 22",
            "permis sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "Commande 150833200011 livr\xc3\xa9"
            "e",
            "permis 15 08 ** ** ****",
            "permis CMD-908916258502",             /* a reference code */
            "permis 90891625 8502",                /* not a licence's layout */
            "permis 908916258502,29 \xe2\x82\xac", /* an amount */
            "permis 20/10/2003 02 81 13 83 02",
        };
        EXPECT("fr_driving_licence", neg, 0);
        expect_mask("NEPH 150833200011", "fr_driving_licence", "15 08 ** ** ****");
}

/* ---------------------------------------------------------------- fr_health_id */

static void test_health_id(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "RPPS : 10816224868",
            "N\xc2\xb0 RPPS 10846526068",
            "ADELI 753546969",
            "FINESS : 759212020",
            "FINESS 2A0000123",
            "FINESS 9A0123456",
            "Dr Martin, RPPS\n10040421215\n",
            "adeli;130267180;infirmier",
            "| FINESS | 133409557 |",
            "Identifiant RPPS\xc2\xa0: 10903380789",
            "Num\xc3\xa9ro ADELI : 698484367 (kin\xc3\xa9sith\xc3\xa9rapeute)",
            "N\xc2\xb0 FINESS juridique 750712184",
            "RPPS 10276528931.",
            "finess: 330204710",
            "Professionnel de sant\xc3\xa9 n\xc2\xb0 10179546907",
        };
        EXPECT("fr_health_id", pos, 1);
        static const char *const neg[] = {
            "RPPS 10816224869",         /* Luhn */
            "10816224868",              /* no context */
            "SIREN 267500452 (FINESS)", /* Luhn-valid SIREN next to the word */
            "ADELI 753546968",
            "FINESS 2C0000123",
            "FINESS 000000000",
            "RPPS 108162248681",
            "RPPS 1081622486",
            "ADELI 961234564", /* Luhn-valid, department 96 */
            "RPPS uuid 550e8400-e29b-41d4-a716-446655440000",
            "Commande 759212020",
            "FINESS tel 06 12 34 56 78",
            "adeli 2024-05-12",
            "RPPS sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "RPPS 10*********",
        };
        EXPECT("fr_health_id", neg, 0);
        /* A FINESS next to the same institution's SIREN: the FINESS only. */
        assert_int_equal(count("FINESS 750712184, SIREN 267500452", "fr_health_id"), 1);
        expect_mask("RPPS 10816224868", "fr_health_id", "10*********");
}

/* ---------------------------------------------------------------- fr_cni */

static void test_cni(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "Carte nationale d'identit\xc3\xa9 n\xc2\xb0 880692310285",
            "CNI : 8806 923 10285",
            "carte d'identit\xc3\xa9 X4RTBPFW4",
            "CNI\nD2H6862M2\n",
            "N\xc2\xb0 de la carte : 120675101234",
            "carte d\xe2\x80\x99identit\xc3\xa9 15052A012345",
            "Pi\xc3\xa8"
            "ce d'identit\xc3\xa9 : CNI 9912 971 00042",
            "CNIE : Y7K3M9P2Q",
            "| CNI | 030112345678 |",
            "identity card: AB12C34D5",
            "carte nationale d\xe2\x80\x99identit\xc3\xa9 : 880692310285",
            "CNI\xc2\xa0: 8806\xc2\xa0"
            "923\xc2\xa0"
            "10285",
            "cni;880692310285;Dupont",
            "Copie de la CNI (n\xc2\xb0 Z9X8W7V6U)",
            "Num\xc3\xa9ro de la carte : T5N2L8R4K",
        };
        EXPECT("fr_cni", pos, 1);
        static const char *const neg[] = {
            "880692310285",     /* no context */
            "CNI 881392310285", /* month 13 */
            "CNI 880600010285", /* department 00 */
            "CNI 880696010285", /* department 96 */
            "CNI DOCUMENTS",
            "CNI 123456789",
            "CNI x4rtbpfw4",
            "Passeport 12AB34567, carte d'identit\xc3\xa9 perdue",
            "CNI 88069231028",
            "CNI X4RTBPFW4Z",
            "CNI uuid 550e8400-e29b-41d4-a716-446655440000",
            "CNI 1 85 05 78 006 084 91",
            "Commande X4RTBPFW4",
            "CNI tel 06 12 34 56 78",
            "CNI sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "CNI 8806 *** *****",
            "CNI 8806923 10285", /* not the printed layout */
        };
        EXPECT("fr_cni", neg, 0);
        /* Twelve digits next to both labels belong to the nearer one. */
        const char *both = "Pi\xc3\xa8"
                           "ces : CNI 880692310285, permis 150833200011";
        assert_int_equal(count(both, "fr_cni"), 1);
        assert_int_equal(count(both, "fr_driving_licence"), 1);
        expect_mask(both, "fr_cni", "8806 *** *****");
        expect_mask(both, "fr_driving_licence", "15 08 ** ** ****");
        expect_mask("CNI 880692310285", "fr_cni", "8806 *** *****");
        expect_mask("CNI X4RTBPFW4", "fr_cni", "X4*******");
}

/* ---------------------------------------------------------------- fr_passport */

static void test_passport(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "Passeport n\xc2\xb0 12AB34567",
            "passport: 18RF34567",
            "PASSEPORT 09PI23451",
            "Passeport : 12 AB 34567",
            "n\xc2\xb0 de passeport\n15CD98765\n",
            "passeport;20FR12345;Dupont",
            "| Passeport | 11XY22334 |",
            "Passeport\xc2\xa0: 12\xc2\xa0"
            "AB\xc2\xa0"
            "34567",
            "passport number 99zz12345",
            "Num\xc3\xa9ro du passeport 07KL65432.",
            "(passeport 16MN11223)",
            "Passeport fran\xc3\xa7"
            "ais d\xc3\xa9livr\xc3\xa9 le 01/02/2020, num\xc3\xa9ro 20EE55667",
            "Passports: 13GH44556",
            "passeport\xe2\x80\xaf: 14JK77889",
            "Copie du passeport 19QR00112 jointe",
        };
        EXPECT("fr_passport", pos, 1);
        static const char *const neg[] = {
            "12AB34567", /* no context */
            "passeport 123B34567",
            "passeport 12AB3456",
            "passeport 12AB345678",
            "passeport 12ABC4567",
            "passeport A12AB34567",
            "passeport 12AB34567 89",
            "Commande 12AB34567",
            "passeport uuid 550e8400-e29b-41d4-a716-446655440000",
            "passeport 2024-05-12",
            "passeport tel 06 12 34 56 78",
            "passeport 12-AB-34567",
            "passeport sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "passeport 12AB34567EUR",
            "passeport 12 ** *****",
        };
        EXPECT("fr_passport", neg, 0);
        expect_mask("Passeport 12AB34567", "fr_passport", "12 ** *****");
}

/* ---------------------------------------------------------------- email */

static void test_email(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "jean.dupont@exemple.fr",
            "Contact : Marie.Curie@Labo-Paris.FR.",
            "<paul+news@mail.exemple.com>",
            "mailto:anne_o%test@sub.domaine.co.uk",
            "e-mail;j.martin@entreprise.fr;actif",
            "\xc3\x89"
            "crire \xc3\xa0\njean-luc@exemple.org\nmerci",
            "(s.leroy@mairie-lyon.fr)",
            "| a.b@c-d.eu |",
            "Courriel\xc2\xa0: info@exemple.fr",
            "x@exemple.io",
            "prenom.nom@sous.domaine.exemple.fr,",
            "\"Dupont\" <dupont@exemple.net>",
            "1234@chiffres.fr",
            "contact@xn--exemple-9ua.fr",
            "M\xc3\xa9l : r.durand@exemple.travel",
        };
        EXPECT("email", pos, 1);
        static const char *const neg[] = {
            "logo@2x.png",
            "user@localhost",
            "postgres://admin:secret@db.exemple.fr/prod",
            "git@github.com:org/repo.git",
            "@exemple.fr",
            "jean@exemple",
            "jean..dupont@exemple.fr",
            "jean.@exemple.fr",
            "jean@-exemple.fr",
            "jean@exemple-.fr",
            "lodash@4.17.21",
            "image001.png@01D9A2B3.C4D5E6F0",
            "j***@exemple.fr",
            "@media screen",
            "jean@exemple.f",
            "jean@exemple.fr2",
        };
        EXPECT("email", neg, 0);
        expect_mask("Jean.Dupont@Exemple.FR", "email", "j***@exemple.fr");
}

/* ---------------------------------------------------------------- phone_fr */

static void test_phone(void **state)
{
        (void)state;
        static const char *const pos[] = {
            "06 12 34 56 78",
            "T\xc3\xa9l. : 06.12.34.56.78",
            "+33 6 12 34 56 78",
            "+33 (0)1 23 45 67 89",
            "0033 6 12 34 56 78",
            "+33612345678",
            "01-23-45-67-89",
            "0123456789",
            "(+33) 6 12 34 56 78",
            "+33\xc2\xa0"
            "6\xc2\xa0"
            "12\xc2\xa0"
            "34\xc2\xa0"
            "56\xc2\xa0"
            "78",
            "+262 692 12 34 56",
            "Dupont;0612345678;Paris",
            "appelez le\n07 98 76 54 32\n",
            "| 09 72 11 22 33 |",
            "+33.1.23.45.67.89",
            "+33 612 345 678",
            "Fax : 05 61 00 00 00.",
            "+33 06 12 34 56 78",
            "T\xc3\xa9l\xe2\x80\xaf: 06\xe2\x80\xaf"
            "12\xe2\x80\xaf"
            "34\xe2\x80\xaf"
            "56\xe2\x80\xaf"
            "78",
        };
        EXPECT("phone_fr", pos, 1);
        static const char *const neg[] = {
            "06 12 34 56 7",
            "06 12 34 56 78 90",
            "12 06 12 34 56 78",
            "Commande 0612345678",
            "Facture n\xc2\xb0 06 12 34 56 78",
            "06/12/2024",
            "06.12.2024 10.30",
            "SIRET 732 829 320 00074",
            "FR76 3000 6000 0112 3456 7890 189",
            "4970 3416 7211 0687",
            "00 12 34 56 78",
            "06 12.34 56 78",
            "Montant : 01 23 45 67 89 \xe2\x82\xac",
            "+44 20 7946 0958",
            "+3361234567",
            "106 12 34 56 78",
            "06 ** ** ** 78",
            "2024-06-12",
            "0612345678901",
            "30006 00001 12345678901 89",
        };
        EXPECT("phone_fr", neg, 0);
        expect_mask("+33 6 12 34 56 78", "phone_fr", "06 ** ** ** 78");
}

/* ---------------------------------------------------------------- distinct values */

/* The same number in every writing is one distinct value; the same address in
 * any case too. */
static void test_distinct(void **state)
{
        (void)state;
        const char *text = "+33 6 12 34 56 78\n06.12.34.56.78\n0033612345678\n"
                           "(+33) (0)6-12-34-56-78\n06 12 34 56 79\n"
                           "Jean.Dupont@Exemple.fr, jean.dupont@exemple.FR; marie@exemple.fr\n";
        struct vg_report *r = scan_text(text, strlen(text), 7);
        const struct vg_finding *p = finding(r, "phone_fr"), *e = finding(r, "email");
        assert_non_null(p);
        assert_non_null(e);
        assert_int_equal(p->count, 5);
        assert_int_equal(p->distinct, 2);
        assert_int_equal(e->count, 3);
        assert_int_equal(e->distinct, 2);
        assert_masks_hide_middle(r);
        vg_report_free(r);
}

/* The default policy: a signature is not a finding that flags, a contact list is;
 * health professional numbers alone never flag. */
static void test_policy(void **state)
{
        (void)state;
        struct vg_policy p;
        assert_int_equal(vg_policy_init(&p, "default"), 0);
        char text[4096];
        for (int n = 9; n <= 10; n++) {
                size_t o = 0;
                for (int i = 0; i < n; i++) {
                        int w = snprintf(text + o, sizeof(text) - o,
                                         "Contact %d : 06 12 34 56 %02d, p%d@exemple.fr\n", i,
                                         10 + i, i);
                        assert_true(w > 0 && (size_t)w < sizeof(text) - o);
                        o += (size_t)w;
                }
                /* each repeated: distinct values count, not occurrences */
                struct vg_report *r = scan_text(text, o, o + 1);
                assert_int_equal(finding(r, "phone_fr")->distinct, (uint64_t)n);
                assert_int_equal(finding(r, "email")->distinct, (uint64_t)n);
                assert_int_equal(vg_policy_apply(&p, r), 0);
                assert_int_equal(r->verdict, n < 10 ? VG_VERDICT_CLEAN : VG_VERDICT_FLAGGED);
                vg_report_free(r);
        }
        /* the same phone ten times: one value */
        const char *same = "06 12 34 56 78\n06 12 34 56 78\n06 12 34 56 78\n06 12 34 56 78\n"
                           "06 12 34 56 78\n06 12 34 56 78\n06 12 34 56 78\n06 12 34 56 78\n"
                           "06 12 34 56 78\n06 12 34 56 78\n";
        struct vg_report *r = scan_text(same, strlen(same), 100);
        assert_int_equal(count_of(r, "phone_fr"), 10);
        assert_int_equal(vg_policy_apply(&p, r), 0);
        assert_int_equal(r->verdict, VG_VERDICT_CLEAN);
        vg_report_free(r);
        const char *health = "RPPS 10816224868, ADELI 753546969, FINESS 759212020";
        r = scan_text(health, strlen(health), 100);
        assert_int_equal(count_of(r, "fr_health_id"), 3);
        assert_int_equal(vg_policy_apply(&p, r), 0);
        assert_int_equal(r->verdict, VG_VERDICT_CLEAN);
        vg_report_free(r);
        const char *ids[] = {
            "Carte 4970 3416 7211 0687",
            "RIB 30006 00001 12345678901 89",
            "Num\xc3\xa9ro fiscal 3948799762250",
            "NEPH 150833200011",
            "CNI 880692310285",
            "Passeport 12AB34567",
        };
        for (size_t i = 0; i < NELEM(ids); i++) {
                r = scan_text(ids[i], strlen(ids[i]), 100);
                assert_int_equal(vg_policy_apply(&p, r), 0);
                if (r->verdict != VG_VERDICT_FLAGGED)
                        fail_msg("not flagged: %s", ids[i]);
                vg_report_free(r);
        }
        vg_policy_clear(&p);
}

/* Identifiers and their context words on both sides of a chunk boundary, at
 * every offset around it: each found once. */
static void test_chunk_boundaries(void **state)
{
        (void)state;
        static const char block[] =
            " Carte 4970 3416 7211 0687 ; Code banque : 30006\nCode guichet : 00001\n"
            "N\xc2\xb0 de compte : 12345678901\nCl\xc3\xa9 RIB : 89 ; passeport 12AB34567 ;"
            " num\xc3\xa9ro fiscal 3948799762250 ; t\xc3\xa9l +33 6 12 34 56 78 ;"
            " jean.dupont@exemple.fr ; CNI X4RTBPFW4 ; NEPH 150833200011 ; RPPS 10816224868 ";
        static const char *const ids[] = {
            "credit_card", "fr_rib", "fr_passport",        "fr_tax_id",    "phone_fr",
            "email",       "fr_cni", "fr_driving_licence", "fr_health_id",
        };
        size_t chunk = 8192, len = 40000, bl = strlen(block);
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (size_t at = chunk - bl - 8; at < chunk + 40; at += 3) {
                memset(buf, 'x', len);
                for (size_t k = 0; k < len; k += 70)
                        buf[k] = '\n';
                memcpy(buf + at, block, bl);
                buf[len] = '\0';
                static const size_t steps[] = {40000, 4096, 333};
                for (size_t s = 0; s < NELEM(steps); s++) {
                        struct vg_report *r = scan_chunked(buf, len, steps[s], chunk);
                        for (size_t i = 0; i < NELEM(ids); i++)
                                if (count_of(r, ids[i]) != 1)
                                        fail_msg("at=%zu step=%zu: %s=%llu", at, steps[s], ids[i],
                                                 (unsigned long long)count_of(r, ids[i]));
                        vg_report_free(r);
                }
        }
        free(buf);
}

/* Names shown in logs: every identifier masked, nothing else changed. */
static void test_mask_string(void **state)
{
        (void)state;
        const char *name = "Carte 4970341672110687 de jean.dupont@exemple.fr (06 12 34 56 78).txt";
        char *m = vg_rules_mask_string(rules, name, strlen(name));
        assert_non_null(m);
        assert_string_equal(m, "Carte 4970 **** **** 0687 de j***@exemple.fr (06 ** ** ** 78).txt");
        free(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_card_validator),
            cmocka_unit_test(test_spi_validator),
            cmocka_unit_test(test_health_validators),
            cmocka_unit_test(test_rib_validator),
            cmocka_unit_test(test_card),
            cmocka_unit_test(test_rib),
            cmocka_unit_test(test_iban_and_rib),
            cmocka_unit_test(test_tax_id),
            cmocka_unit_test(test_driving_licence),
            cmocka_unit_test(test_health_id),
            cmocka_unit_test(test_cni),
            cmocka_unit_test(test_passport),
            cmocka_unit_test(test_email),
            cmocka_unit_test(test_phone),
            cmocka_unit_test(test_distinct),
            cmocka_unit_test(test_policy),
            cmocka_unit_test(test_chunk_boundaries),
            cmocka_unit_test(test_mask_string),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

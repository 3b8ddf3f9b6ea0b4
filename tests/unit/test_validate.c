/* Validators against tables of known-valid and known-invalid values. The valid
 * IBANs are the examples of the national registries (SWIFT IBAN registry); the
 * NIR keys were computed independently (Python, 97 - N mod 97). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "validate.h"

static void test_iban_valid(void **state)
{
        (void)state;
        static const char *const ok[] = {
            "GB82WEST12345698765432",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "FR7630006000011234567890189",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "ES9121000418450200051332",
            "IT60X0542811101000000123456",
            "CH9300762011623852957",
            "AT611904300234573201",
            "LU280019400644750000",
            "PT50000201231234567890154",
            "IE29AIBK93115212345678",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
            "SA0380000000608010167519",
            "DK5000400440116243",
            "FI2112345600000785",
            "SE4550000000058398257466",
            "PL61109010140000071219812874",
            "MC5811222000010123456789030",
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                if (!vg_iban_valid(ok[i], strlen(ok[i])))
                        fail_msg("valid IBAN rejected: %s", ok[i]);
        }
}

static void test_iban_invalid(void **state)
{
        (void)state;
        static const char *const bad[] = {
            "GB83WEST12345698765432",       /* check digits off by one */
            "DE89370400440532013001",       /* last digit changed */
            "FR7630006000011234567890188",  /* RIB key and check digits wrong */
            "FR0630006000011234567890188",  /* mod 97 right, RIB key wrong */
            "FR763000600001123456789018",   /* one character short */
            "FR76300060000112345678901890", /* one character long */
            "XX7630006000011234567890189",  /* no such country */
            "NL91ABNA0417164301",
            "BE68539007547035",
            "ES9121000418450200051333",
            "IT60X0542811101000000123457",
            "CH9300762011623852958",
            "gb82west12345698765432", /* validator takes upper case only */
            "GBXXWEST12345698765432",
            "",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (vg_iban_valid(bad[i], strlen(bad[i])))
                        fail_msg("invalid IBAN accepted: %s", bad[i]);
        }
}

static void test_iban_lengths(void **state)
{
        (void)state;
        assert_int_equal(vg_iban_country_length("FR"), 27);
        assert_int_equal(vg_iban_country_length("DE"), 22);
        assert_int_equal(vg_iban_country_length("NO"), 15);
        assert_int_equal(vg_iban_country_length("LC"), 32);
        assert_int_equal(vg_iban_country_length("ZZ"), 0);
        assert_int_equal(vg_iban_country_length("fr"), 0);
}

static void test_rib(void **state)
{
        (void)state;
        assert_true(vg_rib_valid("30006", "00001", "12345678901", "89"));
        assert_true(vg_rib_valid("20041", "01005", "0500013M026", "06"));
        assert_false(vg_rib_valid("30006", "00001", "12345678901", "88"));
        assert_false(vg_rib_valid("20041", "01005", "0500013M026", "07"));
        assert_false(vg_rib_valid("2004A", "01005", "0500013M026", "06"));
}

static void test_nir_valid(void **state)
{
        (void)state;
        static const char *const ok[] = {
            "185057800608491", "269029934101526", "185052A01234579", "285052B12345610",
            "176019711234506", "299129935212324", "101017505600191", "278035935009936",
            "145101305532145", "262063155511121", "385057800608488", "780059912345649",
            "185209912345653", "285429912345664",
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                if (!vg_nir_valid(ok[i], strlen(ok[i])))
                        fail_msg("valid NIR rejected: %s", ok[i]);
        }
}

static void test_nir_invalid(void **state)
{
        (void)state;
        static const char *const bad[] = {
            "185057800608492", "185057800608490", "269029934101527", "185052A01234578",
            "285052B12345611", "185052C01234579", "18505780060849",  "1850578006084911",
            "18505780060849X", "176019711234505", "299129935212325", "101017505600190",
            "278035935009937", "285052A12345610", /* 2B key with 2A */
            "000000000000000",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                if (vg_nir_valid(bad[i], strlen(bad[i])))
                        fail_msg("invalid NIR accepted: %s", bad[i]);
        }
        assert_int_equal(vg_nir_key("1850578006084"), 91);
        assert_int_equal(vg_nir_key("185052A012345"), 79);
        assert_int_equal(vg_nir_key("18505X8006084"), -1);
}

static void test_luhn(void **state)
{
        (void)state;
        static const char *const ok[] = {"4111111111111111", "5555555555554444", "378282246310005",
                                         "6011111111111117", "3530111333300000", "79927398713"};
        static const char *const bad[] = {
            "4111111111111112", "5555555555554445", "378282246310006", "79927398710", "", "12a4"};
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                assert_true(vg_luhn_valid(ok[i], strlen(ok[i])));
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(vg_luhn_valid(bad[i], strlen(bad[i])));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_iban_valid),   cmocka_unit_test(test_iban_invalid),
            cmocka_unit_test(test_iban_lengths), cmocka_unit_test(test_rib),
            cmocka_unit_test(test_nir_valid),    cmocka_unit_test(test_nir_invalid),
            cmocka_unit_test(test_luhn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Spreadsheet numbers as a person reads them in the cell: the value stored in
 * <v> (or ODF's office:value) written out in plain digits, exactly, so a NIR or
 * an account number kept as a number is seen whole, never as 1.85057800608436E+14. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "extract_office.h"

static const struct {
        const char *in;
        const char *out;
} good[] = {
    /* integers are kept as they are */
    {"185057800608491", "185057800608491"},
    {"0", "0"},
    {"-0", "0"},
    {"42", "42"},
    {"-17", "-17"},
    {"+17", "17"},
    {"00012", "12"},
    /* the exponent forms of the same values: every digit, none invented */
    {"1.85057800608491E+14", "185057800608491"},
    {"1.85057800608436E+14", "185057800608436"},
    {"1.8505780060849E+14", "185057800608490"},
    {"1.85057800608491e14", "185057800608491"},
    {"1E+3", "1000"},
    {"1.5E+1", "15"},
    {"-2.5E+2", "-250"},
    {"12345678901234567890E-5", "123456789012345.6789"},
    /* fractions */
    {"42.5", "42.5"},
    {"185057800608491.0", "185057800608491"},
    {"0.1", "0.1"},
    {".5", "0.5"},
    {"1.", "1"},
    {"1.25E-2", "0.0125"},
    {"2.5E-3", "0.0025"},
    {"-2.5e-3", "-0.0025"},
    {"0.00123", "0.00123"},
    {"100", "100"},
    {"1.000", "1"},
    {"1.50E+0", "1.5"},
    /* whitespace around, as pretty-printed XML has it */
    {" 185057800608491\n", "185057800608491"},
    {"\t1.85057800608491E+14 ", "185057800608491"},
};

/* Not numbers: the caller passes them on as text. */
static const char *const bad[] = {
    "",    " ",    "abc",   "1e",    "1e+", "E5",  ".",     "-",       "1.2.3",
    "1,5", "0x1F", "1e999", "1E+65", "NaN", "INF", "12 34", "#DIV/0!", "1-2",
};

static void test_good(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                char out[160];
                size_t n = vg_office_number(good[i].in, strlen(good[i].in), out, sizeof(out));
                if (n != strlen(good[i].out) || strcmp(out, good[i].out) != 0)
                        fail_msg("%s -> %s (want %s)", good[i].in, n ? out : "(none)", good[i].out);
        }
}

static void test_bad(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char out[160];
                if (vg_office_number(bad[i], strlen(bad[i]), out, sizeof(out)) != 0)
                        fail_msg("'%s' taken as a number: %s", bad[i], out);
        }
}

/* The output is bounded: a value that does not fit is refused, never cut. */
static void test_bounds(void **state)
{
        (void)state;
        char out[8];
        assert_int_equal(vg_office_number("1234567", 7, out, sizeof(out)), 7);
        assert_string_equal(out, "1234567");
        assert_int_equal(vg_office_number("12345678", 8, out, sizeof(out)), 0);
        assert_int_equal(vg_office_number("1E+9", 4, out, sizeof(out)), 0);
        /* more significant digits than a double holds: still exact */
        char big[160];
        const char *in = "9.99999999999999999999999999E+26";
        assert_int_not_equal(vg_office_number(in, strlen(in), big, sizeof(big)), 0);
        assert_string_equal(big, "999999999999999999999999999");
        /* only the given length is read */
        assert_int_equal(vg_office_number("123456", 3, big, sizeof(big)), 3);
        assert_string_equal(big, "123");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good),
            cmocka_unit_test(test_bad),
            cmocka_unit_test(test_bounds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "mask.h"

static void test_iban_shape(void **state)
{
        (void)state;
        static const unsigned char g4[] = {4, 0};
        char out[64];
        assert_true(vg_mask_groups("FR7630006000011234567890189", 27, g4, 4, 3, out, sizeof(out)) >
                    0);
        assert_string_equal(out, "FR76 **** **** **** **** **** 189");
        assert_true(vg_mask_groups("DE89370400440532013000", 22, g4, 4, 3, out, sizeof(out)) > 0);
        assert_string_equal(out, "DE89 **** **** **** ***0 00");
        assert_true(vg_mask_groups("NO9386011117947", 15, g4, 4, 3, out, sizeof(out)) > 0);
        assert_string_equal(out, "NO93 **** **** 947");
}

static void test_nir_shape(void **state)
{
        (void)state;
        static const unsigned char g[] = {1, 2, 2, 2, 3, 3, 2, 0};
        char out[64];
        assert_true(vg_mask_groups("185057800608491", 15, g, 5, 0, out, sizeof(out)) > 0);
        assert_string_equal(out, "1 85 05 ** *** *** **");
}

static void test_small_buffer(void **state)
{
        (void)state;
        static const unsigned char g4[] = {4, 0};
        char out[8];
        assert_int_equal(
            vg_mask_groups("FR7630006000011234567890189", 27, g4, 4, 3, out, sizeof(out)), 0);
}

static void test_never_reveals_middle(void **state)
{
        (void)state;
        static const unsigned char g4[] = {4, 0};
        char out[128];
        const char *v = "GB82WEST12345698765432";
        vg_mask_groups(v, strlen(v), g4, 4, 3, out, sizeof(out));
        /* no run of 4 characters of the value's middle survives */
        for (size_t i = 4; i + 4 <= strlen(v) - 3; i++) {
                char run[5];
                memcpy(run, v + i, 4);
                run[4] = '\0';
                assert_null(strstr(out, run));
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_iban_shape),
            cmocka_unit_test(test_nir_shape),
            cmocka_unit_test(test_small_buffer),
            cmocka_unit_test(test_never_reveals_middle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

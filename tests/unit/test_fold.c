/* Folding and context words, the tools of word detectors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "detect.h"

static void test_fold(void **state)
{
        (void)state;
        char out[128];
        uint32_t map[128];
        const char *in = "CONFIDENTIEL Sant\xc3\xa9 \xc5\x92uvre \xc3\x89"
                         "t\xc3\xa9 \xc3\x87"
                         "a x\xe2\x80\x99"
                         "y";
        size_t n = vg_fold(in, strlen(in), out, map);
        /* the typographic apostrophe becomes a plain one */
        assert_string_equal(out, "confidentiel sante oeuvre ete ca x'y");
        assert_int_equal(n, strlen(out));
        /* every folded byte points back into the input, in order */
        for (size_t i = 1; i < n; i++)
                assert_true(map[i] >= map[i - 1]);
        assert_int_equal(map[17], 17); /* "sant" + "e" from the two bytes of é */
        assert_int_equal(map[18], 19);
}

static void test_context(void **state)
{
        (void)state;
        static const char *const words[] = {"passeport", "carte d'identite", NULL};
        const char *t = "Num\xc3\xa9ro de PASSEPORT : 12AB34567 d\xc3\xa9livr\xc3\xa9";
        const char *at = strstr(t, "12AB");
        struct vg_match m = {
            .buf = t, .len = strlen(t), .start = (size_t)(at - t), .end = (size_t)(at - t) + 9};
        assert_true(vg_match_has_context(&m, words, 64));
        const char *t2 = "Votre carte d'identit\xc3\xa9 n\xc2\xb0 X4RTBPFW4";
        at = strstr(t2, "X4R");
        struct vg_match m2 = {
            .buf = t2, .len = strlen(t2), .start = (size_t)(at - t2), .end = (size_t)(at - t2) + 9};
        assert_true(vg_match_has_context(&m2, words, 64));
        /* too far, or only part of a word: no context */
        assert_false(vg_match_has_context(&m2, words, 5));
        static const char *const part[] = {"port", NULL};
        assert_false(vg_match_has_context(&m, part, 64));
        const char *t3 = "Commande 12AB34567 livr\xc3\xa9"
                         "e";
        at = strstr(t3, "12AB");
        struct vg_match m3 = {
            .buf = t3, .len = strlen(t3), .start = (size_t)(at - t3), .end = (size_t)(at - t3) + 9};
        assert_false(vg_match_has_context(&m3, words, 64));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fold),
            cmocka_unit_test(test_context),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The JSON writer: the stable contract of `vigiectl scan --json`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report_json.h"
#include "scan.h"

static struct vg_report *sample(void)
{
        struct vg_report *r = vg_report_new("samples/a.zip");
        assert_non_null(r);
        assert_int_equal(vg_report_set_type(r, "application/zip"), 0);
        const char *s[] = {"FR76 **** **** **** **** **** 189"};
        assert_int_equal(vg_report_add_finding(r, "iban", "a.zip/compta/virement.txt", 1, 1, s, 1),
                         0);
        assert_int_equal(vg_report_add_unscannable(r, "a.zip/x.7z", VG_REASON_ENCRYPTED), 0);
        /* the first reason for a place wins */
        assert_int_equal(vg_report_add_unscannable(r, "a.zip/x.7z", VG_REASON_CORRUPT), 0);
        r->verdict = VG_VERDICT_FLAGGED;
        r->action = VG_ACTION_QUARANTINE;
        r->size = 579;
        return r;
}

static void test_line(void **state)
{
        (void)state;
        struct vg_report *r = sample();
        char *line = vg_report_to_json_line(r);
        assert_non_null(line);
        assert_string_equal(
            line, "{\"path\":\"samples/a.zip\",\"verdict\":\"flagged\",\"action\":\"quarantine\","
                  "\"type\":\"application/zip\",\"size\":579,\"findings\":[{\"detector\":\"iban\","
                  "\"count\":1,\"distinct\":1,\"where\":\"a.zip/compta/virement.txt\",\"masked\":"
                  "[\"FR76 **** **** **** **** **** 189\"]}],\"unscannable\":[{\"where\":"
                  "\"a.zip/x.7z\",\"reason\":\"encrypted\"}]}");
        free(line);
        vg_report_free(r);
}

static void test_round_trip(void **state)
{
        (void)state;
        struct vg_report *r = sample();
        json_t *j = vg_report_to_json(r);
        assert_non_null(j);
        struct vg_report *back = NULL;
        assert_int_equal(vg_report_from_json(j, &back), 0);
        char *a = vg_report_to_json_line(r);
        char *b = vg_report_to_json_line(back);
        assert_string_equal(a, b);
        free(a);
        free(b);
        json_decref(j);
        vg_report_free(back);
        vg_report_free(r);
}

static void test_malformed(void **state)
{
        (void)state;
        static const char *const docs[] = {
            "[]",
            "{\"path\":\"a\"}",
            "{\"path\":\"a\",\"type\":\"t\",\"verdict\":\"maybe\",\"action\":\"pass\","
            "\"findings\":[],\"unscannable\":[]}",
            "{\"path\":\"a\",\"type\":\"t\",\"verdict\":\"clean\",\"action\":\"pass\","
            "\"findings\":[{\"detector\":\"iban\"}],\"unscannable\":[]}",
            "{\"path\":\"a\",\"type\":\"t\",\"verdict\":\"clean\",\"action\":\"pass\","
            "\"findings\":[],\"unscannable\":[{\"where\":\"a\",\"reason\":\"bored\"}]}",
        };
        for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                json_t *j = json_loads(docs[i], 0, NULL);
                assert_non_null(j);
                struct vg_report *r = NULL;
                assert_int_equal(vg_report_from_json(j, &r), -EINVAL);
                assert_null(r);
                json_decref(j);
        }
}

/* Names that are not valid UTF-8 reach JSON as \xNN text, identifiers masked. */
static void test_display_names(void **state)
{
        (void)state;
        struct vg_engine_config c = {.limits = {1 << 20, 1 << 20, 100, 4, 100, 10}};
        struct vg_engine *e;
        assert_int_equal(vg_engine_new(&c, &e), 0);
        char *d = vg_engine_display_name(e, "caf\xe9\n\\x.txt");
        assert_string_equal(d, "caf\\xe9\\x0a\\x5cx.txt");
        free(d);
        d = vg_engine_display_name(e, "d\xc3\xa9j\xc3\xa0 FR7630006000011234567890189");
        assert_string_equal(d, "d\xc3\xa9j\xc3\xa0 FR76 **** **** **** **** **** 189");
        free(d);
        d = vg_engine_display_name(e, "\xed\xa0\x80 \xc0\xaf");
        assert_string_equal(d, "\\xed\\xa0\\x80 \\xc0\\xaf");
        free(d);
        vg_engine_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_line),
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_display_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

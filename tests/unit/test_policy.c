/* The policy: thresholds, actions, monitor mode, unscannable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "policy.h"

static struct vg_report *report(const char *det, uint64_t count, uint64_t distinct, bool unsc)
{
        struct vg_report *r = vg_report_new("x");
        assert_non_null(r);
        if (det)
                assert_int_equal(vg_report_add_finding(r, det, "x", count, distinct, NULL, 0), 0);
        if (unsc)
                assert_int_equal(vg_report_add_unscannable(r, "x/y", VG_REASON_ENCRYPTED), 0);
        return r;
}

static void check(const struct vg_policy *p, struct vg_report *r, enum vg_verdict v,
                  enum vg_action a)
{
        assert_int_equal(vg_policy_apply(p, r), 0);
        assert_int_equal(r->verdict, v);
        assert_int_equal(r->action, a);
        vg_report_free(r);
}

static void test_defaults(void **state)
{
        (void)state;
        struct vg_policy p;
        assert_int_equal(vg_policy_init(&p, "default"), 0);
        check(&p, report(NULL, 0, 0, false), VG_VERDICT_CLEAN, VG_ACTION_PASS);
        check(&p, report("iban", 1, 1, false), VG_VERDICT_FLAGGED, VG_ACTION_QUARANTINE);
        check(&p, report("fr_nir", 3, 2, false), VG_VERDICT_FLAGGED, VG_ACTION_QUARANTINE);
        /* a signature is not a contact list: 9 distinct addresses pass, 10 do not */
        check(&p, report("email", 40, 9, false), VG_VERDICT_CLEAN, VG_ACTION_PASS);
        check(&p, report("email", 10, 10, false), VG_VERDICT_FLAGGED, VG_ACTION_QUARANTINE);
        check(&p, report(NULL, 0, 0, true), VG_VERDICT_UNSCANNABLE, VG_ACTION_QUARANTINE);
        /* flagged wins over unscannable as the verdict */
        check(&p, report("iban", 1, 1, true), VG_VERDICT_FLAGGED, VG_ACTION_QUARANTINE);
        /* an unknown detector (a custom rule not named by the policy) flags nothing */
        check(&p, report("whatever", 5, 5, false), VG_VERDICT_CLEAN, VG_ACTION_PASS);
        vg_policy_clear(&p);
}

static void test_actions_and_thresholds(void **state)
{
        (void)state;
        struct vg_policy p;
        assert_int_equal(vg_policy_init(&p, "custom"), 0);
        assert_int_equal(vg_policy_set(&p, "iban", 3, VG_ACTION_ALERT, false), 0);
        assert_int_equal(vg_policy_set(&p, "fr_nir", 1, VG_ACTION_PASS, true), 0);
        p.unscannable_action = VG_ACTION_ALERT;
        check(&p, report("iban", 2, 2, false), VG_VERDICT_CLEAN, VG_ACTION_PASS);
        check(&p, report("iban", 3, 3, false), VG_VERDICT_FLAGGED, VG_ACTION_ALERT);
        check(&p, report("fr_nir", 50, 50, false), VG_VERDICT_CLEAN, VG_ACTION_PASS);
        check(&p, report(NULL, 0, 0, true), VG_VERDICT_UNSCANNABLE, VG_ACTION_ALERT);
        /* the most severe action applies */
        struct vg_report *r = report("iban", 3, 3, false);
        assert_int_equal(vg_report_add_finding(r, "secret_key", "x", 1, 1, NULL, 0), 0);
        check(&p, r, VG_VERDICT_FLAGGED, VG_ACTION_QUARANTINE);
        vg_policy_clear(&p);
}

static void test_monitor(void **state)
{
        (void)state;
        struct vg_policy p;
        assert_int_equal(vg_policy_init(&p, "monitor"), 0);
        p.monitor = true;
        struct vg_report *r = report("iban", 1, 1, true);
        assert_int_equal(vg_policy_apply(&p, r), 0);
        assert_int_equal(r->verdict, VG_VERDICT_FLAGGED);
        assert_int_equal(r->action, VG_ACTION_ALERT);
        assert_true(r->monitor);
        assert_string_equal(r->policy, "monitor");
        vg_report_free(r);
        vg_policy_clear(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_actions_and_thresholds),
            cmocka_unit_test(test_monitor),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

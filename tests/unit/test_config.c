/* vigie.conf: the shipped file equals the built-in defaults, and every kind of
 * mistake is reported with the file, the line and the key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void same_strlist(const struct vg_strlist *a, const struct vg_strlist *b)
{
        assert_int_equal(a->n, b->n);
        for (size_t i = 0; i < a->n; i++)
                assert_string_equal(a->v[i], b->v[i]);
}

static void test_shipped_equals_builtin(void **state)
{
        (void)state;
        char err[512];
        struct vg_config *f = NULL, *d = NULL;
        if (vg_config_load(VIGIE_SOURCE_DIR "/etc/vigie.conf", &f, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_int_equal(vg_config_load_string("", "(built-in)", &d, err, sizeof(err)), 0);
        assert_memory_equal(&f->limits, &d->limits, sizeof(f->limits));
        assert_int_equal(f->limits.max_file_size, 200ull << 20);
        assert_int_equal(f->limits.max_expanded, 1ull << 30);
        assert_int_equal(f->limits.max_depth, 16);
        assert_int_equal(f->workers_count, d->workers_count);
        assert_int_equal(f->workers_memory, d->workers_memory);
        assert_string_equal(f->workers_tmpdir, d->workers_tmpdir);
        assert_string_equal(f->store_dir, d->store_dir);
        assert_int_equal(f->retention_days, d->retention_days);
        assert_string_equal(f->control_socket, d->control_socket);
        assert_string_equal(f->admin_group, d->admin_group);
        same_strlist(&f->rules_dirs, &d->rules_dirs);
        assert_string_equal(f->images, d->images);
        assert_string_equal(f->language, d->language);
        same_strlist(&f->admins, &d->admins);
        assert_string_equal(f->mail_relay, d->mail_relay);
        assert_string_equal(f->mail_from, d->mail_from);
        assert_int_equal(f->nroutes, d->nroutes);
        assert_int_equal(f->nwebhooks, d->nwebhooks);
        /* "default" refined by nothing equals the built-in default policy */
        const struct vg_policy *pf = vg_config_policy(f, "default");
        const struct vg_policy *pd = vg_config_policy(d, "default");
        assert_non_null(pf);
        assert_non_null(pd);
        assert_int_equal(pf->nrules, pd->nrules);
        assert_memory_equal(pf->rules, pd->rules, pf->nrules * sizeof(*pf->rules));
        assert_true(vg_config_policy(f, "monitor")->monitor);
        assert_true(vg_config_policy(d, "monitor")->monitor);
        assert_int_equal(f->npolicies, d->npolicies);
        vg_config_free(f);
        vg_config_free(d);
}

static void expect_error(const char *text, const char *want)
{
        char err[512];
        struct vg_config *c = NULL;
        int r = vg_config_load_string(text, "test.conf", &c, err, sizeof(err));
        if (r != -EINVAL || c)
                fail_msg("accepted: %s", text);
        if (!strstr(err, want))
                fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("limits = {\n  max_dept = 3;\n};\n",
                     "test.conf:2: unknown key 'limits.max_dept'");
        expect_error("limits = { max_depth = \"x\"; };",
                     "test.conf:1: 'limits.max_depth' must be an integer");
        expect_error("limits = { max_depth = 0; };", "'limits.max_depth' must be between 1 and 64");
        expect_error("limits = { max_file_size = \"12Q\"; };",
                     "'limits.max_file_size' must be a size");
        expect_error("limits = { max_depth = 3 \n", "test.conf:2: syntax error");
        expect_error("bogus = 1;", "test.conf:1: unknown key 'bogus'");
        expect_error("alerts = { language = \"de\"; };",
                     "'alerts.language' must be one of \"fr\", \"en\"");
        expect_error("rules = { dirs = \"/x\"; };", "'rules.dirs' must be a list of strings");
        expect_error("policies = { default = { detectors = { ibna = { threshold = 1; }; }; }; };",
                     "unknown detector 'ibna'");
        expect_error(
            "policies = { default = { detectors = { iban = { action = \"drop\"; }; }; }; };",
            "'policies.default.detectors.iban.action' must be one of");
        expect_error("policies = { p = { mode = \"loud\"; }; };", "'policies.p.mode' must be");
        expect_error("routes = ( { name = \"a\"; type = \"folder\"; watch = \"/w\"; } );",
                     "route 'a' is in gate mode and needs a deliver folder");
        expect_error(
            "routes = ( { name = \"a\"; type = \"folder\"; watch = \"/w\"; deliver = \"/d\"; "
            "policy = \"strict\"; } );",
            "route 'a' names policy 'strict', which is not defined");
        expect_error("routes = ( { name = \"A b\"; type = \"folder\"; } );", "may only hold");
        expect_error(
            "routes = ( { name = \"a\"; type = \"folder\"; watch = \"/w\"; deliver = \"/d\"; },\n"
            "  { name = \"a\"; type = \"mail\"; spool = \"/s\"; forward = \"/usr/sbin/sendmail\"; "
            "} );",
            "test.conf:2: route name 'a' is used twice");
        expect_error("routes = ( { name = \"m\"; type = \"mail\"; spool = \"/s\"; } );",
                     "test.conf:1: route 'm' needs forward = \"smtp://host:port\" or the path of a "
                     "sendmail-compatible program");
        expect_error(
            "routes = ( { name = \"m\"; type = \"mail\"; spool = \"/s\";\n"
            "  forward = \"relay.example:25\"; } );",
            "test.conf:1: route 'm': forward must be \"smtp://host:port\", \"smtps://host:port\" "
            "or an absolute program path, not \"relay.example:25\"");
        expect_error(
            "routes = ( { name = \"m\"; type = \"mail\"; spool = \"s\"; forward = \"/x\"; } );",
            "route 'm': spool must be an absolute path");
        expect_error(
            "routes = ( { name = \"m\"; type = \"mail\"; spool = \"/s\"; forward = \"/x\";\n"
            "  tell_sender_on_delete = \"yes\"; } );",
            "test.conf:2: 'routes[0].tell_sender_on_delete' must be true or false");
        expect_error("routes = ( { name = \"a\"; type = \"mail\"; colour = 1; } );",
                     "unknown key 'routes[0].colour'");
}

static void test_values(void **state)
{
        (void)state;
        char err[512];
        struct vg_config *c = NULL;
        const char *text =
            "limits = { max_file_size = \"512K\"; max_expanded = 1048576; max_depth = 3; };\n"
            "policies = { strict = { unscannable = \"alert\"; detectors = {\n"
            "  email = { threshold = 2; }; iban = { action = \"ignore\"; }; }; }; };\n"
            "routes = ( { name = \"vers-ia\"; type = \"folder\"; watch = \"/srv/w\";\n"
            "  deliver = \"/srv/d\"; policy = \"strict\"; settle = 0.5; } );\n";
        if (vg_config_load_string(text, "t", &c, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_int_equal(c->limits.max_file_size, 512 * 1024);
        assert_int_equal(c->limits.max_expanded, 1048576);
        assert_int_equal(c->limits.max_depth, 3);
        assert_int_equal(c->limits.max_members, 10000); /* untouched default */
        const struct vg_policy *p = vg_config_policy(c, "strict");
        assert_non_null(p);
        assert_int_equal(p->unscannable_action, VG_ACTION_ALERT);
        assert_int_equal(vg_policy_rule(p, "email")->threshold, 2);
        assert_true(vg_policy_rule(p, "iban")->ignore);
        assert_int_equal(vg_policy_rule(p, "fr_nir")->threshold, 1);
        assert_int_equal(c->nroutes, 1);
        assert_string_equal(c->routes[0].name, "vers-ia");
        assert_int_equal(c->routes[0].mode, VG_MODE_GATE);
        assert_int_equal(c->routes[0].settle_ms, 500);
        assert_true(c->routes[0].notice);
        vg_config_free(c);
}

static void test_sizes(void **state)
{
        (void)state;
        uint64_t v;
        assert_int_equal(vg_parse_size("200M", &v), 0);
        assert_int_equal(v, 200ull << 20);
        assert_int_equal(vg_parse_size("1G", &v), 0);
        assert_int_equal(v, 1ull << 30);
        assert_int_equal(vg_parse_size("64KB", &v), 0);
        assert_int_equal(v, 65536);
        assert_int_equal(vg_parse_size("17", &v), 0);
        assert_int_equal(v, 17);
        assert_int_equal(vg_parse_size("-1", &v), -EINVAL);
        assert_int_equal(vg_parse_size("1X", &v), -EINVAL);
        assert_int_equal(vg_parse_size("", &v), -EINVAL);
        assert_int_equal(vg_parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(vg_parse_size("99999999999T", &v), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_shipped_equals_builtin),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_values),
            cmocka_unit_test(test_sizes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

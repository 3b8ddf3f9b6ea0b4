/* Templates: the Mustache subset (values, sections, inverted sections, comments,
 * standalone lines), its errors with line numbers and its caps; the built-in
 * copies equal etc/templates; the notice and the alert views rendered in
 * French and English. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_facts.h"
#include "report.h"
#include "template.h"

static char *render_s(const char *tpl, const char *json)
{
        char err[256];
        struct vg_template *t = NULL;
        if (vg_template_parse(tpl, strlen(tpl), &t, err, sizeof(err)) < 0)
                fail_msg("parse '%s': %s", tpl, err);
        json_error_t je;
        json_t *data = json_loads(json, 0, &je);
        if (!data)
                fail_msg("bad test JSON %s: %s", json, je.text);
        char *out = NULL;
        assert_int_equal(vg_template_render(t, data, 4096, &out), 0);
        json_decref(data);
        vg_template_free(t);
        return out;
}

static void expect(const char *tpl, const char *json, const char *want)
{
        char *out = render_s(tpl, json);
        if (strcmp(out, want) != 0)
                fail_msg("template %s with %s gave [%s], want [%s]", tpl, json, out, want);
        free(out);
}

static void test_values_and_sections(void **state)
{
        (void)state;
        expect("Hello {{name}}!", "{\"name\":\"Zoé\"}", "Hello Zoé!");
        expect("a{{missing}}b", "{}", "ab");
        expect("{{ n }} {{r}} {{t}} {{z}}", "{\"n\":42,\"r\":1.5,\"t\":true,\"z\":null}",
               "42 1.5  ");
        expect("{{#l}}[{{.}}]{{/l}}", "{\"l\":[\"x\",\"y\"]}", "[x][y]");
        expect("{{#l}}{{a}}-{{top}};{{/l}}", "{\"top\":\"T\",\"l\":[{\"a\":1},{\"a\":2}]}",
               "1-T;2-T;");
        expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\":true}", "yes");
        expect("{{#b}}yes{{/b}}{{^b}}no{{/b}}", "{\"b\":false}", "no");
        expect("{{#s}}<{{s}}>{{/s}}{{^e}}empty{{/e}}", "{\"s\":\"v\",\"e\":\"\"}", "<v>empty");
        expect("{{#z}}x{{/z}}{{^l}}none{{/l}}", "{\"z\":0,\"l\":[]}", "none");
        expect("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"in\"}}", "in");
        expect("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", "deep");
        expect("{{#a}}{{b.c}}{{/a}}", "{\"a\":{\"x\":1},\"b\":{\"c\":\"outer\"}}", "outer");
        expect("x{{! a comment }}y", "{}", "xy");
}

static void test_standalone_lines(void **state)
{
        (void)state;
        /* a line holding only a section tag or a comment leaves no trace */
        expect("Begin\n{{#l}}\n  - {{.}}\n{{/l}}\nEnd\n", "{\"l\":[\"a\",\"b\"]}",
               "Begin\n  - a\n  - b\nEnd\n");
        expect("Begin\n  {{^l}}  \nnone\n{{/l}}\nEnd", "{\"l\":[]}", "Begin\nnone\nEnd");
        expect("{{! header\n    on two lines }}\nText\n", "{}", "Text\n");
        /* a tag sharing its line with text stays inline */
        expect("a {{#b}}B{{/b}} c\n", "{\"b\":true}", "a B c\n");
        expect("{{v}}\n", "{\"v\":\"x\"}", "x\n");
        /* CRLF files */
        expect("A\r\n{{#b}}\r\nB\r\n{{/b}}\r\n", "{\"b\":1}", "A\r\nB\r\n");
}

static void expect_error(const char *tpl, const char *want)
{
        char err[256];
        struct vg_template *t = NULL;
        int e = vg_template_parse(tpl, strlen(tpl), &t, err, sizeof(err));
        if (e >= 0 || t)
                fail_msg("accepted: %s", tpl);
        if (!strstr(err, want))
                fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_errors(void **state)
{
        (void)state;
        expect_error("a\n{{#x}}\nb\n", "line 2: section 'x' is never closed");
        expect_error("{{#x}}{{/y}}", "line 1: '{{/y}}' closes section 'x'");
        expect_error("a\n\n{{/x}}", "line 3: '{{/x}}' closes no section");
        expect_error("{{na me}}", "is not a name");
        expect_error("{{}}", "empty tag");
        expect_error("x\n{{name", "line 2: '{{' without its '}}'");
        expect_error("{{na\nme}}", "one line");
        expect_error("ok\ncaf\xe9\n", "line 2: not UTF-8");
        expect_error("{{#a}}{{#b}}{{#c}}{{#d}}{{#e}}{{#f}}{{#g}}{{#h}}{{#i}}"
                     "{{/i}}{{/h}}{{/g}}{{/f}}{{/e}}{{/d}}{{/c}}{{/b}}{{/a}}",
                     "nested deeper");
        char *big = malloc(VG_TEMPLATE_MAX_SIZE + 2);
        memset(big, 'x', VG_TEMPLATE_MAX_SIZE + 1);
        big[VG_TEMPLATE_MAX_SIZE + 1] = '\0';
        expect_error(big, "larger than");
        free(big);
}

static void test_output_cap(void **state)
{
        (void)state;
        char err[64];
        struct vg_template *t = NULL;
        const char *tpl = "{{#l}}{{s}}{{/l}}";
        assert_int_equal(vg_template_parse(tpl, strlen(tpl), &t, err, sizeof(err)), 0);
        json_t *l = json_array();
        for (int i = 0; i < 100; i++)
                json_array_append_new(l, json_object());
        json_t *d = json_pack("{s:o, s:s}", "l", l, "s", "0123456789");
        char *out = NULL;
        /* 1,000 bytes asked, 999 allowed: an error, never a silent truncation */
        assert_int_equal(vg_template_render(t, d, 999, &out), -ENOBUFS);
        assert_null(out);
        assert_int_equal(vg_template_render(t, d, 1000, &out), 0);
        assert_int_equal(strlen(out), 1000);
        free(out);
        json_decref(d);
        vg_template_free(t);
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        if (!f)
                return NULL;
        char *buf = malloc(VG_TEMPLATE_MAX_SIZE + 1);
        size_t n = fread(buf, 1, VG_TEMPLATE_MAX_SIZE, f);
        fclose(f);
        buf[n] = '\0';
        *len = n;
        return buf;
}

static void test_builtin_equals_shipped(void **state)
{
        (void)state;
        size_t n = 0;
        for (unsigned k = 0; k < VG_TPL_COUNT_; k++) {
                for (int l = 0; l < 2; l++) {
                        const char *file = vg_template_file(k, l ? VG_LANG_EN : VG_LANG_FR);
                        const struct vg_builtin_template *b = vg_builtin_templates;
                        while (b->name && strcmp(b->name, file) != 0)
                                b++;
                        if (!b->name)
                                fail_msg("%s is not built in", file);
                        char path[512];
                        snprintf(path, sizeof(path), "%s/etc/templates/%s", VIGIE_SOURCE_DIR, file);
                        size_t len = 0;
                        char *text = slurp(path, &len);
                        if (!text)
                                fail_msg("%s is missing", path);
                        assert_int_equal(len, b->len);
                        assert_memory_equal(text, b->text, len);
                        free(text);
                        char err[256];
                        struct vg_template *t = NULL;
                        if (vg_template_parse(b->text, b->len, &t, err, sizeof(err)) < 0)
                                fail_msg("%s: %s", file, err);
                        vg_template_free(t);
                        n++;
                }
        }
        assert_int_equal(n, 2 * VG_TPL_COUNT_);
}

static void test_admin_templates(void **state)
{
        (void)state;
        char dir[] = "/tmp/vigie-tpl-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[256], warn[1024];
        snprintf(path, sizeof(path), "%s/notice.fr.txt", dir);
        FILE *f = fopen(path, "w");
        fputs("Retenu : {{file}} ({{id}})\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/alert-mail.en.txt", dir);
        f = fopen(path, "w");
        fputs("Subject: x\n\n{{#findings}}unclosed\n", f);
        fclose(f);
        struct vg_templates *s = NULL;
        assert_int_equal(vg_templates_load(dir, &s, warn, sizeof(warn)), 0);
        /* the admin's notice is used; the broken alert falls back, with a warning */
        assert_non_null(strstr(vg_templates_origin(s, VG_TPL_NOTICE, VG_LANG_FR), dir));
        assert_string_equal(vg_templates_origin(s, VG_TPL_ALERT_MAIL, VG_LANG_EN), "built-in");
        assert_string_equal(vg_templates_origin(s, VG_TPL_NOTICE, VG_LANG_EN), "built-in");
        assert_non_null(strstr(warn, "alert-mail.en.txt: line 3: section 'findings' is never "
                                     "closed (the built-in template is used)"));
        json_t *d = json_pack("{s:s, s:s}", "file", "a.txt", "id", "vg-x");
        char *out = NULL;
        assert_int_equal(
            vg_template_render(vg_templates_get(s, VG_TPL_NOTICE, VG_LANG_FR), d, 4096, &out), 0);
        assert_string_equal(out, "Retenu : a.txt (vg-x)\n");
        free(out);
        json_decref(d);
        vg_templates_free(s);
        unlink(path);
        snprintf(path, sizeof(path), "%s/notice.fr.txt", dir);
        unlink(path);
        rmdir(dir);
        /* no folder at all: every template built in, no warning */
        assert_int_equal(vg_templates_load("/nonexistent/vigie", &s, warn, sizeof(warn)), 0);
        assert_string_equal(warn, "");
        vg_templates_free(s);
}

/* A report as a worker sends it: masked samples only. */
static struct vg_report *sample_report(void)
{
        struct vg_report *r = vg_report_new("paie.zip");
        const char *iban[] = {"FR76 **** **** **** **** **** 189",
                              "FR76 **** **** **** **** **** 457"};
        const char *nir[] = {"2 ** ** ** *** *** 42"};
        vg_report_add_finding(r, "iban", "paie.zip/virements.txt", 3, 2, iban, 2);
        vg_report_add_finding(r, "fr_nir", "paie.zip/salaries.txt", 1, 1, nir, 1);
        vg_report_add_unscannable(r, "paie.zip/secret.7z", VG_REASON_ENCRYPTED);
        r->verdict = VG_VERDICT_FLAGGED;
        r->action = VG_ACTION_QUARANTINE;
        return r;
}

static char *render_kind(enum vg_template_kind k, enum vg_lang lang, const json_t *view)
{
        struct vg_templates *s = NULL;
        char warn[64];
        assert_int_equal(vg_templates_load(NULL, &s, warn, sizeof(warn)), 0);
        char *out = NULL;
        assert_int_equal(
            vg_template_render(vg_templates_get(s, k, lang), view, VG_TEMPLATE_MAX_OUT, &out), 0);
        vg_templates_free(s);
        return out;
}

static json_t *sample_view(enum vg_lang lang, const char *charter)
{
        struct vg_report *r = sample_report();
        struct vg_decision d = {
            .id = "vg-7q2mkx4rna",
            .route = "vers-ia",
            .kind = "file",
            .file = "rh/paie.zip",
            .origin = "/srv/partage/vers-ia/rh/paie.zip",
            .owner = "mdupont",
            .owner_uid = 1001,
            .verdict = "flagged",
            .action = "quarantine",
            .detectors = "iban,fr_nir,encrypted",
            .sha256 = "ab12",
            .report = r,
            .alert = true,
        };
        json_t *facts = vg_alert_facts(&d, 1767225600, "serveur");
        struct vg_view_opts o = {.lang = lang, .charter = charter};
        json_t *v = vg_alert_view(facts, &o);
        json_decref(facts);
        vg_report_free(r);
        return v;
}

static void contains(const char *text, const char *want)
{
        if (!strstr(text, want))
                fail_msg("[%s] does not contain [%s]", text, want);
}

static void lacks(const char *text, const char *what)
{
        if (strstr(text, what))
                fail_msg("[%s] contains [%s]", text, what);
}

static void test_notice_fr_en(void **state)
{
        (void)state;
        json_t *v = sample_view(VG_LANG_FR, "https://intranet.exemple.fr/charte-ia");
        char *fr = render_kind(VG_TPL_NOTICE, VG_LANG_FR, v);
        contains(fr, "Fichier retenu par vigie : rh/paie.zip\n");
        contains(fr, "Référence : vg-7q2mkx4rna\n");
        contains(fr, "  - coordonnées bancaires (IBAN) : 3 (paie.zip/virements.txt : FR76 **** "
                     "**** **** **** **** 189, FR76 **** **** **** **** **** 457)\n");
        contains(fr, "  - numéro de sécurité sociale : 1 (paie.zip/salaries.txt");
        contains(fr, "  - paie.zip/secret.7z : chiffré (mot de passe requis)\n");
        contains(fr, "Charte d'usage de l'IA du bureau : https://intranet.exemple.fr/charte-ia\n");
        lacks(fr, "{{");
        lacks(fr, "\n\n\n");
        json_decref(v);
        free(fr);
        v = sample_view(VG_LANG_EN, NULL);
        char *en = render_kind(VG_TPL_NOTICE, VG_LANG_EN, v);
        contains(en, "File held by vigie: rh/paie.zip\n");
        contains(en, "Reference: vg-7q2mkx4rna\n");
        contains(en, "  - bank account (IBAN): 3 (paie.zip/virements.txt: FR76");
        contains(en, "  - paie.zip/secret.7z: encrypted (password needed)\n");
        contains(en, "giving the reference vg-7q2mkx4rna.");
        lacks(en, "charter"); /* no charter configured: the line is left out */
        json_decref(v);
        free(en);
}

static void test_alert_view(void **state)
{
        (void)state;
        json_t *v = sample_view(VG_LANG_FR, NULL);
        assert_string_equal(json_string_value(json_object_get(v, "summary")),
                            "iban ×3, fr_nir ×1, encrypted");
        assert_string_equal(json_string_value(json_object_get(v, "release_cmd")),
                            "vigiectl release vg-7q2mkx4rna --reason \"...\"");
        assert_string_equal(json_string_value(json_object_get(v, "outcome_text")), "retenu");
        assert_string_equal(json_string_value(json_object_get(v, "date")), "01/01/2026 00:00");
        assert_true(json_is_true(json_object_get(v, "held")));
        char *m = render_kind(VG_TPL_ALERT_MAIL, VG_LANG_FR, v);
        contains(m, "Subject: [vigie] vers-ia : rh/paie.zip retenu (signalé, iban ×3, fr_nir ×1, "
                    "encrypted)\n\n");
        contains(m, "Propriétaire :  mdupont\n");
        contains(m, "Origine :       /srv/partage/vers-ia/rh/paie.zip\n");
        contains(m, "  - iban (coordonnées bancaires (IBAN)) : 3 dans paie.zip/virements.txt : "
                    "FR76 **** **** **** **** **** 189, FR76 **** **** **** **** **** 457\n");
        contains(m, "Pour libérer :   vigiectl release vg-7q2mkx4rna --reason \"...\"\n");
        contains(m, "Pour supprimer : vigiectl delete vg-7q2mkx4rna --reason \"...\"\n");
        json_decref(v);
        free(m);
        v = sample_view(VG_LANG_EN, NULL);
        m = render_kind(VG_TPL_ALERT_MAIL, VG_LANG_EN, v);
        contains(m, "Subject: [vigie] vers-ia: rh/paie.zip held (flagged, iban ×3, fr_nir ×1, "
                    "encrypted)\n");
        contains(m, "To release: vigiectl release vg-7q2mkx4rna --reason \"...\"\n");
        contains(m, "  - paie.zip/secret.7z: encrypted (password needed) (encrypted)\n");
        json_decref(v);
        free(m);
}

static void test_digest_view(void **state)
{
        (void)state;
        json_t *list = json_array();
        for (int i = 0; i < 30; i++) {
                char id[24], file[32];
                snprintf(id, sizeof(id), "vg-%010d", i);
                snprintf(file, sizeof(file), "f%02d.txt", i);
                struct vg_decision d = {.id = id,
                                        .route = i % 2 ? "vers-ia" : "compta",
                                        .kind = "file",
                                        .file = file,
                                        .verdict = "flagged",
                                        .action = "quarantine",
                                        .alert = true};
                json_array_append_new(list, vg_alert_facts(&d, 1767225600 + i, "h"));
        }
        struct vg_view_opts o = {.lang = VG_LANG_FR};
        json_t *v = vg_digest_view("dg-1", list, 31, 1767229200, "h", &o);
        assert_int_equal(json_integer_value(json_object_get(v, "more")), 1);
        assert_int_equal(json_integer_value(json_object_get(v, "more_short")), 11);
        assert_string_equal(json_string_value(json_object_get(v, "routes")), "compta, vers-ia");
        char *m = render_kind(VG_TPL_DIGEST_MAIL, VG_LANG_FR, v);
        contains(m, "Subject: [vigie] 31 alertes regroupées (compta, vers-ia)\n");
        contains(m, "  - vg-0000000029  01/01/2026 00:00  vers-ia  f29.txt : retenu, signalé\n");
        contains(m, "... et 1 autres : vigiectl list --since \"2026-01-01 00:00\"");
        free(m);
        char *c = render_kind(VG_TPL_DIGEST_CHAT, VG_LANG_FR, v);
        contains(c, "vigie : 31 alertes regroupées (compta, vers-ia)\n");
        contains(c, "- vg-0000000019 vers-ia f19.txt : retenu\n");
        lacks(c, "vg-0000000020");
        contains(c, "... et 11 autres");
        free(c);
        json_decref(v);
        o.lang = VG_LANG_EN;
        v = vg_digest_view("dg-1", list, 31, 1767229200, "h", &o);
        c = render_kind(VG_TPL_DIGEST_CHAT, VG_LANG_EN, v);
        contains(c, "vigie: 31 alerts grouped (compta, vers-ia)\n");
        contains(c, "- vg-0000000019 vers-ia f19.txt: held\n");
        contains(c, "... and 11 more");
        free(c);
        json_decref(v);
        json_decref(list);
}

int main(void)
{
        /* dates in the views are local time: make them predictable */
        setenv("TZ", "UTC", 1);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_values_and_sections),
            cmocka_unit_test(test_standalone_lines),
            cmocka_unit_test(test_errors),
            cmocka_unit_test(test_output_cap),
            cmocka_unit_test(test_builtin_equals_shipped),
            cmocka_unit_test(test_admin_templates),
            cmocka_unit_test(test_notice_fr_en),
            cmocka_unit_test(test_alert_view),
            cmocka_unit_test(test_digest_view),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

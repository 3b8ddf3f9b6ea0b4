/* The alert messages built from the templates: a mail readable by any client
 * (encoded subject, quoted-printable body, stable Message-ID, the vigiectl
 * commands), the webhook formats (json, ntfy, slack) with their headers, who
 * may receive a notice (no backscatter), and the alert keys of vigie.conf. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_facts.h"
#include "alert_mail.h"
#include "alert_webhook.h"
#include "config.h"
#include "mail_format.h"
#include "template.h"

static void contains(const char *text, const char *want)
{
        if (!strstr(text, want))
                fail_msg("[%s] does not contain [%s]", text, want);
}

/* ---- decoding, written here independently of mail_format.c ------------------- */

static int hexval(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static char *qp_decode(const char *s)
{
        char *out = malloc(strlen(s) + 1), *o = out;
        while (*s) {
                if (s[0] == '=' && s[1] == '\r' && s[2] == '\n') {
                        s += 3;
                } else if (s[0] == '=' && s[1] == '\n') {
                        s += 2;
                } else if (s[0] == '=' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
                        *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
                        s += 3;
                } else if (s[0] == '\r' && s[1] == '\n') {
                        *o++ = '\n';
                        s += 2;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

static int b64val(char c)
{
        const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(t, c) : NULL;
        return p ? (int)(p - t) : -1;
}

/* Decodes "=?UTF-8?B?...?=" words (folded with CRLF SP), checking each word's length. */
static char *header_decode(const char *s)
{
        char *out = calloc(1, strlen(s) + 1), *o = out;
        while (*s) {
                if (strncmp(s, "=?UTF-8?B?", 10) == 0) {
                        const char *end = strstr(s + 10, "?=");
                        assert_non_null(end);
                        assert_true(end + 2 - s <= 75); /* RFC 2047 */
                        unsigned acc = 0;
                        int bits = 0;
                        for (const char *p = s + 10; p < end && *p != '='; p++) {
                                acc = (acc << 6) | (unsigned)b64val(*p);
                                bits += 6;
                                if (bits >= 8) {
                                        bits -= 8;
                                        *o++ = (char)((acc >> bits) & 0xff);
                                }
                        }
                        s = end + 2;
                        /* white space between two encoded words is not text */
                        const char *n = s;
                        while (*n == '\r' || *n == '\n' || *n == ' ')
                                n++;
                        if (strncmp(n, "=?UTF-8?B?", 10) == 0)
                                s = n;
                } else {
                        *o++ = *s++;
                }
        }
        return out;
}

static void test_qp_and_headers(void **state)
{
        (void)state;
        const char *text = "Référence : vg-7q2mkx4rna\n.leading dot\nFrom here\ntrailing space \n"
                           "égalité = 100 %\n";
        char long_line[400];
        memset(long_line, 'a', sizeof(long_line) - 2);
        long_line[sizeof(long_line) - 2] = '\n';
        long_line[sizeof(long_line) - 1] = '\0';
        const char *inputs[] = {text, long_line, "ééééééééééééééééééééééééééééééééééééééééééé\n"};
        for (size_t i = 0; i < 3; i++) {
                char *q = vg_mail_qp(inputs[i], true);
                /* 7-bit, lines of at most 76 characters, CRLF */
                size_t col = 0;
                for (const char *p = q; *p; p++) {
                        assert_true((unsigned char)*p < 0x80);
                        if (*p == '\n') {
                                assert_true(p > q && p[-1] == '\r');
                                col = 0;
                        } else if (*p != '\r') {
                                col++;
                                assert_true(col <= 76);
                        }
                }
                char *back = qp_decode(q);
                assert_string_equal(back, inputs[i]);
                free(back);
                if (i == 0) {
                        contains(q, "\r\n=2Eleading dot");    /* never SMTP's end of data */
                        contains(q, "\r\n=46rom here");       /* never an mbox "From " line */
                        contains(q, "trailing space=20\r\n"); /* kept by every relay */
                }
                free(q);
        }
        const char *subj = "[vigie] vers-ia : RIB FR76 **** **** **** **** **** 189.txt retenu "
                           "(signalé, iban ×1) — mode essai, avec un objet assez long pour plier";
        char *h = vg_mail_encode_header(subj);
        for (const char *p = h; *p; p++)
                assert_true((unsigned char)*p < 0x80);
        char *back = header_decode(h);
        assert_string_equal(back, subj);
        free(back);
        free(h);
        h = vg_mail_encode_header("plain ASCII");
        assert_string_equal(h, "plain ASCII");
        free(h);
}

static void test_split(void **state)
{
        (void)state;
        char *subj = NULL;
        const char *body = NULL;
        assert_int_equal(vg_mail_split("Subject: Hello  \n\nBody\n", "fb", &subj, &body), 0);
        assert_string_equal(subj, "Hello");
        assert_string_equal(body, "Body\n");
        free(subj);
        assert_int_equal(vg_mail_split("No subject line\n", "fb", &subj, &body), 0);
        assert_string_equal(subj, "fb");
        assert_string_equal(body, "No subject line\n");
        free(subj);
}

static json_t *view_of(enum vg_lang lang, const char *kind, const char *sender)
{
        struct vg_report *r = vg_report_new("RIB FR76 **** **** **** **** **** 189.txt");
        const char *iban[] = {"FR76 **** **** **** **** **** 189"};
        vg_report_add_finding(r, "iban", "RIB FR76 **** **** **** **** **** 189.txt", 1, 1, iban,
                              1);
        r->verdict = VG_VERDICT_FLAGGED;
        r->action = VG_ACTION_QUARANTINE;
        struct vg_decision d = {
            .id = "vg-7q2mkx4rna",
            .route = "vers-ia",
            .kind = kind,
            .file = "RIB FR76 **** **** **** **** **** 189.txt",
            .origin = "/srv/partage/vers-ia/RIB FR76 **** **** **** **** **** 189.txt",
            .owner = "mdupont",
            .verdict = "flagged",
            .action = "quarantine",
            .detectors = "iban",
            .report = r,
            .alert = true,
            .sender = sender,
            .recipients = sender ? "chatbot@ia.example, compta@exemple.fr" : NULL,
        };
        json_t *facts = vg_alert_facts(&d, 1767225600, "serveur");
        struct vg_view_opts o = {.lang = lang, .charter = "Charte IA : https://intranet/charte"};
        json_t *v = vg_alert_view(facts, &o);
        json_decref(facts);
        vg_report_free(r);
        return v;
}

static struct vg_templates *builtin(void)
{
        struct vg_templates *t = NULL;
        char warn[64];
        assert_int_equal(vg_templates_load(NULL, &t, warn, sizeof(warn)), 0);
        return t;
}

/* Header value (unfolded, decoded) and the decoded body of a built mail. */
static void parse_mail(const char *msg, const char *name, char **value, char **body)
{
        const char *sep = strstr(msg, "\r\n\r\n");
        assert_non_null(sep);
        *body = qp_decode(sep + 4);
        char key[64];
        snprintf(key, sizeof(key), "\r\n%s: ", name);
        const char *h = strncmp(msg, key + 2, strlen(key) - 2) == 0 ? msg - 2 : strstr(msg, key);
        assert_true(h && h < sep);
        h += strlen(key);
        const char *end = h;
        while (!(end[0] == '\r' && end[1] == '\n' && end[2] != ' '))
                end++;
        char *raw = strndup(h, (size_t)(end - h));
        *value = header_decode(raw);
        free(raw);
}

static void test_alert_mail(void **state)
{
        (void)state;
        struct vg_templates *t = builtin();
        json_t *v = view_of(VG_LANG_FR, "file", NULL);
        const char *err = NULL;
        char *msg =
            vg_alert_mail_build(t, VG_LANG_FR, "alert", "vg-7q2mkx4rna", v, "vigie@exemple.fr",
                                "admin@exemple.fr", true, 1767225600, &err);
        assert_non_null(msg);
        char *subj, *body, *mid;
        parse_mail(msg, "Subject", &subj, &body);
        assert_string_equal(subj, "[vigie] vers-ia : RIB FR76 **** **** **** **** **** 189.txt "
                                  "retenu (signalé, iban ×1)");
        contains(body, "Pour libérer :   vigiectl release vg-7q2mkx4rna --reason \"...\"\n");
        contains(body, "Propriétaire :  mdupont\n");
        free(body);
        parse_mail(msg, "Message-ID", &mid, &body);
        assert_string_equal(mid, "<vg-7q2mkx4rna@exemple.fr>");
        contains(msg, "\r\nX-Vigie-Alert-Id: vg-7q2mkx4rna\r\n");
        contains(msg, "\r\nAuto-Submitted: auto-generated\r\n");
        contains(msg, "To: <admin@exemple.fr>\r\n");
        /* the same alert built again (a retry) has the same Message-ID */
        char *again =
            vg_alert_mail_build(t, VG_LANG_FR, "alert", "vg-7q2mkx4rna", v, "vigie@exemple.fr",
                                "admin@exemple.fr", true, 1767225601, &err);
        contains(again, "Message-ID: <vg-7q2mkx4rna@exemple.fr>\r\n");
        free(again);
        free(subj);
        free(body);
        free(mid);
        free(msg);
        /* for a program, LF line ends everywhere, folded subject included */
        msg = vg_alert_mail_build(t, VG_LANG_FR, "alert", "vg-7q2mkx4rna", v, "vigie@exemple.fr",
                                  "admin@exemple.fr", false, 0, &err);
        assert_non_null(msg);
        contains(msg, "?=\n =?UTF-8?B?");
        assert_null(strchr(msg, '\r'));
        free(msg);
        /* a header injection through an address is refused */
        msg = vg_alert_mail_build(t, VG_LANG_FR, "alert", "vg-7q2mkx4rna", v, "vigie@exemple.fr",
                                  "a@b.fr\r\nBcc: x@evil.example", true, 0, &err);
        assert_null(msg);
        json_decref(v);
        /* the notice to the sender of a mail, in English, LF line ends (a program) */
        v = view_of(VG_LANG_EN, "mail", "mdupont@exemple.fr");
        msg = vg_alert_mail_build(t, VG_LANG_EN, "notice", "vg-7q2mkx4rna", v, "vigie@exemple.fr",
                                  "mdupont@exemple.fr", false, 0, &err);
        assert_non_null(msg);
        assert_null(strstr(msg, "\r\n"));
        contains(msg, "Message-ID: <vg-7q2mkx4rna.notice@exemple.fr>\n");
        char *dec = qp_decode(strstr(msg, "\n\n") + 2);
        contains(dec, "Your mail \"RIB FR76 **** **** **** **** **** 189.txt\" of 2026-01-01 "
                      "00:00, to chatbot@ia.example, compta@exemple.fr, was not sent.");
        contains(dec, "The office's AI usage charter: Charte IA : https://intranet/charte\n");
        free(dec);
        free(msg);
        json_decref(v);
        vg_templates_free(t);
}

static void test_webhooks(void **state)
{
        (void)state;
        struct vg_templates *t = builtin();
        json_t *v = view_of(VG_LANG_FR, "file", NULL);
        struct vg_webhook w = {.url = "https://hooks.example/x", .format = "json", .bearer = "t0k"};
        struct vg_webhook_request r;
        assert_int_equal(vg_alert_webhook_build(t, VG_LANG_FR, &w, "alert", "vg-7q2mkx4rna", v, &r),
                         0);
        assert_string_equal(r.content_type, "application/json");
        assert_string_equal(r.headers[0], "X-Vigie-Alert-Id: vg-7q2mkx4rna");
        assert_string_equal(r.headers[1], "Authorization: Bearer t0k");
        json_t *doc = json_loads(r.body, 0, NULL);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "type")), "alert");
        assert_string_equal(json_string_value(json_object_get(doc, "id")), "vg-7q2mkx4rna");
        assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "flagged");
        assert_string_equal(json_string_value(json_object_get(doc, "owner")), "mdupont");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(doc, "commands"), "release")),
            "vigiectl release vg-7q2mkx4rna --reason \"...\"");
        json_t *f = json_array_get(json_object_get(doc, "findings"), 0);
        assert_string_equal(json_string_value(json_array_get(json_object_get(f, "masked"), 0)),
                            "FR76 **** **** **** **** **** 189");
        assert_null(json_object_get(f, "samples")); /* template helpers stay out */
        json_decref(doc);
        vg_webhook_request_clear(&r);

        w = (struct vg_webhook){.url = "https://ntfy.sh/bureau", .format = "ntfy"};
        assert_int_equal(vg_alert_webhook_build(t, VG_LANG_FR, &w, "alert", "vg-7q2mkx4rna", v, &r),
                         0);
        assert_string_equal(r.content_type, "text/plain; charset=utf-8");
        assert_non_null(r.headers[1]);
        assert_int_equal(strncmp(r.headers[1], "Title: ", 7), 0);
        assert_null(strpbrk(r.headers[1], "\r\n"));
        char *title = header_decode(r.headers[1] + 7);
        assert_string_equal(title, "vigie : vers-ia : RIB FR76 **** **** **** **** **** 189.txt "
                                   "retenu (signalé, iban ×1)");
        free(title);
        assert_string_equal(r.headers[2], "Priority: high");
        contains(r.body, "Libérer : vigiectl release vg-7q2mkx4rna");
        vg_webhook_request_clear(&r);

        w = (struct vg_webhook){.url = "https://chat.example/hooks/abc", .format = "slack"};
        assert_int_equal(vg_alert_webhook_build(t, VG_LANG_EN, &w, "alert", "vg-7q2mkx4rna", v, &r),
                         0);
        doc = json_loads(r.body, 0, NULL);
        contains(json_string_value(json_object_get(doc, "text")), "Reference vg-7q2mkx4rna");
        json_decref(doc);
        vg_webhook_request_clear(&r);

        w = (struct vg_webhook){.url = "https://x.example/", .bearer = "a\r\nX-Evil: 1"};
        assert_int_equal(vg_alert_webhook_build(t, VG_LANG_EN, &w, "alert", "vg-7q2mkx4rna", v, &r),
                         -EINVAL);
        json_decref(v);
        vg_templates_free(t);
}

static void test_addresses(void **state)
{
        (void)state;
        const char *good[] = {"admin@exemple.fr", "m.dupont+ia@mail.exemple.fr", "a@b.c",
                              "x_y-z@sous-domaine.exemple.fr"};
        const char *bad[] = {
            "",           "admin",    "@exemple.fr",      "admin@",   "a b@x.fr",
            "a@x..fr",    "a@-x.fr",  "a@x.fr\r\nBcc: y", "<a@x.fr>", "a@x.fr,b@y.fr",
            "\"a\"@x.fr", "a@x_y.fr", "é@exemple.fr"};
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                if (!vg_mail_address_ok(good[i]))
                        fail_msg("refused %s", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vg_mail_address_ok(bad[i]))
                        fail_msg("accepted %s", bad[i]);
        char *dv[] = {"exemple.fr", "@cabinet.example"};
        struct vg_strlist domains = {dv, 2};
        char *av[] = {"Boss@Gmail.example"};
        struct vg_strlist admins = {av, 1};
        const char *inside[] = {"mdupont@exemple.fr", "m@MAIL.EXEMPLE.FR", "x@cabinet.example",
                                "boss@gmail.example"};
        /* lookalikes and external senders never get a notice: no backscatter */
        const char *outside[] = {"m@evil-exemple.fr",
                                 "m@exemple.fr.evil.example",
                                 "m@exemple.frx",
                                 "other@gmail.example",
                                 "m@fr",
                                 "m@exemple.fr\r\nBcc: x@y.z"};
        for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++)
                if (!vg_address_internal(inside[i], &domains, &admins))
                        fail_msg("%s should be inside", inside[i]);
        for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
                if (vg_address_internal(outside[i], &domains, &admins))
                        fail_msg("%s should be outside", outside[i]);
        assert_false(vg_address_internal("mdupont@exemple.fr", NULL, NULL));
}

static void test_config_keys(void **state)
{
        (void)state;
        char err[512];
        struct vg_config *f = NULL, *d = NULL;
        if (vg_config_load(VIGIE_SOURCE_DIR "/etc/vigie.conf", &f, err, sizeof(err)) < 0)
                fail_msg("%s", err);
        assert_int_equal(vg_config_load_string("", "(built-in)", &d, err, sizeof(err)), 0);
        /* the shipped file equals the built-in defaults for the alert keys too */
        assert_string_equal(f->templates_dir, d->templates_dir);
        assert_string_equal(d->templates_dir, "/etc/vigie/templates");
        assert_string_equal(f->charter, d->charter);
        assert_string_equal(f->notice_domain, d->notice_domain);
        assert_string_equal(f->mail_relay, d->mail_relay);
        assert_int_equal(f->alert_rate_limit, d->alert_rate_limit);
        assert_int_equal(f->alert_digest_interval, d->alert_digest_interval);
        assert_int_equal(f->alert_retry_min, d->alert_retry_min);
        assert_int_equal(f->alert_retry_max, d->alert_retry_max);
        assert_int_equal(f->alert_expire, d->alert_expire);
        assert_int_equal(f->alert_timeout, d->alert_timeout);
        assert_int_equal(d->alert_rate_limit, 10);
        assert_int_equal(d->alert_digest_interval, 300);
        assert_int_equal(d->alert_expire, 259200);
        vg_config_free(f);
        vg_config_free(d);
        const char *text =
            "alerts = { mail = { relay = \"/usr/sbin/sendmail\"; };\n"
            " rate_limit = 0; charter = \"https://intranet/charte\";\n"
            " webhooks = ( { url = \"https://ntfy.sh/x\"; format = \"ntfy\"; } ); };";
        assert_int_equal(vg_config_load_string(text, "t", &d, err, sizeof(err)), 0);
        assert_string_equal(d->mail_relay, "/usr/sbin/sendmail");
        assert_int_equal(d->alert_rate_limit, 0);
        assert_string_equal(d->charter, "https://intranet/charte");
        vg_config_free(d);
        static const struct {
                const char *text, *want;
        } errors[] = {
            {"alerts = { mail = { relay = \"ftp://x\"; }; };",
             "t:1: 'alerts.mail.relay' must be \"smtp://host:port\""},
            {"alerts = { webhooks = ( { url = \"ftp://x\"; } ); };", "starts with https://"},
            {"alerts = {\n webhooks = ( { url = \"https://x\"; bearer = \"a\\nb\"; } ); };",
             "t:2: a webhook bearer token is one line"},
            {"alerts = { rate_limit = -1; };", "'alerts.rate_limit' must not be negative"},
            {"alerts = { expire = 5; };", "'alerts.expire' must be between 60 and"},
            {"alerts = { retry_min = 0; };", "'alerts.retry_min' must be between 1 and"},
            {"alerts = { charter = 3; };", "'alerts.charter' must be a string"},
        };
        for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
                d = NULL;
                if (vg_config_load_string(errors[i].text, "t", &d, err, sizeof(err)) != -EINVAL)
                        fail_msg("accepted: %s", errors[i].text);
                if (!strstr(err, errors[i].want))
                        fail_msg("error '%s' does not say '%s'", err, errors[i].want);
        }
}

int main(void)
{
        setenv("TZ", "UTC", 1);
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_qp_and_headers), cmocka_unit_test(test_split),
            cmocka_unit_test(test_alert_mail),     cmocka_unit_test(test_webhooks),
            cmocka_unit_test(test_addresses),      cmocka_unit_test(test_config_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Mail through the scan engine, in this process: the integration test runs mails
 * through vigiectl's workers, which leave with _exit(), so only here does
 * LeakSanitizer see every path of extract_mime.c (GMime objects, iconv
 * descriptors, temporary files, decoders). The identifiers are the registry's
 * example IBAN and a NIR whose key was computed with tests/tools/vgfix.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "scan.h"

#define IBAN "FR76 3000 6000 0112 3456 7890 189"
#define NIR  "1 85 05 78 006 084 91"

static struct vg_engine *engine;

static int setup(void **state)
{
        (void)state;
        struct vg_engine_config cfg = {
            .limits = {.max_file_size = 200u << 20,
                       .max_expanded = 1u << 30,
                       .max_ratio = 1000,
                       .max_depth = 16,
                       .max_members = 10000,
                       .max_scan_time = 60},
        };
        return vg_engine_new(&cfg, &engine);
}

static int teardown(void **state)
{
        (void)state;
        vg_engine_free(engine);
        return 0;
}

static struct vg_report *scan_bytes(const char *name, const char *data, size_t n)
{
        int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        struct vg_report *r = NULL;
        assert_int_equal(vg_scan_fd(engine, fd, name, &r), 0);
        close(fd);
        return r;
}

static struct vg_report *scan_str(const char *name, const char *data)
{
        return scan_bytes(name, data, strlen(data));
}

static const struct vg_finding *finding(const struct vg_report *r, const char *det,
                                        const char *where)
{
        for (size_t i = 0; i < r->nfindings; i++)
                if (strcmp(r->findings[i].detector, det) == 0 &&
                    strcmp(r->findings[i].where, where) == 0)
                        return &r->findings[i];
        return NULL;
}

static bool unscannable(const struct vg_report *r, const char *where, enum vg_reason why)
{
        for (size_t i = 0; i < r->nunscannable; i++)
                if (strcmp(r->unscannable[i].where, where) == 0 && r->unscannable[i].reason == why)
                        return true;
        return false;
}

#define HDR                                                                                        \
        "From: Jean <jean@exemple.fr>\r\nTo: compta@exemple.fr\r\nDate: Fri, 5 Jan 2024 "          \
        "10:11:12 +0100\r\nMIME-Version: 1.0\r\n"

/* A soft line break inside the IBAN, an RFC 2047 subject, base64 Latin-1. */
static void test_bodies(void **state)
{
        (void)state;
        struct vg_report *r =
            scan_str("qp.eml", HDR "Subject: =?utf-8?q?Vir=C3=A9ment?=\r\n"
                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                                   "R=C3=A9f : FR76 3000 6000 01=\r\n12 3456 7890 189\r\n");
        assert_string_equal(r->type, "message/rfc822");
        assert_non_null(finding(r, "iban", "qp.eml"));
        assert_int_equal(r->nunscannable, 0);
        vg_report_free(r);

        /* "Numéro : <NIR>" in Latin-1, base64 */
        r = scan_str("b64.eml", HDR "Subject: x\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
                                    "Content-Transfer-Encoding: base64\r\n\r\n"
                                    "TnVt6XJvIDogMSA4NSAwNSA3OCAwMDYgMDg0IDkxCg==\r\n");
        assert_non_null(finding(r, "fr_nir", "b64.eml"));
        vg_report_free(r);

        r = scan_str("subj.eml", HDR "Subject: =?utf-8?b?VmlyZW1lbnQgRlI3NiAzMDAwIDYwMDAg?=\r\n"
                                     " =?utf-8?q?0112_3456_7890_189?=\r\n\r\nVoir l'objet.\r\n");
        assert_non_null(finding(r, "iban", "subj.eml"));
        vg_report_free(r);
}

/* Attachments, a forwarded message, uuencode, and the GMime byte that mixed line
 * ends would cost. */
static void test_parts(void **state)
{
        (void)state;
        struct vg_report *r =
            scan_str("m.eml", HDR
                     "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                     "preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nBonjour\r\n"
                     "--b\r\nContent-Type: application/octet-stream\r\n"
                     "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n"
                     "SUJBTiBGUjc2IDMwMDAgNjAwMCAwMTEyIDM0NTYgNzg5MCAxODkK\r\n"
                     "--b\r\nContent-Type: message/rfc822\r\n\r\n"
                     "From: a@b.fr\r\nSubject: fwd\r\n\r\nNIR " NIR "\r\n"
                     "--b\r\nContent-Type: text/plain\r\n\r\nbegin 644 rib.txt\r\n"
                     "F4DE\"($92-S8@,S P,\" V,# P(# Q,3(@,S0U-B W.#DP(#$X.0H \r\n`\r\nend\r\n"
                     "--b\r\nContent-Type: text/plain\r\n\r\nfin " IBAN "\n--b--\r\nepilogue\r\n");
        assert_non_null(finding(r, "iban", "m.eml/résumé.txt"));
        assert_non_null(finding(r, "fr_nir", "m.eml/part-3.eml"));
        assert_non_null(finding(r, "iban", "m.eml/rib.txt"));
        assert_non_null(finding(r, "iban", "m.eml"));
        assert_int_equal(r->nunscannable, 0);
        vg_report_free(r);
}

/* Addresses are routing; a wrong check is nothing. */
static void test_negatives(void **state)
{
        (void)state;
        struct vg_report *r = scan_str(
            "n.eml",
            "From: Service <FR7630006000011234567890189@exemple.fr>\r\n"
            "To: a1@x.fr, a2@x.fr, a3@x.fr, a4@x.fr, a5@x.fr\r\n"
            "Cc: a6@x.fr, a7@x.fr, a8@x.fr, a9@x.fr, a10@x.fr\r\n"
            "Subject: compte clos\r\n\r\nAncien compte FR77 3000 6000 0112 3456 7890 189.\r\n");
        assert_int_equal(r->nfindings, 0);
        assert_int_equal(r->nunscannable, 0);
        vg_report_free(r);
}

/* Fail closed: corrupt base64, TNEF, encryption, nesting, many parts. */
static void test_held(void **state)
{
        (void)state;
        struct vg_report *r =
            scan_str("c.eml", HDR
                     "Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                     "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                     "SUJBTiBGUjc2IDMwMDAgNjAwMCAw!!MTEyIDM0NTYgNzg5MCAxODkK\r\n"
                     "--b\r\nContent-Type: application/ms-tnef; name=winmail.dat\r\n\r\nx\r\n"
                     "--b\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; "
                     "name=smime.p7m\r\n\r\nx\r\n--b--\r\n");
        assert_true(unscannable(r, "c.eml", VG_REASON_CORRUPT));
        assert_true(unscannable(r, "c.eml/winmail.dat", VG_REASON_UNSUPPORTED));
        assert_true(unscannable(r, "c.eml/smime.p7m", VG_REASON_ENCRYPTED));
        vg_report_free(r);

        /* 40 nested multiparts */
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        assert_non_null(buf);
        n += (size_t)snprintf(buf + n, cap - n, "%s", HDR "Subject: nest\r\n");
        for (int i = 0; i < 40; i++)
                n += (size_t)snprintf(
                    buf + n, cap - n,
                    "Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n", i, i);
        n += (size_t)snprintf(buf + n, cap - n, "Content-Type: text/plain\r\n\r\n" IBAN "\r\n");
        r = scan_bytes("nest.eml", buf, n);
        assert_true(r->nunscannable > 0 && r->unscannable[0].reason == VG_REASON_LIMIT_DEPTH);
        assert_null(finding(r, "iban", "nest.eml"));
        vg_report_free(r);

        /* 20,000 parts: past max_members before GMime builds one */
        cap = 1 << 20;
        char *big = realloc(buf, cap);
        assert_non_null(big);
        buf = big;
        n = (size_t)snprintf(buf, cap, "%s",
                             HDR
                             "Subject: many\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n");
        for (int i = 0; i < 20000; i++)
                n += (size_t)snprintf(buf + n, cap - n, "--z\r\n\r\n%d\r\n", i);
        r = scan_bytes("many.eml", buf, n);
        assert_true(unscannable(r, "many.eml", VG_REASON_LIMIT_MEMBERS));
        vg_report_free(r);
        free(buf);
}

/* Text that is not a mail goes where it went before. */
static void test_not_mail(void **state)
{
        (void)state;
        struct vg_report *r = scan_str("note.txt", "Date: demain\r\nVirement " IBAN "\r\n");
        assert_string_equal(r->type, "text/plain");
        assert_non_null(finding(r, "iban", "note.txt"));
        vg_report_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_bodies),    cmocka_unit_test(test_parts),
            cmocka_unit_test(test_negatives), cmocka_unit_test(test_held),
            cmocka_unit_test(test_not_mail),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

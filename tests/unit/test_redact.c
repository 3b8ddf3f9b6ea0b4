/* Redaction: the person_name detector (names announced by a title, a form field,
 * a mail header, a signature or a common first name; hard negatives that are
 * not names), and vg_redact_fd() on text: consistent placeholders, the rest of
 * the bytes untouched, secrets replaced without their names, refusals.
 *
 * The NIR and IBAN below have valid keys (computed with tests/tools/vgfix.py)
 * and belong to no one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "detect.h"
#include "policy.h"
#include "redact.h"
#include "scan.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static struct vg_rules *rules;

static int setup(void **state)
{
        (void)state;
        return vg_rules_new_redaction(NULL, &rules);
}

static int teardown(void **state)
{
        (void)state;
        vg_rules_free(rules);
        return 0;
}

static int on_found(void *ctx, const struct vg_found *f)
{
        if (strcmp(f->id, "person_name") == 0)
                ++*(int *)ctx;
        return 0;
}

static int persons(const char *s)
{
        int n = 0;
        assert_int_equal(vg_rules_find(rules, s, strlen(s), on_found, &n), 0);
        return n;
}

static void test_person_found(void **state)
{
        (void)state;
        static const char *const yes[] = {
            "Mme Chloé LEGRAND est arrivée.",   "Veuillez contacter M. Durand demain.",
            "Rendez-vous avec Maître Lefèvre.", "Nom : DUPONT\n",
            "Patient : Martin Bernard\n",       "From: \"Chloé Legrand\" <chloe@exemple.fr>\n",
            "Cordialement,\nAurore Vasseur\n",  "Le dossier de Jean-Pierre Rousseau est complet.",
            "Liste : LEGRAND Chloé, présente.", "Signé par : Éloïse Garnier",
        };
        for (size_t i = 0; i < NELEM(yes); i++)
                if (persons(yes[i]) == 0)
                        fail_msg("no name found in \"%s\"", yes[i]);
}

static void test_person_not_found(void **state)
{
        (void)state;
        static const char *const no[] = {
            "M. le Maire a signé l'arrêté.",
            "Madame la Directrice est absente.",
            "Le Mans et La Rochelle sont des villes.",
            "Pierre qui roule n'amasse pas mousse.",
            "Nom : inconnu\n",
            "The Company and its Partners",
            "Cordialement,\nle service paie\n",
            "Jean est venu.",
        };
        for (size_t i = 0; i < NELEM(no); i++)
                if (persons(no[i]) != 0)
                        fail_msg("a name found in \"%s\"", no[i]);
        /* scans never look for names: their reports stay as they were */
        struct vg_rules *scan_rules = NULL;
        assert_int_equal(vg_rules_new(NULL, &scan_rules), 0);
        int n = 0;
        const char *s = "Mme Chloé LEGRAND";
        assert_int_equal(vg_rules_find(scan_rules, s, strlen(s), on_found, &n), 0);
        assert_int_equal(n, 0);
        vg_rules_free(scan_rules);
}

static int memfile(const char *s)
{
        int fd = memfd_create("t", MFD_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
        return fd;
}

static char *read_all(int fd)
{
        off_t n = lseek(fd, 0, SEEK_END);
        char *b = calloc(1, (size_t)n + 1);
        assert_non_null(b);
        assert_int_equal(pread(fd, b, (size_t)n, 0), n);
        return b;
}

static struct vg_engine *engine(void)
{
        struct vg_engine_config ec = {.limits = {
                                          .max_file_size = 1 << 20,
                                          .max_expanded = 1 << 24,
                                          .max_ratio = 1000,
                                          .max_depth = 8,
                                          .max_members = 100,
                                          .max_scan_time = 30,
                                      }};
        struct vg_engine *e = NULL;
        assert_int_equal(vg_engine_new(&ec, &e), 0);
        return e;
}

static void test_redact_text(void **state)
{
        (void)state;
        struct vg_engine *e = engine();
        struct vg_policy pol;
        assert_int_equal(vg_policy_init(&pol, "default"), 0);
        const char *src = "Salarié : Chloé LEGRAND\n"
                          "NIR 2 85 03 75 115 048 57, rappel : 285037511504857.\n"
                          "IBAN FR76 3000 6000 0112 3456 7890 189\n"
                          "db_password = \"Xk9#qLm2vR\"\n"
                          "Mme Chloé Legrand signe.\n";
        int in = memfile(src);
        int out = memfd_create("o", MFD_CLOEXEC);
        struct vg_redact_opts o = {.format = VG_REDACT_SAME};
        struct vg_redact_result *res = NULL;
        assert_int_equal(vg_redact_fd(e, &pol, in, "a.txt", &o, out, &res), 0);
        assert_int_equal(res->status, VG_REDACT_DONE);
        assert_false(res->as_text);
        char *got = read_all(out);
        assert_string_equal(got, "Salarié : [PERSONNE-1]\n"
                                 "NIR [NIR-1], rappel : [NIR-1].\n"
                                 "IBAN [IBAN-1]\n"
                                 "db_password = \"[MOT-DE-PASSE]\"\n"
                                 "[PERSONNE-1] signe.\n");
        /* what was replaced, masked */
        bool nir = false;
        for (size_t i = 0; i < res->nentries; i++)
                if (strcmp(res->entries[i].detector, "fr_nir") == 0) {
                        nir = true;
                        assert_int_equal(res->entries[i].count, 2);
                        assert_int_equal(res->entries[i].distinct, 1);
                        assert_null(strstr(res->entries[i].samples[0], "5037511"));
                }
        assert_true(nir);
        free(got);
        vg_redact_result_free(res);
        close(in);
        close(out);

        /* English placeholders */
        in = memfile("Card 4970 1012 3456 7893 and Mr John Smith.\n");
        out = memfd_create("o", MFD_CLOEXEC);
        o.english = true;
        assert_int_equal(vg_redact_fd(e, &pol, in, "b.txt", &o, out, &res), 0);
        assert_int_equal(res->status, VG_REDACT_DONE);
        got = read_all(out);
        assert_string_equal(got, "Card [CARD-1] and [PERSON-1].\n");
        free(got);
        vg_redact_result_free(res);
        close(in);
        close(out);

        /* a marking cannot be replaced: refused, nothing written */
        in = memfile("CONFIDENTIEL DEFENSE\nNIR 2 85 03 75 115 048 57\n");
        out = memfd_create("o", MFD_CLOEXEC);
        assert_int_equal(vg_redact_fd(e, &pol, in, "c.txt", &o, out, &res), 0);
        assert_int_equal(res->status, VG_REDACT_NOT_REDACTABLE);
        assert_non_null(strstr(res->why, "marking"));
        assert_int_equal(lseek(out, 0, SEEK_END), 0);
        vg_redact_result_free(res);
        close(in);
        close(out);

        vg_policy_clear(&pol);
        vg_engine_free(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_person_found),
            cmocka_unit_test(test_person_not_found),
            cmocka_unit_test(test_redact_text),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

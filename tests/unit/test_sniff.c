/* The text fast path of sniff.c against libmagic alone: the same type for every
 * head, and the fast path taken where it should be. Heads: every file under
 * tests/ and under the folders in VG_SNIFF_DIRS (tests/integration/test_sniff.py
 * fills one with generated mails, archives, office files and a small corpus),
 * each whole (64 KiB) and cut short at sizes near the offsets the rules use;
 * then heads built around every guard of sniff_guards.h (present at its
 * offset, at a line start, mid-text, one byte changed, cut in the middle), and
 * text that starts like the formats libmagic tells apart from plain text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sniff.h"

#define SNIFF_GUARDS_PROBES
#include "sniff_guards.h"

#define HEAD (64 * 1024)

static struct vg_sniffer *sn;
static size_t heads, fast, mismatches;

/* Compares both halves on one head; the label never holds the head itself. */
static void compare(const unsigned char *h, size_t n, const char *label)
{
        char slow[128], quick[128];
        heads++;
        vg_sniff_magic(sn, h, n, slow, sizeof(slow));
        if (!vg_sniff_fast(sn, h, n, quick, sizeof(quick)))
                return;
        fast++;
        if (strcmp(slow, quick) != 0) {
                mismatches++;
                fprintf(stderr, "MISMATCH %s (%zu bytes): libmagic %s, fast path %s\n", label, n,
                        slow, quick);
        }
}

static const size_t cuts[] = {1, 2, 3, 4, 8, 16, 64, 100, 257, 511, 512, 1024, 4096, 8192};

static void compare_file(const char *path)
{
        static unsigned char h[HEAD];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        size_t n = 0;
        ssize_t r;
        while (n < HEAD && (r = read(fd, h + n, HEAD - n)) > 0)
                n += (size_t)r;
        close(fd);
        compare(h, n, path);
        for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
                if (cuts[i] < n)
                        compare(h, cuts[i], path);
}

static void walk(const char *dir, int depth)
{
        DIR *d = opendir(dir);
        if (!d || depth > 12) {
                if (d)
                        closedir(d);
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.' &&
                    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                        continue;
                char p[4096];
                if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p))
                        continue;
                struct stat st;
                if (lstat(p, &st) != 0)
                        continue;
                if (S_ISDIR(st.st_mode))
                        walk(p, depth + 1);
                else if (S_ISREG(st.st_mode))
                        compare_file(p);
        }
        closedir(d);
}

static int setup(void **state)
{
        (void)state;
        return vg_sniffer_new(&sn);
}

static int teardown(void **state)
{
        (void)state;
        vg_sniffer_free(sn);
        return 0;
}

static void report(const char *what)
{
        printf("sniff %s: %zu heads, %zu by the fast path, %zu mismatches\n", what, heads, fast,
               mismatches);
}

static void test_taken(void **state)
{
        (void)state;
        static const char *const plain[] = {
            "Bonjour,\nvoici le compte rendu de la réunion de mardi.\n",
            "Compte rendu\r\nLes chiffres du trimestre sont bons.\r\n",
            "Relevé des ventes 2024 : 12 345,67 EUR\n",
        };
        char t[128];
        for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
                assert_true(vg_sniff_fast(sn, plain[i], strlen(plain[i]), t, sizeof(t)));
                assert_string_equal(t, "text/plain");
        }
        /* The engine's entry point gives the same. */
        assert_int_equal(vg_sniff(sn, plain[0], strlen(plain[0]), t, sizeof(t)), 0);
        assert_string_equal(t, "text/plain");
        /* What libmagic names otherwise never takes the fast path. */
        static const char *const other[] = {
            "<html><body>x</body></html>\n", "{\"a\": 1}\n", "From: a@b.fr\nTo: c@d.fr\n\nx\n",
            "#!/bin/sh\necho x\n",           "%PDF-1.4\n",   "#include <stdio.h>\nint main;\n",
        };
        for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
                assert_false(vg_sniff_fast(sn, other[i], strlen(other[i]), t, sizeof(t)));
}

static const char prose[] =
    "Bonjour à tous,\nLe comité se réunira jeudi prochain à 14 h dans la salle du "
    "conseil. Merci de confirmer votre présence avant mercredi.\nCordialement,\nLa "
    "direction\n";
static const char prose_cp1252[] = "Relev\xe9 des d\xe9penses \x80 12,50 ; pr\xe9vu\n";

/* One head: prefix + middle + suffix, cut at a few lengths too. */
static void build(const char *pre, size_t npre, const char *mid, size_t nmid, const char *label)
{
        static unsigned char h[HEAD];
        size_t n = 0;
        memcpy(h, pre, npre);
        n = npre;
        memcpy(h + n, mid, nmid);
        n += nmid;
        memcpy(h + n, prose, sizeof(prose) - 1);
        n += sizeof(prose) - 1;
        compare(h, n, label);
        for (size_t c = 1; c < npre + nmid && c < 24; c += 3)
                compare(h, c, label);
}

static void test_guards(void **state)
{
        (void)state;
        heads = fast = mismatches = 0;
        unsigned char buf[4096];
        for (size_t i = 0; i < sizeof(sniff_fixed) / sizeof(sniff_fixed[0]); i++) {
                const struct sniff_fixed *g = &sniff_fixed[i];
                if (g->off + g->len > 2048)
                        continue;
                /* Text before the guard's offset, then its bytes (with the mask's
                 * free bits as in the value), and one byte changed. */
                for (int variant = 0; variant < 3; variant++) {
                        size_t n = 0;
                        for (; n < g->off; n++)
                                buf[n] = (unsigned char)("abc de fgh\n"[n % 11]);
                        for (size_t k = 0; k < g->len; k++)
                                buf[n + k] =
                                    (unsigned char)((unsigned char)g->val[k] |
                                                    (variant == 2
                                                         ? 0
                                                         : (~(unsigned char)g->mask[k] & 0x20)));
                        if (variant == 1)
                                buf[n + g->len / 2] ^= 0x01;
                        n += g->len;
                        build((const char *)buf, n, "", 0, "fixed guard");
                }
        }
        for (size_t i = 0; i < sizeof(sniff_needles) / sizeof(sniff_needles[0]); i++) {
                const struct sniff_needle *g = &sniff_needles[i];
                build(g->s, g->len, "", 0, "needle at 0");
                build("texte\n", 6, g->s, g->len, "needle at a line start");
                build("du texte ", 9, g->s, g->len, "needle mid-line");
                memcpy(buf, g->s, g->len);
                buf[g->len - 1] ^= 0x01;
                build((const char *)buf, g->len, "", 0, "needle changed");
                if (g->len > 1)
                        build(g->s, g->len - 1, "", 0, "needle cut");
        }
        /* The values of the database's string rules, with a MIME type or not. */
        for (size_t i = 0; i < sizeof(sniff_probes) / sizeof(sniff_probes[0]); i++) {
                build(sniff_probes[i], strlen(sniff_probes[i]), "", 0, "rule value");
                build("x", 1, sniff_probes[i], strlen(sniff_probes[i]), "rule value at 1");
        }
        report("guards");
        assert_int_equal(mismatches, 0);
        assert_true(fast > 0);
}

static void test_edges(void **state)
{
        (void)state;
        heads = fast = mismatches = 0;
        static const char *const starts[] = {
            "",
            " ",
            "\n",
            "\r\n",
            "<html>",
            "<!DOCTYPE html>\n",
            "<?xml version=\"1.0\"?>\n<a/>\n",
            "<svg xmlns=\"x\">",
            "{\"a\": 1}\n",
            "[1, 2]\n",
            " {\n",
            "\"texte\"\n",
            "12\n34\n",
            "true\n",
            "null",
            "From: a@b.fr\n",
            "From a@b Mon Jan  1 00:00:00 2024\n",
            "Date: lundi\n",
            "Received: from x\n",
            "Subject: x\n",
            "MIME-Version: 1.0\n",
            "Return-Path: <a@b>\n",
            "Message-ID: <x@y>\n",
            "Content-Type: text/plain\n",
            "#!/bin/sh\n",
            "#! /usr/bin/env python3\n",
            "#!/usr/bin/perl\n",
            "%!PS-Adobe-3.0\n",
            "{\\rtf1\\ansi ",
            "%PDF-1.4\n",
            "PK\003\004",
            "BEGIN:VCARD\nVERSION:3.0\n",
            "nom;prénom;ville\na;b;c\n",
            "a,b,c\n1,2,3\n",
            "x^",
            "H",
            "Hh",
            "(",
            "import os\n",
            "class Foo:\n    pass\n",
            "#include <stdio.h>\n",
            ".TH X 1\n",
            "c this is fortran\n",
            "C     FORTRAN\n",
            "\\documentclass{article}\n",
            "MZ",
            "0\n",
            "  0\nSECTION\n",
            "diff --git a b\n",
            "--- a\n+++ b\n",
            "Index: x\n",
            "@echo off\n",
            "rem x\n",
            "<?php echo 1; ?>\n",
            "function f() { return 1; }\n",
            "package main\n",
            "def f():\n    return 1\n",
            "\xef\xbb\xbf",
            "\xff\xfe",
            "\xfe\xff",
            "+/v8",
            "\x1b[0m",
            "\x0c",
            "\a",
            "texte\001",
            "texte\x7f",
            "-----BEGIN CERTIFICATE-----\n",
            "WEBVTT\n",
            "# Magic\n",
            "[playlist]\n",
            "[Desktop Entry]\n",
            "---\ntitle: x\n",
            "# Titre\n\n## Partie\n",
            "1\n00:00:01,000 --> 00:00:02,000\n",
            "ustar",
            "P1\n",
            "GIF8",
            "\x89PNG",
        };
        for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
                build(starts[i], strlen(starts[i]), "", 0, "edge");
                build(starts[i], strlen(starts[i]), prose_cp1252, sizeof(prose_cp1252) - 1,
                      "edge cp1252");
        }
        /* Sizes 0 to 3 of text, and a 512-byte head with a tar-like checksum. */
        build("ab", 2, "", 0, "short");
        compare((const unsigned char *)"a", 1, "one byte");
        compare((const unsigned char *)"ab", 2, "two bytes");
        compare((const unsigned char *)"", 0, "empty");
        unsigned char t[600];
        for (size_t k = 0; k < sizeof(t); k++)
                t[k] = (unsigned char)"lorem ipsum "[k % 12];
        memcpy(t + 148, "0012345 ", 8);
        compare(t, sizeof(t), "tar-like");
        /* A control byte late in a long head. */
        static unsigned char big[HEAD];
        for (size_t k = 0; k < sizeof(big); k++)
                big[k] = (unsigned char)prose[k % (sizeof(prose) - 1)];
        compare(big, sizeof(big), "64 KiB of prose");
        big[60000] = 0x01;
        compare(big, sizeof(big), "64 KiB with a control byte");
        report("edges");
        assert_int_equal(mismatches, 0);
        assert_true(fast > 0);
}

static void test_files(void **state)
{
        (void)state;
        heads = fast = mismatches = 0;
        walk(VIGIE_SOURCE_DIR "/tests", 0);
        const char *more = getenv("VG_SNIFF_DIRS");
        if (more) {
                char *copy = strdup(more);
                assert_non_null(copy);
                for (char *save = NULL, *d = strtok_r(copy, ":", &save); d;
                     d = strtok_r(NULL, ":", &save))
                        walk(d, 0);
                free(copy);
        }
        report("files");
        assert_int_equal(mismatches, 0);
        assert_true(fast > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_taken),
            cmocka_unit_test(test_guards),
            cmocka_unit_test(test_edges),
            cmocka_unit_test(test_files),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}

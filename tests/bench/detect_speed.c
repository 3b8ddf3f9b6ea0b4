/* Micro-benchmark of plain-text detection (issue 10): pushes a generated,
 * deterministic office-like text through the real text sink and every built-in
 * detector, prints MB/s and the findings (masked samples only).
 *
 *   detect_speed [MB] [--fill OUT] [--reference]
 *
 * The text mixes French prose, amounts, dates, references, number-like decoys
 * (Luhn-invalid 16-digit runs, SIRET, incomplete phone numbers, dates), bits of
 * configuration and a few planted identifiers with valid check digits (cards,
 * IBAN, NIR, e-mail, phone, tokens), so that every detector has work. The seed is
 * fixed: the same size gives the same bytes and the same findings. Times are
 * the process's CPU time (the machine is shared). --reference runs every rule
 * over the whole text (vg_rules_set_reference), the engine without prefilter;
 * --fill writes the text out (to feed other tools the same bytes).
 *
 * Not built by CMake (tests/bench is the benchmark's); build it against a build
 * tree's library:
 *   cc -O2 -Iscanners -o build/detect_speed tests/bench/detect_speed.c \
 *      build/scanners/libvigiescan.a $(pkg-config --libs libpcre2-8 libmagic \
 *      libarchive jansson expat poppler-glib gmime-3.0 zlib) -lm */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "detect.h"
#include "report.h"
#include "text.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (uint32_t)((rng >> 11) % n);
}

struct out {
        char *p;
        size_t n, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
        if (o->n + n > o->cap) {
                fprintf(stderr, "overflow\n");
                exit(1);
        }
        memcpy(o->p + o->n, s, n);
        o->n += n;
}

static void puts_(struct out *o, const char *s)
{
        put(o, s, strlen(s));
}

static void digits(struct out *o, int n)
{
        char b[64];
        for (int i = 0; i < n; i++)
                b[i] = (char)('0' + rnd(10));
        put(o, b, (size_t)n);
}

static int luhn_ok(const char *d, int n)
{
        int sum = 0;
        for (int i = 0; i < n; i++) {
                int v = d[n - 1 - i] - '0';
                if (i % 2) {
                        v *= 2;
                        if (v > 9)
                                v -= 9;
                }
                sum += v;
        }
        return sum % 10 == 0;
}

/* A 16-digit number whose Luhn sum is right (valid) or wrong (decoy). */
static void card(struct out *o, int valid)
{
        char d[17];
        d[0] = "45"[rnd(2)];
        for (int i = 1; i < 16; i++)
                d[i] = (char)('0' + rnd(10));
        for (int k = 0; k < 10; k++) {
                d[15] = (char)('0' + k);
                if (luhn_ok(d, 16) == valid)
                        break;
        }
        for (int g = 0; g < 4; g++) {
                put(o, d + 4 * g, 4);
                if (g < 3)
                        puts_(o, " ");
        }
}

static void nir(struct out *o)
{
        char d[16];
        d[0] = "12"[rnd(2)];
        snprintf(d + 1, sizeof(d) - 1, "%02u%02u%02u%03u%03u", 50 + rnd(49), 1 + rnd(12),
                 1 + rnd(95), 1 + rnd(998), 1 + rnd(998));
        unsigned long long v = strtoull(d, NULL, 10);
        unsigned key = 97 - (unsigned)(v % 97);
        char k[4];
        snprintf(k, sizeof(k), "%02u", key);
        put(o, d, 1);
        puts_(o, " ");
        put(o, d + 1, 2);
        puts_(o, " ");
        put(o, d + 3, 2);
        puts_(o, " ");
        put(o, d + 5, 2);
        puts_(o, " ");
        put(o, d + 7, 3);
        puts_(o, " ");
        put(o, d + 10, 3);
        puts_(o, " ");
        put(o, k, 2);
}

static const char *const words[] = {
    "le",         "la",          "les",       "de",          "des",           "du",
    "et",         "en",          "pour",      "avec",        "dans",          "sur",
    "par",        "une",         "un",        "client",      "facture",       "commande",
    "livraison",  "réunion",     "projet",    "budget",      "équipe",        "rapport",
    "semaine",    "prochaine",   "société",   "contrat",     "montant",       "total",
    "service",    "délai",       "merci",     "bonjour",     "dossier",       "document",
    "réponse",    "question",    "suivi",     "version",     "mise",          "à",
    "jour",       "produit",     "stock",     "fournisseur", "paiement",      "échéance",
    "compte",     "rendez-vous", "planning",  "objectif",    "trimestre",     "résultat",
    "chiffre",    "affaires",    "marché",    "proposition", "devis",         "prix",
    "remise",     "conditions",  "générales", "vente",       "achat",         "référence",
    "article",    "quantité",    "adresse",   "site",        "collègue",      "directeur",
    "assistante", "comptable",   "juridique", "note",        "procès-verbal",
};

static void word(struct out *o)
{
        puts_(o, words[rnd(sizeof(words) / sizeof(words[0]))]);
}

static void sentence(struct out *o)
{
        int n = 6 + (int)rnd(14);
        for (int i = 0; i < n; i++) {
                if (i)
                        puts_(o, " ");
                word(o);
        }
        puts_(o, ". ");
}

static void decoy(struct out *o)
{
        char b[64];
        switch (rnd(12)) {
        case 0: /* amount */
                snprintf(b, sizeof(b), "%u %03u,%02u € ", 1 + rnd(99), rnd(1000), rnd(100));
                puts_(o, b);
                break;
        case 1: /* date */
                snprintf(b, sizeof(b), "le %02u/%02u/20%02u ", 1 + rnd(28), 1 + rnd(12), rnd(30));
                puts_(o, b);
                break;
        case 2: /* invoice reference */
                snprintf(b, sizeof(b), "FAC-20%02u-%05u ", rnd(30), rnd(100000));
                puts_(o, b);
                break;
        case 3: /* order number, Luhn-invalid card-like */
                puts_(o, "commande n° ");
                card(o, 0);
                puts_(o, " ");
                break;
        case 4: /* SIRET */
                puts_(o, "SIRET ");
                digits(o, 14);
                puts_(o, " ");
                break;
        case 5: /* incomplete phone */
                snprintf(b, sizeof(b), "poste %02u %02u %02u ", rnd(100), rnd(100), rnd(100));
                puts_(o, b);
                break;
        case 6: /* time and percentage */
                snprintf(b, sizeof(b), "à %uh%02u (%u,%u %%) ", rnd(24), rnd(60), rnd(100),
                         rnd(10));
                puts_(o, b);
                break;
        case 7: /* configuration line */
                snprintf(b, sizeof(b), "\ntimeout = %u\nretries: %u\n", rnd(600), rnd(9));
                puts_(o, b);
                break;
        case 8: /* URL */
                snprintf(b, sizeof(b), "voir https://intranet.exemple.fr/doc/%u ", rnd(99999));
                puts_(o, b);
                break;
        case 9: /* long reference number */
                puts_(o, "réf. ");
                digits(o, 9 + (int)rnd(8));
                puts_(o, " ");
                break;
        case 10: /* prose with sensitive-sounding words, not sensitive */
                puts_(o, "le mot de passe doit être changé tous les trois mois. ");
                break;
        default: /* postal code and city */
                snprintf(b, sizeof(b), "%05u Lyon ", 1000 + rnd(95000));
                puts_(o, b);
                break;
        }
}

static void planted(struct out *o)
{
        char b[96];
        switch (rnd(6)) {
        case 0:
                puts_(o, "carte bancaire ");
                card(o, 1);
                puts_(o, ". ");
                break;
        case 1:
                puts_(o, "IBAN FR76 3000 6000 0112 3456 7890 189. ");
                break;
        case 2:
                puts_(o, "numéro de sécurité sociale ");
                nir(o);
                puts_(o, ". ");
                break;
        case 3:
                snprintf(b, sizeof(b), "écrire à jean.dupont%u@exemple.fr. ", rnd(1000));
                puts_(o, b);
                break;
        case 4:
                snprintf(b, sizeof(b), "tél. 06 %02u %02u %02u %02u. ", rnd(100), rnd(100),
                         rnd(100), rnd(100));
                puts_(o, b);
                break;
        default:
                puts_(o, "patient suivi pour diabète, traitement par insuline. ");
                break;
        }
}

static void generate(struct out *o, size_t size)
{
        while (o->n + 512 < size) {
                sentence(o);
                if (rnd(3) == 0)
                        decoy(o);
                if (rnd(4000) == 0)
                        planted(o);
                if (rnd(8) == 0)
                        puts_(o, "\n");
        }
}

/* CPU time of this process: the machine is shared, wall time is not ours. */
static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        size_t mb = 64;
        const char *fill = NULL;
        bool reference = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--reference") == 0)
                        reference = true;
                else if (strcmp(argv[i], "--fill") == 0 && i + 1 < argc)
                        fill = argv[++i];
                else
                        mb = strtoull(argv[i], NULL, 10);
        }
        if (mb < 1 || mb > 4096)
                mb = 64;
        struct out o = {.cap = mb << 20};
        if (!(o.p = malloc(o.cap)))
                return 1;
        generate(&o, o.cap);
        if (fill) {
                FILE *f = fopen(fill, "wb");
                if (!f || fwrite(o.p, 1, o.n, f) != o.n || fclose(f) != 0)
                        return 1;
        }
        struct vg_rules *rules;
        struct vg_detect *d;
        struct vg_text *t;
        if (vg_rules_new(NULL, &rules) < 0 || vg_detect_new(rules, &d) < 0 ||
            vg_text_new(d, 256u * 1024, &t) < 0)
                return 1;
        vg_rules_set_reference(rules, reference);
        double t0 = now();
        /* pushed in 64 KiB reads, as an extractor would */
        for (size_t i = 0; i < o.n; i += 65536) {
                size_t n = o.n - i < 65536 ? o.n - i : 65536;
                int e = vg_text_push(t, o.p + i, n);
                if (e < 0) {
                        fprintf(stderr, "push: %s\n", strerror(-e));
                        return 1;
                }
        }
        int e = vg_text_end(t);
        double t1 = now();
        if (e < 0) {
                fprintf(stderr, "end: %s\n", strerror(-e));
                return 1;
        }
        struct vg_report *r = vg_report_new("bench");
        if (!r || vg_detect_report(d, r, "bench") < 0)
                return 1;
        printf("bytes=%zu cpu_seconds=%.3f MB/s=%.1f findings=%zu\n", o.n, t1 - t0,
               (double)o.n / (1 << 20) / (t1 - t0), r->nfindings);
        for (size_t i = 0; i < r->nfindings; i++) {
                const struct vg_finding *f = &r->findings[i];
                printf("  %s count=%llu distinct=%llu samples:", f->detector,
                       (unsigned long long)f->count, (unsigned long long)f->distinct);
                for (size_t k = 0; k < f->nsamples; k++)
                        printf(" %s", f->samples[k]);
                printf("\n");
        }
        vg_report_free(r);
        vg_text_free(t);
        vg_detect_free(d);
        vg_rules_free(rules);
        free(o.p);
        return 0;
}
